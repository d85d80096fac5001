use e2e::{unique, Stack};
use serde_json::json;

/// Each class of bad input ends the execution in the `InvalidInput` Fail state, with a
/// Cause naming the field, and nothing written for that run.
#[tokio::test]
async fn bad_input_fails_with_invalid_input_and_writes_nothing() {
    let stack = Stack::from_env().await;
    let cases = [
        (json!([1, 2]), "input: expected a JSON object, got an array"),
        (
            json!("scan everything"),
            "input: expected a JSON object, got a string",
        ),
        (json!({"arnz": []}), "arnz: unknown field"),
        (
            json!({"arns": "arn:aws:iam::123456789012:role/x"}),
            "arns: invalid type",
        ),
        (json!({"arns": ["not-an-arn"]}), "arns[0]"),
        (
            json!({"arns": ["arn:aws-cn:iam::123456789012:role/x"]}),
            "arns[0]",
        ),
        (
            json!({"arns": ["arn:aws:iam::999999999999:role/x"]}),
            "is in account 999999999999",
        ),
        (
            json!({"arns": ["arn:aws:iam::123456789012:role/x", "arn:aws:iam::123456789012:role/x"]}),
            "arns[1]",
        ),
        (json!({"granularity": "FINE"}), "granularity"),
        (json!({"batch_size": 0}), "batch_size"),
        (
            json!({"poll": {"max_attempts": 100000}}),
            "poll.max_attempts",
        ),
        (
            json!({"report": {"unused_days": 401}}),
            "report.unused_days",
        ),
        (
            json!({"discover": {"types": ["bucket"]}}),
            "discover.types[0]",
        ),
        (
            json!({"discover": {"path_prefix": "/no-such-path/"}}),
            "discover: no principal in the account matches",
        ),
        (
            json!({"arns": (0..=5000).map(|i| format!("arn:aws:iam::123456789012:role/r{i}")).collect::<Vec<_>>()}),
            "arns: 5001 ARNs",
        ),
        // Work one invocation can't finish within Lambda's 900 s at the run's rate.
        (
            json!({"arns": ["arn:aws:iam::123456789012:role/x"], "iam_requests_per_second": 0.1,
                   "report": {"entities": true, "max_entity_services": 100}}),
            "report.max_entity_services: one principal may need 103 IAM calls",
        ),
    ];
    for (input, field) in cases {
        let run = unique("bad");
        let execution = stack.run(&run, input.clone()).await;
        assert_eq!(execution.status, "FAILED", "{input}");
        assert_eq!(
            execution.error.as_deref(),
            Some("InvalidInput"),
            "{input}: {:?}",
            execution.cause
        );
        let cause = execution.cause.unwrap_or_default();
        assert!(
            cause.contains(field),
            "{input}: cause {cause:?} does not name {field:?}"
        );
        assert!(
            stack.keys(&format!("work/run={run}/")).await.is_empty(),
            "{input}: work files written"
        );
        let reports: Vec<String> = stack
            .keys("reports/")
            .await
            .into_iter()
            .filter(|k| k.contains(&format!("/run={run}/")))
            .collect();
        assert!(reports.is_empty(), "{input}: reports written: {reports:?}");
    }
}

/// Input that is not JSON never starts a run: Step Functions refuses it.
#[tokio::test]
async fn non_json_input_is_refused_before_any_run() {
    let stack = Stack::from_env().await;
    let run = unique("notjson");
    let started = stack
        .sfn
        .start_execution()
        .state_machine_arn(&stack.state_machine)
        .name(&run)
        .input("{\"arns\": [")
        .send()
        .await;
    // AWS answers InvalidExecutionInput; moto an UnknownError. Either way: no execution.
    assert!(started.is_err(), "a run started on non-JSON input");
    let listed = stack
        .sfn
        .list_executions()
        .state_machine_arn(&stack.state_machine)
        .send()
        .await
        .unwrap();
    assert!(
        listed.executions().iter().all(|e| e.name() != run),
        "an execution named {run} exists"
    );
    assert!(stack.keys(&format!("work/run={run}/")).await.is_empty());
}
