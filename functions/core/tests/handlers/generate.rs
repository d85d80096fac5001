//! Generate: one access-advisor job per principal of a batch; and the run's preflight.

use crate::helpers::{
    event, expect_error, generate_deps, generate_of, generates, iam_refuses, job_read, json,
    read_of, ALICE, DEPLOYER, DEPLOYER_JOB, READER, SCP_DENIAL, WEB, WEB_JOB,
};
use aws_sdk_iam::types::JobStatusType;
use aws_smithy_mocks::Rule;
use last_accessed::handlers::events::GenerateOutput;
use last_accessed::handlers::generate;
use last_accessed::Error;
use serde_json::json;

async fn run(iam: &[&Rule], fixture: &str) -> Result<GenerateOutput, Error> {
    generate::handle(&generate_deps(iam), event("generate", fixture)).await
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
