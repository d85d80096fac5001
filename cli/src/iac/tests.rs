//! The renderers on recommendations shaped as the reports hold them (JSON): exact text
//! where a user reads it, escapes where Terraform or YAML would misread a document.
//! Objects other than IAM's elements are written with their keys sorted, so the text is
//! the same whether serde_json keeps insertion order (`preserve_order`, which a
//! workspace build may unify in) or sorts.

use super::hcl;
use super::model::Subject;
use super::names::Names;
use super::yaml;

use super::{file, snippets, whole, Format, Principal, Snippet};
use last_accessed::domain::arn::PrincipalType;
use last_accessed::domain::recommend::{Action, Recommendation};
use serde_json::json;

const ACCOUNT: &str = "123456789012";

fn role(name: &str) -> (String, PrincipalType, String) {
    (
        format!("arn:aws:iam::{ACCOUNT}:role/app/{name}"),
        PrincipalType::Role,
        name.to_string(),
    )
}

fn subject(p: &(String, PrincipalType, String)) -> Subject<'_> {
    Subject {
        arn: &p.0,
        kind: p.1,
        name: &p.2,
        account: ACCOUNT,
    }
}

fn rec(v: serde_json::Value) -> Recommendation {
    serde_json::from_value(v).expect("a recommendation as a report holds it")
}

/// The mixed role of the worked example: an inline policy losing ec2 and sns.
fn inline_update(holder: &str) -> Recommendation {
    rec(json!({
        "action": "UPDATE_POLICY",
        "policy": {"kind": "inline", "name": "mixed-inline", "holder": holder},
        "removes": {"services": ["ec2", "sns"], "actions": []},
        "recommended_document": {"Version": "2012-10-17", "Statement": [
            {"Sid": "Work", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]},
        "current_document": {"Version": "2012-10-17", "Statement": [
            {"Sid": "Work", "Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances", "sns:Publish"],
             "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]},
        "reason": "grants only what was used within unused_days, and what access advisor can't see"
    }))
}

fn one(format: Format, p: &(String, PrincipalType, String), r: Recommendation) -> Snippet {
    let recs = [r];
    let principals = [Principal {
        subject: subject(p),
        recommendations: &recs,
    }];
    snippets(format, &principals).remove(0).remove(0)
}

fn managed(name: &str) -> (String, PrincipalType, String) {
    (
        format!("arn:aws:iam::{ACCOUNT}:policy/team/{name}"),
        PrincipalType::Policy,
        name.to_string(),
    )
}

fn user(name: &str) -> (String, PrincipalType, String) {
    (
        format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        PrincipalType::User,
        name.to_string(),
    )
}

fn managed_update(arn: &str) -> Recommendation {
    rec(json!({"action": "UPDATE_POLICY",
        "policy": {"kind": "managed", "name": "shared", "arn": arn, "holder": null},
        "removes": {"services": ["kms"], "actions": []},
        "recommended_document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}}]},
        "current_document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "kms:Decrypt"], "Resource": "*"}]},
        "delete_version_first": "v1",
        "reason": "judged by the policy's own report"}))
}

fn replace_read_only(holder: &str) -> Recommendation {
    rec(json!({"action": "REPLACE_AWS_MANAGED_POLICY",
        "policy": {"kind": "aws_managed", "name": "ReadOnlyAccess", "arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "holder": holder},
        "removes": {"services": ["ec2"], "actions": []},
        "recommended_document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
            "Resource": "arn:aws:s3:::b/${aws:username}/*"}]},
        "reason": "an AWS-managed policy can't be edited"}))
}

#[test]
fn an_inline_update_is_a_role_policy_whose_jsonencode_holds_the_document() {
    let mixed = role("mixed");
    let s = one(Format::Terraform, &mixed, inline_update(&mixed.0));
    let (name, text) = file(Format::Terraform, &s, false).unwrap();
    assert_eq!(name, "inline-mixed-inline.tf");
    assert_eq!(
        text,
        r#"# UPDATE_POLICY inline policy "mixed-inline" of role mixed, account 123456789012
# grants only what was used within unused_days, and what access advisor can't see
# removes ec2, sns
# Terraform: put this in place of the resource that manages it now (keep your own address); if none does, the import block adopts it, and terraform plan shows the change

resource "aws_iam_role_policy" "role_mixed_mixed-inline" {
  name = "mixed-inline"
  role = "mixed"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Work"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "*"
        Condition = {
          Bool = {
            "aws:SecureTransport" = "true"
          }
        }
      },
    ]
  })
}

