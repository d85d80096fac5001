//! Plan: validate the run input, find the principals, write the batch list and the plan
//! record to S3, hand the Map small handles.

use crate::helpers::{
    event, expect_error, iam_refuses, json, plan_deps, work, Bucket, ADMINS, ALICE, BUCKET,
    DEPLOYER, PLAN_FUNCTION, RUN_ID, STARTED_AT, WEB,
};
use aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput;
use aws_sdk_iam::operation::list_roles::ListRolesOutput;
use aws_sdk_iam::types::{Role, Tag};
use aws_sdk_iam::Client;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;
use last_accessed::handlers::plan::{self, PlanOutput};
use last_accessed::Error;
use serde_json::{json, Value};

async fn run(bucket: &Bucket, iam: &[&Rule], event: Value) -> Result<PlanOutput, Error> {
    plan::handle(&plan_deps(bucket, iam), event, Some(PLAN_FUNCTION)).await
}

/// The sizes of the batches in the batch list Plan wrote for `run_id`.
fn batch_sizes(bucket: &Bucket, run_id: &str) -> Vec<usize> {
    let batches = bucket.json(&format!("work/run={run_id}/batches.json"));
    let batches = batches.as_array().unwrap();
    for (i, batch) in batches.iter().enumerate() {
        assert_eq!(batch["index"], i, "batches are numbered from 0");
    }
    batches
        .iter()
        .map(|b| b["arns"].as_array().unwrap().len())
        .collect()
}

#[tokio::test]
async fn explicit_arns_become_a_batch_list_and_a_plan_record_in_s3() {
    let bucket = Bucket::new();
    // No IAM rule: naming the principals costs no IAM call.
    let out = run(&bucket, &[], event("plan", "explicit-arns"))
        .await
        .unwrap();

    assert_eq!(
        bucket.json(&work("batches.json")),
        json!([
            {"index": 0, "arns": [WEB, ALICE, DEPLOYER]},
            {"index": 1, "arns": [ADMINS]},
        ])
    );
    let record = bucket.json(&work("plan.json"));
    assert_eq!(record["run_id"], RUN_ID);
    assert_eq!(record["dt"], "2026-11-25");
    assert_eq!(
        record["started_at"], STARTED_AT,
        "the execution's start, to the second"
    );
    assert_eq!(record["granularity"], "SERVICE_LEVEL");
    assert_eq!(record["batch_size"], 3);
    assert_eq!(record["batch_size_requested"], 3);
    assert_eq!(record["explicit_arns"], 4);
    assert_eq!(record["principals"], 4);
    assert_eq!(record["batches"], 2);
    assert_eq!(record["discover"], Value::Null);
    assert_eq!(record["skipped"], json!([]));
    assert_eq!(
        bucket.keys(""),
        [work("batches.json"), work("plan.json")],
        "Plan writes nothing else"
    );

    // The Map gets handles, never the principals: the list is read from S3.
    let output = json(&out);
    assert_eq!(output["bucket"], BUCKET);
    assert_eq!(output["batches_key"], work("batches.json"));
    assert_eq!(output["principals"], 4);
    assert_eq!(output["batches"], 2);
    assert_eq!(output["max_concurrency"], 2, "the stack's default");
    assert_eq!(output["run"]["run_id"], RUN_ID);
    assert_eq!(output["run"]["started_at"], STARTED_AT);
    let text = output.to_string();
    assert!(
        !text.contains("arn:aws:iam"),
        "no ARN in the output: {text}"
    );
    assert!(text.len() < 1024, "{} bytes", text.len());
}

#[tokio::test]
async fn a_batch_size_the_invocation_budget_cannot_fit_is_shrunk() {
    let bucket = Bucket::new();
    // 61 principals in batches of 500 at 0.1 IAM requests/s: 600 s buy 60 calls.
    let out = run(&bucket, &[], event("plan", "slow-rate")).await.unwrap();
    let record = bucket.json("work/run=slow-2026-11-25/plan.json");
    assert_eq!(record["batch_size"], 60);
    assert_eq!(record["batch_size_requested"], 500);
    assert_eq!(record["iam_requests_per_second"], 0.1);
    assert_eq!(batch_sizes(&bucket, "slow-2026-11-25"), [60, 1]);
    assert_eq!((out.principals, out.batches), (61, 2));
    assert_eq!(
        out.run.iam_requests_per_second,
        Some(0.1),
        "every batch step paces at the run's rate"
    );
}

