//! Least-privilege recommendations (issue 12): from a principal's report and the policies
//! it holds, what to change. Pure code: Plan reads the documents in bulk
//! (GetAccountAuthorizationDetails) into per-batch slices ([`Holdings`]), Write judges
//! each COMPLETED principal with [`recommend`].
//!
//! Rules, in order (fail closed):
//! - the job is not COMPLETED, the principal is not in the slice, matches
//!   `report.exclude`, is a service-linked or IAM Identity Center role, was used in the
//!   4 hours before `as_of` (access advisor's lag: `recent_activity`), or is younger than
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
//! - a role whose RoleLastUsed is older than `unused_days` (or absent): DELETE_PRINCIPAL,
//!   unless it is vital ([`vital`]: then `recommendations_withheld` says why, and its
//!   policy recommendations stand, their reasons marked);
//!   a user's console password or active access key (older than `min_age_days`) unused as
//!   long (the credential report): REMOVE_CONSOLE_PASSWORD, DEACTIVATE_ACCESS_KEY.
//!
//! Every recommended document is checked by [`crate::domain::policy::ready`] (valid, within IAM's
//! quotas); one that can't be emitted becomes a note, never a broken document.

mod credentials;
mod holdings;
mod judge;
pub mod vital;

pub use credentials::ADVISOR_LAG;
use credentials::{judge_credentials, recent_activity};

pub use holdings::{AccessKeyUse, Credentials, Holdings, InlinePolicy, ManagedPolicy, Slice};

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::clock::utc;
use crate::domain::input::ReportOptions;
use crate::domain::policy::{AdvisorView, Narrowing, Rewrite, Unseen};
use crate::domain::selection::{glob_match, is_service_linked_role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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
    /// UPDATE_POLICY of a managed policy holding IAM's 5 versions: the version to delete
    /// (delete-policy-version) before create-policy-version can add the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_version_first: Option<String>,
    pub reason: String,
}

impl Recommendation {
    /// A recommendation with nothing but its action and reason (credentials).
    pub(super) fn new(action: Action, reason: impl Into<String>) -> Recommendation {
        Recommendation {
            action,
            policy: None,
            removes: Removes::default(),
            kept: Vec::new(),
            narrowed: Vec::new(),
            recommended_document: None,
            current_document: None,
            access_key_id: None,
            delete_version_first: None,
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
    /// Why nothing was recommended at all (fail closed), when that is the case; for a
    /// vital role, why it is not to be deleted.
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
    /// The scanner's own role names (its reader, its member role): vital.
    pub own_roles: &'a [String],
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

pub(super) fn days_before(as_of: OffsetDateTime, time: &str) -> Option<i64> {
    utc::parse(time).map(|t| (as_of - t).whole_days())
}

/// Decides the recommendations of one principal. See the module doc for the rules.
pub fn recommend(s: &Subject<'_>) -> Judgement {
    let arn_text = s.arn.to_string();
    let holdings = match not_judged(s, &arn_text) {
        Ok(holdings) => holdings,
        Err(Withheld(why)) => return withheld(why),
    };
    let view = s.view;
    let mut j = Judgement::default();
    if s.arn.kind() == PrincipalType::Policy {
        if let Some(policy) = s.slice.policies.get(&arn_text) {
            judge::judge_own_managed(&mut j, policy, view);
        }
        return j;
    }
    judge::judge_inline(&mut j, s.arn, &arn_text, &holdings.inline, view);
    for policy_arn in &holdings.attached {
        match s.slice.policies.get(policy_arn) {
            Some(p) => judge::judge_attached(&mut j, &arn_text, p, view),
            None => j.notes.push(format!(
                "{policy_arn}: its document was not read; left alone"
            )),
        }
    }
    judge_credentials(&mut j, s, holdings);
    j
}

/// Why a principal is not judged at all.
struct Withheld(String);

impl<T: Into<String>> From<T> for Withheld {
    fn from(why: T) -> Self {
        Withheld(why.into())
    }
}

/// The principal's holdings, or why it is not judged at all (fail closed).
fn not_judged<'a>(s: &Subject<'a>, arn_text: &str) -> Result<&'a Holdings, Withheld> {
    let kind = s.arn.kind();
    if !s.completed {
        return Err("the job is not COMPLETED: nothing is judged".into());
    }
    if kind == PrincipalType::AwsManagedPolicy {
        return Err("an AWS-managed policy can't be edited: the users, roles and groups holding it get DETACH_POLICY or REPLACE_AWS_MANAGED_POLICY".into());
    }
    let Some(holdings) = s.slice.principals.get(arn_text) else {
        return Err(
            "not in GetAccountAuthorizationDetails when the run was planned (created since?)"
                .into(),
        );
    };
    let exclude = &s.options.exclude;
    if kind == PrincipalType::Policy && !exclude.tags.is_empty() {
        // GetAccountAuthorizationDetails carries no policy tags: fail closed.
        return Err(
            "report.exclude.tags is set and a managed policy's tags are not read: not judged"
                .into(),
        );
    }
    if exclude.arns.iter().any(|g| glob_match(g, arn_text))
        || (!exclude.tags.is_empty()
            && exclude
                .tags
                .iter()
                .all(|(k, v)| holdings.tags.get(k) == Some(v)))
    {
        return Err("excluded by report.exclude".into());
    }
    if is_service_linked_role(s.arn) {
        return Err(
            "a service-linked role: its policies belong to the AWS service; findings only".into(),
        );
    }
    if kind == PrincipalType::Role {
        if let Some(set) = permission_set(s.arn.name()) {
            return Err(format!(
                "an IAM Identity Center role: change the permission set {set:?} in IAM Identity Center, not this role; findings only"
            )
            .into());
        }
    }
    if let Some(why) = recent_activity(s.as_of, holdings) {
        return Err(why.into());
    }
    let min_age = min_age_days(s.options);
    if let Some(age) = holdings
        .created
        .as_deref()
        .and_then(|c| days_before(s.as_of, c))
    {
        if age < i64::from(min_age) {
            return Err(format!(
                "too new to judge: created {age} days before the run, report.min_age_days is {min_age}"
            )
            .into());
        }
    }
    Ok(holdings)
}

pub(super) fn min_age_days(options: &ReportOptions) -> u32 {
    options.min_age_days.unwrap_or(options.unused_days)
}

#[cfg(test)]
mod tests;
