//! Listing the account's principals, one type at a time, every page of each.

use crate::adapters::classify;
use crate::adapters::directory::{Directory, LIST_PAGE_SIZE};
use crate::adapters::pages::{Pages, MAX_LIST_PAGES};
use crate::domain::input::EntityType;
use crate::error::{IamError, PageError};
use aws_sdk_iam::types::PolicyScopeType;
use std::future::Future;

/// Walks one IAM list operation page by page: `$request` is the call without its marker,
/// `$error` turns an SDK error into the walk's error type `$E`, and `$items` takes the
/// page's items out of its output `$out` (whose `is_truncated` and `marker` say what is
/// left). The SDK gives each operation its own builder and output types, hence a macro.
macro_rules! walk_pages {
    ($self:ident, $op:expr, $error:path => $E:ty, $request:expr, |$out:ident| $items:expr) => {
        $self.walk($op, |marker| {
            let sent = $request.set_marker(marker).send();
            async move {
                let $out = sent.await.map_err(|e| $error($op, e))?;
                Ok::<_, $E>(Chunk {
                    items: $items,
                    truncated: $out.is_truncated,
                    marker: $out.marker,
                })
            }
        })
    };
}
pub(super) use walk_pages;

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

    /// The ARNs of one principal type under `prefix`, as IAM lists them, each with its
    /// unique id (RoleId, UserId, GroupId, PolicyId; empty where IAM gave none).
    pub(super) async fn list(
        &self,
        kind: EntityType,
        prefix: &str,
        aws_managed: bool,
    ) -> Result<Vec<(String, String)>, IamError> {
        let iam = &self.iam;
        match kind {
            EntityType::User => {
                walk_pages!(
                    self,
                    "ListUsers",
                    classify => IamError,
                    iam.list_users()
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE),
                    |out| out.users.into_iter().map(|u| (u.arn, u.user_id)).collect()
                )
                .await
            }
            EntityType::Role => {
                walk_pages!(
                    self,
                    "ListRoles",
                    classify => IamError,
                    iam.list_roles()
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE),
                    |out| out.roles.into_iter().map(|r| (r.arn, r.role_id)).collect()
                )
                .await
            }
            EntityType::Group => {
                walk_pages!(
                    self,
                    "ListGroups",
                    classify => IamError,
                    iam.list_groups()
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE),
                    |out| out.groups.into_iter().map(|g| (g.arn, g.group_id)).collect()
                )
                .await
            }
            EntityType::Policy => {
                let (operation, scope) = if aws_managed {
                    ("ListPolicies (AWS-managed, attached)", PolicyScopeType::Aws)
                } else {
                    ("ListPolicies", PolicyScopeType::Local)
                };
                walk_pages!(
                    self,
                    operation,
                    classify => IamError,
                    iam.list_policies()
                        .scope(scope.clone())
                        .set_only_attached(aws_managed.then_some(true))
                        .path_prefix(prefix)
                        .max_items(LIST_PAGE_SIZE),
                    |out| out
                        .policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| Some((p.arn?, p.policy_id.unwrap_or_default())))
                        .collect()
                )
                .await
            }
        }
    }
}
