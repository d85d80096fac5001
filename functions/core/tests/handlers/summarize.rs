//! Summarize: the batches' results folded into the run summary, written last; the run
//! fails IncompleteRun when a principal has no report, TooManyFailures past the
//! allowed FAILED share.

use crate::helpers::{
    batch_result, event, expect_error, job_deps, json, planned, summarize_deps, work, Bucket,
    ADMINS, ALICE, BUCKET, DEPLOYER, RUN_ID, STARTED_AT, SUMMARY_KEY, WEB,
};
use last_accessed::handlers::summarize::{self, SummarizeOutput};
use last_accessed::handlers::write;
use last_accessed::model::JobStatus::{self, Completed, Denied, Failed};
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

    assert_eq!(
        json(&out),
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
    let cause = event("write", "generate-failed")["failure"]["Cause"]
        .as_str()
        .unwrap()
        .to_string();

    let summary = fails(
        &bucket,
        "complete",
        "IncompleteRun",
        &["3 of 4 principals reported (1 of 2 batches; 1 principals without a report, named in the summary)"],
        "INCOMPLETE",
    )
    .await;
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
