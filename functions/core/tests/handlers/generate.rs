//! Generate: one access-advisor job per principal of a batch; and the run's preflight.

use crate::helpers::{
    deadline, entities_of, event, expect_error, generate_deps, generate_deps_in, generate_of,
    generates, iam_refuses, job_read, json, read_of, read_page, work, Bucket, ADMINS, ALICE,
    DEPLOYER, DEPLOYER_JOB, READER, SCP_DENIAL, WEB, WEB_JOB, WEB_SERVICES,
};
use aws_sdk_iam::types::JobStatusType;
use aws_smithy_mocks::Rule;
use last_accessed::handlers::events::GenerateOutput;
use last_accessed::handlers::generate;
use last_accessed::runtime::deps::GenerateDeps;
use last_accessed::Error;
use serde_json::json;
use std::time::Duration;

async fn run(iam: &[&Rule], fixture: &str) -> Result<GenerateOutput, Error> {
    generate::handle(&generate_deps(iam), event("generate", fixture), deadline()).await
}

#[tokio::test]
async fn a_principal_iam_denies_is_denied_and_the_others_are_in_progress() {
    let denied = iam_refuses(generate_of(ALICE), 403, "AccessDenied", SCP_DENIAL);
    let jobs = generates(&[(WEB, WEB_JOB), (DEPLOYER, DEPLOYER_JOB)]);
    let out = json(&run(&[&denied, &jobs], "batch").await.unwrap());

    assert_eq!(
        out["jobs"],
        json!([
            {"arn": WEB, "principal_id": "AROAQAPPWEB000000001", "job_id": WEB_JOB, "status": "IN_PROGRESS"},
            {"arn": ALICE, "principal_id": "AIDAQALICE0000000001", "status": "DENIED", "error": {"code": "AccessDenied", "message": SCP_DENIAL}},
            {"arn": DEPLOYER, "job_id": DEPLOYER_JOB, "status": "IN_PROGRESS"},
        ]),
        "the denial is alice's outcome, with IAM's own message; the batch goes on; each job \
         keeps the unique id Plan read (the deployer's, an explicit ARN IAM does not know, none)"
    );
    assert_eq!(out["pending"], 2);
    assert_eq!(out["attempt"], 0);
    assert_eq!(out["wait_seconds"], 5, "poll.initial_wait_seconds");
    // What Generate answers is what the Wait hands Check.
    assert_eq!(out, event("check", "in-progress"));
}

#[tokio::test]
async fn the_preflight_passes_when_the_reader_may_start_and_read_a_job() {
    let start = generates(&[(READER, "preflight-job")]);
    let read = job_read("preflight-job", JobStatusType::InProgress, &[], None);
    let out = run(&[&start, &read], "preflight").await.unwrap();
    assert_eq!(
        json(&out),
        json!({"reader": READER, "job_id": "preflight-job", "job_status": "IN_PROGRESS"})
    );
    assert_eq!((start.num_calls(), read.num_calls()), (1, 1));
}

const READER_REFUSED: &str = "User: arn:aws:sts::123456789012:assumed-role/last-accessed-reader/iam-last-accessed is not authorized to perform: iam:GenerateServiceLastAccessedDetails on resource: role last-accessed-reader because no identity-based policy allows the iam:GenerateServiceLastAccessedDetails action";

#[tokio::test]
async fn the_preflight_fails_the_run_when_the_reader_may_not_start_jobs() {
    let refused = iam_refuses(generate_of(READER), 403, "AccessDenied", READER_REFUSED);
    expect_error(
        run(&[&refused], "preflight").await,
        "AccessDenied",
        &[
            "the reader role may not start access-advisor jobs",
            "iam:GenerateServiceLastAccessedDetails on arn:aws:iam::123456789012:role/last-accessed-reader was refused",
            READER_REFUSED,
        ],
    );
}

#[tokio::test]
async fn the_preflight_fails_the_run_when_the_reader_may_not_read_its_job() {
    let start = generates(&[(READER, "preflight-job")]);
    let refused = iam_refuses(
        read_of("preflight-job"),
        403,
        "AccessDenied",
        "not authorized to perform: iam:GetServiceLastAccessedDetails",
    );
    expect_error(
        run(&[&start, &refused], "preflight").await,
        "AccessDenied",
        &[
            "the reader role may not read access-advisor jobs",
            "iam:GetServiceLastAccessedDetails",
        ],
    );
}

