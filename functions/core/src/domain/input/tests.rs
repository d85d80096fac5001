//! The run input's parsing and checks, field by field.

use super::*;
use serde_json::json;

fn defaults() -> InputDefaults {
    InputDefaults {
        batch_size: 50,
        max_concurrency: 4,
        iam_requests_per_second: 5.0,
        partition: "aws".into(),
        account: Some("123456789012".into()),
        member_role: "iam-last-accessed-member".into(),
        max_accounts_in_parallel: 5,
        reserved_concurrency: 0,
        security_hub_findings: false,
    }
}

fn invalid(input: serde_json::Value) -> String {
    match RunInput::parse(&input, &defaults()) {
        Err(e) => e.to_string(),
        other => panic!("expected InvalidInput for {input}, got {other:?}"),
    }
}

#[test]
fn empty_input_discovers_everything_with_defaults() {
    for input in [json!({}), serde_json::Value::Null] {
        let run = RunInput::parse(&input, &defaults()).unwrap();
        assert_eq!(run.discover, Some(Discovery::default()));
        assert!(run.arns.is_empty());
        assert_eq!((run.batch_size, run.max_concurrency), (50, 4));
        assert_eq!(run.granularity, Granularity::ServiceLevel);
        assert_eq!(run.report.unused_days, 90);
    }
}

#[test]
fn explicit_arns_alone_do_not_discover() {
    let run = RunInput::parse(
        &json!({"arns": ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "granularity": "ACTION_LEVEL", "batch_size": 10,
                "poll": {"initial_wait_seconds": 0, "max_wait_seconds": 1, "max_attempts": 3},
                "report": {"entities": true, "granting_policies": true, "unused_days": 30}}),
        &defaults(),
    )
    .unwrap();
    assert_eq!(run.discover, None);
    assert_eq!(run.arns.len(), 2);
    assert_eq!(run.granularity, Granularity::ActionLevel);
    assert!(run.report.entities && run.report.granting_policies);
    assert_eq!(run.poll.max_attempts, 3);
}

