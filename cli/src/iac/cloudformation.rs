//! Recommendations as CloudFormation: an inline policy's new document as
//! `AWS::IAM::{Role,User,Group}Policy`, a customer-managed one's as
//! `AWS::IAM::ManagedPolicy`, an AWS-managed policy's scoped replacement as an
//! `AWS::IAM::ManagedPolicy` that attaches itself (`Roles`, `Users` or `Groups`). A
//! template can't remove what it does not hold, and can't adopt an access key (an
//! `AWS::IAM::AccessKey` makes a new one): detaching, deleting and deactivating are
//! comments that name what to change in your template.

use super::model::{by_hand, headline, policy_path, scoped_name, stem, Snippet, Subject};
use super::names::Names;
use super::yaml;
use last_accessed::domain::arn::PrincipalType;
use last_accessed::domain::recommend::{Action, PolicyKind, PolicyRef, Recommendation};
use serde_json::{json, Value};

/// CloudFormation's spelling of a principal type in resource types and property names.
fn title(kind: PrincipalType) -> &'static str {
    match kind {
        PrincipalType::User => "User",
        PrincipalType::Group => "Group",
        _ => "Role",
    }
}

/// One `Resources` entry at two spaces.
fn resource(id: &str, kind: &str, properties: &[(&str, Value)]) -> String {
    let mut out = format!("  {id}:\n    Type: {kind}\n    Properties:\n");
    for (k, v) in properties {
        out += &yaml::entry(k, v, 6);
    }
    out
}

/// One recommendation as CloudFormation.
pub fn snippet(s: &Subject<'_>, r: &Recommendation, names: &mut Names) -> Snippet {
    let mut comment = headline(s, r);
    let (code, before) = match (r.action, &r.policy, &r.recommended_document) {
        (Action::UpdatePolicy, Some(p), Some(doc)) if p.kind == PolicyKind::Inline => {
            comment.push(format!(
                "CloudFormation: put this in place of the resource that holds it now (or the entry PolicyName {:?} of the Policies of your AWS::IAM::{} {})",
                p.name,
                title(s.kind),
                s.name
            ));
            inline_policy(s, p, doc, r.current_document.as_ref(), names)
        }
        (Action::UpdatePolicy, Some(p), Some(doc)) => {
            comment.push(MANAGED_NOTE.to_string());
            if let Some(v) = &r.delete_version_first {
                comment.push(format!(
                    "IAM holds the policy's 5 versions: aws iam delete-policy-version --policy-arn {} --version-id {v} first",
                    p.arn.as_deref().unwrap_or("?")
                ));
            }
            managed_policy(p, doc, r.current_document.as_ref(), names)
        }
        (Action::ReplaceAwsManagedPolicy, Some(p), Some(doc)) => {
            let detach = Recommendation {
                action: Action::DetachPolicy,
                ..r.clone()
            };
            comment.push(format!(
                "CloudFormation: add this (it attaches itself), then {}",
                removal(s, &detach)
            ));
            comment.push(format!("By hand: {}", by_hand(s, &detach)));
            (scoped_policy(s, p, doc, names), None)
        }
        _ => {
            comment.push(format!("CloudFormation: {}", removal(s, r)));
            comment.push(NOT_CODE.to_string());
            comment.push(format!("By hand: {}", by_hand(s, r)));
            (String::new(), None)
        }
    };
    Snippet {
        action: r.action,
        stem: stem(r),
        comment,
        code,
        before,
    }
}

const MANAGED_NOTE: &str = "CloudFormation: put this in place of the AWS::IAM::ManagedPolicy that holds it now; keep its Description: a changed name, path or description replaces the policy";
const NOT_CODE: &str =
    "Not expressible as a resource to add: a template changes only what it holds";

fn inline_policy(
    s: &Subject<'_>,
    p: &PolicyRef,
    doc: &Value,
    current: Option<&Value>,
    names: &mut Names,
) -> (String, Option<String>) {
    let t = title(s.kind);
    let id = names.logical_id(&[t, s.name, &p.name]);
    let kind = format!("AWS::IAM::{t}Policy");
    let holder = format!("{t}Name");
    let block = |document: &Value| {
        resource(
            &id,
            &kind,
            &[
                (holder.as_str(), json!(s.name)),
                ("PolicyName", json!(p.name)),
                ("PolicyDocument", document.clone()),
            ],
        )
    };
    (block(doc), current.map(block))
}

fn managed_policy(
    p: &PolicyRef,
    doc: &Value,
    current: Option<&Value>,
    names: &mut Names,
) -> (String, Option<String>) {
    let id = names.logical_id(&["policy", &p.name]);
    let path = policy_path(p);
    let block = |document: &Value| {
        resource(
            &id,
            "AWS::IAM::ManagedPolicy",
            &[
                ("ManagedPolicyName", json!(p.name)),
                ("Path", json!(path)),
                ("PolicyDocument", document.clone()),
            ],
        )
    };
    (block(doc), current.map(block))
}

fn scoped_policy(s: &Subject<'_>, p: &PolicyRef, doc: &Value, names: &mut Names) -> String {
    let scoped = scoped_name(p, s);
    let id = names.logical_id(&["policy", &scoped]);
    let holders = format!("{}s", title(s.kind));
    resource(
        &id,
        "AWS::IAM::ManagedPolicy",
        &[
            ("ManagedPolicyName", json!(scoped)),
            ("PolicyDocument", doc.clone()),
            (holders.as_str(), json!([s.name])),
        ],
    )
}

/// What to change in the template for a removal.
fn removal(s: &Subject<'_>, r: &Recommendation) -> String {
    let t = title(s.kind);
    let n = s.name;
    let (arn, policy) = s.target(r);
    match r.action {
        Action::DeleteInlinePolicy => format!(
            "delete the AWS::IAM::{t}Policy {policy:?} of {n} (or the entry PolicyName {policy:?} from the Policies of the AWS::IAM::{t} {n})"
        ),
        Action::DetachPolicy if s.kind == PrincipalType::Policy => format!(
            "remove {arn} from every ManagedPolicyArns that holds it, then delete its AWS::IAM::ManagedPolicy"
        ),
        Action::DetachPolicy => format!(
            "remove {arn} from the ManagedPolicyArns of the AWS::IAM::{t} {n} (or {n} from the {t}s of the AWS::IAM::ManagedPolicy)"
        ),
        Action::DeletePrincipal => format!(
            "delete the AWS::IAM::Role {n} with its AWS::IAM::InstanceProfile and policies"
        ),
        Action::RemoveConsolePassword => {
            format!("remove the LoginProfile of the AWS::IAM::User {n}")
        }
        Action::DeactivateAccessKey => format!(
            "set Status: Inactive on the AWS::IAM::AccessKey of user {n} that made {} (a key made outside the template can't be adopted: an AWS::IAM::AccessKey makes a new key)",
            r.access_key_id.as_deref().unwrap_or("the key")
        ),
        _ => "the report holds no document for it".to_string(),
    }
}