#[tokio::test]
async fn the_preflight_fails_the_run_when_its_own_session_cannot_read_its_job() {
    let start = generates(&[(READER, "preflight-job")]);
    let gone = iam_refuses(
        read_of("preflight-job"),
        404,
        "NoSuchEntity",
        "No such job with ID preflight-job.",
    );
    expect_error(
        run(&[&start, &gone], "preflight").await,
        "AccessDenied",
        &[
            "may not read the access-advisor job it just created, in the same session",
            "iam:GetServiceLastAccessedDetails of job preflight-job answered NoSuchEntity: No such job with ID preflight-job.",
        ],
    );
}

const ADMINS_JOB: &str = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";

/// A batch of app-web and the admins group whose run's preflight found the `session`
/// binding: no wait between polls, entities asked, `max_attempts` polls at most.
fn session_batch(max_attempts: u32) -> serde_json::Value {
    let mut event = event("generate", "batch");
    let run = &mut event["batch"]["run"];
    run["poll"] =
        json!({"initial_wait_seconds": 0, "max_wait_seconds": 0, "max_attempts": max_attempts});
    run["report"]["entities"] = json!(true);
    run["preflight"] = json!({"job_id": "preflight-job", "job_binding": "session"});
    event["batch"]["batch"] = json!({"index": 0, "arns": [WEB, ADMINS], "ids": {}});
    event
}

#[tokio::test]
async fn under_the_session_binding_generate_reads_every_job_and_its_entities_itself() {
    let bucket = Bucket::new();
    let jobs = generates(&[(WEB, WEB_JOB), (ADMINS, ADMINS_JOB)]);
    // app-web's job is still running at the first poll, done at the second.
    let web = read_of(WEB_JOB)
        .sequence()
        .output(|| read_page(JobStatusType::InProgress, &[], None))
        .output(|| read_page(JobStatusType::Completed, WEB_SERVICES, None))
        .build();
    let admins = job_read(
        ADMINS_JOB,
        JobStatusType::Completed,
        &[("s3", "Amazon S3", Some("2026-11-20T09:30:00Z"))],
        None,
    );
    let entities = entities_of(ADMINS_JOB, "s3", ALICE, "2026-11-20T09:30:00Z");
    let deps = generate_deps_in(&bucket, &[&jobs, &web, &admins, &entities]);
    let out = json(
        &generate::handle(&deps, session_batch(5), deadline())
            .await
            .unwrap(),
    );

    let statuses: Vec<(&str, &str)> = out["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["arn"].as_str().unwrap(), j["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [(WEB, "COMPLETED"), (ADMINS, "COMPLETED")]);
    assert_eq!(
        (
            out["pending"].as_u64(),
            out["wait_seconds"].as_u64(),
            out["attempt"].as_u64()
        ),
        (Some(0), Some(0), Some(2)),
        "nothing left for Check: the Choice goes on to Write"
    );
    assert_eq!(
        (web.num_calls(), admins.num_calls(), entities.num_calls()),
        (2, 1, 1)
    );

    // Stored as Check stores them, the entities with them: Write asks IAM no JobId.
    let stored_web = bucket.json(&work(&format!("jobs/{WEB_JOB}.json")));
    assert_eq!(stored_web["services"][0]["namespace"], "s3");
    let stored_admins = bucket.json(&work(&format!("jobs/{ADMINS_JOB}.json")));
    assert_eq!(stored_admins["entities"][0][0], "s3");
    assert_eq!(stored_admins["entities"][0][1][0]["arn"], ALICE);
}

