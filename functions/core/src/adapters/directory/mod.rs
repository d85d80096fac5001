//! The account's directory: listing its principals (ListUsers / ListRoles / ListGroups /
//! ListPolicies) and, when the discovery filters on tags, reading their tags.
//!
//! Discovery is forgiving about single principals and strict about the scan: a principal
//! that vanishes between its listing and its tag read, or an ARN IAM lists that we do
//! not understand, is skipped and recorded ([`Skipped`]); any other failure fails it.
//!
//! This file decides what to read and filters; `listing` walks the List* calls, `tags`
//! reads tags (one principal at a time, or the account's users or roles in bulk).

pub mod authorization;
pub mod credentials;
mod ids;
mod listing;
mod tags;

use crate::adapters::pacing::Pacer;
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::input::{Discovery, EntityType};
pub use crate::domain::selection::Skipped;
use crate::domain::selection::{keep, Candidate, TagPlan, TagRead};
use crate::error::Error;
use std::collections::BTreeMap;
use std::sync::Arc;
use tags::Miss;

/// MaxItems of every listing page, IAM's maximum. GetAccountAuthorizationDetails pages
/// hold up to this many users (or roles) with their tags.
pub const LIST_PAGE_SIZE: i32 = 1000;

/// IAM's directory of one account, with the pace of its caller.
#[derive(Debug, Clone)]
pub struct Directory {
    pub iam: aws_sdk_iam::Client,
    pub pacer: Arc<Pacer>,
}

/// What discovery found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovered {
    /// The principals that pass every filter, in IAM's order (type by type).
    pub principals: Vec<PrincipalArn>,
    /// The principals left out for a reason of their own, each with that reason.
    pub skipped: Vec<Skipped>,
    /// IAM's unique id of each principal found, by ARN (as the lists gave them).
    pub ids: BTreeMap<String, String>,
}

impl Directory {
    pub fn new(iam: aws_sdk_iam::Client, pacer: Arc<Pacer>) -> Self {
        Directory { iam, pacer }
    }

    /// Every principal of the chosen types that passes the filters, in IAM's order,
    /// and the principals skipped on the way. With a tag filter, tags are read only for
    /// the principals that pass the other filters, as [`TagPlan`] decides.
    #[tracing::instrument(skip(self))]
    pub async fn discover(
        &self,
        filter: &Discovery,
        max_tag_calls: u64,
    ) -> Result<Discovered, Error> {
        let mut found = Discovered::default();
        let (mut candidates, listed) = self
            .candidates(filter, &mut found.skipped, &mut found.ids)
            .await?;
        // Path, name and service-linked filters first: tags cost IAM calls, so they are
        // read only for the principals still in the running.
        let untagged = Discovery {
            tags: Default::default(),
            ..filter.clone()
        };
        candidates.retain(|c| keep(c, &untagged));
        if filter.tags.is_empty() {
            found.principals = candidates.into_iter().map(|c| c.arn).collect();
            found.keep_ids();
            return Ok(found);
        }
        // Groups carry no tags; AWS-managed policies none of this account's (and the
        // reader role may not list them): they match no tag filter.
        candidates.retain(|c| {
            matches!(
                c.arn.kind(),
                PrincipalType::User | PrincipalType::Role | PrincipalType::Policy
            )
        });
        let whole_account = filter.path_prefix == "/";
        let plan = TagPlan::of(
            &candidates,
            &listed,
            whole_account,
            LIST_PAGE_SIZE as u64,
            max_tag_calls,
        )?;
        tracing::info!(candidates = candidates.len(), ?plan, "reading tags");
        let bulk = |read: TagRead, kind: EntityType| async move {
            match read {
                TagRead::Bulk => self.bulk_tags(kind).await.map(Some),
                TagRead::Each => Ok(None),
            }
        };
        let user_tags = bulk(plan.users, EntityType::User).await?;
        let role_tags = bulk(plan.roles, EntityType::Role).await?;
        for mut candidate in candidates {
            let bulk = match candidate.arn.kind() {
                PrincipalType::User => user_tags.as_ref(),
                PrincipalType::Role => role_tags.as_ref(),
                _ => None,
            };
            let tags = match bulk {
                Some(map) => map
                    .get(&candidate.arn.name().to_ascii_lowercase())
                    .cloned()
                    .ok_or_else(|| {
                        Miss::Vanished("vanished: not in GetAccountAuthorizationDetails".into())
                    }),
                None => self.tags_of(&candidate.arn).await,
            };
            match tags {
                Ok(tags) => candidate.tags = Some(tags),
                Err(Miss::Vanished(why)) => {
                    skip(&mut found.skipped, candidate.arn.to_string(), why);
                    continue;
                }
                Err(Miss::Failed(e)) => return Err(e.into()),
            }
            if keep(&candidate, filter) {
                found.principals.push(candidate.arn);
            }
        }
        found.keep_ids();
        Ok(found)
    }

    /// Every principal of the chosen types (unparseable ARNs skipped), and how many
    /// each type listed.
    async fn candidates(
        &self,
        filter: &Discovery,
        skipped: &mut Vec<Skipped>,
        ids: &mut BTreeMap<String, String>,
    ) -> Result<(Vec<Candidate>, BTreeMap<EntityType, usize>), Error> {
        let prefix = filter.path_prefix.as_str();
        let mut candidates = Vec::new();
        let mut listed: BTreeMap<EntityType, usize> = BTreeMap::new();
        for &kind in &filter.types {
            let mut arns = self.list(kind, prefix, false).await?;
            if kind == EntityType::Policy && filter.aws_managed_policies {
                arns.extend(self.list(kind, prefix, true).await?);
            }
            *listed.entry(kind).or_default() += arns.len();
            for (arn, id) in arns {
                match PrincipalArn::parse(&arn) {
                    Ok(arn) => {
                        if !id.is_empty() {
                            ids.insert(arn.to_string(), id);
                        }
                        candidates.push(Candidate { arn, tags: None });
                    }
                    Err(why) => skip(skipped, arn, format!("unsupported ARN: {why}")),
                }
            }
        }
        Ok((candidates, listed))
    }
}

impl Discovered {
    /// Keeps the ids of the principals found only (the lists named more).
    fn keep_ids(&mut self) {
        let found: std::collections::BTreeSet<&str> =
            self.principals.iter().map(PrincipalArn::as_str).collect();
        self.ids.retain(|arn, _| found.contains(arn.as_str()));
    }
}

fn skip(skipped: &mut Vec<Skipped>, arn: String, reason: String) {
    tracing::warn!(%arn, %reason, "discovery skips a principal");
    skipped.push(Skipped { arn, reason });
}
