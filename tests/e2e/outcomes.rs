//! Principals whose job does not complete are reported with their outcome while the run
//! succeeds: FAILED, gone (NOT_FOUND), still running at the poll limit (TIMED_OUT).

use e2e::{allow, namespaces, summary_of, unique, Stack};
use serde_json::json;

#[tokio::test]
async fn failed_and_vanished_principals_are_reported_and_the_run_succeeds() {
    let stack = Stack::from_env().await;
    let run = unique("faults");
    let path = format!("/e2e/{run}/");
    let ok = stack
        .create_role(&path, &format!("{run}-ok"), allow(&["s3:ListBucket"]))
        .await;
    let failing = stack
        .create_role(&path, &format!("{run}-fail"), allow(&["s3:ListBucket"]))
        .await;
    let vanished = stack
        .create_role(&path, &format!("{run}-gone"), allow(&["s3:ListBucket"]))
        .await;
    stack
        .iam
        .delete_role_policy()
        .role_name(format!("{run}-gone"))
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    stack
        .iam
        .delete_role()
        .role_name(format!("{run}-gone"))
        .send()
        .await
        .unwrap();
    stack.configure(json!({"job_seconds": 1.0, "fail": [failing]}));

    let execution = stack.run(&run, json!({"arns": [ok, failing, vanished], "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}})).await;
    stack.configure(json!({"fail": []}));
    let output = execution.succeeded();
    assert_eq!(
        output["by_status"],
        json!({"COMPLETED": 1, "FAILED": 1, "NOT_FOUND": 1})
    );
    let summary = summary_of(&stack, &output).await;
    assert_eq!(summary["errors"].as_array().unwrap().len(), 2);

    let f = stack.report(&summary, &failing).await;
    assert_eq!(f["job"]["status"], "FAILED");
    assert!(f["job"]["id"].is_string());
    assert!(
        !f["job"]["error"]["message"].as_str().unwrap().is_empty(),
        "IAM's error is kept: {}",
        f["job"]["error"]
    );
    assert!(f["services"].as_array().unwrap().is_empty());
    let v = stack.report(&summary, &vanished).await;
    assert_eq!(v["job"]["status"], "NOT_FOUND");
    assert_eq!(v["job"]["error"]["code"], "NoSuchEntity");
    assert!(v["job"]["id"].is_null());
    let o = stack.report(&summary, &ok).await;
    assert_eq!(namespaces(&o), ["s3"]);
}

#[tokio::test]
async fn jobs_still_running_at_the_poll_limit_are_reported_timed_out() {
    let stack = Stack::from_env().await;
    let run = unique("timeout");
    let role = stack
        .create_role(
            &format!("/e2e/{run}/"),
            &format!("{run}-slow"),
            allow(&["s3:ListBucket"]),
        )
        .await;
    stack.configure(json!({"job_seconds": 60.0, "fail": []}));
    let execution = stack
        .run(&run, json!({"arns": [role], "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 2}}))
        .await;
    stack.configure(json!({"job_seconds": 1.0}));
    let output = execution.succeeded();
    assert_eq!(output["by_status"], json!({"TIMED_OUT": 1}));
    let summary = summary_of(&stack, &output).await;
    let report = stack.report(&summary, &role).await;
    assert_eq!(report["job"]["status"], "TIMED_OUT");
    assert_eq!(report["job"]["error"]["code"], "TimedOut");
    assert_eq!(
        report["job"]["error"]["message"],
        "job still IN_PROGRESS after 2 polls"
    );
    assert!(
        report["job"]["id"].is_string(),
        "the JobId is kept, to read the job later"
    );
    assert_eq!(summary["errors"][0]["status"], "TIMED_OUT");
}
