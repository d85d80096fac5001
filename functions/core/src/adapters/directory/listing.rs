//! Listing the account's principals, one type at a time, every page of each.

use super::{Directory, LIST_PAGE_SIZE};
use crate::adapters::classify;
use crate::adapters::pages::{Pages, MAX_LIST_PAGES};
use crate::error::{IamError, PageError};
use crate::input::EntityType;
use aws_sdk_iam::types::PolicyScopeType;
use std::future::Future;

/// One page of a listing: its items and what it says about the rest.
pub(super) struct Chunk<T> {
    pub(super) items: Vec<T>,
    pub(super) truncated: bool,
    pub(super) marker: Option<String>,
}

impl Directory {
    /// Walks every page of one paginated call, pacing each; `fetch` sends the call for
    /// one marker. `E` is [`IamError`] for calls about the account, `tags::Miss` for calls
    /// about one principal.
    pub(super) async fn walk<T, E, F, Fut>(
        &self,
        operation: &str,
        mut fetch: F,
    ) -> Result<Vec<T>, E>
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
    pub(super) async fn list(
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
}
