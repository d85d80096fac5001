//! The account's directory: listing its principals (ListUsers / ListRoles / ListGroups /
//! ListPolicies) and, when the discovery filters on tags, reading their tags.
//!
//! Discovery is forgiving about single principals and strict about the scan: a principal
//! that vanishes between its listing and its tag read, or an ARN IAM lists that we do
//! not understand, is skipped and recorded ([`Skipped`]); any other failure fails it.

use super::classify;
use super::pages::{Pages, MAX_LIST_PAGES};
use crate::arn::{PrincipalArn, PrincipalType};
use crate::error::{Error, IamError, InputError, PageError};
use crate::input::{Discovery, EntityType};
use crate::pacing::Pacer;
pub use crate::selection::Skipped;
use crate::selection::{keep, Candidate};
use aws_sdk_iam::error::SdkError;
use aws_sdk_iam::types::{PolicyScopeType, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

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

/// One page of a listing: its items and what it says about the rest.
struct Chunk<T> {
    items: Vec<T>,
    truncated: bool,
    marker: Option<String>,
}

/// Why a page about one principal could not be read.
enum Miss {
    /// NoSuchEntity: the principal asked about is gone (the reason says so).
    Vanished(String),
    Failed(IamError),
}

impl From<PageError> for Miss {
    fn from(error: PageError) -> Self {
        Miss::Failed(error.into())
    }
}

fn miss<E, R>(operation: &str, err: SdkError<E, R>) -> Miss
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if err.code() == Some("NoSuchEntity") {
        Miss::Vanished(format!(
            "vanished: NoSuchEntity: {}",
            err.message().unwrap_or_default()
        ))
    } else {
        Miss::Failed(classify(operation, err))
    }
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
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

    /// Walks every page of one paginated call, pacing each; `fetch` sends the call for
    /// one marker. `E` is [`IamError`] for calls about the account, [`Miss`] for calls
    /// about one principal.
    async fn walk<T, E, F, Fut>(&self, operation: &str, mut fetch: F) -> Result<Vec<T>, E>
    where
        E: From<PageError>,
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<Chunk<T>, E>>,
    {
        let mut all = Vec::new();
        let mut pages = Pages::iam(operation, MAX_LIST_PAGES);
        while let Some(page) = pages.next()? {
            self.pacer.acquire().await;
            let chunk = fetch(page.marker).await?;
            all.extend(chunk.items);
            pages.turn(chunk.truncated, chunk.marker)?;
        }
        Ok(all)
    }

    /// The ARNs of one principal type under `prefix`, as IAM lists them.
    async fn list(
        &self,
        kind: EntityType,
        prefix: &str,
        aws_managed: bool,
    ) -> Result<Vec<String>, IamError> {
        let iam = &self.iam;
        match kind {
            EntityType::User => {
                self.walk("ListUsers", |marker| {
                    let sent = iam
                        .list_users()
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE)
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| classify("ListUsers", e))?;
                        Ok(Chunk {
                            items: out.users.into_iter().map(|u| u.arn).collect(),
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await
            }
            EntityType::Role => {
                self.walk("ListRoles", |marker| {
                    let sent = iam
                        .list_roles()
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE)
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| classify("ListRoles", e))?;
                        Ok(Chunk {
                            items: out.roles.into_iter().map(|r| r.arn).collect(),
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await
            }
            EntityType::Group => {
                self.walk("ListGroups", |marker| {
                    let sent = iam
                        .list_groups()
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE)
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| classify("ListGroups", e))?;
                        Ok(Chunk {
                            items: out.groups.into_iter().map(|g| g.arn).collect(),
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await
            }
            EntityType::Policy => {
                let (operation, scope) = if aws_managed {
                    ("ListPolicies (AWS-managed, attached)", PolicyScopeType::Aws)
                } else {
                    ("ListPolicies", PolicyScopeType::Local)
                };
                self.walk(operation, |marker| {
                    let sent = iam
                        .list_policies()
                        .scope(scope.clone())
                        .set_only_attached(aws_managed.then_some(true))
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE)
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| classify("ListPolicies", e))?;
                        Ok(Chunk {
                            items: out
                                .policies
                                .unwrap_or_default()
                                .into_iter()
                                .filter_map(|p| p.arn)
                                .collect(),
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await
            }
        }
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

    /// The tags of every user (or role) of the account, by lower-case name (IAM names
    /// are unique per type regardless of case), from GetAccountAuthorizationDetails.
    async fn bulk_tags(
        &self,
        kind: EntityType,
    ) -> Result<HashMap<String, BTreeMap<String, String>>, IamError> {
        use aws_sdk_iam::types::EntityType as Filter;
        let filter = match kind {
            EntityType::User => Filter::User,
            EntityType::Role => Filter::Role,
            EntityType::Group | EntityType::Policy => return Ok(HashMap::new()),
        };
        const OPERATION: &str = "GetAccountAuthorizationDetails";
        let iam = &self.iam;
        let named = self
            .walk(OPERATION, |marker| {
                let sent = iam
                    .get_account_authorization_details()
                    .filter(filter.clone())
                    .max_items(LIST_PAGE_SIZE)
                    .set_marker(marker)
                    .send();
                async move {
                    let out = sent.await.map_err(|e| classify(OPERATION, e))?;
                    let users = out
                        .user_detail_list
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|u| Some((u.user_name?, u.tags.unwrap_or_default())));
                    let roles = out
                        .role_detail_list
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|r| Some((r.role_name?, r.tags.unwrap_or_default())));
                    Ok::<_, IamError>(Chunk {
                        items: users.chain(roles).collect(),
                        truncated: out.is_truncated,
                        marker: out.marker,
                    })
                }
            })
            .await?;
        Ok(named
            .into_iter()
            .map(|(name, tags): (String, Vec<Tag>)| (name.to_ascii_lowercase(), tag_map(&tags)))
            .collect())
    }

    /// Tags of one user, role or customer-managed policy (every page of them).
    async fn tags_of(&self, arn: &PrincipalArn) -> Result<BTreeMap<String, String>, Miss> {
        let iam = &self.iam;
        let name = arn.name();
        let tags = match arn.kind() {
            PrincipalType::User => {
                self.walk("ListUserTags", |marker| {
                    let sent = iam
                        .list_user_tags()
                        .user_name(name)
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| miss("ListUserTags", e))?;
                        Ok::<_, Miss>(Chunk {
                            items: out.tags,
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await?
            }
            PrincipalType::Role => {
                self.walk("ListRoleTags", |marker| {
                    let sent = iam
                        .list_role_tags()
                        .role_name(name)
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| miss("ListRoleTags", e))?;
                        Ok::<_, Miss>(Chunk {
                            items: out.tags,
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await?
            }
            PrincipalType::Policy => {
                self.walk("ListPolicyTags", |marker| {
                    let sent = iam
                        .list_policy_tags()
                        .policy_arn(arn.as_str())
                        .set_marker(marker)
                        .send();
                    async move {
                        let out = sent.await.map_err(|e| miss("ListPolicyTags", e))?;
                        Ok::<_, Miss>(Chunk {
                            items: out.tags,
                            truncated: out.is_truncated,
                            marker: out.marker,
                        })
                    }
                })
                .await?
            }
            PrincipalType::Group | PrincipalType::AwsManagedPolicy => Vec::new(),
        };
        Ok(tag_map(&tags))
    }
}

fn skip(skipped: &mut Vec<Skipped>, arn: String, reason: String) {
    tracing::warn!(%arn, %reason, "discovery skips a principal");
    skipped.push(Skipped { arn, reason });
}
