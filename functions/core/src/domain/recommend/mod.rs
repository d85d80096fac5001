//! Least-privilege recommendations (issue 12): from a principal's report and the policies
//! it holds, what to change. Pure code: Plan reads the documents in bulk
//! (GetAccountAuthorizationDetails) into per-batch slices ([`Holdings`]), Write judges
//! each COMPLETED principal with [`recommend`].
//!
//! Rules, in order (fail closed):
//! - the job is not COMPLETED, the principal is not in the slice, matches
//!   `report.exclude`, is a service-linked or IAM Identity Center role, or is younger than
//!   `report.min_age_days`: no recommendation, and the report says why;
//! - an inline policy is rewritten from the principal's own report
//!   ([`crate::domain::policy::rewrite`]): UPDATE_POLICY, or DELETE_INLINE_POLICY when nothing is
//!   left;
//! - a customer-managed policy is rewritten from the policy's own report (it covers every
//!   entity it is attached to): UPDATE_POLICY on the policy's report; a principal is told
//!   to DETACH_POLICY only when it used none of the policy's services;
//! - an AWS-managed policy can't be edited: DETACH_POLICY when none of its services was
//!   used, else REPLACE_AWS_MANAGED_POLICY with a customer-managed document scoped to the
//!   used services;
//! - a user's group policies are judged on the group's report, not the user's;
//! - a role whose RoleLastUsed is older than `unused_days` (or absent): DELETE_PRINCIPAL;
//!   a user's console password or active access key (older than `min_age_days`) unused as
//!   long (the credential report): REMOVE_CONSOLE_PASSWORD, DEACTIVATE_ACCESS_KEY.
//!
//! Every recommended document is checked by [`crate::domain::policy::ready`] (valid, within IAM's
//! quotas); one that can't be emitted becomes a note, never a broken document.

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::clock::utc;
use crate::domain::input::ReportOptions;
use crate::domain::policy::{
    ready, rewrite, AdvisorView, Narrowing, PolicyDocument, PolicyLimit, Rewrite, Unseen,
};
use crate::domain::selection::{glob_match, is_service_linked_role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// What one principal holds, as GetAccountAuthorizationDetails said when the run was
/// planned.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Holdings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Inline policies (users, roles, groups), documents as JSON text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline: Vec<InlinePolicy>,
    /// Attached managed policies' ARNs (see [`Slice::policies`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<String>,
    /// A user's groups, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// A role's RoleLastUsed date; `None`: never used (in IAM's tracking period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_last_used: Option<String>,
    /// A user's password and active access keys (the credential report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
}

/// A user's console password and active access keys, and their last use, as the
/// credential report says (shown in the user's report).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Credentials {
    pub password_enabled: bool,
    /// `None`: never used (or no password).
    pub password_last_used: Option<String>,
    /// When the password was set (a password younger than `min_age_days` is not judged).
    #[serde(default)]
    pub password_last_changed: Option<String>,
    /// The active keys.
    pub access_keys: Vec<AccessKeyUse>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AccessKeyUse {
    /// From ListAccessKeys, for keys the report calls unused (the report has no ids);
    /// `None` for keys in use, or one that could not be matched.
    pub id: Option<String>,
    pub created: Option<String>,
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
}

/// A managed policy: its default version's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub aws_managed: bool,
    pub document: String,
}

/// What Plan stores for one batch (`work/run=…/holdings/NNNNNN.json`): the batch's
/// principals and every managed policy they hold or are.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Slice {
    pub principals: BTreeMap<String, Holdings>,
    pub policies: BTreeMap<String, ManagedPolicy>,
}

impl Slice {
    /// What `arns` hold, out of their account's holdings (`principals`) and managed
    /// policies: each principal, the policies attached to it, and each policy in `arns`.
    pub fn of_batch(
        arns: &[PrincipalArn],
        principals: &BTreeMap<String, Holdings>,
        policies: &BTreeMap<String, ManagedPolicy>,
    ) -> Slice {
        let mut slice = Slice::default();
        for arn in arns {
            let key = arn.to_string();
            if let Some(h) = principals.get(&key) {
                for p in &h.attached {
                    if let Some(policy) = policies.get(p) {
                        slice.policies.insert(p.clone(), policy.clone());
                    }
                }
                slice.principals.insert(key.clone(), h.clone());
            }
            if let Some(policy) = policies.get(&key) {
                slice.policies.insert(key, policy.clone());
            }
        }
        slice
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    UpdatePolicy,
    DetachPolicy,
    DeleteInlinePolicy,
    ReplaceAwsManagedPolicy,
    DeletePrincipal,
    DeactivateAccessKey,
    RemoveConsolePassword,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Inline,
    Managed,
    AwsManaged,
}

/// The policy a recommendation is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub kind: PolicyKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The user, role or group the policy is on; `None` on a managed policy's own report.
    #[serde(default)]
    pub holder: Option<String>,
}

