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
mod listing;
mod tags;

use crate::adapters::pacing::Pacer;
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::input::InputError;
use crate::domain::input::{Discovery, EntityType};
pub use crate::domain::selection::Skipped;
use crate::domain::selection::{keep, Candidate};
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
}

/// GetAccountAuthorizationDetails pages needed to read `count` users (or roles).
fn bulk_pages(count: usize) -> u64 {
    (count as u64).div_ceil(LIST_PAGE_SIZE as u64).max(1)
}

/// How the tags of one principal type are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagRead {
    /// One List*Tags call per candidate.
    Each,
    /// GetAccountAuthorizationDetails pages, every principal of the type at once.
    Bulk,
}

impl Directory {
    pub fn new(iam: aws_sdk_iam::Client, pacer: Arc<Pacer>) -> Self {
        Directory { iam, pacer }
    }

    /// Every principal of the chosen types that passes the filters, in IAM's order,
    /// and the principals skipped on the way.
    ///
    /// With a tag filter, tags are read only for the principals that pass the other
    /// filters: users' and roles' from GetAccountAuthorizationDetails pages when that
    /// costs fewer IAM calls than one List*Tags call each (possible only with the path
    /// prefix `/`, when the listing counted every user or role of the account), else
    /// one call each; customer-managed policies always one ListPolicyTags call each.
    /// More than `max_tag_calls` such per-principal calls is an `InvalidInput` naming
    /// `discover.tags`, before any of them is made.
    #[tracing::instrument(skip(self))]
    pub async fn discover(
        &self,
        filter: &Discovery,
        max_tag_calls: u64,
    ) -> Result<Discovered, Error> {
        let prefix = filter.path_prefix.as_str();
        let mut found = Discovered::default();
        let mut candidates = Vec::new();
        let mut listed: BTreeMap<EntityType, usize> = BTreeMap::new();
        for &kind in &filter.types {
            let mut arns = self.list(kind, prefix, false).await?;
            if kind == EntityType::Policy && filter.aws_managed_policies {
                arns.extend(self.list(kind, prefix, true).await?);
            }
            *listed.entry(kind).or_default() += arns.len();
            for arn in arns {
                match PrincipalArn::parse(&arn) {
                    Ok(arn) => candidates.push(Candidate { arn, tags: None }),
                    Err(why) => skip(&mut found.skipped, arn, format!("unsupported ARN: {why}")),
                }
            }
        }
        // Path, name and service-linked filters first: tags cost IAM calls, so they are
        // read only for the principals still in the running.
        let untagged = Discovery {
            tags: Default::default(),
            ..filter.clone()
        };
        candidates.retain(|c| keep(c, &untagged));
        if filter.tags.is_empty() {
            found.principals = candidates.into_iter().map(|c| c.arn).collect();
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
        let count =
            |kind: PrincipalType| candidates.iter().filter(|c| c.arn.kind() == kind).count();
        let (users, roles, policies) = (
            count(PrincipalType::User),
            count(PrincipalType::Role),
            count(PrincipalType::Policy),
        );
        let choose = |kind: EntityType, candidates: usize| {
            let whole_account = prefix == "/";
            let total = listed.get(&kind).copied().unwrap_or_default();
            if whole_account && bulk_pages(total) < candidates as u64 {
                TagRead::Bulk
            } else {
                TagRead::Each
            }
        };
        let (user_read, role_read) = (
            choose(EntityType::User, users),
            choose(EntityType::Role, roles),
        );
        let each = |read: TagRead, n: usize| if read == TagRead::Each { n as u64 } else { 0 };
        let needed = each(user_read, users) + each(role_read, roles) + policies as u64;
        if needed > max_tag_calls {
            return Err(InputError::invalid(
                "discover.tags",
                format!(
                    "the tag filter needs {needed} IAM calls, one per principal ({} users, {} roles, {} policies), \
                     more than the {max_tag_calls} this run has time for; narrow discover.path_prefix or \
                     discover.types, or raise iam_requests_per_second",
                    each(user_read, users),
                    each(role_read, roles),
                    policies
                ),
            )
            .into());
        }
        tracing::info!(
            users,
            roles,
            policies,
            ?user_read,
            ?role_read,
            needed,
            "reading tags"
        );
        let user_tags = match user_read {
            TagRead::Bulk => Some(self.bulk_tags(EntityType::User).await?),
            TagRead::Each => None,
        };
        let role_tags = match role_read {
            TagRead::Bulk => Some(self.bulk_tags(EntityType::Role).await?),
            TagRead::Each => None,
        };
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
                    .ok_or_else(|| "vanished: not in GetAccountAuthorizationDetails".to_string()),
                None => match self.tags_of(&candidate.arn).await {
                    Ok(tags) => Ok(tags),
                    Err(Miss::Vanished(why)) => Err(why),
                    Err(Miss::Failed(e)) => return Err(e.into()),
                },
            };
            match tags {
                Ok(tags) => candidate.tags = Some(tags),
                Err(why) => {
                    skip(&mut found.skipped, candidate.arn.to_string(), why);
                    continue;
                }
            }
            if keep(&candidate, filter) {
                found.principals.push(candidate.arn);
            }
        }
        Ok(found)
    }
}

fn skip(skipped: &mut Vec<Skipped>, arn: String, reason: String) {
    tracing::warn!(%arn, %reason, "discovery skips a principal");
    skipped.push(Skipped { arn, reason });
}