#[tokio::test]
async fn under_the_session_binding_a_job_still_running_at_the_poll_limit_is_timed_out() {
    let bucket = Bucket::new();
    let jobs = generates(&[(WEB, WEB_JOB), (ADMINS, ADMINS_JOB)]);
    let web = job_read(WEB_JOB, JobStatusType::InProgress, &[], None);
    let admins = job_read(ADMINS_JOB, JobStatusType::Completed, &[], None);
    let deps = generate_deps_in(&bucket, &[&jobs, &web, &admins]);
    let out = json(
        &generate::handle(&deps, session_batch(3), deadline())
            .await
            .unwrap(),
    );
    assert_eq!(out["jobs"][0]["status"], "TIMED_OUT");
    assert_eq!(
        out["jobs"][0]["error"]["message"],
        "job still IN_PROGRESS after 3 polls"
    );
    assert_eq!(out["jobs"][1]["status"], "COMPLETED");
    assert_eq!(out["pending"], 0);
    assert_eq!(web.num_calls(), 3, "one read per poll, up to the limit");
    assert_eq!(
        bucket.keys(""),
        [work(&format!("jobs/{ADMINS_JOB}.json"))],
        "only the finished job is stored"
    );
}

#[tokio::test]
async fn under_the_default_binding_generate_leaves_the_polls_to_check() {
    let jobs = generates(&[(WEB, WEB_JOB), (ADMINS, ADMINS_JOB)]);
    let mut event = session_batch(5);
    event["batch"]["run"]["preflight"]["job_binding"] = json!("role_session_name");
    // No read rule: a read here would fail the test.
    let out = json(
        &generate::handle(&generate_deps(&[&jobs]), event, deadline())
            .await
            .unwrap(),
    );
    assert_eq!(out["pending"], 2);
    assert_eq!(out["jobs"][0]["status"], "IN_PROGRESS");
}

/// A session-binding batch of two jobs, web's never finishing (its read rule, to count
/// the polls), polled every `wait` seconds without a poll limit to speak of.
fn web_never_finishing(bucket: &Bucket, wait: u64) -> (GenerateDeps, serde_json::Value, Rule) {
    let jobs = generates(&[(WEB, WEB_JOB), (ADMINS, ADMINS_JOB)]);
    let web = job_read(WEB_JOB, JobStatusType::InProgress, &[], None);
    let admins = job_read(ADMINS_JOB, JobStatusType::Completed, &[], None);
    let mut event = session_batch(1000);
    event["batch"]["run"]["poll"] =
        json!({"initial_wait_seconds": wait, "max_wait_seconds": wait, "max_attempts": 1000});
    let deps = generate_deps_in(bucket, &[&jobs, &web, &admins]);
    (deps, event, web)
}

#[tokio::test(start_paused = true)]
async fn under_the_session_binding_a_job_still_running_at_the_budget_is_timed_out_saying_why() {
    // Polls a minute apart, no poll limit to speak of: the invocation's 600 s budget ends
    // the loop (tokio's clock, paused: no real time passes).
    let bucket = Bucket::new();
    let (deps, event, web) = web_never_finishing(&bucket, 60);
    let started = tokio::time::Instant::now();
    let out = json(&generate::handle(&deps, event, deadline()).await.unwrap());
    assert!(started.elapsed().as_secs() < 600, "within its budget");
    assert_eq!(out["jobs"][0]["status"], "TIMED_OUT");
    let message = out["jobs"][0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("at the end of the Generate invocation that created it")
            && message.contains("no other session may read it"),
        "{message}"
    );
    assert_eq!(out["jobs"][1]["status"], "COMPLETED");
    assert_eq!(out["pending"], 0);
    assert!(
        web.num_calls() >= 8,
        "polled a minute apart until the budget: {}",
        web.num_calls()
    );
}

#[tokio::test(start_paused = true)]
async fn under_the_session_binding_reading_stops_at_the_invocations_own_deadline() {
    // A function whose Timeout is 60 s (a copy of the template): its invocation's budget
    // is 40 s, not the 600 s of a 900 s Timeout, and the loop keeps it.
    let bucket = Bucket::new();
    let (deps, event, web) = web_never_finishing(&bucket, 5);
    let started = tokio::time::Instant::now();
    let own = last_accessed::adapters::deadline::Deadline::after(Duration::from_secs(60));
    let out = json(&generate::handle(&deps, event, own).await.unwrap());
    assert!(
        started.elapsed() <= Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out["jobs"][0]["status"], "TIMED_OUT");
    assert_eq!(out["jobs"][1]["status"], "COMPLETED");
    assert!(
        (6..=8).contains(&web.num_calls()),
        "polled 5 s apart until 40 s: {}",
        web.num_calls()
    );
}
