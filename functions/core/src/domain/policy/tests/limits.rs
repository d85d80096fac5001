//! IAM's size limits and the last check before a document is emitted.

use super::*;
use serde_json::json;

#[test]
fn size_limits_are_iams() {
    assert_eq!(PolicyLimit::Managed.max_chars(), 6_144);
    assert_eq!(PolicyLimit::RoleInline.max_chars(), 10_240);
    assert_eq!(PolicyLimit::UserInline.max_chars(), 2_048);
    assert_eq!(PolicyLimit::GroupInline.max_chars(), 5_120);
    // White space does not count: the published document is larger than what IAM counts.
    let d = PolicyDocument::parse(EC2_READ_ONLY).unwrap();
    assert!(crate::domain::policy::limits::size(&d) < EC2_READ_ONLY.len());
    assert_eq!(crate::domain::policy::limits::size(&d), d.to_json().len());
}

#[test]
fn a_document_too_large_is_an_error_never_emitted() {
    // `*` on a user that used one of 201 listed services: a NotAction of the 200 others,
    // more than a user's 2,048 characters.
    let services: Vec<(String, bool)> = (0..200)
        .map(|i| (format!("service{i:03}"), false))
        .chain([("s3".to_string(), true)])
        .collect();
    let v = view(
        &services
            .iter()
            .map(|(n, u)| (n.as_str(), *u))
            .collect::<Vec<_>>(),
    );
    let r = rewrite(&doc(allow(json!("*"))), &v);
    let narrowed = r.document.unwrap();
    let e = ready(&[&narrowed], PolicyLimit::UserInline).unwrap_err();
    assert!(
        matches!(e, LimitError::TooLarge { limit: PolicyLimit::UserInline, size } if size > 2_048)
    );
    assert!(
        e.to_string()
            .contains("a user's inline policies together may have 2048"),
        "{e}"
    );
    assert!(ready(&[&narrowed], PolicyLimit::RoleInline).is_ok());
    // Inline policies count together; managed ones one by one.
    let five = vec![&narrowed; 5];
    assert!(ready(&five, PolicyLimit::RoleInline).is_err());
    assert_eq!(ready(&five, PolicyLimit::Managed).unwrap().len(), 5);
}

#[test]
fn an_invalid_or_unacceptable_document_is_an_error() {
    let mut d = doc(allow(json!("s3:*")));
    d.statement = OneOrMany::Many(vec![]);
    assert!(matches!(
        ready(&[&d], PolicyLimit::Managed),
        Err(LimitError::Invalid(_))
    ));
    let d = doc(
        json!({"Statement": {"Sid": "x", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/\u{263a}"}}),
    );
    assert_eq!(
        ready(&[&d], PolicyLimit::Managed),
        Err(LimitError::Character('\u{263a}'))
    );
}
