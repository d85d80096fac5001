//! The grammar: what round-trips and what IAM refuses.

use super::*;
use serde_json::json;

#[test]
fn a_document_round_trips_with_every_element_and_the_statement_order() {
    let original = json!({
        "Version": "2012-10-17",
        "Id": "example-policy",
        "Statement": [
            {"Sid": "Second", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c/*"],
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]},
                           "Bool": {"aws:SecureTransport": "true"}}},
            {"Sid": "First", "Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
             "Action": ["sts:AssumeRole"], "Resource": "*"},
            {"Effect": "Deny", "NotPrincipal": "*", "Action": "*", "Resource": "*"}
        ]
    });
    let parsed = doc(original.clone());
    assert_eq!(serde_json::to_value(&parsed).unwrap(), original);
    assert_eq!(parsed.statements()[0].sid.as_deref(), Some("Second"));
    // A single statement and a single action stay single.
    let single = json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}});
    assert_eq!(serde_json::to_value(doc(single.clone())).unwrap(), single);
}

#[test]
fn unknown_elements_are_refused_by_name() {
    let e = PolicyDocument::parse(
        &allow(json!("s3:*"))
            .to_string()
            .replace("\"Action\"", "\"Actions\""),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("Statement[0]"), "{e}");
    assert!(e.contains("unknown field `Actions`"), "{e}");
    let e = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statements": []}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `Statements`"), "{e}");
}

#[test]
fn what_iam_refuses_is_refused_with_its_place() {
    let cases = [
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "ec2:*", "Resource": "*"}]}),
            "Statement[0]: has both Action and NotAction",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            "Statement[0]: has neither Action nor NotAction",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}),
            "Statement.Action: is an empty list",
        ),
        (
            json!({"Version": "2020-01-01", "Statement": {"Effect": "Allow", "Action": "*"}}),
            "Version: \"2020-01-01\" is not one of",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "s3", "Resource": "*"}]}),
            "Statement[0].Action: \"s3\" is not an action",
        ),
        (json!({"Statement": []}), "Statement: no statement"),
    ];
    for (value, expected) in cases {
        let e = PolicyDocument::parse(&value.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(expected), "{e}");
    }
    let lowercase = json!({"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}});
    let e = PolicyDocument::parse(&lowercase.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Statement.Effect: unknown variant `allow`"),
        "{e}"
    );
    assert!(PolicyDocument::parse("{\"Statement\": {}} trailing").is_err());
}
