//! The rewrite on a table of real-world shapes.

use super::*;
use serde_json::json;

#[test]
fn star_excludes_the_unused_listed_services_keeps_the_rest_and_pass_role() {
    let v = view(&[("s3", true), ("ec2", false), ("logs", true), ("iam", false)]);
    let r = rewrite(&doc(allow(json!("*"))), &v);
    let statements = &recommended(&r)["Statement"];
    // Every action but those of the listed services the role did not use: s3 and logs
    // whole, and every service the report does not list (AWS's newer ones).
    assert_eq!(statements[0]["NotAction"], json!(["ec2:*", "iam:*"]));
    assert!(statements[0].get("Action").is_none());
    assert_eq!(statements[0]["Resource"], "*");
    // iam:PassRole (permission-only) in a statement of its own, the same Resource.
    assert_eq!(statements[1]["Action"], json!(["iam:PassRole"]));
    assert_eq!(statements[1]["Resource"], "*");
    assert_eq!(r.removed_services, ["ec2", "iam"]);
    assert!(unseen(&r).contains(&("iam:PassRole", UnseenReason::PermissionOnly)));
    assert!(unseen(&r).contains(&("*", UnseenReason::NotReported)));
    assert_eq!(r.narrowed[0].from, "*");
    assert_eq!(r.narrowed[0].to, ["s3:*", "logs:*", "iam:PassRole"]);
    assert!(r.changed);
    // Every listed service used: nothing to take away, the statement as it was.
    let all_used = view(&[("s3", true), ("logs", true), ("iam", true)]);
    let r = rewrite(&doc(allow(json!("*"))), &all_used);
    assert!(!r.changed && r.removed_services.is_empty() && r.narrowed.is_empty());
}

#[test]
fn not_action_also_excludes_the_unused_listed_services_and_keeps_the_unlisted() {
    let d = doc(
        json!({"Statement": [{"Sid": "NotIam", "Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*",
                                     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
    );
    let v = view(&[("s3", true), ("iam", true), ("ec2", false)]);
    let r = rewrite(&d, &v);
    let statements = recommended(&r)["Statement"].as_array().unwrap().clone();
    assert_eq!(
        statements.len(),
        1,
        "ec2 has no permission-only action to keep"
    );
    let s = &statements[0];
    assert_eq!(s["NotAction"], json!(["iam:*", "ec2:*"]));
    assert!(s.get("Action").is_none());
    assert_eq!(s["Sid"], "NotIam");
    assert_eq!(
        s["Condition"],
        json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    );
    assert_eq!(r.removed_services, ["ec2"]);
    assert_eq!(r.narrowed[0].from, "NotAction");
    assert_eq!(r.narrowed[0].to, ["s3:*"]);
    assert!(unseen(&r).contains(&("NotAction", UnseenReason::NotReported)));
}

#[test]
fn power_user_access_keeps_every_used_service_and_every_unlisted_one() {
    // AWS's PowerUserAccess shape, on a report that (wrongly) omits s3, ec2 and lambda,
    // which the role used: they are not listed, so they stay granted.
    let d = doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:ListRoles",
                                       "organizations:DescribeOrganization", "account:ListRegions"],
         "Resource": "*"}]}));
    let v = view(&[
        ("logs", false),
        ("sqs", false),
        ("iam", false),
        ("cloudtrail", true),
    ]);
    let r = rewrite(&d, &v);
    let not = &recommended(&r)["Statement"][0]["NotAction"];
    assert_eq!(
        not,
        &json!(["iam:*", "organizations:*", "account:*", "logs:*", "sqs:*"]),
        "only the listed, unused services are taken away"
    );
    // logs' permission-only actions stay, in a statement of their own.
    let kept = recommended(&r)["Statement"][1]["Action"]
        .as_array()
        .unwrap()
        .clone();
    assert!(kept.contains(&json!("logs:CreateLogDelivery")), "{kept:?}");
    assert!(unseen(&r).contains(&("NotAction", UnseenReason::NotReported)));
    for used in [
        "s3:GetObject",
        "ec2:DescribeInstances",
        "lambda:InvokeFunction",
        "cloudtrail:LookupEvents",
    ] {
        let excluded = not.as_array().unwrap().iter().any(|p| {
            ActionPattern::parse(p.as_str().unwrap())
                .unwrap()
                .matches(used)
        });
        assert!(!excluded, "{used} is still granted");
    }
}

