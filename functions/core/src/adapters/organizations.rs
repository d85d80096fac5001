//! AWS Organizations: which accounts an organization run scans, with each account's name,
//! status and OU path. Plan calls it from the management account or a delegated
//! administrator (Organizations lets no one else list accounts).

use crate::adapters::classify;
use crate::adapters::pacing::Pacer;
use crate::adapters::pages::{Pages, MAX_LIST_PAGES};
use crate::domain::account::{OrgAccount, OrgState, OrgTree};
use crate::domain::arn::AccountId;
use crate::error::{IamError, PageError};
use aws_sdk_organizations::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Organizations publishes no rate for its reads, only that too many requests in too
/// short a period are refused (`TooManyRequestsException`): Plan's walk of the tree (a
/// listing of units and one of accounts per unit) is paced at this rate, burst 1, so a
/// large Organization's walk never bursts.
pub const ORGANIZATIONS_REQUESTS_PER_SECOND: f64 = 5.0;

#[derive(Debug, Clone)]
pub struct Organizations {
    client: aws_sdk_organizations::Client,
    pacer: Arc<Pacer>,
}

/// What Organizations answered when it did not answer the question.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// Organizations refuses this account (neither the management account nor a
    /// delegated administrator), or there is no Organization: `code: message`.
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    #[error(transparent)]
    Call(#[from] IamError),
}

/// The codes by which Organizations refuses the caller's account, rather than failing.
const REFUSALS: [&str; 3] = [
    "AccessDeniedException",
    "AccessDenied",
    "AWSOrganizationsNotInUseException",
];

/// An Organizations error, by its code.
fn org_error<E, R>(operation: &str, err: SdkError<E, R>) -> OrgError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some(code) if REFUSALS.contains(&code) => OrgError::Refused {
            code: code.to_string(),
            message: err.message().unwrap_or_default().to_string(),
        },
        _ => classify(&format!("organizations:{operation}"), err).into(),
    }
}

/// Every item of an Organizations listing, through the one pagination cursor: `page`
/// fetches the page of a next token and gives its items and the next token.
async fn walk<T, F, Fut>(operation: &str, pacer: &Pacer, mut page: F) -> Result<Vec<T>, OrgError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), OrgError>>,
{
    let paging = |e: PageError| OrgError::Call(e.into());
    let mut items = Vec::new();
    let mut pages = Pages::organizations(operation, MAX_LIST_PAGES);
    while let Some(p) = pages.next().map_err(paging)? {
        pacer.acquire().await;
        let (found, next_token) = page(p.marker).await?;
        items.extend(found);
        pages
            .turn(next_token.is_some(), next_token)
            .map_err(paging)?;
    }
    Ok(items)
}