/// What a recommendation takes away.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Removes {
    pub services: Vec<String>,
    /// ACTION_LEVEL: `service:Action`.
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyRef>,
    #[serde(default)]
    pub removes: Removes,
    /// Kept though the report does not show them used, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Unseen>,
    /// Wildcards and NotAction replaced by the used services they covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narrowed: Vec<Narrowing>,
    /// UPDATE and REPLACE: the complete document, ready for put-*-policy,
    /// create-policy-version or create-policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_document: Option<serde_json::Value>,
    /// UPDATE_POLICY: the document as it is now (for a before/after diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_document: Option<serde_json::Value>,
    /// DEACTIVATE_ACCESS_KEY: the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    pub reason: String,
}

impl Recommendation {
    /// A recommendation with nothing but its action and reason (credentials).
    fn new(action: Action, reason: impl Into<String>) -> Recommendation {
        Recommendation {
            action,
            policy: None,
            removes: Removes::default(),
            kept: Vec::new(),
            narrowed: Vec::new(),
            recommended_document: None,
            current_document: None,
            access_key_id: None,
            reason: reason.into(),
        }
    }

    /// A recommendation about `policy`, with what its rewrite removes, keeps and narrows.
    fn about_policy(
        action: Action,
        policy: PolicyRef,
        r: &Rewrite,
        reason: &str,
    ) -> Recommendation {
        Recommendation {
            policy: Some(policy),
            removes: Removes {
                services: r.removed_services.clone(),
                actions: r.removed_actions.clone(),
            },
            kept: r.kept_unseen.clone(),
            narrowed: r.narrowed.clone(),
            ..Recommendation::new(action, reason)
        }
    }
}

/// What [`recommend`] decided for one principal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judgement {
    pub recommendations: Vec<Recommendation>,
    /// Why nothing was recommended at all (fail closed), when that is the case.
    pub withheld: Option<String>,
    /// Policies left alone, and why (a document that can't be made valid or fit).
    pub notes: Vec<String>,
    /// `role`, `password`, `access_key:ID`: the unused credentials (report findings).
    pub unused_credentials: Vec<String>,
}

/// Everything [`recommend`] looks at.
pub struct Subject<'a> {
    pub arn: &'a PrincipalArn,
    pub completed: bool,
    /// What access advisor saw of the principal (from its report's services).
    pub view: &'a AdvisorView,
    pub options: &'a ReportOptions,
    pub as_of: OffsetDateTime,
    pub slice: &'a Slice,
}

fn withheld(why: String) -> Judgement {
    Judgement {
        withheld: Some(why),
        ..Judgement::default()
    }
}

/// The permission set of an IAM Identity Center role, `AWSReservedSSO_{SET}_{suffix}`.
pub fn permission_set(role_name: &str) -> Option<&str> {
    let rest = role_name.strip_prefix("AWSReservedSSO_")?;
    Some(rest.rsplit_once('_').map_or(rest, |(set, _)| set))
}

fn days_before(as_of: OffsetDateTime, time: &str) -> Option<i64> {
    utc::parse(time).map(|t| (as_of - t).whole_days())
}

