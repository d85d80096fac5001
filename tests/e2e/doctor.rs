//! `ila doctor`, the built binary, against the local stack: a healthy stack passes with
//! the JobId rule proven under either emulated binding (`caller_binding`), in text and
//! JSON, and writes nothing but its own work file; an Organization member account
//! without the member role fails `ila doctor --organization`, named with the StackSet
//! command that deploys the role.

use e2e::{assert_has, ila, text, unique, Stack, ACCOUNT};
use serde_json::{json, Value};

/// The JSON report of `ila --output json doctor ARGS`, which must exit with `code`.
fn doctor_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["--output", "json", "doctor"];
    all.extend_from_slice(args);
    let out = ila(&all);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "ila {all:?}\n{stdout}\n{}",
        text(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The check named `id` of a JSON report.
fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == id)
        .unwrap_or_else(|| panic!("no {id} check in {report:#}"))
}

#[tokio::test]
async fn doctor_passes_on_the_local_stack_and_proves_the_jobid_rule() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"caller_binding": "role_session_name", "job_seconds": 1.0}));
    let name = unique("doctor");
    let out = ila(&["doctor", "--name", &name]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with('✗')),
        "no line ✗:\n{stdout}"
    );
    assert_has(
        &stdout,
        &[
            &format!("✓ stack outputs: state machine {}", stack.state_machine),
            "✓ reader role: the stack's reader role started an access-advisor job",
            "✓ JobId rule: binding role_session_name: a separate STS session",
            &format!("✓ bucket encryption: {}: AES256", stack.bucket),
            "✓ your read rights:",
            "ℹ Organizations: not checked",
            "ℹ schedule: ",
            " 0 failed, ",
        ],
    );
    // A doctor run scans nothing: no plan, batch, report or summary; its findings only.
    assert_eq!(
        stack.keys(&format!("work/run={name}/")).await,
        [format!("work/run={name}/doctor.json")]
    );
    let reported = stack.keys("reports/").await;
    assert!(
        !reported
            .iter()
            .any(|k| k.contains(&format!("/run={name}/"))),
        "{reported:?}"
    );

    // Under the session binding the scanner works too (each Generate reads its own
    // jobs): still ✓, and the line says which binding it found.
    stack.configure(json!({"caller_binding": "session"}));
    let report = doctor_json(&[], 0);
    stack.configure(json!({"caller_binding": "role_session_name"}));
    assert_eq!(report["healthy"], true, "{report:#}");
    assert_eq!(report["job_binding"], "session");
    let rule = check(&report, "job_id_rule");
    assert_eq!(rule["mark"], "pass");
    assert!(
        rule["summary"]
            .as_str()
            .unwrap()
            .starts_with("binding session:"),
        "{rule}"
    );
    for id in [
        "stack_outputs",
        "reader",
        "bucket_encryption",
        "caller_reads",
    ] {
        assert_eq!(check(&report, id)["mark"], "pass", "{id}: {report:#}");
    }
    for id in ["organizations", "access_report", "schedule"] {
        assert_eq!(check(&report, id)["mark"], "info", "{id}: {report:#}");
    }
    assert!(
        check(&report, "schedule")["summary"]
            .as_str()
            .unwrap()
            .contains("as deployed"),
        "{report:#}"
    );
}

/// A new member account of the local Organization, with no member role in it.
async fn account_without_member_role(tag: &str) -> String {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let org = aws_sdk_organizations::Client::new(&conf);
    let status = org
        .create_account()
        .account_name(format!("no-role-{tag}"))
        .email(format!("no-role-{tag}@example.com"))
        .send()
        .await
        .expect("CreateAccount")
        .create_account_status
        .expect("CreateAccountStatus");
    let described = org
        .describe_create_account_status()
        .create_account_request_id(status.id.expect("request id"))
        .send()
        .await
        .expect("DescribeCreateAccountStatus");
    described
        .create_account_status
        .and_then(|s| s.account_id)
        .expect("the new account's id")
}

#[tokio::test]
async fn doctor_names_the_member_account_without_its_role_and_fails() {
    let stack = Stack::from_env().await;
    let tag = unique("doc");
    let missing = account_without_member_role(&tag).await;
    let dir = std::env::temp_dir().join(&tag);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("input.json");
    let selection = json!({"organization": {"accounts": [ACCOUNT, missing]}, "discover": {}});
    std::fs::write(&input, selection.to_string()).unwrap();
    let input = input.to_str().unwrap();

    let out = ila(&["doctor", "--organization", "--input", input]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_has(
        &stdout,
        &[
            "✓ Organizations: readable: ",
            "2 selected by the scan",
            "✗ member role: iam-last-accessed-member not assumable in 1 of 2 selected accounts",
            &format!("    {missing} (no-role-{tag}): cannot assume arn:aws:iam::{missing}:role/iam-last-accessed-member: AccessDenied"),
            "→ deploy the member role with its StackSet",
            "aws cloudformation create-stack-instances --stack-set-name iam-last-accessed-member --deployment-targets OrganizationalUnitIds=r-",
            &format!(",Accounts={missing},AccountFilterType=INTERSECTION --regions "),
            // The rest still checked, and the JobId rule proven on the stack's account.
            "✓ JobId rule: binding ",
            " 1 failed, ",
        ],
    );

    // Every ACTIVE account (--organization alone) names it too; in JSON as well.
    let report = doctor_json(&["--organization"], 1);
    assert_eq!(report["healthy"], false);
    let members = check(&report, "member_roles");
    assert_eq!(members["mark"], "fail");
    assert!(
        members["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("Accounts={missing}")),
        "{members}"
    );
    let accounts = report["accounts"].as_array().expect("accounts");
    let line = accounts
        .iter()
        .find(|a| a["id"] == missing.as_str())
        .expect("the account");
    assert_eq!(line["reachable"], false);
    assert!(
        line["why"].as_str().unwrap().contains("AccessDenied"),
        "{line}"
    );
    let own = accounts
        .iter()
        .find(|a| a["id"] == ACCOUNT)
        .expect("the stack's account");
    assert_eq!(
        own["reachable"], true,
        "read through the stack's reader role: {own}"
    );
    assert_eq!(check(&report, "job_id_rule")["mark"], "pass");

    // A doctor input with a field a doctor run would ignore is refused, naming it.
    let execution = stack
        .run(
            &unique("doctor-bad"),
            json!({"doctor": true, "discover": {}}),
        )
        .await;
    assert_eq!(execution.error.as_deref(), Some("InvalidInput"));
    assert!(execution.cause.unwrap().contains("discover: a doctor run"));

    // The account leaves the Organization: the tests after this one select "all" and
    // expect only their own accounts to lack the member role.
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    aws_sdk_organizations::Client::new(&conf)
        .remove_account_from_organization()
        .account_id(&missing)
        .send()
        .await
        .expect("RemoveAccountFromOrganization");
}
