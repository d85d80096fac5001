//! What Terraform and CloudFormation output share: the principal a recommendation is
//! about, the snippet it becomes, its file name, the lines that say what it is, and the
//! AWS CLI command for what IaC can only say in words (a detach, a deletion).

use last_accessed::domain::arn::{PrincipalArn, PrincipalType};
use last_accessed::domain::keys;
use last_accessed::domain::recommend::{Action, PolicyKind, PolicyRef, Recommendation};

/// The principal whose report holds the recommendations: for a policy's inline or
/// attached recommendation, its holder.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub arn: &'a str,
    pub kind: PrincipalType,
    pub name: &'a str,
    /// The account the principal is in (its provider or stack).
    pub account: &'a str,
}

impl<'a> Subject<'a> {
    /// What a recommendation acts on: its policy's ARN (else the principal's), and its
    /// policy's name (empty for none).
    pub fn target<'r>(&self, r: &'r Recommendation) -> (&'r str, &'r str)
    where
        'a: 'r,
    {
        let arn = r
            .policy
            .as_ref()
            .and_then(|p| p.arn.as_deref())
            .unwrap_or(self.arn);
        let policy = r.policy.as_ref().map_or("", |p| p.name.as_str());
        (arn, policy)
    }

    /// `user`, `role`, `group` (`policy` on a managed policy's own report).
    pub fn type_word(&self) -> &'static str {
        self.kind.as_str()
    }
}

/// One recommendation as code.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    pub action: Action,
    /// Its files' name without the extension: that of the recommended document's file
    /// (`inline-NAME`, `managed-NAME`, `aws_managed-NAME`), or `delete-role`,
    /// `console-password`, `access-key-ID`.
    pub stem: String,
    /// What it is, why, and what to do with it: comment lines.
    pub comment: Vec<String>,
    /// The resources (Terraform blocks; CloudFormation `Resources` entries); empty when
    /// the change is a removal IaC can't say as code.
    pub code: String,
    /// The same resources with the document as it was at scan time (UPDATE_POLICY).
    pub before: Option<String>,
}

pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::UpdatePolicy => "UPDATE_POLICY",
        Action::DetachPolicy => "DETACH_POLICY",
        Action::DeleteInlinePolicy => "DELETE_INLINE_POLICY",
        Action::ReplaceAwsManagedPolicy => "REPLACE_AWS_MANAGED_POLICY",
        Action::DeletePrincipal => "DELETE_PRINCIPAL",
        Action::DeactivateAccessKey => "DEACTIVATE_ACCESS_KEY",
        Action::RemoveConsolePassword => "REMOVE_CONSOLE_PASSWORD",
    }
}

pub fn kind_word(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Inline => "inline",
        PolicyKind::Managed => "managed",
        PolicyKind::AwsManaged => "aws_managed",
    }
}

/// The file stem; a policy's is `--write`'s JSON file name without `.json`.
pub fn stem(r: &Recommendation) -> String {
    match (&r.policy, r.action) {
        (Some(p), _) => format!("{}-{}", kind_word(p.kind), keys::url_safe(&p.name)),
        (None, Action::DeactivateAccessKey) => format!(
            "access-key-{}",
            keys::url_safe(r.access_key_id.as_deref().unwrap_or("unknown"))
        ),
        (None, Action::RemoveConsolePassword) => "console-password".to_string(),
        (None, a) => action_name(a).to_ascii_lowercase().replace('_', "-"),
    }
}

/// The policy's path (`/` or `/…/`), from its ARN.
pub fn policy_path(p: &PolicyRef) -> String {
    p.arn
        .as_deref()
        .and_then(|a| PrincipalArn::parse(a).ok())
        .map_or_else(|| "/".to_string(), |a| a.path().to_string())
}

/// The customer-managed policy that replaces an AWS-managed one for one holder:
/// `NAME-scoped-HOLDER`, within IAM's 128 characters.
pub fn scoped_name(p: &PolicyRef, s: &Subject<'_>) -> String {
    let mut name = format!("{}-scoped-{}", p.name, s.name);
    name.truncate(128);
    name
}

