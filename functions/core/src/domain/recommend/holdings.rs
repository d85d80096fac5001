//! What a principal holds, as Plan read it in bulk (GetAccountAuthorizationDetails, the
//! credential report), and the per-batch slice Write reads.

use crate::domain::arn::PrincipalArn;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// A user's or role's permissions boundary (a managed policy's ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<String>,
    /// A role's RoleLastUsed date; `None`: never used (in IAM's tracking period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_last_used: Option<String>,
    /// A role's trust policy's service principals (StackSets' make a role vital).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_services: Vec<String>,
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

/// A managed policy: its default version's document, and the ids of its other
/// versions, oldest first (IAM keeps at most 5: a new one needs one deleted first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub aws_managed: bool,
    pub document: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub older_versions: Vec<String>,
}

/// IAM's quota: "Versions of a managed policy that can be stored: 5".
pub const MAX_POLICY_VERSIONS: usize = 5;

impl ManagedPolicy {
    /// The version to delete before create-policy-version can add one: the oldest that
    /// is not the default, when the policy has IAM's 5.
    pub fn version_to_delete_first(&self) -> Option<&str> {
        (self.older_versions.len() + 1 >= MAX_POLICY_VERSIONS)
            .then(|| self.older_versions.first().map(String::as_str))
            .flatten()
    }
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
