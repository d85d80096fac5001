//! The checklist's rendering, its exit code, the doctor run's input and how the
//! preflight's outcome becomes the reader and JobId lines.

use super::*;
use last_accessed::domain::doctor::Mark;

fn state(
    status: &str,
    output: Option<Value>,
    error: Option<&str>,
    cause: Option<&str>,
) -> RunState {
    RunState {
        run_id: "doctor-1".into(),
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:doctor-1".into(),
        status: status.into(),
        started_at: "2026-05-09T10:00:00Z".into(),
        stopped_at: None,
        error: error.map(str::to_string),
        cause: cause.map(str::to_string),
        batches: None,
        output: output.map(|o| o.to_string()),
    }
}

fn empty_report() -> Report {
    Report {
        run_id: "doctor-1".into(),
        execution_arn: None,
        healthy: false,
        job_binding: None,
        checks: Vec::new(),
        accounts: Vec::new(),
    }
}

fn args(organization: bool, input: Option<&str>) -> DoctorArgs {
    DoctorArgs {
        organization,
        input: input.map(str::to_string),
        name: None,
    }
}

#[test]
fn the_checklist_prints_a_mark_per_line_details_and_fixes_indented() {
    let checks = vec![
        Check::pass(CheckId::StackOutputs, "state machine sm, bucket b"),
        Check::fail(
            CheckId::MemberRoles,
            "not assumable in 1 of 2",
            "deploy it:\naws cloudformation create-stack-instances …",
        )
        .with_details(vec!["222222222222 (c): AccessDenied".into()]),
        Check::info(CheckId::Schedule, "ENABLED as deployed"),
    ];
    let text = render(&checks);
    assert_eq!(
        text,
        "✓ stack outputs: state machine sm, bucket b\n\
         ✗ member role: not assumable in 1 of 2\n    222222222222 (c): AccessDenied\n    → deploy it:\n      aws cloudformation create-stack-instances …\n\
         ℹ schedule: ENABLED as deployed\n\
         1 passed, 1 failed, 1 information\n"
    );
    assert_eq!(exit_of(&checks), Exit::Failed);
}

#[test]
fn information_alone_never_fails_the_doctor() {
    let checks = vec![
        Check::pass(CheckId::Reader, "ok"),
        Check::info(CheckId::AccessReport, "not possible here"),
    ];
    assert_eq!(exit_of(&checks), Exit::Success);
    assert!(render(&checks).ends_with("1 passed, 0 failed, 1 information\n"));
}

#[test]
fn a_succeeded_doctor_run_proves_the_jobid_rule_under_either_binding() {
    for binding in ["role_session_name", "session"] {
        let mut report = empty_report();
        let output =
            json!({"doctor": true, "run": {"preflight": {"job_id": "j", "job_binding": binding}}});
        preflight(
            &state("SUCCEEDED", Some(output), None, None),
            true,
            &mut report,
        );
        let marks: Vec<(CheckId, Mark)> = report.checks.iter().map(|c| (c.check, c.mark)).collect();
        assert_eq!(
            marks,
            [
                (CheckId::Reader, Mark::Pass),
                (CheckId::JobIdRule, Mark::Pass)
            ]
        );
        assert!(report.checks[1]
            .summary
            .starts_with(&format!("binding {binding}:")));
        assert_eq!(report.job_binding.as_deref(), Some(binding));
    }
    let mut report = empty_report();
    preflight(
        &state("SUCCEEDED", Some(json!({"run": {}})), None, None),
        true,
        &mut report,
    );
    assert_eq!(report.checks[1].mark, Mark::Fail, "no binding is no proof");
}

#[test]
fn a_refused_reader_fails_both_lines_with_what_to_do() {
    let mut report = empty_report();
    let failed = state(
        "FAILED",
        None,
        Some("AccessDenied"),
        Some("the reader may not call iam:GenerateServiceLastAccessedDetails"),
    );
    preflight(&failed, true, &mut report);
    assert!(report.checks.iter().all(|c| c.mark == Mark::Fail));
    let reader = &report.checks[0];
    assert!(
        reader
            .summary
            .contains("AccessDenied: the reader may not call"),
        "{}",
        reader.summary
    );
    assert!(reader.fix.as_deref().unwrap().contains("ReaderRoleArn"));
    // A run that failed before Plan recorded anything adds no preflight lines: its
    // failure is the doctor's error instead.
    let mut report = empty_report();
    preflight(
        &state(
            "FAILED",
            None,
            Some("InvalidInput"),
            Some("organization: …"),
        ),
        false,
        &mut report,
    );
    assert!(report.checks.is_empty());
    let f = plan_failure(
        "doctor-1",
        &state(
            "FAILED",
            None,
            Some("InvalidInput"),
            Some("organization: x"),
        ),
    );
    assert_eq!(f.exit, Exit::Usage);
    assert!(
        f.message.contains("InvalidInput: organization: x"),
        "{}",
        f.message
    );
}

#[test]
fn the_doctor_input_checks_the_selection_asked_for() {
    let none = || -> std::io::Result<String> { unreachable!() };
    assert_eq!(
        doctor_input(&args(false, None), none).unwrap(),
        json!({"doctor": true})
    );
    assert_eq!(
        doctor_input(&args(true, None), none).unwrap(),
        json!({"doctor": true, "organization": {"all": true}})
    );
    let stdin = || Ok(r#"{"organization": {"units": ["ou-1"]}, "discover": {}}"#.to_string());
    assert_eq!(
        doctor_input(&args(false, Some("-")), stdin).unwrap(),
        json!({"doctor": true, "organization": {"units": ["ou-1"]}})
    );
    let stdin = || Ok(r#"{"discover": {}}"#.to_string());
    let e = doctor_input(&args(false, Some("-")), stdin).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
    assert!(e.message.contains("has no `organization`"), "{}", e.message);
    let e = doctor_input(&args(false, Some("-")), || Ok("[".to_string())).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
}

#[test]
fn the_json_report_names_each_check_and_its_mark() {
    let mut report = empty_report();
    report
        .checks
        .push(Check::fail(CheckId::BucketEncryption, "none", "enable it"));
    report.healthy = doctor::healthy(&report.checks);
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["healthy"], false);
    assert_eq!(value["checks"][0]["check"], "bucket_encryption");
    assert_eq!(value["checks"][0]["mark"], "fail");
    assert_eq!(value["checks"][0]["fix"], "enable it");
}
