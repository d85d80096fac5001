//! AWS Organizations: which accounts an organization run scans, with each account's name,
//! status and OU path. Plan calls it from the management account or a delegated
//! administrator (Organizations lets no one else list accounts).

use crate::adapters::classify;
use crate::domain::input::{AccountSelection, Organization};
use crate::error::{Error, IamError};
use aws_sdk_organizations::types::AccountState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One account of the Organization, where it sits and whether it can be scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// Organizations' `State`: `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`, …
    pub status: String,
    /// Root and OU ids from the root down, `/`-separated: `r-ab12/ou-ab12-11111111`.
    pub ou_path: String,
}

/// The tree of an Organization: its accounts and the units above each of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgTree {
    pub accounts: Vec<OrgAccount>,
    /// Every root and OU id.
    pub units: BTreeSet<String>,
}

impl OrgTree {
    /// The accounts `organization` selects, in id order; a field-named `InvalidInput`
    /// for an account or unit the Organization doesn't have, or an empty scope.
    pub fn select(&self, organization: &Organization) -> Result<Vec<OrgAccount>, Error> {
        let by_id: BTreeMap<&str, &OrgAccount> =
            self.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let mut chosen: Vec<OrgAccount> = match &organization.selection {
            AccountSelection::All => self
                .accounts
                .iter()
                .filter(|a| a.status == AccountState::Active.as_str())
                .cloned()
                .collect(),
            AccountSelection::Accounts(ids) => ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    by_id.get(id.as_str()).map(|a| (*a).clone()).ok_or_else(|| {
                        Error::invalid(
                            &format!("organization.accounts[{i}]"),
                            format!("{id} is not an account of the Organization"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            AccountSelection::Units(units) => {
                for (i, unit) in units.iter().enumerate() {
                    if !self.units.contains(unit) {
                        return Err(Error::invalid(
                            &format!("organization.units[{i}]"),
                            format!("{unit} is not an OU or root of the Organization"),
                        ));
                    }
                }
                self.accounts
                    .iter()
                    .filter(|a| a.ou_path.split('/').any(|u| units.iter().any(|x| x == u)))
                    .cloned()
                    .collect()
            }
        };
        chosen.retain(|a| !organization.exclude.contains(&a.id));
        chosen.sort_by(|a, b| a.id.cmp(&b.id));
        chosen.dedup_by(|a, b| a.id == b.id);
        if chosen.is_empty() {
            return Err(Error::invalid(
                "organization",
                "selects no account (after exclude, and `all` counts ACTIVE accounts only)",
            ));
        }
        Ok(chosen)
    }
}

#[derive(Debug, Clone)]
pub struct Organizations {
    client: aws_sdk_organizations::Client,
}

impl Organizations {
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        Organizations { client }
    }

    /// The Organization's id (`o-…`), the first element of IAM's entity paths.
    pub async fn id(&self) -> Result<String, IamError> {
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(|e| classify("organizations:DescribeOrganization", e))?;
        Ok(out.organization.and_then(|o| o.id).unwrap_or_default())
    }

    /// Walks the Organization from its roots: every OU (ListOrganizationalUnitsForParent)
    /// and the accounts of each (ListAccountsForParent), and every account's status and
    /// name (ListAccounts).
    pub async fn tree(&self) -> Result<OrgTree, IamError> {
        let c = &self.client;
        let mut listed: BTreeMap<String, OrgAccount> = BTreeMap::new();
        let mut pages = c.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("organizations:ListAccounts", e))?;
            for a in page.accounts.unwrap_or_default() {
                let Some(id) = a.id else { continue };
                listed.insert(
                    id.clone(),
                    OrgAccount {
                        id,
                        name: a.name.unwrap_or_default(),
                        // `State` replaced `Status` (retired September 9, 2026, says
                        // the API model); an older endpoint may answer only `Status`.
                        status: a
                            .state
                            .map(|s| s.as_str().to_string())
                            .or_else(|| a.status.map(|s| s.as_str().to_string()))
                            .unwrap_or_default(),
                        ou_path: String::new(),
                    },
                );
            }
        }
        let mut tree = OrgTree::default();
        let roots = c
            .list_roots()
            .send()
            .await
            .map_err(|e| classify("organizations:ListRoots", e))?;
        // Depth first: (unit id, path down to it).
        let mut stack: Vec<(String, String)> = roots
            .roots
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.id)
            .map(|id| (id.clone(), id))
            .collect();
        while let Some((parent, path)) = stack.pop() {
            tree.units.insert(parent.clone());
            let mut units = c
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = units.next().await {
                let page = page
                    .map_err(|e| classify("organizations:ListOrganizationalUnitsForParent", e))?;
                for ou in page.organizational_units.unwrap_or_default() {
                    if let Some(id) = ou.id {
                        stack.push((id.clone(), format!("{path}/{id}")));
                    }
                }
            }
            let mut accounts = c
                .list_accounts_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = accounts.next().await {
                let page = page.map_err(|e| classify("organizations:ListAccountsForParent", e))?;
                for a in page.accounts.unwrap_or_default() {
                    if let Some(account) = a.id.and_then(|id| listed.get_mut(&id)) {
                        account.ou_path = path.clone();
                    }
                }
            }
        }
        tree.accounts = listed.into_values().collect();
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, status: &str, path: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: format!("n{id}"),
            status: status.into(),
            ou_path: path.into(),
        }
    }

    fn tree() -> OrgTree {
        OrgTree {
            accounts: vec![
                account("111111111111", "ACTIVE", "r-ab12"),
                account("222222222222", "ACTIVE", "r-ab12/ou-ab12-aaaaaaaa"),
                account(
                    "333333333333",
                    "SUSPENDED",
                    "r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb",
                ),
                account(
                    "444444444444",
                    "ACTIVE",
                    "r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb",
                ),
            ],
            units: ["r-ab12", "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb"]
                .map(String::from)
                .into(),
        }
    }

    fn org(selection: AccountSelection, exclude: &[&str]) -> Organization {
        Organization {
            selection,
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            member_role: "m".into(),
            max_accounts_in_parallel: 2,
            access_report: false,
        }
    }

    fn ids(accounts: Vec<OrgAccount>) -> Vec<String> {
        accounts.into_iter().map(|a| a.id).collect()
    }

    #[test]
    fn all_is_every_active_account_less_the_excluded() {
        let got = tree().select(&org(AccountSelection::All, &["222222222222"]));
        assert_eq!(ids(got.unwrap()), ["111111111111", "444444444444"]);
    }

    #[test]
    fn units_are_recursive_and_keep_suspended_accounts_to_report_them() {
        let got = tree().select(&org(
            AccountSelection::Units(vec!["ou-ab12-aaaaaaaa".into()]),
            &[],
        ));
        assert_eq!(
            ids(got.unwrap()),
            ["222222222222", "333333333333", "444444444444"]
        );
    }

    #[test]
    fn unknown_accounts_and_units_and_empty_scopes_name_the_field() {
        let t = tree();
        let e = t
            .select(&org(
                AccountSelection::Accounts(vec!["111111111111".into(), "999999999999".into()]),
                &[],
            ))
            .unwrap_err();
        assert!(e.to_string().contains("organization.accounts[1]"), "{e}");
        let e = t
            .select(&org(
                AccountSelection::Units(vec!["ou-ab12-cccccccc".into()]),
                &[],
            ))
            .unwrap_err();
        assert!(e.to_string().contains("organization.units[0]"), "{e}");
        let e = t
            .select(&org(
                AccountSelection::Accounts(vec!["111111111111".into()]),
                &["111111111111"],
            ))
            .unwrap_err();
        assert_eq!(e.name(), "InvalidInput");
        assert!(e.to_string().contains("organization"), "{e}");
    }
}