#[test]
fn not_action_excluding_part_of_a_used_service_keeps_that_part_excluded() {
    let d = doc(
        json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:Delete*", "Resource": "*"}]}),
    );
    // iam used: nothing listed to take away but ec2.
    let r = rewrite(&d, &view(&[("iam", true), ("ec2", false), ("s3", true)]));
    assert_eq!(actions_not(&r, 0), json!(["iam:Delete*", "ec2:*"]));
    assert_eq!(
        r.narrowed[0].to,
        ["s3:*"],
        "granted whole: s3; iam only in part, so not named whole"
    );
    // iam not used: all of it goes, as its unused part did.
    let r = rewrite(&d, &view(&[("iam", false), ("s3", true)]));
    assert_eq!(actions_not(&r, 0), json!(["iam:Delete*", "iam:*"]));
    assert_eq!(r.removed_services, ["iam"]);
    // iam:PassRole, permission-only, stays granted on its own.
    assert_eq!(
        recommended(&r)["Statement"][1]["Action"],
        json!(["iam:PassRole"])
    );
}

#[test]
fn a_wildcard_over_some_services_is_kept_as_it_is_and_named() {
    let d = doc(allow(json!(["*:Get*", "ec2:RunInstances"])));
    let r = rewrite(&d, &view(&[("s3", true), ("ec2", false)]));
    assert_eq!(actions(&r, 0), json!(["*:Get*"]), "ec2:RunInstances goes");
    assert_eq!(r.not_narrowed, [0]);
    assert!(unseen(&r).contains(&("*:Get*", UnseenReason::NotReported)));
}

#[test]
fn a_service_wildcard_stays_while_the_service_is_used() {
    let d = doc(allow(json!(["s3:*", "ec2:*", "dynamodb:Get*"])));
    let r = rewrite(
        &d,
        &view(&[("s3", true), ("ec2", false), ("dynamodb", true)]),
    );
    assert_eq!(actions(&r, 0), json!(["s3:*", "dynamodb:Get*"]));
    assert_eq!(r.removed_services, ["ec2"]);
}

#[test]
fn a_get_wildcard_is_never_narrowed_to_tracked_actions() {
    // At ACTION_LEVEL IAM tracks s3's management actions only; s3:Get* also grants
    // s3:GetObject, which IAM can't report, so the wildcard stays whole.
    let mut v = view(&[("s3", true)]);
    v.services[0].tracked_actions = Some(vec![
        ("GetBucketPolicy".into(), false),
        ("ListAllMyBuckets".into(), true),
    ]);
    let d = doc(allow(json!("s3:Get*")));
    let r = rewrite(&d, &v);
    assert_eq!(r.document.as_ref(), Some(&d));
    assert!(r.removed_actions.is_empty());
}

#[test]
fn at_action_level_unused_tracked_actions_listed_explicitly_are_removed() {
    let mut v = view(&[("s3", true)]);
    v.services[0].tracked_actions = Some(vec![
        ("CreateBucket".into(), false),
        ("ListAllMyBuckets".into(), true),
    ]);
    let d = doc(allow(json!([
        "s3:createbucket",
        "s3:ListAllMyBuckets",
        "s3:GetObject"
    ])));
    let r = rewrite(&d, &v);
    assert_eq!(
        actions(&r, 0),
        json!(["s3:ListAllMyBuckets", "s3:GetObject"])
    );
    assert_eq!(r.removed_actions, ["s3:createbucket"]);
    assert!(r.removed_services.is_empty());
}

