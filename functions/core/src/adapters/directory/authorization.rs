//! What every principal holds, in bulk: GetAccountAuthorizationDetails, every page, for
//! recommendations (inline and attached policies with their documents, groups, tags,
//! creation dates, RoleLastUsed, roles' trusted services). IAM returns the documents URL-encoded (RFC 3986).

use crate::adapters::directory::listing::{walk_pages, Chunk};
use crate::adapters::directory::{Directory, LIST_PAGE_SIZE};
use crate::adapters::{classify, time};
use crate::domain::recommend::vital::trusted_services;
use crate::domain::recommend::{Holdings, InlinePolicy, ManagedPolicy};
use crate::error::IamError;
use aws_sdk_iam::types::{AttachedPolicy, ManagedPolicyDetail, PolicyDetail, Tag};
use std::collections::BTreeMap;

/// The account's authorization details, by ARN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Authorization {
    pub principals: BTreeMap<String, Holdings>,
    pub policies: BTreeMap<String, ManagedPolicy>,
}

/// A document as IAM returns it in GetAccountAuthorizationDetails: URL-encoded. (One
/// that already reads as JSON is taken as it is.)
pub fn decode_document(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn inline(list: Option<Vec<PolicyDetail>>) -> Vec<InlinePolicy> {
    list.unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            Some(InlinePolicy {
                name: p.policy_name?,
                document: decode_document(&p.policy_document?),
            })
        })
        .collect()
}

fn attached(list: Option<Vec<AttachedPolicy>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.policy_arn)
        .collect()
}

fn tags(list: Option<Vec<Tag>>) -> BTreeMap<String, String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
}

/// A managed policy of GetAccountAuthorizationDetails: its creation date, and its default
/// version's document with the ids of its other versions, oldest first. `None` without
/// an ARN, a name or a default document.
fn managed_policy(p: ManagedPolicyDetail) -> Option<(Option<String>, ManagedPolicy)> {
    let (arn, name) = (p.arn?, p.policy_name?);
    let versions = p.policy_version_list.unwrap_or_default();
    let mut older: Vec<_> = versions
        .iter()
        .filter(|v| !v.is_default_version)
        .filter_map(|v| Some((v.create_date.as_ref().and_then(time), v.version_id.clone()?)))
        .collect();
    older.sort();
    let document = versions
        .into_iter()
        .find(|v| v.is_default_version)
        .and_then(|v| v.document)
        .map(|d| decode_document(&d))?;
    let policy = ManagedPolicy {
        aws_managed: arn.contains(":iam::aws:policy/"),
        arn,
        name,
        document,
        older_versions: older.into_iter().map(|(_, id)| id).collect(),
    };
    Some((p.create_date.as_ref().and_then(time), policy))
}

impl Directory {
    /// Every user, role, group and managed policy of the account with what it holds.
    /// Each page is taken apart as it comes (its lists moved, never copied) into what
    /// the recommendations need, and the SDK's page dropped before the next is asked.
    pub async fn authorization(&self) -> Result<Authorization, IamError> {
        const OPERATION: &str = "GetAccountAuthorizationDetails";
        let iam = &self.iam;
        let pages: Vec<Authorization> = walk_pages!(
            self,
            OPERATION,
            classify => IamError,
            iam.get_account_authorization_details().max_items(LIST_PAGE_SIZE),
            |out| {
                let mut page = Authorization::default();
                for u in out.user_detail_list.unwrap_or_default() {
                    let Some(arn) = u.arn else { continue };
                    page.principals.insert(arn, Holdings {
                        created: u.create_date.as_ref().and_then(time),
                        tags: tags(u.tags),
                        inline: inline(u.user_policy_list),
                        attached: attached(u.attached_managed_policies),
                        groups: u.group_list.unwrap_or_default(),
                        boundary: u.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
                        role_last_used: None,
                        trusted_services: Vec::new(),
                        credentials: None,
                    });
                }
                for r in out.role_detail_list.unwrap_or_default() {
                    let Some(arn) = r.arn else { continue };
                    page.principals.insert(arn, Holdings {
                        created: r.create_date.as_ref().and_then(time),
                        tags: tags(r.tags),
                        inline: inline(r.role_policy_list),
                        attached: attached(r.attached_managed_policies),
                        groups: Vec::new(),
                        boundary: r.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
                        role_last_used: r.role_last_used.and_then(|u| u.last_used_date).as_ref().and_then(time),
                        trusted_services: r
                            .assume_role_policy_document
                            .map(|d| trusted_services(&decode_document(&d)))
                            .unwrap_or_default(),
                        credentials: None,
                    });
                }
                for g in out.group_detail_list.unwrap_or_default() {
                    let Some(arn) = g.arn else { continue };
                    page.principals.insert(arn, Holdings {
                        created: g.create_date.as_ref().and_then(time),
                        inline: inline(g.group_policy_list),
                        attached: attached(g.attached_managed_policies),
                        ..Holdings::default()
                    });
                }
                for p in out.policies.unwrap_or_default() {
                    if let Some((created, policy)) = managed_policy(p) {
                        page.principals.insert(policy.arn.clone(), Holdings {
                            created,
                            ..Holdings::default()
                        });
                        page.policies.insert(policy.arn.clone(), policy);
                    }
                }
                vec![page]
            }
        )
        .await?;
        let mut all = Authorization::default();
        for page in pages {
            all.principals.extend(page.principals);
            all.policies.extend(page.policies);
        }
        Ok(all)
    }
}
