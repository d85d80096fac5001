//! Reading principals' tags: one List*Tags walk per principal, or the whole account's
//! users (or roles) from GetAccountAuthorizationDetails pages.

use crate::adapters::classify;
use crate::adapters::directory::listing::{walk_pages, Chunk};
use crate::adapters::directory::{Directory, LIST_PAGE_SIZE};
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::input::EntityType;
use crate::error::{IamError, PageError};
use aws_sdk_iam::error::SdkError;
use aws_sdk_iam::types::Tag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::{BTreeMap, HashMap};

/// Why a page about one principal could not be read.
pub(super) enum Miss {
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

impl Directory {
    /// The tags of every user (or role) of the account, by lower-case name (IAM names
    /// are unique per type regardless of case), from GetAccountAuthorizationDetails.
    pub(super) async fn bulk_tags(
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
        let named = walk_pages!(
            self,
            OPERATION,
            classify => IamError,
            iam.get_account_authorization_details()
                .filter(filter.clone())
                .max_items(LIST_PAGE_SIZE),
            |out| {
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
                users.chain(roles).collect()
            }
        )
        .await?;
        Ok(named
            .into_iter()
            .map(|(name, tags): (String, Vec<Tag>)| (name.to_ascii_lowercase(), tag_map(&tags)))
            .collect())
    }

    /// Tags of one user, role or customer-managed policy (every page of them).
    pub(super) async fn tags_of(
        &self,
        arn: &PrincipalArn,
    ) -> Result<BTreeMap<String, String>, Miss> {
        let iam = &self.iam;
        let name = arn.name();
        let tags = match arn.kind() {
            PrincipalType::User => {
                walk_pages!(
                    self,
                    "ListUserTags",
                    miss => Miss,
                    iam.list_user_tags().user_name(name),
                    |out| out.tags
                )
                .await?
            }
            PrincipalType::Role => {
                walk_pages!(
                    self,
                    "ListRoleTags",
                    miss => Miss,
                    iam.list_role_tags().role_name(name),
                    |out| out.tags
                )
                .await?
            }
            PrincipalType::Policy => {
                walk_pages!(
                    self,
                    "ListPolicyTags",
                    miss => Miss,
                    iam.list_policy_tags().policy_arn(arn.as_str()),
                    |out| out.tags
                )
                .await?
            }
            PrincipalType::Group | PrincipalType::AwsManagedPolicy => Vec::new(),
        };
        Ok(tag_map(&tags))
    }
}