/// What the recommendation is about, in words.
fn about(s: &Subject<'_>, r: &Recommendation) -> String {
    let holder = format!("{} {}", s.type_word(), s.name);
    match (&r.policy, r.action) {
        (Some(p), _) if s.kind == PrincipalType::Policy => {
            format!(
                "managed policy {:?} ({})",
                p.name,
                p.arn.as_deref().unwrap_or(s.arn)
            )
        }
        (Some(p), _) if p.kind == PolicyKind::Inline => {
            format!("inline policy {:?} of {holder}", p.name)
        }
        (Some(p), _) => format!(
            "{} policy {:?} ({}) of {holder}",
            kind_word(p.kind).replace('_', "-"),
            p.name,
            p.arn.as_deref().unwrap_or("?")
        ),
        (None, Action::DeactivateAccessKey) => format!(
            "access key {} of {holder}",
            r.access_key_id.as_deref().unwrap_or("?")
        ),
        (None, Action::RemoveConsolePassword) => format!("console password of {holder}"),
        (None, _) => holder,
    }
}

/// The most services or actions a comment names (an AWS-managed policy's replacement can
/// remove hundreds).
const MAX_NAMED: usize = 20;

/// The first lines of every snippet: the action, what, where, why, what it removes and
/// keeps.
pub fn headline(s: &Subject<'_>, r: &Recommendation) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{} {}, account {}",
            action_name(r.action),
            about(s, r),
            s.account
        ),
        r.reason.replace('\n', " "),
    ];
    let removes: Vec<&str> = r
        .removes
        .services
        .iter()
        .chain(&r.removes.actions)
        .map(String::as_str)
        .collect();
    if !removes.is_empty() {
        let shown = removes.len().min(MAX_NAMED);
        let mut line = format!("removes {}", removes[..shown].join(", "));
        if removes.len() > shown {
            line += &format!(
                " and {} more (the report's removes lists them)",
                removes.len() - shown
            );
        }
        lines.push(line);
    }
    if !r.kept.is_empty() {
        let kept: Vec<String> = r
            .kept
            .iter()
            .map(|k| {
                let why = serde_json::to_value(k.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("{} ({why})", k.action)
            })
            .collect();
        lines.push(format!("keeps {}", kept.join(", ")));
    }
    lines
}

/// The AWS CLI command(s) that make the change by hand.
pub fn by_hand(s: &Subject<'_>, r: &Recommendation) -> String {
    let t = s.type_word();
    let n = s.name;
    let (arn, policy) = s.target(r);
    match r.action {
        Action::DeleteInlinePolicy => {
            format!("aws iam delete-{t}-policy --{t}-name {n} --policy-name {policy}")
        }
        Action::DetachPolicy if s.kind == PrincipalType::Policy => format!(
            "aws iam list-entities-for-policy --policy-arn {arn}, then detach-role-policy / detach-user-policy / detach-group-policy for each"
        ),
        Action::DetachPolicy => format!("aws iam detach-{t}-policy --{t}-name {n} --policy-arn {arn}"),
        Action::DeletePrincipal => format!(
            "aws iam delete-role --role-name {n}, after delete-role-policy, detach-role-policy and remove-role-from-instance-profile for each it has"
        ),
        Action::RemoveConsolePassword => format!("aws iam delete-login-profile --user-name {n}"),
        Action::DeactivateAccessKey => format!(
            "aws iam update-access-key --user-name {n} --access-key-id {} --status Inactive",
            r.access_key_id.as_deref().unwrap_or("?")
        ),
        Action::UpdatePolicy | Action::ReplaceAwsManagedPolicy => {
            "ila recommendations … --write DIR: the JSON document beside this file".to_string()
        }
    }
}

/// IAM's own order of a policy's keys (the IAM JSON policy element reference): Version,
/// Id, Statement; Sid, Effect, Principal, Action, Resource, Condition. A document read
/// into a map has lost its order; this gives it back for people (JSON does not care).
const IAM_ORDER: [&str; 12] = [
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// An object's entries, IAM's keys first in IAM's order, then the others as they come.
pub fn ordered(
    map: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(&str, &serde_json::Value)> {
    let mut entries: Vec<(&str, &serde_json::Value)> =
        map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by_key(|(k, _)| {
        IAM_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(IAM_ORDER.len())
    });
    entries
}