#[test]
fn mixed_services_in_one_statement_lose_only_the_unused_ones() {
    let d = doc(allow(json!([
        "s3:GetObject",
        "ec2:DescribeInstances",
        "EC2:StartInstances",
        "logs:PutLogEvents"
    ])));
    let r = rewrite(&d, &view(&[("s3", true), ("ec2", false), ("logs", true)]));
    assert_eq!(actions(&r, 0), json!(["s3:GetObject", "logs:PutLogEvents"]));
    assert_eq!(r.removed_services, ["ec2"]);
}

#[test]
fn deny_statements_and_conditions_never_change() {
    let d = doc(json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoEc2Outside", "Effect": "Deny", "Action": ["ec2:*", "kms:*"], "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}},
        {"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt"], "Resource": "arn:aws:s3:::b/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
    ]}));
    let r = rewrite(&d, &view(&[("ec2", false), ("kms", false), ("s3", true)]));
    let out = recommended(&r);
    assert_eq!(
        out["Statement"][0],
        serde_json::to_value(&d.statements()[0]).unwrap()
    );
    assert_eq!(out["Statement"][1]["Action"], json!(["s3:*"]));
    assert_eq!(out["Statement"][1]["Resource"], "arn:aws:s3:::b/*");
    assert_eq!(
        out["Statement"][1]["Condition"],
        json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    );
    assert_eq!(r.removed_services, ["kms"]);
}

#[test]
fn statements_keep_their_order_and_empty_ones_are_dropped() {
    let d = doc(json!({"Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "B", "Effect": "Allow", "Action": ["ec2:*", "ec2:RunInstances"], "Resource": "*"},
        {"Sid": "C", "Effect": "Allow", "Action": "logs:*", "Resource": "*"}
    ]}));
    let r = rewrite(&d, &view(&[("s3", true), ("ec2", false), ("logs", true)]));
    let out = recommended(&r);
    let sids: Vec<&str> = out["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["A", "C"]);
    assert_eq!(
        out["Statement"][0]["Action"], "s3:*",
        "a single action stays a string"
    );
}

#[test]
fn nothing_left_means_no_document() {
    let r = rewrite(
        &doc(allow(json!(["ec2:*", "rds:Describe*"]))),
        &view(&[("ec2", false), ("rds", false)]),
    );
    assert_eq!(r.document, None);
    assert!(r.changed);
    assert_eq!(r.removed_services, ["ec2", "rds"]);
}

#[test]
fn pass_role_is_kept_when_iam_looks_unused() {
    let v = view(&[("iam", false), ("ec2", true)]);
    let r = rewrite(
        &doc(allow(json!([
            "iam:PassRole",
            "iam:GetRole",
            "ec2:RunInstances"
        ]))),
        &v,
    );
    assert_eq!(actions(&r, 0), json!(["iam:PassRole", "ec2:RunInstances"]));
    assert_eq!(unseen(&r), [("iam:PassRole", UnseenReason::PermissionOnly)]);
    assert_eq!(r.removed_services, ["iam"]);
    // `iam:*` on a role that did not use iam keeps only PassRole.
    let r = rewrite(&doc(allow(json!("iam:*"))), &v);
    assert_eq!(actions(&r, 0), "iam:PassRole");
    // PassRole alone: kept, nothing removed.
    let d = doc(allow(json!("iam:PassRole")));
    let r = rewrite(&d, &v);
    assert_eq!(r.document.as_ref(), Some(&d));
    assert!(r.removed_services.is_empty() && !r.changed);
}

#[test]
fn services_without_tracking_data_are_kept_and_named() {
    let r = rewrite(
        &doc(allow(json!(["newsvc:DoThing", "ec2:*"]))),
        &view(&[("ec2", false)]),
    );
    assert_eq!(actions(&r, 0), json!(["newsvc:DoThing"]));
    assert_eq!(
        unseen(&r),
        [("newsvc:DoThing", UnseenReason::NoTrackingData)]
    );
}

