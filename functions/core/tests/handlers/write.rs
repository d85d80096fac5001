//! Write: one report per principal from the job Check stored (IAM's read only when none
//! is stored), the batch's result; and the failure record of a batch that failed.

use crate::helpers::{
    event, expect_error, iam_refuses, job_deps, job_read, json, read_of, report_key, stored_job,
    work, Bucket, ACCOUNT, ADMINS, ALICE, BUCKET, DEPLOYER, DEPLOYER_JOB, SCP_DENIAL, STARTED_AT,
    WEB, WEB_JOB, WEB_SERVICES,
};
use aws_sdk_iam::types::JobStatusType;
use aws_smithy_mocks::Rule;
use last_accessed::handlers::events::WriteOutput;
use last_accessed::handlers::write;
use last_accessed::Error;
use serde_json::{json, Value};

const DEPLOYER_SERVICES: &[(&str, &str, Option<&str>)] = &[(
    "sts",
    "AWS Security Token Service",
    Some("2026-11-24T22:00:00Z"),
)];

/// The bucket as Check left it for `write/events/completed.json`: both finished jobs
/// stored, unless `stored_deployer` is false (a redrive after `work/` expired).
fn checked(stored_deployer: bool) -> Bucket {
    let bucket = Bucket::new();
    bucket.put(
        &work(&format!("jobs/{WEB_JOB}.json")),
        &stored_job(WEB_SERVICES),
    );
    if stored_deployer {
        bucket.put(
            &work(&format!("jobs/{DEPLOYER_JOB}.json")),
            &stored_job(DEPLOYER_SERVICES),
        );
    }
    bucket
}

async fn run(bucket: &Bucket, iam: &[&Rule], fixture: &str) -> Result<WriteOutput, Error> {
    write::handle(&job_deps(bucket, iam), event("write", fixture)).await
}

fn by_status(out: &WriteOutput) -> Value {
    json(&out.by_status)
}

#[tokio::test]
async fn stored_completed_jobs_are_reported_as_of_the_runs_start() {
    let bucket = checked(true);
    // No IAM rule: every report comes from what Check stored.
    let out = run(&bucket, &[], "completed").await.unwrap();
    assert_eq!((out.index, out.written), (0, 3));
    assert_eq!(by_status(&out), json!({"COMPLETED": 2, "DENIED": 1}));

    // Under the `account=` level of the account the batch scans (schema 3).
    let web = bucket.json(&report_key("role/app-web"));
    assert_eq!(web["arn"], WEB);
    assert_eq!(web["schema_version"], "3.3.0");
    assert_eq!(
        web["principal_id"], "AROAQAPPWEB000000001",
        "the id Plan read"
    );
    assert_eq!(web["scanned_account"], ACCOUNT);
    assert_eq!(
        web["as_of"], STARTED_AT,
        "judged at the run's start, not at writing"
    );
    assert_eq!(web["job"]["status"], "COMPLETED");
    assert_eq!(web["job"]["id"], WEB_JOB);
    let s3 = &web["services"][0];
    assert_eq!(
        (s3["namespace"].as_str(), s3["usage"].as_str()),
        (Some("s3"), Some("active"))
    );
    assert_eq!(
        s3["days_since_last_authenticated"], 4,
        "2026-11-20T09:30 to the run's start, 2026-11-25T01:00"
    );
    assert_eq!(web["services"][1]["usage"], "never_used");
    assert_eq!(web["findings"]["never_used_services"], json!(["ec2"]));

    let alice = bucket.json(&report_key("user/alice"));
    assert_eq!(alice["as_of"], STARTED_AT);
    assert_eq!(alice["job"]["status"], "DENIED");
    assert_eq!(alice["job"]["error"]["message"], SCP_DENIAL);
    assert_eq!(alice["services"], json!([]));

    let deployer = bucket.json(&report_key("role/deployer"));
    assert_eq!(deployer["as_of"], STARTED_AT);
    assert_eq!(
        deployer["principal_id"],
        Value::Null,
        "no id read: null, not absent"
    );
    assert_eq!(deployer["services"][0]["days_since_last_authenticated"], 0);

    let result = bucket.json(&work("results/000000.json"));
    assert_eq!(result["index"], 0);
    assert_eq!(
        result["principals"][0]["principal_id"], "AROAQAPPWEB000000001",
        "the index carries the id"
    );
    let outcomes: Vec<(&str, &str, &str, &str)> = result["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["arn"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
                p["report_key"].as_str().unwrap(),
                p["account"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (
                WEB,
                "COMPLETED",
                report_key("role/app-web").as_str(),
                ACCOUNT
            ),
            (ALICE, "DENIED", report_key("user/alice").as_str(), ACCOUNT),
            (
                DEPLOYER,
                "COMPLETED",
                report_key("role/deployer").as_str(),
                ACCOUNT
            ),
        ]
    );
    assert_eq!(
        result["principals"][0]["services_never_used"], 1,
        "ec2, never used"
    );
    assert_eq!(
        web["changes"]["new"], true,
        "no previous run: every principal is new"
    );
}

