//! Check: poll the jobs still IN_PROGRESS, store the ones that finished, give up at the
//! poll limit.

use crate::helpers::{
    event, expect_error, iam_refuses, job_deps, job_read, json, read_of, work, Bucket, ALICE,
    DEPLOYER, DEPLOYER_JOB, WEB, WEB_JOB, WEB_SERVICES,
};
use aws_sdk_iam::types::JobStatusType;
use aws_smithy_mocks::Rule;
use last_accessed::handlers::check;
use serde_json::{json, Value};

/// Check's output for the fixture `check/events/<fixture>.json`, IAM answering with
/// `iam`, after asserting each job's ARN and status in it.
async fn poll(bucket: &Bucket, iam: &[&Rule], fixture: &str, statuses: [(&str, &str); 3]) -> Value {
    let out = check::handle(&job_deps(bucket, iam), event("check", fixture))
        .await
        .unwrap();
    let out = json(&out);
    let found: Vec<(&str, &str)> = out["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["arn"].as_str().unwrap(), j["status"].as_str().unwrap()))
        .collect();
    assert_eq!(found, statuses);
    out
}

#[tokio::test]
async fn a_poll_that_finds_a_job_completed_stores_it_and_marks_it() {
    let done = job_read(WEB_JOB, JobStatusType::Completed, WEB_SERVICES, None);
    let running = job_read(DEPLOYER_JOB, JobStatusType::InProgress, &[], None);
    let bucket = Bucket::new();
    let out = poll(
        &bucket,
        &[&done, &running],
        "in-progress",
        [
            (WEB, "COMPLETED"),
            (ALICE, "DENIED"),
            (DEPLOYER, "IN_PROGRESS"),
        ],
    )
    .await;
    assert_eq!(out["attempt"], 1);
    assert_eq!(out["pending"], 1, "the Choice loops back to the Wait");
    assert_eq!(out["wait_seconds"], 10, "the wait doubles");

    // The read that found it COMPLETED is stored for Write, which asks IAM no more.
    let stored = bucket.json(&work(&format!("jobs/{WEB_JOB}.json")));
    assert_eq!(stored["completed"], "2026-11-25T01:00:12Z");
    assert_eq!(stored["services"][0]["namespace"], "s3");
    assert_eq!(
        stored["services"][0]["last_authenticated"],
        "2026-11-20T09:30:00Z"
    );
    assert_eq!(stored["services"][1]["namespace"], "ec2");
    assert_eq!(stored["services"][1]["last_authenticated"], Value::Null);
    assert_eq!(
        bucket.keys(""),
        [work(&format!("jobs/{WEB_JOB}.json"))],
        "a job still running is not stored"
    );
    assert_eq!((done.num_calls(), running.num_calls()), (1, 1));
}

#[tokio::test]
async fn the_poll_limit_marks_the_jobs_still_running_timed_out() {
    // poll.max_attempts is 60; this is the 60th poll. The COMPLETED job is not read again
    // (no rule answers it).
    let running = job_read(DEPLOYER_JOB, JobStatusType::InProgress, &[], None);
    let bucket = Bucket::new();
    let out = poll(
        &bucket,
        &[&running],
        "last-poll",
        [
            (WEB, "COMPLETED"),
            (ALICE, "DENIED"),
            (DEPLOYER, "TIMED_OUT"),
        ],
    )
    .await;
    assert_eq!(
        out["jobs"][2]["error"],
        json!({"code": "TimedOut", "message": "job still IN_PROGRESS after 60 polls"})
    );
    assert_eq!(
        out["jobs"][1]["error"]["code"], "AccessDenied",
        "kept as Generate found it"
    );
    assert_eq!(out["attempt"], 60);
    assert_eq!(out["pending"], 0, "the Choice goes on to Write");
    assert_eq!(bucket.keys(""), Vec::<String>::new());
}

/// The preflight's second read of `preflight-job`, IAM answering with `iam`.
async fn second_read(iam: &[&Rule]) -> Result<Value, last_accessed::Error> {
    let mut probe = event("generate", "preflight");
    probe["probe"]["run"]["preflight"] = json!({"job_id": "preflight-job"});
    check::handle(&job_deps(&Bucket::new(), iam), probe)
        .await
        .map(|out| json(&out))
}

#[tokio::test]
async fn a_second_session_that_reads_the_preflights_job_means_the_role_session_name_binding() {
    let read = job_read("preflight-job", JobStatusType::Completed, &[], None);
    assert_eq!(
        second_read(&[&read]).await.unwrap(),
        json!({"job_id": "preflight-job", "job_binding": "role_session_name"})
    );
    assert_eq!(read.num_calls(), 1);
}

#[tokio::test]
async fn a_second_session_refused_the_preflights_job_means_the_session_binding() {
    // IAM does not say how it refuses another session: each refusal is the verdict.
    for (status, code) in [
        (404, "NoSuchEntity"),
        (400, "InvalidInput"),
        (403, "AccessDenied"),
    ] {
        let refused = iam_refuses(
            read_of("preflight-job"),
            status,
            code,
            "not this session's job",
        );
        assert_eq!(
            second_read(&[&refused]).await.unwrap(),
            json!({"job_id": "preflight-job", "job_binding": "session"}),
            "{code}"
        );
    }
}

#[tokio::test]
async fn a_throttled_second_read_is_retried_never_a_verdict() {
    let throttled = iam_refuses(read_of("preflight-job"), 400, "Throttling", "Rate exceeded");
    expect_error(
        second_read(&[&throttled]).await,
        "Throttled",
        &["Rate exceeded"],
    );
}

#[tokio::test]
async fn a_second_read_without_the_preflights_job_is_invalid_input() {
    let mut probe = event("generate", "preflight");
    probe["probe"]["run"]["preflight"] = json!({"job_id": ""});
    expect_error(
        check::handle(&job_deps(&Bucket::new(), &[]), probe).await,
        "InvalidInput",
        &["event.probe.run.preflight.job_id"],
    );
}

#[tokio::test]
async fn a_batch_with_nothing_pending_is_not_polled() {
    let mut state = event("check", "in-progress");
    state["pending"] = json!(0);
    // No IAM rule: a read would fail.
    let out = check::handle(&job_deps(&Bucket::new(), &[]), state.clone())
        .await
        .unwrap();
    assert_eq!(json(&out), state);
}