#[test]
fn each_bad_field_is_named() {
    let cases = [
        (json!([1]), "input: expected a JSON object, got an array"),
        (json!("x"), "input: expected a JSON object"),
        (json!({"arnz": []}), "arnz: unknown field `arnz`"),
        (
            json!({"arns": "arn:aws:iam::123456789012:role/a"}),
            "arns: invalid type",
        ),
        (json!({"arns": ["nope"]}), "arns[0]: \"nope\" is not an ARN"),
        (
            json!({"arns": ["arn:aws-cn:iam::123456789012:role/a"]}),
            "arns[0]: \"arn:aws-cn",
        ),
        (
            json!({"arns": ["arn:aws:iam::999999999999:role/a"]}),
            "arns[0]: \"arn:aws:iam::999999999999:role/a\" is in account 999999999999",
        ),
        (
            json!({"arns": ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/A"]}),
            "arns[1]: \"arn:aws:iam::123456789012:role/A\" is listed twice",
        ),
        (
            json!({"granularity": "FINE"}),
            "granularity: unknown variant `FINE`",
        ),
        (
            json!({"batch_size": 0}),
            "batch_size: 0 is out of range 1..=500",
        ),
        (json!({"batch_size": -1}), "batch_size: invalid value"),
        (json!({"batch_size": 1.5}), "batch_size: invalid type"),
        (
            json!({"iam_requests_per_second": 0}),
            "iam_requests_per_second: 0 is out of range",
        ),
        (
            json!({"max_concurrency": 5000}),
            "max_concurrency: 5000 is out of range",
        ),
        // The stack's parameters are ceilings: whoever may start a run can't ask for more.
        (
            json!({"max_concurrency": 5}),
            "max_concurrency: 5 is above this stack's MaxConcurrency (4), its ceiling: deploy the stack with a higher MaxConcurrency to ask for more",
        ),
        (
            json!({"iam_requests_per_second": 5.5}),
            "iam_requests_per_second: 5.5 is above this stack's IamRequestsPerSecond (5), its ceiling",
        ),
        (
            json!({"organization": {"all": true, "max_accounts_in_parallel": 6}}),
            "organization.max_accounts_in_parallel: 6 is above this stack's MaxAccountsInParallel (5), its ceiling",
        ),
        (
            json!({"organization": {"all": true, "max_accounts_in_parallel": 401}}),
            "organization.max_accounts_in_parallel: 401 is out of range 1..=400",
        ),
        (
            json!({"organization": {"all": true, "access_report": true, "access_report_timeout_seconds": 59}}),
            "organization.access_report_timeout_seconds: 59 is out of range 60..=86400",
        ),
        (
            json!({"poll": {"max_attempts": 0}}),
            "poll.max_attempts: 0 is out of range",
        ),
        (
            json!({"poll": {"wait": 1}}),
            "poll.wait: unknown field `wait`",
        ),
        (
            json!({"poll": {"initial_wait_seconds": 10, "max_wait_seconds": 5}}),
            "poll.max_wait_seconds",
        ),
        (
            json!({"report": {"unused_days": 0}}),
            "report.unused_days: 0 is out of range",
        ),
        (
            json!({"discover": {"types": []}}),
            "discover.types: must name",
        ),
        (
            json!({"discover": {"types": ["bucket"]}}),
            "discover.types[0]: unknown variant `bucket`",
        ),
        (
            json!({"discover": {"path_prefix": "service/"}}),
            "discover.path_prefix",
        ),
    ];
    for (input, expected) in cases {
        let message = invalid(input.clone());
        assert!(
            message.contains(expected),
            "{input}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn too_many_arns_is_refused() {
    let arns: Vec<String> = (0..=MAX_ARNS)
        .map(|i| format!("arn:aws:iam::123456789012:role/r{i}"))
        .collect();
    assert!(invalid(json!({ "arns": arns })).starts_with("arns: 5001 ARNs"));
}

#[test]
fn an_organization_run_keeps_its_running_children_under_step_functions_limit() {
    let big = InputDefaults {
        max_concurrency: 100,
        max_accounts_in_parallel: 400,
        ..defaults()
    };
    let input = json!({"organization": {"all": true}});
    let err = RunInput::parse(&input, &big).unwrap_err().to_string();
    assert!(
        err.starts_with("organization.max_accounts_in_parallel: 400 accounts side by side")
            && err.contains("40400 child executions")
            && err.contains("at most 10000"),
        "{err}"
    );
    let fits = json!({"organization": {"all": true, "max_accounts_in_parallel": 99}});
    assert!(RunInput::parse(&fits, &big).is_ok(), "99 x 101 = 9,999");
}

#[test]
fn organization_selects_accounts_all_or_units_with_defaults_from_the_stack() {
    let input = json!({"organization": {"accounts": ["111111111111", "222222222222"]}});
    let parsed = RunInput::parse(&input, &defaults()).unwrap();
    let org = parsed.organization.unwrap();
    assert_eq!(
        org.selection,
        AccountSelection::Accounts(vec!["111111111111".into(), "222222222222".into()])
    );
    assert_eq!(org.member_role, "iam-last-accessed-member");
    assert_eq!(org.max_accounts_in_parallel, 5);
    let input = json!({"organization": {"all": true, "exclude": ["333333333333"], "max_accounts_in_parallel": 3, "access_report": true}});
    let org = RunInput::parse(&input, &defaults())
        .unwrap()
        .organization
        .unwrap();
    assert_eq!(org.selection, AccountSelection::All);
    assert_eq!(org.exclude, vec!["333333333333".to_string()]);
    assert_eq!(org.max_accounts_in_parallel, 3);
    assert!(org.access_report);
    let input = json!({"organization": {"units": ["ou-ab12-34cd56ef"], "member_role": "iam-last-accessed-member"}});
    let org = RunInput::parse(&input, &defaults())
        .unwrap()
        .organization
        .unwrap();
    assert_eq!(
        org.selection,
        AccountSelection::Units(vec!["ou-ab12-34cd56ef".into()])
    );
    assert_eq!(org.member_role, "iam-last-accessed-member");
    // Another role than the stack's: its policy would not let it assume that one.
    let err = invalid(json!({"organization": {"all": true, "member_role": "scanner-reader"}}));
    assert!(
        err.contains("organization.member_role") && err.contains("MemberRoleName"),
        "{err}"
    );
    // Without `organization`: the stack's own account, as before.
    assert!(RunInput::parse(&json!({}), &defaults())
        .unwrap()
        .organization
        .is_none());
}

#[test]
fn organization_arns_may_name_other_accounts() {
    let input =
        json!({"organization": {"all": true}, "arns": ["arn:aws:iam::111111111111:role/app"]});
    assert!(RunInput::parse(&input, &defaults()).is_ok());
    // Without it, only the stack's account.
    let err = invalid(json!({"arns": ["arn:aws:iam::111111111111:role/app"]}));
    assert!(
        err.contains("this scan reads account 123456789012"),
        "{err}"
    );
}

#[test]
fn bad_organizations_name_the_field() {
    for (input, field) in [
        (json!({"organization": {}}), "organization"),
        (
            json!({"organization": {"all": true, "accounts": ["111111111111"]}}),
            "organization",
        ),
        (
            json!({"organization": {"accounts": ["11111111111"]}}),
            "organization.accounts[0]",
        ),
        (
            json!({"organization": {"accounts": ["111111111111", "111111111111"]}}),
            "organization.accounts",
        ),
        (
            json!({"organization": {"all": true, "exclude": ["abc"]}}),
            "organization.exclude[0]",
        ),
        (
            json!({"organization": {"units": ["ou-1"]}}),
            "organization.units[0]",
        ),
        (
            json!({"organization": {"all": true, "member_role": "a/b"}}),
            "organization.member_role",
        ),
        (
            json!({"organization": {"all": true, "max_accounts_in_parallel": 0}}),
            "organization.max_accounts_in_parallel",
        ),
        (
            json!({"organization": {"all": true, "regions": ["x"]}}),
            "organization",
        ),
    ] {
        let err = invalid(input.clone());
        assert!(err.contains(field), "{input}: {err}");
    }
    assert!(RunInput::parse(
        &json!({"organization": {"units": ["r-ab12", "ou-ab12-34cd56ef"]}}),
        &defaults()
    )
    .is_ok());
}

#[test]
fn a_run_needing_more_than_the_reserved_concurrency_is_refused() {
    let reserved = InputDefaults {
        reserved_concurrency: 10,
        ..defaults()
    };
    let err = RunInput::parse(
        &json!({"organization": {"all": true, "max_accounts_in_parallel": 3}}),
        &reserved,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with(
            "max_concurrency: 4 batches in flight in each of 3 accounts need 12 invocations"
        ) && err.contains("reserves 10 (ReservedConcurrency)"),
        "{err}"
    );
    assert!(
        RunInput::parse(&json!({"max_concurrency": 4}), &reserved).is_ok(),
        "4 of 10"
    );
    assert!(
        RunInput::parse(
            &json!({"organization": {"all": true, "max_accounts_in_parallel": 2}}),
            &reserved
        )
        .is_ok(),
        "8 of 10"
    );
}

#[test]
fn a_doctor_run_takes_organization_and_refuses_what_it_would_ignore() {
    let run = RunInput::parse(&json!({"doctor": true}), &defaults()).unwrap();
    assert!(run.doctor && run.organization.is_none());
    let run = RunInput::parse(
        &json!({"doctor": true, "organization": {"all": true}}),
        &defaults(),
    )
    .unwrap();
    assert!(run.doctor && run.organization.is_some());
    for (input, field) in [
        (json!({"doctor": true, "arns": []}), "arns"),
        (json!({"doctor": true, "discover": {}}), "discover"),
        (
            json!({"doctor": true, "granularity": "ACTION_LEVEL"}),
            "granularity",
        ),
        (json!({"doctor": true, "poll": {}}), "poll"),
    ] {
        let why = invalid(input);
        assert!(why.starts_with(&format!("{field}: a doctor run")), "{why}");
    }
    // The organization selection is checked as a scan's would be.
    assert!(invalid(json!({"doctor": true, "organization": {}})).starts_with("organization"));
    // Not a doctor run: a scan, as before.
    assert!(
        !RunInput::parse(&json!({"doctor": false, "arns": []}), &defaults())
            .unwrap()
            .doctor
    );
    assert!(invalid(json!({"doctor": "yes"})).starts_with("doctor"));
}

#[test]
fn security_hub_findings_follow_the_stack_and_may_be_turned_off_for_one_run() {
    let on = InputDefaults {
        security_hub_findings: true,
        ..defaults()
    };
    let parse = |input, d: &InputDefaults| RunInput::parse(&input, d).unwrap().report.security_hub;
    assert_eq!(parse(json!({}), &on), Some(true), "the stack's default");
    assert_eq!(
        parse(json!({"report": {"security_hub": false}}), &on),
        None,
        "off for this run"
    );
    assert_eq!(
        parse(json!({"report": {"security_hub": true}}), &on),
        Some(true)
    );
    assert_eq!(
        parse(json!({}), &defaults()),
        None,
        "a stack without it sends none"
    );
    assert_eq!(
        parse(json!({"report": {"security_hub": false}}), &defaults()),
        None
    );
    let err = invalid(json!({"report": {"security_hub": true}}));
    assert!(
        err.starts_with(
            "report.security_hub: true, but this stack was deployed with SecurityHubFindings false"
        ),
        "{err}"
    );
    let err = invalid(json!({"report": {"security_hub": "yes"}}));
    assert!(err.starts_with("report.security_hub"), "{err}");
}