/// With a previous run of the account, each report is compared with the principal's
/// report there (one read), and a last use IAM forgot is carried from it: under the
/// previous run's `account=` level when its summary is schema 3, else where older runs
/// put it.
#[tokio::test]
async fn reports_compare_with_the_previous_run() {
    let layouts = [
        (
            "reports/principals/dt=2026-11-24/run=yesterday/role/app-web.json",
            json!({"run_id": "yesterday", "dt": "2026-11-24", "as_of": "2026-11-24T01:00:00Z"}),
        ),
        (
            "reports/principals/dt=2026-11-24/run=yesterday/account=123456789012/role/app-web.json",
            json!({"run_id": "yesterday", "dt": "2026-11-24", "as_of": "2026-11-24T01:00:00Z",
                   "account_keys": true}),
        ),
    ];
    for (previous_key, previous_run) in layouts {
        compares_with_the_previous_run(previous_key, vec![previous_run]).await;
    }
}

/// The latest run that scanned the account was INCOMPLETE and has no report of app-web
/// (its batch failed there): the report is compared with the next earlier run's.
#[tokio::test]
async fn a_principal_an_incomplete_run_did_not_report_looks_further_back() {
    let incomplete = json!({"run_id": "today-early", "dt": "2026-11-25",
                            "as_of": "2026-11-25T00:00:00Z", "account_keys": true});
    let yesterday = json!({"run_id": "yesterday", "dt": "2026-11-24",
                           "as_of": "2026-11-24T01:00:00Z", "account_keys": true});
    compares_with_the_previous_run(
        "reports/principals/dt=2026-11-24/run=yesterday/account=123456789012/role/app-web.json",
        vec![incomplete, yesterday],
    )
    .await;
}