impl Organizations {
    /// Paced at [`ORGANIZATIONS_REQUESTS_PER_SECOND`].
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        Organizations::paced(client, ORGANIZATIONS_REQUESTS_PER_SECOND)
    }

    /// Paced at `requests_per_second`, burst 1 (tests: a pace they never wait for).
    pub fn paced(client: aws_sdk_organizations::Client, requests_per_second: f64) -> Self {
        Organizations {
            client,
            pacer: Arc::new(Pacer::new(requests_per_second, 1)),
        }
    }

    /// The Organization's id (`o-…`, the first element of IAM's entity paths) and its
    /// management account (`MasterAccountId`, as the API still names it). Any member
    /// account may ask.
    pub async fn describe(&self) -> Result<(String, Option<String>), OrgError> {
        self.pacer.acquire().await;
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(|e| org_error("DescribeOrganization", e))?;
        let org = out
            .organization
            .unwrap_or_else(|| aws_sdk_organizations::types::Organization::builder().build());
        Ok((org.id.unwrap_or_default(), org.master_account_id))
    }

    /// Walks the Organization from its roots: every OU (ListOrganizationalUnitsForParent)
    /// and the accounts of each (ListAccountsForParent), and every account's state and
    /// name (ListAccounts).
    pub async fn tree(&self) -> Result<OrgTree, OrgError> {
        let mut listed = self.accounts().await?;
        let mut tree = OrgTree::default();
        // Depth first: (unit id, path down to it).
        let mut stack: Vec<(String, String)> = self
            .roots()
            .await?
            .into_iter()
            .map(|id| (id.clone(), id))
            .collect();
        while let Some((parent, path)) = stack.pop() {
            tree.units.insert(parent.clone());
            for id in self.units_of(&parent).await? {
                stack.push((id.clone(), format!("{path}/{id}")));
            }
            for id in self.accounts_of(&parent).await? {
                if let Some(account) = listed.get_mut(id.as_str()) {
                    account.ou_path = path.clone();
                }
            }
        }
        tree.accounts = listed.into_values().collect();
        Ok(tree)
    }

    /// Every account, by id, its OU path not known yet.
    async fn accounts(&self) -> Result<BTreeMap<AccountId, OrgAccount>, OrgError> {
        const OP: &str = "ListAccounts";
        let accounts = walk(OP, &self.pacer, |token| async move {
            let out = self
                .client
                .list_accounts()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| org_error(OP, e))?;
            let accounts = out
                .accounts
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| {
                    // `State` replaced `Status` (retired September 9, 2026, says the API
                    // model); an older endpoint may answer only `Status`.
                    let state = a
                        .state
                        .map(|s| s.as_str().to_string())
                        .or_else(|| a.status.map(|s| s.as_str().to_string()))
                        .unwrap_or_default();
                    Some(OrgAccount {
                        id: a.id.as_deref().and_then(AccountId::parse)?,
                        name: a.name.unwrap_or_default(),
                        status: OrgState::from(state),
                        ou_path: String::new(),
                    })
                });
            Ok((accounts.collect(), out.next_token))
        })
        .await?;
        Ok(accounts.into_iter().map(|a| (a.id.clone(), a)).collect())
    }

    async fn roots(&self) -> Result<Vec<String>, OrgError> {
        Ok(self
            .roots_listed()
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// The roots on which service control policies are not enabled (a root's
    /// `PolicyTypes` without `SERVICE_CONTROL_POLICY` `ENABLED`): IAM makes the
    /// Organizations access report only where they are ("SCPs must be enabled for your
    /// organization root", GenerateOrganizationsAccessReport).
    pub async fn roots_without_scps(&self) -> Result<Vec<String>, OrgError> {
        Ok(self
            .roots_listed()
            .await?
            .into_iter()
            .filter(|(_, scps)| !scps)
            .map(|(id, _)| id)
            .collect())
    }

    /// Every root, and whether SCPs are enabled on it.
    async fn roots_listed(&self) -> Result<Vec<(String, bool)>, OrgError> {
        use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};
        const OP: &str = "ListRoots";
        walk(OP, &self.pacer, |token| async move {
            let out = self
                .client
                .list_roots()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| org_error(OP, e))?;
            let roots = out.roots.unwrap_or_default().into_iter().filter_map(|r| {
                let scps = r.policy_types().iter().any(|t| {
                    t.r#type == Some(PolicyType::ServiceControlPolicy)
                        && t.status == Some(PolicyTypeStatus::Enabled)
                });
                Some((r.id?, scps))
            });
            Ok((roots.collect(), out.next_token))
        })
        .await
    }

    async fn units_of(&self, parent: &str) -> Result<Vec<String>, OrgError> {
        const OP: &str = "ListOrganizationalUnitsForParent";
        walk(OP, &self.pacer, |token| async move {
            let out = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(parent)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| org_error(OP, e))?;
            let units = out.organizational_units.unwrap_or_default();
            Ok((
                units.into_iter().filter_map(|u| u.id).collect(),
                out.next_token,
            ))
        })
        .await
    }

    async fn accounts_of(&self, parent: &str) -> Result<Vec<String>, OrgError> {
        const OP: &str = "ListAccountsForParent";
        walk(OP, &self.pacer, |token| async move {
            let out = self
                .client
                .list_accounts_for_parent()
                .parent_id(parent)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| org_error(OP, e))?;
            let ids = out
                .accounts
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| a.id);
            Ok((ids.collect(), out.next_token))
        })
        .await
    }
}