import {
  to = aws_iam_role_policy.role_mixed_mixed-inline
  id = "mixed:mixed-inline"
}
"#
    );
}

#[test]
fn before_holds_the_same_resource_with_the_scan_time_document() {
    let mixed = role("mixed");
    for format in [Format::Terraform, Format::Cloudformation] {
        let s = one(format, &mixed, inline_update(&mixed.0));
        let (name, before) = file(format, &s, true).expect("an update has a before");
        let (same, after) = file(format, &s, false).unwrap();
        assert_eq!(name, same, "before/ mirrors the file's name");
        assert!(before.contains("As it was at scan time"), "{before}");
        assert!(
            before.contains("ec2:DescribeInstances") && before.contains("sns:Publish"),
            "{before}"
        );
        assert!(!after.contains("ec2:DescribeInstances"), "{after}");
        let resource_line = |t: &str| {
            t.lines()
                .find(|l| l.starts_with("resource") || l.starts_with("  Role"))
                .map(str::to_string)
        };
        assert_eq!(
            resource_line(&before),
            resource_line(&after),
            "the same resource, to diff"
        );
    }
    let detach = rec(json!({"action": "DETACH_POLICY",
        "policy": {"kind": "managed", "name": "shared", "arn": managed("shared").0, "holder": mixed.0}, "reason": "unused"}));
    assert_eq!(
        file(
            Format::Terraform,
            &one(Format::Terraform, &mixed, detach),
            true
        ),
        None
    );
}