/// Decides the recommendations of one principal. See the module doc for the rules.
pub fn recommend(s: &Subject<'_>) -> Judgement {
    let arn_text = s.arn.to_string();
    let kind = s.arn.kind();
    if !s.completed {
        return withheld("the job is not COMPLETED: nothing is judged".into());
    }
    if kind == PrincipalType::AwsManagedPolicy {
        return withheld(
            "an AWS-managed policy can't be edited: the users, roles and groups holding it get DETACH_POLICY or REPLACE_AWS_MANAGED_POLICY".into(),
        );
    }
    let Some(holdings) = s.slice.principals.get(&arn_text) else {
        return withheld(
            "not in GetAccountAuthorizationDetails when the run was planned (created since?)"
                .into(),
        );
    };
    let exclude = &s.options.exclude;
    if kind == PrincipalType::Policy && !exclude.tags.is_empty() {
        // GetAccountAuthorizationDetails carries no policy tags: fail closed.
        return withheld(
            "report.exclude.tags is set and a managed policy's tags are not read: not judged"
                .into(),
        );
    }
    if exclude.arns.iter().any(|g| glob_match(g, &arn_text))
        || (!exclude.tags.is_empty()
            && exclude
                .tags
                .iter()
                .all(|(k, v)| holdings.tags.get(k) == Some(v)))
    {
        return withheld("excluded by report.exclude".into());
    }
    if is_service_linked_role(s.arn) {
        return withheld(
            "a service-linked role: its policies belong to the AWS service; findings only".into(),
        );
    }
    if kind == PrincipalType::Role {
        if let Some(set) = permission_set(s.arn.name()) {
            return withheld(format!(
                "an IAM Identity Center role: change the permission set {set:?} in IAM Identity Center, not this role; findings only"
            ));
        }
    }
    let min_age = s.options.min_age_days.unwrap_or(s.options.unused_days);
    if let Some(age) = holdings
        .created
        .as_deref()
        .and_then(|c| days_before(s.as_of, c))
    {
        if age < i64::from(min_age) {
            return withheld(format!(
                "too new to judge: created {age} days before the run, report.min_age_days is {min_age}"
            ));
        }
    }
    let view = s.view;
    let mut j = Judgement::default();
    if kind == PrincipalType::Policy {
        if let Some(policy) = s.slice.policies.get(&arn_text) {
            judge_own_managed(&mut j, policy, view);
        }
        return j;
    }
    judge_inline(&mut j, s.arn, &arn_text, &holdings.inline, view);
    for policy_arn in &holdings.attached {
        match s.slice.policies.get(policy_arn) {
            Some(p) => judge_attached(&mut j, &arn_text, p, view),
            None => j.notes.push(format!(
                "{policy_arn}: its document was not read; left alone"
            )),
        }
    }
    let unused_days = s.options.unused_days;
    let stale = |last: Option<&str>| match last {
        None => Some("never used".to_string()),
        Some(t) => days_before(s.as_of, t)
            .filter(|d| *d >= i64::from(unused_days))
            .map(|d| format!("last used {d} days before the run ({t})")),
    };
    // A role its own report shows in use is not unused, whatever RoleLastUsed says.
    let in_use = s.view.services.iter().any(|svc| svc.used);
    if kind == PrincipalType::Role && !in_use {
        if let Some(why) = stale(holdings.role_last_used.as_deref()) {
            j.unused_credentials.push("role".into());
            j.recommendations.push(Recommendation::new(
                Action::DeletePrincipal,
                format!("the role was {why} (RoleLastUsed, tracked for 400 days; unused_days {unused_days})"),
            ));
        }
    }
    if let Some(c) = &holdings.credentials {
        let young = |t: Option<&str>| {
            t.and_then(|t| days_before(s.as_of, t))
                .is_some_and(|age| age < i64::from(min_age))
        };
        if c.password_enabled && !young(c.password_last_changed.as_deref()) {
            if let Some(why) = stale(c.password_last_used.as_deref()) {
                j.unused_credentials.push("password".into());
                j.recommendations.push(Recommendation::new(
                    Action::RemoveConsolePassword,
                    format!("the console password was {why} (PasswordLastUsed; unused_days {unused_days})"),
                ));
            }
        }
        for key in &c.access_keys {
            let Some(why) =
                stale(key.last_used.as_deref()).filter(|_| !young(key.created.as_deref()))
            else {
                continue;
            };
            match &key.id {
                Some(id) => {
                    j.unused_credentials.push(format!("access_key:{id}"));
                    let mut r = Recommendation::new(
                        Action::DeactivateAccessKey,
                        format!("the access key was {why} (credential report; unused_days {unused_days})"),
                    );
                    r.access_key_id = Some(id.clone());
                    j.recommendations.push(r);
                }
                None => j.notes.push(format!(
                    "an active access key created {} was {why}, but its id was not found",
                    key.created.as_deref().unwrap_or("at an unknown time")
                )),
            }
        }
    }
    j
}

fn parse(j: &mut Judgement, what: &str, text: &str) -> Option<PolicyDocument> {
    match PolicyDocument::parse(text) {
        Ok(d) => Some(d),
        Err(e) => {
            j.notes.push(format!(
                "{what}: its document can't be parsed ({e}); left alone"
            ));
            None
        }
    }
}

fn document_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("ready() returns JSON it has read back")
}

fn inline_limit(kind: PrincipalType) -> PolicyLimit {
    match kind {
        PrincipalType::User => PolicyLimit::UserInline,
        PrincipalType::Group => PolicyLimit::GroupInline,
        _ => PolicyLimit::RoleInline,
    }
}

const UPDATE_INLINE: &str =
    "grants only what was used within unused_days, and what access advisor can't see";
const DELETE_INLINE: &str = "none of the services it grants was used within unused_days";
const DETACH_FROM_HOLDER: &str =
    "the holder used none of the services it grants within unused_days";
const REPLACE_AWS_MANAGED: &str = "an AWS-managed policy can't be edited: create this customer-managed policy, attach it, detach the AWS-managed one";
const DETACH_EVERYWHERE: &str = "no entity it is attached to used any service it grants within unused_days: detach it from each (then delete it)";
const UPDATE_MANAGED: &str = "judged by the policy's own report, which covers every entity it is attached to: create-policy-version --set-as-default";