#[tokio::test]
async fn bad_input_is_invalid_input_naming_the_field_and_writes_nothing() {
    let with_input = |input: Value| {
        let mut e = event("plan", "explicit-arns");
        e["input"] = input;
        e
    };
    let with = |field: &str, value: Value| {
        let mut e = event("plan", "explicit-arns");
        e[field] = value;
        e
    };
    let cases = [
        (event("plan", "bad-arn"), "arns[1]: ", "instance-profile"),
        (
            with_input(json!({"arns": ["arn:aws:iam::210987654321:role/app-web"]})),
            "arns[0]: ",
            "this scan reads account 123456789012",
        ),
        (
            with_input(json!({"arns": [WEB], "batch_size": 0})),
            "batch_size: ",
            "0 is out of range 1..=500",
        ),
        (
            with_input(json!({"arns": [WEB], "poll": {"max_attempts": 0}})),
            "poll.max_attempts: ",
            "out of range",
        ),
        (
            with_input(json!({"arns": [WEB], "iam_requests_per_second": 500})),
            "iam_requests_per_second: ",
            "out of range 0.1..=100",
        ),
        (
            with_input(json!(["not", "an", "object"])),
            "input: ",
            "expected a JSON object",
        ),
        (
            with("execution_name", json!("daily/2026")),
            "execution name: ",
            "names the run's S3 prefix",
        ),
        (
            with("start_time", json!("yesterday")),
            "start_time: ",
            "not RFC 3339",
        ),
    ];
    for (event, field, why) in cases {
        let bucket = Bucket::new();
        let message = expect_error(run(&bucket, &[], event).await, "InvalidInput", &[why]);
        assert!(message.starts_with(field), "{message:?} names {field:?}");
        assert_eq!(bucket.keys(""), Vec::<String>::new(), "{field}");
    }
}

fn role(name: &str) -> Role {
    Role::builder()
        .path("/apps/")
        .role_name(name)
        .role_id("AROA0000000000000000")
        .arn(format!("arn:aws:iam::123456789012:role/apps/{name}"))
        .create_date(DateTime::from_secs(1_700_000_000))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_principal_that_vanishes_during_discovery_is_recorded_as_skipped() {
    let list = mock!(Client::list_roles)
        .match_requests(|r| r.path_prefix() == Some("/apps/"))
        .then_output(|| {
            ListRolesOutput::builder()
                .roles(role("app-web"))
                .roles(role("app-gone"))
                .roles(role("app-db"))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let gone = iam_refuses(
        mock!(Client::list_role_tags).match_requests(|r| r.role_name() == Some("app-gone")),
        404,
        "NoSuchEntity",
        "The role with name app-gone cannot be found.",
    );
    let tags = mock!(Client::list_role_tags).then_compute_output(|r| {
        let team = if r.role_name() == Some("app-web") {
            "web"
        } else {
            "db"
        };
        ListRoleTagsOutput::builder()
            .tags(Tag::builder().key("team").value(team).build().unwrap())
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let bucket = Bucket::new();
    let out = run(
        &bucket,
        &[&list, &gone, &tags],
        event("plan", "discover-tagged"),
    )
    .await
    .unwrap();

    assert_eq!(out.principals, 1);
    assert_eq!(
        bucket.json("work/run=tagged-2026-11-25/batches.json"),
        json!([{"index": 0, "arns": ["arn:aws:iam::123456789012:role/apps/app-web"]}])
    );
    let record = bucket.json("work/run=tagged-2026-11-25/plan.json");
    assert_eq!(
        record["skipped"],
        json!([{
            "arn": "arn:aws:iam::123456789012:role/apps/app-gone",
            "reason": "vanished: NoSuchEntity: The role with name app-gone cannot be found.",
        }])
    );
    assert_eq!(record["explicit_arns"], 0);
    assert_eq!(record["discover"]["tags"], json!({"team": "web"}));
    assert_eq!(
        tags.num_calls(),
        2,
        "one ListRoleTags per remaining candidate"
    );
}