/// Write with the account's earlier runs `previous_runs` (newest first), app-web's
/// report of "yesterday" at `previous_key`.
async fn compares_with_the_previous_run(previous_key: &str, previous_runs: Vec<Value>) {
    let bucket = checked(true);
    let before = json!({
        "schema_version": "1.1.0", "arn": WEB, "type": "role", "name": "app-web", "path": "/",
        "account": "123456789012", "partition": "aws", "run_id": "yesterday",
        "generated_at": "2026-11-24T01:00:00Z", "as_of": "2026-11-24T01:00:00Z",
        "job": {"id": "old", "granularity": "SERVICE_LEVEL", "status": "COMPLETED",
                "job_type": "SERVICE_LEVEL", "created": null, "completed": null, "error": null},
        "services": [
            {"namespace": "s3", "name": "Amazon S3", "usage": "used",
             "days_since_last_authenticated": 3, "last_authenticated": "2026-11-20T09:30:00Z",
             "last_authenticated_entity": WEB, "last_authenticated_region": "eu-west-1",
             "total_authenticated_entities": 1},
            {"namespace": "ec2", "name": "Amazon EC2", "usage": "unused",
             "days_since_last_authenticated": 399, "last_authenticated": "2025-10-21T00:00:00Z",
             "last_authenticated_entity": WEB, "last_authenticated_region": "us-east-1",
             "total_authenticated_entities": 1},
            {"namespace": "sqs", "name": "Amazon SQS", "usage": "never_used",
             "days_since_last_authenticated": null, "last_authenticated": null,
             "last_authenticated_entity": null, "last_authenticated_region": null,
             "total_authenticated_entities": 0}],
        "findings": {}
    });
    bucket.put(previous_key, &before);
    let mut event = event("write", "completed");
    event["batch"]["run"]["previous_run"] = previous_runs[0].clone();
    event["batch"]["run"]["account"]["previous_runs"] = json!(previous_runs);
    write::handle(&job_deps(&bucket, &[]), event).await.unwrap();

    let web = bucket.json(&report_key("role/app-web"));
    let ec2 = &web["services"][1];
    assert_eq!(ec2["namespace"], "ec2");
    assert_eq!(
        ec2["last_authenticated"],
        Value::Null,
        "IAM no longer reports it"
    );
    assert_eq!(
        ec2["last_authenticated_ever"],
        json!({"time": "2025-10-21T00:00:00Z", "entity": WEB, "region": "us-east-1", "run_id": "yesterday"})
    );
    assert_eq!(ec2["usage"], "stale", "{previous_key}");
    let changes = &web["changes"];
    assert_eq!(changes["previous_run"]["run_id"], "yesterday");
    assert_eq!(changes["new"], false, "{previous_key}");
    assert_eq!(changes["granted_removed"], json!(["sqs"]));
    assert_eq!(changes["newly_used"], json!([]));
    let deployer = bucket.json(&report_key("role/deployer"));
    assert_eq!(
        deployer["changes"]["new"], true,
        "no report in the previous runs: new"
    );
    assert_eq!(
        deployer["changes"]["previous_run"]["run_id"], previous_runs[0]["run_id"],
        "new since the latest run that scanned the account"
    );
    let outcome = &bucket.json(&work("results/000000.json"))["principals"][0];
    assert_eq!(outcome["changes"]["granted_removed"], json!(["sqs"]));
    assert_eq!(
        outcome["services"][1],
        json!({"ns": "ec2", "class": "stale", "days": 400, "last": "2025-10-21T00:00:00Z"})
    );
}

#[tokio::test]
async fn a_job_missing_from_the_bucket_is_read_from_iam_and_stays_failed_if_iam_says_so() {
    let failed = job_read(
        DEPLOYER_JOB,
        JobStatusType::Failed,
        &[],
        Some(("InternalFailure", "The job failed.")),
    );
    // The job may also be gone by then: IAM no longer knows it.
    let expired = iam_refuses(
        read_of(DEPLOYER_JOB),
        404,
        "NoSuchEntity",
        "Job 7d6e5f40-8a9b-4c1d-b2e3-f4a5b6c7d8e9 not found.",
    );
    for (iam, code) in [(&failed, "InternalFailure"), (&expired, "NoSuchEntity")] {
        let bucket = checked(false);
        let out = run(&bucket, &[iam], "completed").await.unwrap();
        assert_eq!(iam.num_calls(), 1, "{code}: IAM read the missing job once");
        assert_eq!(
            by_status(&out),
            json!({"COMPLETED": 1, "DENIED": 1, "FAILED": 1}),
            "{code}"
        );
        let report = bucket.json(&report_key("role/deployer"));
        assert_eq!(
            report["job"]["status"], "FAILED",
            "{code}: never COMPLETED with no services"
        );
        assert_eq!(report["job"]["error"]["code"], code);
        assert_eq!(report["services"], json!([]));
        let result = bucket.json(&work("results/000000.json"));
        assert_eq!(result["principals"][2]["status"], "FAILED", "{code}");
        assert_eq!(result["principals"][2]["error"]["code"], code);
    }
}

