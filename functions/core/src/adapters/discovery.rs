//! Listing the principals of an account (ListUsers / ListRoles / ListGroups / ListPolicies).

use super::classify;
use super::iam::AccessAdvisor;
use crate::arn::PrincipalArn;
use crate::error::Error;
use crate::input::{Discovery, EntityType};
use crate::plan::{keep, Candidate};
use aws_sdk_iam::types::{PolicyScopeType, Tag};
use std::collections::BTreeMap;

fn parse(arn: &str) -> Result<PrincipalArn, Error> {
    PrincipalArn::parse(arn)
        .map_err(|why| Error::Iam(format!("IAM listed an unexpected ARN: {why}")))
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

macro_rules! list_all {
    ($self:ident, $op:literal, $call:expr, $items:ident, |$item:ident| $arn:expr) => {{
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            $self.pacer.acquire().await;
            let out = $call
                .set_marker(marker.take())
                .max_items(1000)
                .send()
                .await
                .map_err(|e| classify($op, e).1)?;
            for $item in out.$items().iter() {
                found.push(parse($arn)?);
            }
            marker = out.marker.clone();
            if !out.is_truncated || marker.is_none() {
                break;
            }
        }
        found
    }};
}

impl AccessAdvisor {
    /// Every principal of the chosen types that passes the filters, in IAM's order.
    #[tracing::instrument(skip(self))]
    pub async fn discover(&self, filter: &Discovery) -> Result<Vec<PrincipalArn>, Error> {
        let iam = &self.iam;
        let prefix = filter.path_prefix.as_str();
        let mut candidates = Vec::new();
        for kind in &filter.types {
            let arns = match kind {
                EntityType::User => list_all!(
                    self,
                    "ListUsers",
                    iam.list_users().path_prefix(prefix),
                    users,
                    |u| &u.arn
                ),
                EntityType::Role => list_all!(
                    self,
                    "ListRoles",
                    iam.list_roles().path_prefix(prefix),
                    roles,
                    |r| &r.arn
                ),
                EntityType::Group => list_all!(
                    self,
                    "ListGroups",
                    iam.list_groups().path_prefix(prefix),
                    groups,
                    |g| &g.arn
                ),
                EntityType::Policy => {
                    let mut local = list_all!(
                        self,
                        "ListPolicies",
                        iam.list_policies()
                            .scope(PolicyScopeType::Local)
                            .path_prefix(prefix),
                        policies,
                        |p| p.arn.as_deref().unwrap_or_default()
                    );
                    if filter.aws_managed_policies {
                        local.extend(list_all!(
                            self,
                            "ListPolicies",
                            iam.list_policies()
                                .scope(PolicyScopeType::Aws)
                                .only_attached(true)
                                .path_prefix(prefix),
                            policies,
                            |p| p.arn.as_deref().unwrap_or_default()
                        ));
                    }
                    local
                }
            };
            candidates.extend(arns.into_iter().map(|arn| Candidate { arn, tags: None }));
        }
        // Path, name and service-linked filters first: tags cost one IAM call each, so
        // they are fetched only for the principals still in the running.
        let untagged = Discovery {
            tags: Default::default(),
            ..filter.clone()
        };
        let mut kept = Vec::new();
        for mut candidate in candidates.into_iter().filter(|c| keep(c, &untagged)) {
            if !filter.tags.is_empty() {
                candidate.tags = Some(self.tags_of(&candidate.arn).await?);
                if !keep(&candidate, filter) {
                    continue;
                }
            }
            kept.push(candidate.arn);
        }
        Ok(kept)
    }

    /// Tags of a user, role or policy (groups carry none).
    async fn tags_of(&self, arn: &PrincipalArn) -> Result<BTreeMap<String, String>, Error> {
        use crate::arn::PrincipalType::*;
        if matches!(arn.kind(), Group | AwsManagedPolicy) {
            // Groups carry no tags; AWS-managed policies none of this account's (and the
            // reader role may not list them): they match no tag filter.
            return Ok(BTreeMap::new());
        }
        self.pacer.acquire().await;
        let iam = &self.iam;
        let tags = match arn.kind() {
            User => iam
                .list_user_tags()
                .user_name(arn.name())
                .send()
                .await
                .map(|o| tag_map(&o.tags))
                .map_err(|e| classify("ListUserTags", e).1)?,
            Role => iam
                .list_role_tags()
                .role_name(arn.name())
                .send()
                .await
                .map(|o| tag_map(&o.tags))
                .map_err(|e| classify("ListRoleTags", e).1)?,
            Policy => iam
                .list_policy_tags()
                .policy_arn(arn.as_str())
                .send()
                .await
                .map(|o| tag_map(o.tags()))
                .map_err(|e| classify("ListPolicyTags", e).1)?,
            Group | AwsManagedPolicy => BTreeMap::new(),
        };
        Ok(tags)
    }
}
