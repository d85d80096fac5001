//! The run input's parsing and checks, field by field.

use super::*;
use serde_json::json;

fn defaults() -> InputDefaults {
    InputDefaults {
        batch_size: 50,
        max_concurrency: 4,
        partition: "aws".into(),
        account: Some("123456789012".into()),
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
