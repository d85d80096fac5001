//! A scan that survives a real account: one principal's denial is that principal's
//! outcome, one batch's failure is that batch's, a reader that can't work fails the run
//! at once, payloads stay small whatever the paths, and a mostly failed run is not a
//! success. All on the template-deployed stack with IAM enforced.

use e2e::{allow, summary_of, unique, Stack};
use serde_json::json;

/// The summary key an unsuccessful run names in its cause (`see s3://bucket/key`).
fn summary_key_in(cause: &str) -> String {
    let at = cause.find("s3://").expect("the cause names the summary");
    let rest = &cause[at + "s3://".len()..];
    let key = rest.split_once('/').expect("bucket/key").1;
    // The Cause is the Lambda's error as JSON: the key ends at a quote or a space.
    key.split(|c: char| c.is_whitespace() || c == '"' || c == '\\')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_denied_principal_is_reported_denied_and_the_run_succeeds() {
    let stack = Stack::from_env().await;
    let run = unique("denied");
    let path = format!("/e2e/{run}/");
    let ok = stack
        .create_role(&path, &format!("{run}-ok"), allow(&["s3:ListBucket"]))
        .await;
    let denied = stack
        .create_role(&path, &format!("{run}-scp"), allow(&["s3:ListBucket"]))
        .await;
    stack.configure(json!({"job_seconds": 1.0, "fail": [], "deny": [denied]}));
    let execution = stack
        .run(
            &run,
            json!({"arns": [ok, denied], "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}}),
        )
        .await;
    stack.configure(json!({"deny": []}));
    let output = execution.succeeded();
    assert_eq!(output["by_status"], json!({"COMPLETED": 1, "DENIED": 1}));
    let summary = summary_of(&stack, &output).await;
    assert_eq!(summary["as_of"], output["as_of"]);
    let d = stack.report(&summary, &denied).await;
    assert_eq!(d["job"]["status"], "DENIED");
    assert_eq!(d["job"]["error"]["code"], "AccessDenied");
    let message = d["job"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("iam:GenerateServiceLastAccessedDetails")
            && message.contains("explicit deny"),
        "IAM's own message is kept: {message}"
    );
    assert!(d["services"].as_array().unwrap().is_empty());
    let o = stack.report(&summary, &ok).await;
    assert_eq!(o["job"]["status"], "COMPLETED");
    // One instant per run: every report is judged at the run's start.
    assert_eq!(o["as_of"], summary["as_of"]);
    assert_eq!(d["as_of"], summary["as_of"]);
}

#[tokio::test]
async fn a_reader_that_cannot_generate_fails_the_run_fast_naming_the_action() {
    let stack = Stack::from_env().await;
    let run = unique("no-reader");
    let reader = std::env::var("READER_ROLE_ARN").expect("READER_ROLE_ARN");
    let reader_name = reader.rsplit('/').next().unwrap().to_string();
    let path = format!("/e2e/{run}/");
    let role = stack
        .create_role(&path, &format!("{run}-r"), allow(&["s3:ListBucket"]))
        .await;
    // What an SCP or a careless edit does to the reader: it may no longer start jobs.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:GenerateServiceLastAccessedDetails", "Resource": "*"}]});
    stack
        .iam
        .put_role_policy()
        .role_name(&reader_name)
        .policy_name("e2e-deny-generate")
        .policy_document(deny.to_string())
        .send()
        .await
        .expect("PutRolePolicy on the reader");
    let execution = stack.run(&run, json!({"arns": [role]})).await;
    stack
        .iam
        .delete_role_policy()
        .role_name(&reader_name)
        .policy_name("e2e-deny-generate")
        .send()
        .await
        .expect("DeleteRolePolicy on the reader");
    assert_eq!(execution.status, "FAILED");
    assert_eq!(execution.error.as_deref(), Some("AccessDenied"));
    let cause = execution.cause.unwrap_or_default();
    assert!(
        cause.contains("iam:GenerateServiceLastAccessedDetails"),
        "{cause}"
    );
    // Failed before any batch: no report was written for this run.
    assert!(stack
        .keys("reports/principals/")
        .await
        .iter()
        .all(|k| !k.contains(&format!("run={run}/"))));
}

#[tokio::test]
async fn a_batch_that_fails_beyond_its_retries_leaves_the_others_and_is_named() {
    let stack = Stack::from_env().await;
    let run = unique("batchfail");
    let path = format!("/e2e/{run}/");
    let mut arns = Vec::new();
    for i in 0..4 {
        arns.push(
            stack
                .create_role(&path, &format!("{run}-{i}"), allow(&["s3:ListBucket"]))
                .await,
        );
    }
    // Write may not store one principal's report (as a bucket policy or SCP could say):
    // its batch fails after Step Functions' retries; the other batch completes.
    // The stack names its function roles from ScannerName (the local stack: the default).
    let write_role = stack.role_named_like("iam-last-accessed-write").await;
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{}/reports/principals/*/run={run}/account=*/role/{run}-3.json", stack.bucket)}]});
    stack
        .iam
        .put_role_policy()
        .role_name(&write_role)
        .policy_name("e2e-deny-one-report")
        .policy_document(deny.to_string())
        .send()
        .await
        .expect("PutRolePolicy on Write's role");
    stack.configure(json!({"job_seconds": 1.0, "fail": [], "deny": []}));
    let execution = stack
        .run(
            &run,
            json!({"arns": arns, "batch_size": 2, "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}}),
        )
        .await;
    stack
        .iam
        .delete_role_policy()
        .role_name(&write_role)
        .policy_name("e2e-deny-one-report")
        .send()
        .await
        .expect("DeleteRolePolicy on Write's role");
    assert_eq!(execution.status, "FAILED");
    assert_eq!(execution.error.as_deref(), Some("IncompleteRun"));
    let cause = execution.cause.unwrap_or_default();
    let summary = stack.json(&summary_key_in(&cause)).await;
    assert_eq!(summary["status"], "INCOMPLETE");
    assert_eq!(
        summary["counts"]["reports_written"], 2,
        "the other batch completed"
    );
    assert_eq!(summary["counts"]["principals_missing"], 2);
    let missing: Vec<&str> = summary["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["arn"].as_str().unwrap())
        .collect();
    assert_eq!(missing, [arns[2].as_str(), arns[3].as_str()]);
    let first = &summary["missing"][0];
    assert_eq!(first["error"], "StorageError");
    assert!(
        first["reason"].as_str().unwrap().contains("AccessDenied"),
        "{first}"
    );
}

#[tokio::test]
async fn most_principals_failed_is_a_failed_run_not_a_success() {
    let stack = Stack::from_env().await;
    let run = unique("mostfail");
    let path = format!("/e2e/{run}/");
    let mut arns = Vec::new();
    for i in 0..3 {
        arns.push(
            stack
                .create_role(&path, &format!("{run}-{i}"), allow(&["s3:ListBucket"]))
                .await,
        );
    }
    stack.configure(json!({"job_seconds": 1.0, "fail": [arns[0], arns[1]], "deny": []}));
    let execution = stack
        .run(
            &run,
            json!({"arns": arns, "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}}),
        )
        .await;
    stack.configure(json!({"fail": []}));
    assert_eq!(execution.status, "FAILED");
    assert_eq!(execution.error.as_deref(), Some("TooManyFailures"));
    let cause = execution.cause.unwrap_or_default();
    assert!(cause.contains("2 of 3 principals FAILED"), "{cause}");
    let summary = stack.json(&summary_key_in(&cause)).await;
    assert_eq!(summary["status"], "FAILED");
    assert_eq!(summary["counts"]["by_status"]["FAILED"], 2);
}

#[tokio::test]
async fn five_hundred_principals_with_512_character_paths_fit_the_payload_limits() {
    let stack = Stack::from_env().await;
    let run = unique("longpaths");
    let filler = "p".repeat(512 - 2 - run.len() - 1);
    let path = format!("/{run}-{filler}/");
    assert_eq!(path.len(), 512);
    let created: Vec<String> = stack.create_roles(&path, &run, 500).await;
    assert_eq!(created.len(), 500);
    stack.configure(json!({"job_seconds": 0.0, "fail": [], "deny": []}));
    let execution = stack
        .run(
            &run,
            json!({"discover": {"types": ["role"], "path_prefix": path}, "batch_size": 500,
                   "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}}),
        )
        .await;
    let output = execution.succeeded();
    assert_eq!(output["principals"], 500);
    assert_eq!(output["reports_written"], 500);
    let summary = summary_of(&stack, &output).await;
    assert!(
        summary["parameters"]["batches"].as_u64().unwrap() > 1,
        "cut by bytes, not by count: {}",
        summary["parameters"]
    );
}
