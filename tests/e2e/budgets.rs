//! Every invocation fits its budget: Plan with recommendations over many users whose
//! credential-report rows look unused leaves their fresh re-reads to the batches, and
//! every user is judged (the handler test `plan_with_recommendations_over_2000_dormant_users_fits_every_invocations_budget`
//! counts the calls at 2,000; this is the same on the stack, smaller).

use e2e::{days_ago, summary_of, unique, Stack};
use serde_json::json;
use std::collections::BTreeSet;

const USERS: usize = 40;

#[tokio::test]
async fn recommendations_over_dormant_users_judge_every_one_within_the_budgets() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": [], "deny": []}));
    // IAM serves a credential report up to four hours old: let an earlier test's expire
    // (as if six hours passed), so this scan's report has the users below.
    stack.control(
        "POST",
        "/moto-api/iam-access-advisor/age",
        &json!({"days": 0.25}),
    );
    let run = unique("dormant");
    let path = format!("/e2e/{run}/");
    let mut keys_of = std::collections::BTreeMap::new();
    let mut activity = Vec::new();
    for i in 0..USERS {
        let name = format!("{run}-{i}");
        let arn = stack.create_user(&path, &name, None).await;
        stack
            .iam
            .create_login_profile()
            .user_name(&name)
            .password("Not-a-real-password-1")
            .send()
            .await
            .expect("CreateLoginProfile");
        let mut keys = BTreeSet::new();
        for _ in 0..2 {
            let key = stack
                .iam
                .create_access_key()
                .user_name(&name)
                .send()
                .await
                .expect("CreateAccessKey")
                .access_key
                .unwrap()
                .access_key_id;
            activity.push(
                json!({"entity": arn, "service": "s3", "at": days_ago(200), "access_key_id": key}),
            );
            keys.insert(format!("access_key:{key}"));
        }
        activity
            .push(json!({"entity": arn, "service": "iam", "at": days_ago(200), "via": "console"}));
        keys_of.insert(arn, keys);
    }
    stack.seed_activity(json!(activity));

    let execution = stack
        .run(
            &run,
            json!({
                "discover": {"types": ["user"], "path_prefix": path},
                "batch_size": 500,
                "report": {"recommendations": true, "min_age_days": 0},
                "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1},
            }),
        )
        .await;
    let output = execution.succeeded();
    assert_eq!(output["by_status"], json!({"COMPLETED": USERS}), "{output}");
    let summary = summary_of(&stack, &output).await;
    for (arn, keys) in &keys_of {
        let report = stack.report(&summary, arn).await;
        let unused: BTreeSet<String> = report["findings"]["unused_credentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let mut expected = keys.clone();
        expected.insert("password".into());
        assert_eq!(unused, expected, "{arn}: judged on its fresh re-read");
        let actions: Vec<&str> = report["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .filter(|a| matches!(*a, "REMOVE_CONSOLE_PASSWORD" | "DEACTIVATE_ACCESS_KEY"))
            .collect();
        assert_eq!(actions.len(), 3, "{arn}: {actions:?}");
    }
}
