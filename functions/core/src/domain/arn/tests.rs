//! Parsing IAM ARNs: every principal type, and every way an ARN is refused.

use super::*;

#[test]
fn parses_each_principal_type() {
    let role = PrincipalArn::parse("arn:aws:iam::123456789012:role/service/app/deployer").unwrap();
    assert_eq!(role.kind(), PrincipalType::Role);
    assert_eq!(role.name(), "deployer");
    assert_eq!(role.path(), "/service/app/");
    assert_eq!(role.account(), "123456789012");
    let user = PrincipalArn::parse("arn:aws:iam::123456789012:user/alice@example.com").unwrap();
    assert_eq!(
        (user.kind(), user.path(), user.name()),
        (PrincipalType::User, "/", "alice@example.com")
    );
    let group = PrincipalArn::parse("arn:aws-cn:iam::123456789012:group/admins").unwrap();
    assert_eq!(
        (group.kind(), group.partition()),
        (PrincipalType::Group, "aws-cn")
    );
    let policy = PrincipalArn::parse("arn:aws:iam::123456789012:policy/ReadOnly").unwrap();
    assert_eq!(policy.kind(), PrincipalType::Policy);
    let managed =
        PrincipalArn::parse("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").unwrap();
    assert_eq!(managed.kind(), PrincipalType::AwsManagedPolicy);
    assert_eq!(managed.account(), "aws");
}

#[test]
fn rejects_malformed_arns_saying_why() {
    let cases = [
        ("", "not an ARN"),
        ("role/x", "not an ARN"),
        ("arm:aws:iam::123456789012:role/x", "must start with"),
        ("arn:aws-mars:iam::123456789012:role/x", "unknown partition"),
        ("arn:aws:s3:::bucket/key", "not an IAM ARN"),
        ("arn:aws:iam:us-east-1:123456789012:role/x", "has a region"),
        ("arn:aws:iam::12345:role/x", "invalid account id"),
        ("arn:aws:iam::aws:role/x", "only policies"),
        (
            "arn:aws:iam::123456789012:instance-profile/x",
            "expected a user, role",
        ),
        ("arn:aws:iam::123456789012:role/", "invalid name"),
        ("arn:aws:iam::123456789012:role/bad name", "invalid name"),
        ("arn:aws:iam::123456789012:role", "no resource"),
    ];
    for (text, why) in cases {
        let err = PrincipalArn::parse(text).unwrap_err().to_string();
        assert!(err.contains(why), "{text}: {err}");
    }
}

#[test]
fn paths_follow_iams_pattern() {
    // `//` inside a path is legal: the pattern's middle is any printable ASCII.
    let arn = PrincipalArn::parse("arn:aws:iam::123456789012:role/a//b/app").unwrap();
    assert_eq!((arn.path(), arn.name()), ("/a//b/", "app"));
    let arn = PrincipalArn::parse("arn:aws:iam::123456789012:role///app").unwrap();
    assert_eq!(arn.path(), "///");
    assert!(is_valid_path("/"));
    assert!(is_valid_path("/a~!#$/"));
    assert!(
        !is_valid_path("//"),
        "the middle must hold one character or more"
    );
    assert!(!is_valid_path(""));
    assert!(!is_valid_path("/a"));
    assert!(!is_valid_path("/a b/"));
    assert!(!is_valid_path("/é/"));
    // `role//app`: path "//", not IAM's.
    let err = PrincipalArn::parse("arn:aws:iam::123456789012:role//app").unwrap_err();
    assert!(matches!(err, ArnError::InvalidPath { .. }), "{err:?}");
    let err = PrincipalArn::parse("arn:aws:iam::123456789012:role/a b/app").unwrap_err();
    assert!(matches!(err, ArnError::InvalidPath { .. }), "{err:?}");
}

#[test]
fn paths_hold_up_to_512_characters() {
    let segment = "p".repeat(510);
    let longest = format!("arn:aws:iam::123456789012:role/{segment}/app");
    let arn = PrincipalArn::parse(&longest).unwrap();
    assert_eq!(arn.path().len(), 512);
    let too_long = format!("arn:aws:iam::123456789012:role/{segment}x/app");
    let err = PrincipalArn::parse(&too_long).unwrap_err();
    assert!(matches!(err, ArnError::InvalidPath { .. }), "{err:?}");
    assert!(err.to_string().contains("at most 512"), "{err}");
}

#[test]
fn partitions_aws_cn_and_aws_us_gov_are_iams() {
    for partition in ["aws", "aws-cn", "aws-us-gov"] {
        let text = format!("arn:{partition}:iam::123456789012:user/ops/alice");
        let arn = PrincipalArn::parse(&text).unwrap();
        assert_eq!(arn.partition(), partition);
        let managed = format!("arn:{partition}:iam::aws:policy/ReadOnlyAccess");
        assert_eq!(
            PrincipalArn::parse(&managed).unwrap().kind(),
            PrincipalType::AwsManagedPolicy
        );
    }
    let err = PrincipalArn::parse("arn:aws-mars:iam::123456789012:user/a").unwrap_err();
    assert_eq!(
        err,
        ArnError::UnknownPartition {
            text: "arn:aws-mars:iam::123456789012:user/a".into(),
            partition: "aws-mars".into()
        }
    );
}

#[test]
fn names_follow_iams_pattern_and_lengths_by_type() {
    let ok = |t: &str, n: usize| format!("arn:aws:iam::123456789012:{t}/{}", "n".repeat(n));
    for (kind, max) in [("user", 64), ("role", 64), ("group", 128), ("policy", 128)] {
        assert!(
            PrincipalArn::parse(&ok(kind, max)).is_ok(),
            "{kind} of {max}"
        );
        let err = PrincipalArn::parse(&ok(kind, max + 1)).unwrap_err();
        assert!(
            matches!(&err, ArnError::InvalidName { max: m, .. } if *m == max),
            "{kind}: {err:?}"
        );
        assert!(err.to_string().contains(&format!("1 to {max}")), "{err}");
    }
    let managed = format!("arn:aws:iam::aws:policy/{}", "n".repeat(128));
    assert!(PrincipalArn::parse(&managed).is_ok());
    let every = PrincipalArn::parse("arn:aws:iam::123456789012:user/a_Z9+=,.@-").unwrap();
    assert_eq!(every.name(), "a_Z9+=,.@-");
    for bad in ["a b", "a*b", "a/", "é", "a:b", "a;b", "a!b"] {
        let text = format!("arn:aws:iam::123456789012:user/{bad}");
        let err = PrincipalArn::parse(&text);
        assert!(
            matches!(
                err,
                Err(ArnError::InvalidName { .. }) | Err(ArnError::InvalidPath { .. })
            ),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let text = "x".repeat(2049);
    assert_eq!(
        PrincipalArn::parse(&text).unwrap_err(),
        ArnError::TooLong { len: 2049 }
    );
    assert!(matches!(
        PrincipalArn::parse("arn:aws:iam::123456789012:instance-profile/x"),
        Err(ArnError::UnsupportedType { kind, .. }) if kind == "instance-profile"
    ));
    assert!(matches!(
        PrincipalArn::parse("arn:aws:iam::1234:user/x"),
        Err(ArnError::InvalidAccount { account, .. }) if account == "1234"
    ));
    // serde keeps the message.
    let err = serde_json::from_str::<PrincipalArn>("\"role/x\"").unwrap_err();
    assert!(err.to_string().contains("is not an ARN"), "{err}");
}
