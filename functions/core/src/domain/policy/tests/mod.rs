//! The policy room's tests: the grammar's round trip and refusals, the rewrite on a
//! table of real-world shapes, and the size limits.

use super::*;
use serde_json::{json, Value};

mod grammar;
mod limits;
mod rewrite;

fn doc(value: Value) -> PolicyDocument {
    PolicyDocument::parse(&value.to_string()).unwrap()
}

/// A SERVICE_LEVEL view: (namespace, used).
fn view(services: &[(&str, bool)]) -> AdvisorView {
    AdvisorView {
        services: services
            .iter()
            .map(|&(namespace, used)| ServiceUse {
                namespace: namespace.into(),
                used,
                tracked_actions: None,
            })
            .collect(),
    }
}

fn allow(action: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
}

/// The recommended document as JSON (`null` when none remains).
fn recommended(r: &Rewrite) -> Value {
    serde_json::to_value(&r.document).unwrap()
}

/// The `Action` of the recommended document's statement `i`.
fn actions(r: &Rewrite, i: usize) -> Value {
    recommended(r)["Statement"][i]["Action"].clone()
}

/// Statement `i`'s NotAction in the recommended document.
fn actions_not(r: &Rewrite, i: usize) -> Value {
    recommended(r)["Statement"][i]["NotAction"].clone()
}

fn unseen(r: &Rewrite) -> Vec<(&str, UnseenReason)> {
    r.kept_unseen
        .iter()
        .map(|u| (u.action.as_str(), u.reason))
        .collect()
}

/// AmazonEC2ReadOnlyAccess (v3), as AWS publishes it, spacing and all.
const EC2_READ_ONLY: &str = r#"{ "Version" : "2012-10-17", "Statement" : [ { "Effect" : "Allow", "Action" : [ "ec2:Describe*", "ec2:GetSecurityGroupsForVpc" ], "Resource" : "*" }, { "Effect" : "Allow", "Action" : "elasticloadbalancing:Describe*", "Resource" : "*" }, { "Effect" : "Allow", "Action" : [ "cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics", "cloudwatch:Describe*" ], "Resource" : "*" }, { "Effect" : "Allow", "Action" : "autoscaling:Describe*", "Resource" : "*" } ] }"#;
