//! Summarize: the batches' results folded into the run summary, written last, with a
//! line per account; the run fails IncompleteRun when a principal has no report or an
//! account was not fully scanned, TooManyFailures past the allowed FAILED share.

use crate::helpers::{
    account_answer, account_event, batch_result, batch_result_in, deadline, event, expect_error,
    job_deps, json, org_planned, plan_deps, planned, summarize_deps, work, Bucket, ACCOUNT, ADMINS,
    ALICE, BUCKET, DEPLOYER, MEMBER, MEMBER_WEB, ORG_RUN_ID, OU, PLAN_FUNCTION, ROOT, RUN_ID,
    STARTED_AT, SUMMARY_KEY, SUSPENDED, WEB,
};
use last_accessed::domain::account::{AccountItem, AccountRecord, AccountState};
use last_accessed::domain::job::JobStatus;
use last_accessed::domain::job::JobStatus::{Completed, Denied, Failed};
use last_accessed::handlers::events::SummarizeOutput;
use last_accessed::handlers::events::{AccountOutput, PlanOutput};
use last_accessed::handlers::plan;
use last_accessed::handlers::summarize;
use last_accessed::handlers::write;
use last_accessed::Error;
use serde_json::{json, Value};

async fn run(bucket: &Bucket, fixture: &str) -> Result<SummarizeOutput, Error> {
    summarize::handle(&summarize_deps(bucket), event("summarize", fixture)).await
}

/// Summarize of `summarize/events/<fixture>.json` fails with the error `name`, its
/// message holding `fragments` and where the summary is; the summary it wrote says
/// `status`. Returns that summary.
async fn fails(
    bucket: &Bucket,
    fixture: &str,
    name: &str,
    fragments: &[&str],
    status: &str,
) -> Value {
    let see = format!("see s3://{BUCKET}/{SUMMARY_KEY}");
    let fragments: Vec<&str> = fragments.iter().copied().chain([see.as_str()]).collect();
    expect_error(run(bucket, fixture).await, name, &fragments);
    let summary = bucket.json(SUMMARY_KEY);
    assert_eq!(summary["status"], status);
    summary
}

/// The bucket after Plan ran on `plan/events/explicit-arns.json` and Write stored
/// batch 0's result (app-web, alice, deployer with `batch0`'s statuses) and, when
/// `admins` is given, batch 1's.
async fn written(batch0: [JobStatus; 3], admins: Option<JobStatus>) -> Bucket {
    let (bucket, _) = planned().await;
    let [web, alice, deployer] = batch0;
    let results = [
        Some(batch_result(
            0,
            &[(WEB, web), (ALICE, alice), (DEPLOYER, deployer)],
        )),
        admins.map(|status| batch_result(1, &[(ADMINS, status)])),
    ];
    for result in results.into_iter().flatten() {
        bucket.put(&work(&format!("results/{:06}.json", result.index)), &result);
    }
    bucket
}