#[test]
fn a_shared_managed_policy_is_judged_from_its_own_report() {
    // The policy's report covers every entity it is attached to: dynamodb was used by
    // one of them, so it stays, though the role being scanned never used it.
    let policy = doc(allow(json!(["s3:*", "dynamodb:*", "sqs:*"])));
    let policy_report = view(&[("s3", true), ("dynamodb", true), ("sqs", false)]);
    let role_report = view(&[("s3", true), ("dynamodb", false), ("sqs", false)]);
    let r = rewrite(&policy, &policy_report);
    assert_eq!(actions(&r, 0), json!(["s3:*", "dynamodb:*"]));
    assert_eq!(r.removed_services, ["sqs"]);
    assert_eq!(actions(&rewrite(&policy, &role_report), 0), json!(["s3:*"]));
}

#[test]
fn an_aws_managed_policy_becomes_a_scoped_replacement() {
    let d = PolicyDocument::parse(EC2_READ_ONLY).unwrap();
    let v = view(&[
        ("ec2", true),
        ("elasticloadbalancing", false),
        ("cloudwatch", true),
        ("autoscaling", false),
    ]);
    let r = rewrite(&d, &v);
    let out = recommended(&r);
    assert_eq!(out["Statement"].as_array().unwrap().len(), 2);
    assert_eq!(
        out["Statement"][0]["Action"],
        json!(["ec2:Describe*", "ec2:GetSecurityGroupsForVpc"])
    );
    assert_eq!(out["Statement"][1]["Action"][2], "cloudwatch:Describe*");
    assert_eq!(r.removed_services, ["elasticloadbalancing", "autoscaling"]);
    let texts = ready(&[r.document.as_ref().unwrap()], PolicyLimit::Managed).unwrap();
    assert_eq!(
        PolicyDocument::parse(&texts[0]).unwrap(),
        r.document.unwrap()
    );
}

#[test]
fn a_document_already_least_privilege_is_unchanged() {
    let d = PolicyDocument::parse(EC2_READ_ONLY).unwrap();
    let v = view(&[
        ("ec2", true),
        ("elasticloadbalancing", true),
        ("cloudwatch", true),
        ("autoscaling", true),
    ]);
    let r = rewrite(&d, &v);
    assert!(!r.changed);
    assert_eq!(r.document, Some(d));
    assert!(r.removed_services.is_empty() && r.kept_unseen.is_empty() && r.narrowed.is_empty());
}

#[test]
fn the_view_of_a_report() {
    let services: Vec<crate::domain::report::ServiceReport> = serde_json::from_value(json!([
        {"namespace": "s3", "name": "Amazon S3", "usage": "used", "days_since_last_authenticated": 3,
         "last_authenticated": null, "last_authenticated_entity": null, "last_authenticated_region": null,
         "total_authenticated_entities": 1,
         "tracked_actions": [
            {"action": "s3:CreateBucket", "usage": "never_used", "last_accessed_time": null,
             "last_accessed_entity": null, "last_accessed_region": null},
            {"action": "s3:ListAllMyBuckets", "usage": "used", "last_accessed_time": null,
             "last_accessed_entity": null, "last_accessed_region": null}]},
        {"namespace": "ec2", "name": "Amazon EC2", "usage": "unused", "days_since_last_authenticated": 200,
         "last_authenticated": null, "last_authenticated_entity": null, "last_authenticated_region": null,
         "total_authenticated_entities": 1}
    ]))
    .unwrap();
    let v = AdvisorView::from(&services[..]);
    assert!(v.service("S3").unwrap().used);
    assert!(!v.service("ec2").unwrap().used);
    assert_eq!(
        v.service("s3").unwrap().tracked_actions,
        Some(vec![
            ("CreateBucket".into(), false),
            ("ListAllMyBuckets".into(), true)
        ])
    );
}
