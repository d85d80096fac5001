//! The renderers on recommendations shaped as the reports hold them (JSON): exact text
//! where a user reads it, escapes where Terraform or YAML would misread a document.

use super::model::Subject;

use super::{file, snippets, Format, Principal, Snippet};
use last_accessed::domain::arn::PrincipalType;
use last_accessed::domain::recommend::Recommendation;
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

#[test]
fn print_them() {
    let mixed = role("mixed");
    for format in [Format::Terraform, Format::Cloudformation] {
        let s = one(format, &mixed, inline_update(&mixed.0));
        let (name, text) = file(format, &s, false).unwrap();
        println!("==== {name}\n{text}");
        let (name, text) = file(format, &s, true).unwrap();
        println!("==== before/{name}\n{text}");
    }
}
