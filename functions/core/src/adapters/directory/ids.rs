//! IAM's unique ids (RoleId, UserId, GroupId, PolicyId) of the principals a run names
//! by ARN. Discovery's lists carry the id of everything they list; an explicit ARN no
//! list named costs one Get call (GetUser, GetRole, GetGroup, GetPolicy), or, when more
//! than [`EACH_MAX`] of one type are named, that type's listing (a call per 1,000).
//!
//! An id that can't be read is left unknown, and the principal's history is then
//! matched by ARN, as before schema 3.1: NoSuchEntity (its job will say NOT_FOUND) and
//! AccessDenied (a member role deployed before it granted the Get calls).

use crate::adapters::classify;
use crate::adapters::directory::Directory;
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::input::EntityType;
use crate::error::IamError;
use aws_sdk_iam::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeMap;

/// Above this many explicit ARNs of one type, the type's listing is cheaper than a Get
/// call each, unless the account holds more than 1,000 × this many of the type.
pub const EACH_MAX: usize = 20;

/// An id read, or why it stays unknown (`None`), or the failure that fails the scan.
fn read_id<E, R>(
    operation: &str,
    arn: &PrincipalArn,
    answer: Result<Option<String>, SdkError<E, R>>,
) -> Result<Option<String>, IamError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match answer {
        Ok(id) => Ok(id),
        Err(e) if matches!(e.code(), Some("NoSuchEntity" | "AccessDenied")) => {
            tracing::warn!(%arn, operation, code = e.code(), "unique id not read; history by ARN");
            Ok(None)
        }
        Err(e) => Err(classify(operation, e)),
    }
}

impl Directory {
    /// The unique ids of `arns` that `known` (what discovery listed) lacks, by ARN.
    pub async fn ids_of(
        &self,
        arns: &[PrincipalArn],
        known: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, IamError> {
        let mut wanted: BTreeMap<PrincipalType, Vec<&PrincipalArn>> = BTreeMap::new();
        for arn in arns.iter().filter(|a| !known.contains_key(a.as_str())) {
            wanted.entry(arn.kind()).or_default().push(arn);
        }
        let mut ids = BTreeMap::new();
        for (kind, arns) in wanted {
            if arns.len() > EACH_MAX {
                let (entity, aws_managed) = match kind {
                    PrincipalType::User => (EntityType::User, false),
                    PrincipalType::Role => (EntityType::Role, false),
                    PrincipalType::Group => (EntityType::Group, false),
                    PrincipalType::Policy => (EntityType::Policy, false),
                    PrincipalType::AwsManagedPolicy => (EntityType::Policy, true),
                };
                let listed: BTreeMap<String, String> = self
                    .list(entity, "/", aws_managed)
                    .await?
                    .into_iter()
                    .collect();
                ids.extend(arns.iter().filter_map(|a| {
                    let id = listed.get(a.as_str()).filter(|id| !id.is_empty())?;
                    Some((a.to_string(), id.clone()))
                }));
                continue;
            }
            for arn in arns {
                if let Some(id) = self.id_of(arn).await? {
                    ids.insert(arn.to_string(), id);
                }
            }
        }
        Ok(ids)
    }

    /// One principal's unique id: one Get call, paced.
    async fn id_of(&self, arn: &PrincipalArn) -> Result<Option<String>, IamError> {
        self.pacer.acquire().await;
        let iam = &self.iam;
        let name = arn.name();
        match arn.kind() {
            PrincipalType::User => {
                let got = iam.get_user().user_name(name).send().await;
                read_id("GetUser", arn, got.map(|o| o.user.map(|u| u.user_id)))
            }
            PrincipalType::Role => {
                let got = iam.get_role().role_name(name).send().await;
                read_id("GetRole", arn, got.map(|o| o.role.map(|r| r.role_id)))
            }
            PrincipalType::Group => {
                let got = iam.get_group().group_name(name).max_items(1).send().await;
                read_id("GetGroup", arn, got.map(|o| o.group.map(|g| g.group_id)))
            }
            PrincipalType::Policy | PrincipalType::AwsManagedPolicy => {
                let got = iam.get_policy().policy_arn(arn.as_str()).send().await;
                read_id(
                    "GetPolicy",
                    arn,
                    got.map(|o| o.policy.and_then(|p| p.policy_id)),
                )
            }
        }
    }
}
