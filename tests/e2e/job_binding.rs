//! The JobId rule, proven at the first run. IAM says a JobId "must be used by the same
//! role within a session"; the emulator binds it either to the role and session name
//! (`caller_binding: role_session_name`, its default) or to the STS session that created
//! it (`session`). Under each, a scan of three roles completes with every report true,
//! the summary names the binding the preflight found, and a principal costs IAM the same
//! two calls.

use e2e::{allow, days_ago, namespaces, service, summary_of, unique, Stack};
use serde_json::{json, Value};

/// The access-advisor calls IAM received so far: (Generate…, Get…) calls.
fn advisor_calls(stack: &Stack) -> (u64, u64) {
    let calls = &stack.stats()["calls"];
    let n = |action: &str| calls[action].as_u64().unwrap_or(0);
    (
        n("GenerateServiceLastAccessedDetails"),
        n("GetServiceLastAccessedDetails"),
    )
}

/// Three roles under a path of their own; the first used s3 two days ago. Scanned with
/// the emulator's `caller_binding` set to `binding` and jobs taking `job_seconds`; gives
/// the summary, the roles, when the s3 use was, and the run's access-advisor calls.
async fn scan(binding: &str, job_seconds: f64) -> (Stack, Value, Vec<String>, String, (u64, u64)) {
    let stack = Stack::from_env().await;
    let run = unique("binding");
    let path = format!("/e2e/{run}/");
    let mut roles = Vec::new();
    for i in 0..3 {
        let policy = allow(&["s3:GetObject", "ec2:DescribeInstances"]);
        roles.push(
            stack
                .create_role(&path, &format!("{run}-{i}"), policy)
                .await,
        );
    }
    let used_at = days_ago(2);
    stack.seed_activity(json!([{"entity": roles[0], "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": used_at}]));
    stack.configure(json!({"caller_binding": binding, "job_seconds": job_seconds}));
    let (generated, read) = advisor_calls(&stack);
    let execution = stack
        .run(
            &run,
            json!({
                "discover": {"path_prefix": path, "types": ["role"]},
                "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 2, "max_attempts": 30}
            }),
        )
        .await;
    stack.configure(json!({"caller_binding": "role_session_name", "job_seconds": 1.0}));
    let (generated_after, read_after) = advisor_calls(&stack);
    let output = execution.succeeded();
    assert_eq!(output["by_status"], json!({"COMPLETED": 3}), "{output}");
    let summary = summary_of(&stack, &output).await;
    let calls = (generated_after - generated, read_after - read);
    (stack, summary, roles, used_at, calls)
}

/// Every report true: the used role's s3 active at its seeded time, ec2 never used; the
/// others never used either.
async fn assert_reports_true(stack: &Stack, summary: &Value, roles: &[String], used_at: &str) {
    for (i, role) in roles.iter().enumerate() {
        let report = stack.report(summary, role).await;
        assert_eq!(report["job"]["status"], "COMPLETED");
        assert_eq!(namespaces(&report), ["ec2", "s3"]);
        let s3 = service(&report, "s3");
        if i == 0 {
            assert_eq!(
                (s3["usage"].as_str(), s3["last_authenticated"].as_str()),
                (Some("active"), Some(used_at))
            );
        } else {
            assert_eq!(s3["usage"], "never_used", "{role}");
        }
        assert_eq!(service(&report, "ec2")["usage"], "never_used");
    }
}

#[tokio::test]
async fn under_the_session_binding_generate_reads_its_own_jobs_and_the_summary_says_session() {
    // Jobs take 2 s: Generate polls them itself (none may be read in another session).
    let (stack, summary, roles, used_at, (generated, _)) = scan("session", 2.0).await;
    assert_eq!(summary["job_binding"], "session", "{summary:#}");
    assert_eq!(summary["accounts"][0]["job_binding"], "session");
    assert_eq!(summary["schema_version"], "4.1.0");
    assert_eq!(generated, 4, "one job per role, one for the preflight");
    assert_reports_true(&stack, &summary, &roles, &used_at).await;
}

#[tokio::test]
async fn under_the_default_binding_the_summary_says_role_session_name_at_two_calls_a_principal() {
    // Jobs done at once: the first poll reads each, so each role costs one Generate and
    // one Get; the preflight adds its job and two reads of it (Generate's, Check's).
    let (stack, summary, roles, used_at, calls) = scan("role_session_name", 0.0).await;
    assert_eq!(summary["job_binding"], "role_session_name", "{summary:#}");
    assert_eq!(summary["accounts"][0]["job_binding"], "role_session_name");
    assert_eq!(calls, (3 + 1, 3 + 2), "(Generate, Get) calls of the run");
    assert_reports_true(&stack, &summary, &roles, &used_at).await;
}