#[tokio::test]
async fn a_complete_run_succeeds() {
    let bucket = written([Completed, Denied, Completed], Some(Completed)).await;
    let out = run(&bucket, "complete").await.unwrap();

    // The Scan Finished detail rides along (tests/handlers/notifications.rs).
    let mut shown = json(&out);
    let detail = shown.as_object_mut().unwrap().remove("scan_finished");
    assert_eq!(detail.unwrap()["summary_key"], SUMMARY_KEY);
    assert_eq!(
        shown,
        json!({
            "run_id": RUN_ID,
            "status": "SUCCEEDED",
            "bucket": BUCKET,
            "summary_key": SUMMARY_KEY,
            "as_of": STARTED_AT,
            "principals": 4,
            "reports_written": 4,
            "by_status": {"COMPLETED": 3, "DENIED": 1},
        })
    );
    let summary = bucket.json(SUMMARY_KEY);
    assert_eq!(summary["status"], "SUCCEEDED");
    assert_eq!(summary["as_of"], STARTED_AT);
    assert_eq!(summary["counts"]["batches_reported"], 2);
    assert_eq!(summary["missing"], json!([]));
    assert_eq!(
        summary["errors"][0]["arn"], ALICE,
        "a DENIED principal is listed"
    );
    assert_eq!(summary["report_keys"].as_array().unwrap().len(), 4);
    let run_dir = SUMMARY_KEY.trim_end_matches("summary.json");
    let index_key = format!("{run_dir}principals.json");
    assert_eq!(
        summary["lists"],
        json!({
            "cap": 1000, "skipped": 0,
            "report_keys": {"total": 4, "key": index_key},
            "errors": {"total": 1, "key": index_key},
            "missing": {"total": 0, "key": format!("{run_dir}missing.json")},
            "gone": {"total": 0, "key": format!("{run_dir}gone.json")},
        })
    );
    // The index streamed in parts (1 KiB in these tests), read back as one array.
    assert!(bucket.multipart.lock().unwrap().contains(&index_key));
    let index = bucket.json(&index_key);
    let indexed: Vec<&Value> = index
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["report_key"])
        .collect();
    let listed: Vec<&Value> = summary["report_keys"].as_array().unwrap().iter().collect();
    assert_eq!(indexed, listed, "every principal indexed, in batch order");
    assert_eq!(bucket.json(&format!("{run_dir}missing.json")), json!([]));
    assert_eq!(bucket.json(&format!("{run_dir}gone.json")), json!([]));
    let page = page_data(&bucket, &format!("{run_dir}index.html"));
    assert_eq!(page["principals"].as_array().unwrap().len(), 4);
    assert_eq!(page["shown"]["of"], 4);
    assert!(
        page.get("accounts").is_none(),
        "a run of one account has no overview"
    );
    assert!(bucket.aborted.lock().unwrap().is_empty());
    assert_eq!(
        summary["accounts"],
        json!([{
            "id": ACCOUNT, "name": "", "ou_path": "", "status": "SUCCEEDED",
            "principals": 4, "reports_written": 4,
            "services_granted": 4, "services_used": 3, "services_unused": 1,
        }]),
        "one line: the stack's own account"
    );
    assert_eq!(summary["account_counts"], json!({"SUCCEEDED": 1}));
    assert_eq!(
        (
            &summary["parameters"]["principals"],
            &summary["parameters"]["batches"]
        ),
        (&json!(4), &json!(2)),
        "the run's totals are its accounts'"
    );
}

/// The data a page at `key` embeds.
fn page_data(bucket: &Bucket, key: &str) -> Value {
    let html = String::from_utf8(bucket.snapshot()[key].clone()).unwrap();
    let open = r#"<script type="application/json" id="ila-data">"#;
    let start = html.find(open).unwrap() + open.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).unwrap()
}