#[tokio::test]
async fn a_stored_job_s3_will_not_return_is_a_storage_error_not_an_iam_read() {
    let key = work(&format!("jobs/{WEB_JOB}.json"));
    for (status, code) in [(403, "AccessDenied"), (500, "InternalError")] {
        let bucket = checked(true).failing_get(key.clone(), status, code);
        // IAM would answer, but must not be asked: the failure is S3's to report.
        let fallback = job_read(WEB_JOB, JobStatusType::Completed, WEB_SERVICES, None);
        expect_error(
            run(&bucket, &[&fallback], "completed").await,
            "StorageError",
            &[&format!("GetObject s3://{BUCKET}/{key}"), code],
        );
        assert_eq!(fallback.num_calls(), 0, "{code}: no silent fallback to IAM");
        // app-web is the batch's first principal: the batch stops at its error before
        // any report is stored.
        assert_eq!(
            bucket.keys("reports/"),
            Vec::<String>::new(),
            "{code}: no report written"
        );
        assert_eq!(
            bucket.keys(&work("results/")),
            Vec::<String>::new(),
            "{code}: no batch result, so Summarize counts the batch as missing"
        );
    }
}

#[tokio::test]
async fn a_failure_event_is_recorded_for_summarize() {
    let cases = [
        // Check failed beyond its retries: its state, and Step Functions' error.
        ("batch-failed", 0, "StorageError"),
        // Generate failed: the batch event, and the error.
        ("generate-failed", 1, "Throttled"),
    ];
    for (fixture, index, error) in cases {
        let bucket = Bucket::new();
        let out = run(&bucket, &[], fixture).await.unwrap();
        assert_eq!(
            json(&out),
            json!({"index": index, "written": 0, "by_status": {}}),
            "{fixture}"
        );
        let failure = event("write", fixture)["failed"]["failure"].clone();
        assert_eq!(
            bucket.json(&work(&format!("failures/{index:06}.json"))),
            json!({"index": index, "error": error, "cause": failure["Cause"]}),
            "{fixture}"
        );
        assert_eq!(
            bucket.keys(""),
            [work(&format!("failures/{index:06}.json"))],
            "{fixture}: no report, no result"
        );
    }
}

#[tokio::test]
async fn under_the_session_binding_write_reads_entities_from_the_stored_job_never_from_iam() {
    const ADMINS_JOB: &str = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
    let bucket = Bucket::new();
    let mut stored = stored_job(&[("s3", "Amazon S3", Some("2026-11-20T09:30:00Z"))]);
    stored.entities = serde_json::from_value(json!([["s3", [{
        "arn": ALICE, "name": "alice", "type": "USER", "id": "AIDAQALICE0000000001", "path": "/",
        "last_authenticated": "2026-11-20T09:30:00Z"
    }]]]))
    .unwrap();
    bucket.put(&work(&format!("jobs/{ADMINS_JOB}.json")), &stored);
    let mut batch = event("write", "completed");
    let run = &mut batch["batch"]["run"];
    run["report"]["entities"] = json!(true);
    run["preflight"] = json!({"job_id": "preflight-job", "job_binding": "session"});
    batch["batch"]["jobs"] = json!([{"arn": ADMINS, "job_id": ADMINS_JOB, "status": "COMPLETED"}]);
    // No IAM rule: an entities read (or any other) would fail the batch.
    let out = write::handle(&job_deps(&bucket, &[]), batch).await.unwrap();
    assert_eq!(by_status(&out), json!({"COMPLETED": 1}));
    let report = bucket.json(&report_key("group/admins"));
    assert_eq!(
        report["services"][0]["entities"][0]["arn"], ALICE,
        "{report:#}"
    );
    assert_eq!(
        bucket.json(&work("results/000000.json"))["job_binding"],
        "session",
        "Summarize reads the account's binding from its batches"
    );
}

#[tokio::test]
async fn under_the_session_binding_a_job_read_never_stored_is_failed_saying_why() {
    let bucket = checked(false);
    let mut batch = event("write", "completed");
    batch["batch"]["run"]["preflight"] =
        json!({"job_id": "preflight-job", "job_binding": "session"});
    // No IAM rule: Write may not read another session's job.
    run_event(&bucket, batch).await;
    let deployer = bucket.json(&report_key("role/deployer"));
    assert_eq!(deployer["job"]["status"], "FAILED");
    assert_eq!(deployer["job"]["error"]["code"], "JobNotStored");
}

async fn run_event(bucket: &Bucket, batch: Value) -> WriteOutput {
    write::handle(&job_deps(bucket, &[]), batch).await.unwrap()
}