#[test]
fn hcl_strings_are_literals_never_templates() {
    assert_eq!(
        hcl::string("arn:aws:s3:::b/${aws:username}/*"),
        r#""arn:aws:s3:::b/$${aws:username}/*""#
    );
    assert_eq!(hcl::string("%{if x}"), r#""%%{if x}""#);
    // A literal "$${" stays itself: its "${" is escaped, the "$" before it is plain.
    assert_eq!(hcl::string("$${x}"), r#""$$${x}""#);
    assert_eq!(hcl::string("cost $5 {a} 100%"), r#""cost $5 {a} 100%""#);
    assert_eq!(
        hcl::string("a\"b\\c\nd\te\u{1}"),
        r#""a\"b\\c\nd\te\u0001""#
    );
    assert_eq!(hcl::string("café"), "\"café\"");
}

#[test]
fn hcl_keys_are_bare_only_when_they_are_identifiers() {
    assert_eq!(hcl::key("Effect"), "Effect");
    assert_eq!(hcl::key("aws:SecureTransport"), r#""aws:SecureTransport""#);
    assert_eq!(hcl::key("s3:prefix"), r#""s3:prefix""#);
    assert_eq!(
        hcl::key("for"),
        r#""for""#,
        "a bare for would start a for expression"
    );
    assert_eq!(hcl::key("null"), r#""null""#);
    assert_eq!(hcl::key("1x"), r#""1x""#);
    assert_eq!(hcl::key(""), r#""""#);
}

#[test]
fn hcl_values_keep_their_json_types() {
    let v = json!({"e": [], "f": 1.5, "l": [[1, 2], {"a": "b"}], "n": 3600, "o": {}, "t": true, "z": null});
    assert_eq!(
        hcl::value(&v, 0),
        "{\n  e = []\n  f = 1.5\n  l = [\n    [1, 2],\n    {\n      a = \"b\"\n    },\n  ]\n  n = 3600\n  o = {}\n  t = true\n  z = null\n}"
    );
    let long: Vec<String> = (0..12).map(|i| format!("service{i}:*")).collect();
    let text = hcl::value(&json!(long), 4);
    assert_eq!(
        text.lines().count(),
        14,
        "one action a line past 80 columns:\n{text}"
    );
    assert!(
        text.lines()
            .skip(1)
            .take(12)
            .all(|l| l.starts_with("      \"") && l.ends_with("\",")),
        "{text}"
    );
}

#[test]
fn a_managed_update_keeps_the_policy_path_and_imports_by_arn() {
    let shared = managed("shared");
    let s = one(Format::Terraform, &shared, managed_update(&shared.0));
    assert!(s.code.starts_with("resource \"aws_iam_policy\" \"policy_shared\" {\n  name = \"shared\"\n  path = \"/team/\"\n  policy = jsonencode({\n"), "{}", s.code);
    assert!(
        s.code.contains("\"aws:MultiFactorAuthAge\" = 3600"),
        "a number stays a number:\n{}",
        s.code
    );
    assert!(s.code.ends_with("import {\n  to = aws_iam_policy.policy_shared\n  id = \"arn:aws:iam::123456789012:policy/team/shared\"\n}\n"), "{}", s.code);
    assert!(
        s.comment
            .iter()
            .any(|c| c.contains("deletes the oldest non-default version itself")),
        "{:?}",
        s.comment
    );
    let cfn = one(Format::Cloudformation, &shared, managed_update(&shared.0));
    assert!(cfn.code.starts_with("  PolicyShared:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      ManagedPolicyName: \"shared\"\n      Path: \"/team/\"\n"), "{}", cfn.code);
    assert!(cfn.comment.iter().any(|c| c.contains("delete-policy-version --policy-arn arn:aws:iam::123456789012:policy/team/shared --version-id v1")), "{:?}", cfn.comment);
}

#[test]
fn an_aws_managed_replacement_creates_a_scoped_policy_and_attaches_it() {
    let reader = role("reader");
    let s = one(Format::Terraform, &reader, replace_read_only(&reader.0));
    assert!(s.code.starts_with("resource \"aws_iam_policy\" \"policy_ReadOnlyAccess-scoped-reader\" {\n  name = \"ReadOnlyAccess-scoped-reader\"\n"), "{}", s.code);
    assert!(
        s.code
            .contains("Resource = \"arn:aws:s3:::b/$${aws:username}/*\""),
        "{}",
        s.code
    );
    assert!(s.code.ends_with("resource \"aws_iam_role_policy_attachment\" \"role_reader_ReadOnlyAccess-scoped-reader\" {\n  role       = \"reader\"\n  policy_arn = aws_iam_policy.policy_ReadOnlyAccess-scoped-reader.arn\n}\n"), "{}", s.code);
    assert!(s.comment.iter().any(|c| c == "By hand: aws iam detach-role-policy --role-name reader --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess"), "{:?}", s.comment);
    let cfn = one(
        Format::Cloudformation,
        &reader,
        replace_read_only(&reader.0),
    );
    assert!(
        cfn.code.ends_with("      Roles:\n        - \"reader\"\n"),
        "it attaches itself:\n{}",
        cfn.code
    );
    assert!(
        cfn.code
            .contains("Resource: \"arn:aws:s3:::b/${aws:username}/*\""),
        "CloudFormation substitutes only in Fn::Sub:\n{}",
        cfn.code
    );
    let group = (
        format!("arn:aws:iam::{ACCOUNT}:group/team"),
        PrincipalType::Group,
        "team".to_string(),
    );
    let g = one(Format::Terraform, &group, replace_read_only(&group.0));
    assert!(
        g.code
            .contains("resource \"aws_iam_group_policy_attachment\"")
            && g.code.contains("  group      = \"team\"\n"),
        "{}",
        g.code
    );
}

#[test]
fn an_unused_key_is_set_inactive_in_terraform_and_named_in_cloudformation() {
    let quiet = user("quiet");
    let key = || {
        rec(
            json!({"action": "DEACTIVATE_ACCESS_KEY", "access_key_id": "AKIAEXAMPLE", "reason": "never used"}),
        )
    };
    let s = one(Format::Terraform, &quiet, key());
    assert_eq!(s.stem, "access-key-AKIAEXAMPLE");
    assert_eq!(
        s.code,
        "resource \"aws_iam_access_key\" \"user_quiet_AKIAEXAMPLE\" {\n  user   = \"quiet\"\n  status = \"Inactive\"\n}\n\nimport {\n  to = aws_iam_access_key.user_quiet_AKIAEXAMPLE\n  id = \"AKIAEXAMPLE\"\n}\n"
    );
    let cfn = one(Format::Cloudformation, &quiet, key());
    assert_eq!(cfn.code, "", "an AWS::IAM::AccessKey would make a new key");
    assert!(
        cfn.comment
            .iter()
            .any(|c| c.contains("set Status: Inactive on the AWS::IAM::AccessKey")),
        "{:?}",
        cfn.comment
    );
    assert_eq!(
        file(Format::Cloudformation, &cfn, false).unwrap().0,
        "access-key-AKIAEXAMPLE.cfn.txt"
    );
}

#[test]
fn removals_are_comments_naming_what_to_delete_and_the_cli_command() {
    let quiet = user("quiet");
    let idle = role("idle");
    let cases = [
        (&quiet, rec(json!({"action": "DELETE_INLINE_POLICY", "policy": {"kind": "inline", "name": "q", "holder": quiet.0}, "reason": "none used"})),
         "inline-q", "aws_iam_user_policy of \"q\"", "AWS::IAM::UserPolicy \"q\"", "aws iam delete-user-policy --user-name quiet --policy-name q"),
        (&quiet, rec(json!({"action": "REMOVE_CONSOLE_PASSWORD", "reason": "never used"})),
         "console-password", "aws_iam_user_login_profile", "LoginProfile", "aws iam delete-login-profile --user-name quiet"),
        (&idle, rec(json!({"action": "DELETE_PRINCIPAL", "reason": "unused"})),
         "delete-principal", "aws_iam_role idle", "AWS::IAM::Role idle", "aws iam delete-role --role-name idle"),
        (&idle, rec(json!({"action": "DETACH_POLICY", "policy": {"kind": "managed", "name": "shared", "arn": managed("shared").0, "holder": idle.0}, "reason": "unused"})),
         "managed-shared", "aws_iam_role_policy_attachment of arn:aws:iam::123456789012:policy/team/shared", "ManagedPolicyArns of the AWS::IAM::Role idle",
         "aws iam detach-role-policy --role-name idle --policy-arn arn:aws:iam::123456789012:policy/team/shared"),
    ];
    for (p, r, stem, terraform, cloudformation, cli) in cases {
        for (format, names, ext) in [
            (Format::Terraform, terraform, "tf"),
            (Format::Cloudformation, cloudformation, "cfn.txt"),
        ] {
            let s = one(format, p, r.clone());
            assert_eq!(s.code, "", "{stem}: nothing to add");
            let (name, text) = file(format, &s, false).unwrap();
            assert_eq!(name, format!("{stem}.{ext}"));
            assert!(
                text.contains(names) && text.contains(&format!("By hand: {cli}")),
                "{stem}:\n{text}"
            );
            assert!(text.contains("Not expressible as"), "{text}");
            assert!(
                text.lines().all(|l| l.starts_with("# ")),
                "comments only:\n{text}"
            );
        }
    }
}

#[test]
fn names_are_valid_identifiers_and_unique() {
    let mut names = Names::default();
    assert_eq!(
        names.terraform(&["role", "a.b@c", "p+q=r,s"]),
        "role_a_b_c_p_q_r_s"
    );
    assert_eq!(
        names.terraform(&["role", "a_b_c", "p_q_r_s"]),
        "role_a_b_c_p_q_r_s_2"
    );
    assert_eq!(
        names.terraform(&["ROLE", "A.B@C", "P+Q=R,S"]),
        "ROLE_A_B_C_P_Q_R_S_3",
        "unique ignoring case"
    );
    assert_eq!(names.terraform(&["9lives"]), "_9lives");
    assert_eq!(
        names.logical_id(&["Role", "my-app", "s3.read"]),
        "RoleMyAppS3Read"
    );
    assert_eq!(
        names.logical_id(&["Role", "my_app", "s3-read"]),
        "RoleMyAppS3Read2"
    );
    assert_eq!(names.logical_id(&["9", "x"]), "R9X");
    let long = "p".repeat(128);
    let id = names.logical_id(&["Role", &"r".repeat(64), &long, &long]);
    assert!(
        id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
}

#[test]
fn an_inline_update_is_a_role_policy_resource_in_a_template() {
    let mixed = role("mixed");
    let s = one(Format::Cloudformation, &mixed, inline_update(&mixed.0));
    let (name, text) = file(Format::Cloudformation, &s, false).unwrap();
    assert_eq!(name, "inline-mixed-inline.cfn.yaml");
    assert_eq!(
        text,
        r#"# UPDATE_POLICY inline policy "mixed-inline" of role mixed, account 123456789012
# grants only what was used within unused_days, and what access advisor can't see
# removes ec2, sns
# CloudFormation: put this in place of the resource that holds it now (or the entry PolicyName "mixed-inline" of the Policies of your AWS::IAM::Role mixed)
AWSTemplateFormatVersion: "2010-09-09"
Description: "iam-last-accessed recommendation: UPDATE_POLICY inline policy \"mixed-inline\" of role mixed, account 123456789012"
Resources:
  RoleMixedMixedInline:
    Type: AWS::IAM::RolePolicy
    Properties:
      RoleName: "mixed"
      PolicyName: "mixed-inline"
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: "Work"
            Effect: "Allow"
            Action:
              - "s3:GetObject"
            Resource: "*"
            Condition:
              Bool:
                "aws:SecureTransport": "true"
"#
    );
}

#[test]
fn yaml_never_lets_a_string_turn_into_another_type() {
    assert_eq!(yaml::key("Effect"), "Effect");
    for quoted in [
        "Yes",
        "no",
        "ON",
        "null",
        "aws:SecureTransport",
        "1x",
        "a b",
        "",
    ] {
        assert!(yaml::key(quoted).starts_with('"'), "{quoted}");
    }
    let v = json!({"Statement": [{"Action": ["s3:*"], "Bool": "true", "E": [], "L": [["x"]], "N": 1, "O": {}}]});
    assert_eq!(
        yaml::entry("Doc", &v, 0),
        "Doc:\n  Statement:\n    - Action:\n        - \"s3:*\"\n      Bool: \"true\"\n      E: []\n      L:\n        - - \"x\"\n      \"N\": 1\n      O: {}\n"
    );
    assert_eq!(yaml::string("a\"b\\\n"), r#""a\"b\\\n""#);
}

#[test]
fn the_whole_output_is_one_file_with_unique_names() {
    let in_a = role("app");
    let in_b = (
        "arn:aws:iam::210987654321:role/app".to_string(),
        PrincipalType::Role,
        "app".to_string(),
    );
    let recs_a = [inline_update(&in_a.0)];
    let recs_b = [inline_update(&in_b.0)];
    let principals = [
        Principal {
            subject: subject(&in_a),
            recommendations: &recs_a,
        },
        Principal {
            subject: Subject {
                account: "210987654321",
                ..subject(&in_b)
            },
            recommendations: &recs_b,
        },
    ];
    let tf = whole(
        Format::Terraform,
        &principals,
        &snippets(Format::Terraform, &principals),
    );
    assert!(
        tf.starts_with(&format!("# ==== {}\n", in_a.0))
            && tf.contains(&format!("# ==== {}\n", in_b.0)),
        "{tf}"
    );
    assert!(
        tf.contains("\"role_app_mixed-inline\" {") && tf.contains("\"role_app_mixed-inline_2\" {"),
        "{tf}"
    );
    assert!(tf.contains("of role app, account 210987654321"), "{tf}");
    let cfn = whole(
        Format::Cloudformation,
        &principals,
        &snippets(Format::Cloudformation, &principals),
    );
    assert!(
        cfn.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\n"),
        "{cfn}"
    );
    assert!(
        cfn.contains("\n  RoleAppMixedInline:\n") && cfn.contains("\n  RoleAppMixedInline2:\n"),
        "{cfn}"
    );
    assert_eq!(cfn.matches("\nResources:\n").count(), 1, "{cfn}");

    let idle = role("idle");
    let removal = [rec(
        json!({"action": "DELETE_PRINCIPAL", "reason": "unused"}),
    )];
    let only = [Principal {
        subject: subject(&idle),
        recommendations: &removal,
    }];
    let text = whole(
        Format::Cloudformation,
        &only,
        &snippets(Format::Cloudformation, &only),
    );
    assert!(
        text.lines().all(|l| l.is_empty() || l.starts_with("# ")),
        "no template without a resource:\n{text}"
    );
    assert!(text.contains("AWS::IAM::Role idle"), "{text}");
    assert_eq!(whole(Format::Terraform, &[], &[]), "# no recommendations\n");
    assert_eq!(
        snippets(Format::Terraform, &only)[0][0].action,
        Action::DeletePrincipal
    );
}

#[test]
fn a_comment_names_at_most_twenty_services() {
    let reader = role("reader");
    let mut r = replace_read_only(&reader.0);
    r.removes.services = (0..300).map(|i| format!("svc{i}")).collect();
    let s = one(Format::Terraform, &reader, r);
    let line = s
        .comment
        .iter()
        .find(|l| l.starts_with("removes "))
        .unwrap();
    assert!(
        line.starts_with("removes svc0, svc1,") && line.contains("svc19 and 280 more"),
        "{line}"
    );
    assert!(!line.contains("svc20"), "{line}");
}