/// The summary's missing principals: ARN, batch, error, reason.
fn missing(summary: &Value) -> Vec<(String, u64, String, String)> {
    summary["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["arn"].as_str().unwrap().into(),
                m["batch"].as_u64().unwrap(),
                m["error"].as_str().unwrap().into(),
                m["reason"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_failed_batch_is_an_incomplete_run_naming_its_principals_and_why() {
    let bucket = written([Completed, Denied, Completed], None).await;
    // Batch 1's Generate failed beyond its retries: the child's Catch had Write record it.
    write::handle(&job_deps(&bucket, &[]), event("write", "generate-failed"))
        .await
        .unwrap();
    let cause = event("write", "generate-failed")["failed"]["failure"]["Cause"]
        .as_str()
        .unwrap()
        .to_string();

    let summary = fails(
        &bucket,
        "complete",
        "IncompleteRun",
        &[
            "3 of 4 principals reported (1 of 2 batches; 1 principals without a report, named in the summary)",
            "not fully scanned: 123456789012 ",
        ],
        "INCOMPLETE",
    )
    .await;
    assert_eq!(
        (
            &summary["accounts"][0]["status"],
            &summary["accounts"][0]["error"]
        ),
        (&json!("INCOMPLETE"), &json!("3 of 4 principals reported"))
    );
    assert_eq!(
        missing(&summary),
        [(
            ADMINS.to_string(),
            1,
            "Throttled".to_string(),
            format!("batch 1 failed beyond its retries: Throttled: {cause}"),
        )]
    );
    assert_eq!(summary["counts"]["principals_missing"], 1);
}

#[tokio::test]
async fn the_map_failing_is_an_incomplete_run_naming_every_principal() {
    let (bucket, _) = planned().await;
    let error = event("summarize", "map-failed")["error"].clone();
    let summary = fails(
        &bucket,
        "map-failed",
        "IncompleteRun",
        &[
            "0 of 4 principals reported",
            "after States.ItemReaderFailed: Failed to read the items",
        ],
        "INCOMPLETE",
    )
    .await;
    assert_eq!(summary["failure"], error);
    let missing = missing(&summary);
    let arns: Vec<&str> = missing.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(arns, [WEB, ALICE, DEPLOYER, ADMINS]);
    for (arn, _, error, reason) in &missing {
        assert_eq!(error, "States.ItemReaderFailed", "{arn}");
        assert!(
            reason.contains("the batches' Map failed"),
            "{arn}: {reason}"
        );
    }
}

#[tokio::test]
async fn more_than_max_failed_percent_failed_is_too_many_failures() {
    let bucket = written([Failed, Failed, Failed], Some(Completed)).await;
    let summary = fails(
        &bucket,
        "complete",
        "TooManyFailures",
        &["3 of 4 principals FAILED, more than the 50% allowed (MaxFailedPercent)"],
        "FAILED",
    )
    .await;
    assert_eq!(
        summary["counts"]["by_status"],
        json!({"COMPLETED": 1, "FAILED": 3})
    );
    assert_eq!(summary["errors"].as_array().unwrap().len(), 3);
}

/// The organization run's Plan step for its `i`th account.
async fn account_step(bucket: &Bucket, out: &PlanOutput, i: usize) -> AccountOutput {
    let answer = plan::handle(
        &plan_deps(bucket, &[]),
        account_event(bucket, out, i),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    account_answer(answer)
}

const MEMBER_REFUSED: &str = "the reader role may not start access-advisor jobs: iam:GenerateServiceLastAccessedDetails on arn:aws:iam::210987654321:role/iam-last-accessed-member was refused";

#[tokio::test]
async fn each_account_has_a_line_and_one_not_fully_scanned_makes_the_run_incomplete() {
    let (bucket, out) = org_planned().await;
    let org_work = |path: &str| format!("work/run={ORG_RUN_ID}/{path}");

    // The stack's own account: planned, scanned, each principal reported.
    let own = account_step(&bucket, &out, 0).await;
    assert!(own.scan);
    bucket.put(
        &org_work("results/000000.json"),
        &batch_result_in(ORG_RUN_ID, 0, &[(WEB, Completed), (ALICE, Completed)]),
    );

    // The member account, planned under its member role (stored here as Plan stores it:
    // these tests reach no STS), so its step reads the record ...
    let item: AccountItem =
        serde_json::from_value(bucket.json(&out.accounts_key)[1].clone()).unwrap();
    let first_batch = item.first_batch;
    let record = AccountRecord {
        item,
        state: AccountState::Planned,
        error: None,
        principals: 1,
        batches: 1,
        batch_size: 50,
        skipped: Vec::new(),
        carry: None,
    };
    bucket.put(
        &org_work(&format!("accounts/{MEMBER}/account.json")),
        &record,
    );
    bucket.put(
        &org_work(&format!("accounts/{MEMBER}/batches.json")),
        &json!([{"index": first_batch, "arns": [MEMBER_WEB]}]),
    );
    let member = account_step(&bucket, &out, 1).await;
    assert_eq!((member.scan, member.probe), (true, true));
    // ... but its reader may not start jobs: the preflight's Catch had Plan record why.
    let mut failed = json(&member);
    failed["failure"] = json!({
        "Error": "AccessDenied",
        "Cause": json!({
            "errorType": "AccessDenied",
            "errorMessage": format!("{MEMBER_REFUSED} (ServiceError(ServiceError {{ source: AccessDenied }}))"),
        }).to_string(),
    });
    plan::handle(
        &plan_deps(&bucket, &[]),
        json!({"account_failed": failed}),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();

    // The suspended account: unreachable, nothing scanned.
    assert!(!account_step(&bucket, &out, 2).await.scan);

    let summary_key = format!("reports/runs/dt=2026-11-25/run={ORG_RUN_ID}/summary.json");
    let message = expect_error(
        summarize::handle(&summarize_deps(&bucket), json(&out)).await,
        "IncompleteRun",
        &[
            "2 of 3 principals reported (1 of 2 batches; 1 principals without a report",
            "not fully scanned: ",
            &format!("{MEMBER} "),
            &format!("AccessDenied: {MEMBER_REFUSED}"),
            &format!("{SUSPENDED} "),
            "the account is SUSPENDED in the Organization",
            &format!("see s3://{BUCKET}/{summary_key}"),
        ],
    );
    assert!(!message.contains(&format!("{ACCOUNT} ")), "{message}");
    assert!(
        !message.contains("ServiceError"),
        "cut before the SDK's dump: {message}"
    );

    let summary = bucket.json(&summary_key);
    assert_eq!(summary["status"], "INCOMPLETE");
    assert_eq!(
        summary["accounts"],
        json!([
            {"id": ACCOUNT, "name": "security", "ou_path": ROOT, "status": "SUCCEEDED",
             "principals": 2, "reports_written": 2,
             "services_granted": 2, "services_used": 2, "services_unused": 0},
            {"id": MEMBER, "name": "workloads", "ou_path": format!("{ROOT}/{OU}"),
             "status": "INCOMPLETE", "error": format!("AccessDenied: {MEMBER_REFUSED}"),
             "principals": 1, "reports_written": 0,
             "services_granted": 0, "services_used": 0, "services_unused": 0},
            {"id": SUSPENDED, "name": "retired", "ou_path": format!("{ROOT}/{OU}"),
             "status": "UNREACHABLE", "error": "the account is SUSPENDED in the Organization",
             "principals": 0, "reports_written": 0,
             "services_granted": 0, "services_used": 0, "services_unused": 0},
        ])
    );
    assert_eq!(
        summary["account_counts"],
        json!({"INCOMPLETE": 1, "SUCCEEDED": 1, "UNREACHABLE": 1})
    );
    assert_eq!(summary["counts"]["principals_planned"], 3);
    assert_eq!(summary["counts"]["reports_written"], 2);
    assert_eq!(summary["counts"]["batches_planned"], 2);
    assert_eq!(
        (
            &summary["missing"][0]["arn"],
            &summary["missing"][0]["batch"]
        ),
        (&json!(MEMBER_WEB), &json!(first_batch)),
        "the member account's principal, in its batch"
    );
    assert_eq!(summary["missing"].as_array().unwrap().len(), 1);
    assert_eq!(summary["parameters"]["accounts"], 3);

    // The run's page is an overview: totals and accounts, no principal; each account
    // read has its own page, with its principals and what it misses.
    let run_dir = summary_key.trim_end_matches("summary.json");
    let overview = page_data(&bucket, &format!("{run_dir}index.html"));
    assert_eq!(overview["principals"], json!([]));
    assert_eq!(overview["shown"]["of"], 2);
    let ids: Vec<&Value> = overview["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [ACCOUNT, MEMBER, SUSPENDED]);
    let own = page_data(&bucket, &format!("{run_dir}accounts/{ACCOUNT}.html"));
    let arns: Vec<&Value> = own["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p[0])
        .collect();
    assert_eq!(arns, [WEB, ALICE]);
    assert_eq!(
        (&own["account"]["id"], &own["run"]["status"]),
        (&json!(ACCOUNT), &json!("SUCCEEDED"))
    );
    let member = page_data(&bucket, &format!("{run_dir}accounts/{MEMBER}.html"));
    assert_eq!(member["principals"], json!([]));
    assert_eq!(member["run"]["status"], "INCOMPLETE");
    assert_eq!(member["missing"][0]["arn"], MEMBER_WEB);
    assert_eq!(member["counts"]["principals_planned"], 1);
    // Each account's page counts its own batches: planned (Plan's record), reported.
    let batches = |page: &Value| {
        let c = &page["counts"];
        (c["batches_reported"].clone(), c["batches_planned"].clone())
    };
    assert_eq!(batches(&own), (json!(1), json!(1)));
    assert_eq!(batches(&member), (json!(0), json!(1)));
    assert!(
        !bucket
            .snapshot()
            .contains_key(&format!("{run_dir}accounts/{SUSPENDED}.html")),
        "an account not read has no page: the overview says why"
    );
}

#[tokio::test]
async fn a_summarize_that_fails_midway_aborts_its_uploads_and_writes_no_summary() {
    let bucket = written([Completed, Completed, Completed], Some(Completed)).await;
    // Batch 1's result is not one: Summarize reads it after batch 0 went into the index.
    bucket.put(&work("results/000001.json"), &json!("not a batch result"));
    let mut deps = summarize_deps(&bucket);
    deps.store = deps.store.with_part_bytes(64);
    let err = summarize::handle(&deps, event("summarize", "complete"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "StorageError", "{err}");
    assert!(err.to_string().contains("results/000001.json"), "{err}");
    let run_dir = SUMMARY_KEY.trim_end_matches("summary.json");
    let index_key = format!("{run_dir}principals.json");
    assert!(
        bucket.aborted.lock().unwrap().contains(&index_key),
        "the index's upload, begun, is aborted"
    );
    let keys = bucket.keys(run_dir);
    assert!(
        keys.is_empty(),
        "nothing of the run's summary is written: {keys:?}"
    );
}