/// Each inline policy rewritten; the documents kept together must fit the holder's quota.
fn judge_inline(
    j: &mut Judgement,
    arn: &PrincipalArn,
    holder: &str,
    inline: &[InlinePolicy],
    view: &AdvisorView,
) {
    // Every inline document as it would be, and the updates waiting for their text.
    let mut after: Vec<PolicyDocument> = Vec::new();
    let mut updates: Vec<(usize, Recommendation)> = Vec::new();
    for p in inline {
        let Some(doc) = parse(j, &format!("inline policy {}", p.name), &p.document) else {
            continue;
        };
        let r = rewrite(&doc, view);
        let reference = PolicyRef {
            kind: PolicyKind::Inline,
            name: p.name.clone(),
            arn: None,
            holder: Some(holder.to_string()),
        };
        match &r.document {
            None => j.recommendations.push(Recommendation::about_policy(
                Action::DeleteInlinePolicy,
                reference,
                &r,
                DELETE_INLINE,
            )),
            Some(new) if r.changed => {
                let mut update = Recommendation::about_policy(
                    Action::UpdatePolicy,
                    reference,
                    &r,
                    UPDATE_INLINE,
                );
                update.current_document = serde_json::from_str(&p.document).ok();
                updates.push((after.len(), update));
                after.push(new.clone());
            }
            Some(_) => after.push(doc),
        }
    }
    if updates.is_empty() {
        return;
    }
    let documents: Vec<&PolicyDocument> = after.iter().collect();
    match ready(&documents, inline_limit(arn.kind())) {
        Ok(texts) => {
            for (at, mut update) in updates {
                update.recommended_document = Some(document_value(&texts[at]));
                j.recommendations.push(update);
            }
        }
        Err(e) => j.notes.push(format!(
            "the inline policies of {holder} can't be rewritten within IAM's rules: {e}; left alone"
        )),
    }
}

fn managed_ref(p: &ManagedPolicy, holder: Option<&str>) -> PolicyRef {
    PolicyRef {
        kind: if p.aws_managed {
            PolicyKind::AwsManaged
        } else {
            PolicyKind::Managed
        },
        name: p.name.clone(),
        arn: Some(p.arn.clone()),
        holder: holder.map(str::to_string),
    }
}

/// `new` as one managed policy's document (IAM's 6,144 characters): `rec` with it, or a
/// note saying why there is none (`what` names what is missing).
fn with_managed_document(
    j: &mut Judgement,
    p: &ManagedPolicy,
    new: &PolicyDocument,
    mut rec: Recommendation,
    what: &str,
) {
    match ready(&[new], PolicyLimit::Managed) {
        Ok(texts) => {
            rec.recommended_document = Some(document_value(&texts[0]));
            j.recommendations.push(rec);
        }
        Err(e) => j.notes.push(format!("{}: {what}{e}; left alone", p.arn)),
    }
}

/// A managed policy held by a user, role or group, judged on the holder's report.
fn judge_attached(j: &mut Judgement, holder: &str, p: &ManagedPolicy, view: &AdvisorView) {
    let Some(doc) = parse(j, &p.arn, &p.document) else {
        return;
    };
    let r = rewrite(&doc, view);
    let reference = managed_ref(p, Some(holder));
    match (&r.document, p.aws_managed) {
        (None, _) => j.recommendations.push(Recommendation::about_policy(
            Action::DetachPolicy,
            reference,
            &r,
            DETACH_FROM_HOLDER,
        )),
        (Some(new), true) if r.changed => {
            let rec = Recommendation::about_policy(
                Action::ReplaceAwsManagedPolicy,
                reference,
                &r,
                REPLACE_AWS_MANAGED,
            );
            with_managed_document(j, p, new, rec, "no scoped replacement: ");
        }
        // A customer-managed policy is rewritten on its own report, which covers every
        // entity it is attached to.
        _ => {}
    }
}

/// A customer-managed policy's own report: its document, rewritten from it.
fn judge_own_managed(j: &mut Judgement, p: &ManagedPolicy, view: &AdvisorView) {
    let Some(doc) = parse(j, &p.arn, &p.document) else {
        return;
    };
    let r = rewrite(&doc, view);
    let reference = managed_ref(p, None);
    match &r.document {
        None => j.recommendations.push(Recommendation::about_policy(
            Action::DetachPolicy,
            reference,
            &r,
            DETACH_EVERYWHERE,
        )),
        Some(new) if r.changed => {
            let mut rec =
                Recommendation::about_policy(Action::UpdatePolicy, reference, &r, UPDATE_MANAGED);
            rec.current_document = serde_json::from_str(&p.document).ok();
            with_managed_document(j, p, new, rec, "");
        }
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests;
