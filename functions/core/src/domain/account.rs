//! One account of a run, every view of it: its scope (the role its IAM calls go
//! through), the accounts Map's item, what Plan found, how it ended, its summary line.

use crate::domain::arn::{is_account_id, AccountId};
use crate::domain::input::{AccountSelection, InputError, Organization};
use crate::domain::run::RunRef;
use crate::domain::sfn::StepFunctionsError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// At most this many batches per account: each account's batches are numbered from
/// `index × MAX_BATCHES` ([`first_batch`]), and its batches Map gathers every child's
/// (small) output, far below 256 KiB (15,500 principals need 8 per batch).
pub const MAX_BATCHES: usize = 2_000;

/// Where the batches of the run's `index`-th account are numbered from, so batch
/// indices (and the work files named by them) are unique across the run.
pub fn first_batch(index: usize) -> u32 {
    (index * MAX_BATCHES) as u32
}

/// The member role of `account`: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub fn member_role_arn(partition: &str, account: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{role_name}")
}

/// The account of `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
pub fn account_of_function(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    is_account_id(account).then(|| account.to_string())
}

/// Organizations' `State` of an account (its retired `Status` reads the same). The
/// JSON is Organizations' own word; one it may add later is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum OrgState {
    Active,
    Suspended,
    PendingClosure,
    Closed,
    Other(String),
}

impl OrgState {
    pub fn as_str(&self) -> &str {
        match self {
            OrgState::Active => "ACTIVE",
            OrgState::Suspended => "SUSPENDED",
            OrgState::PendingClosure => "PENDING_CLOSURE",
            OrgState::Closed => "CLOSED",
            OrgState::Other(other) => other,
        }
    }
}

impl From<String> for OrgState {
    fn from(text: String) -> Self {
        match text.as_str() {
            "ACTIVE" => OrgState::Active,
            "SUSPENDED" => OrgState::Suspended,
            "PENDING_CLOSURE" => OrgState::PendingClosure,
            "CLOSED" => OrgState::Closed,
            _ => OrgState::Other(text),
        }
    }
}

impl From<&str> for OrgState {
    fn from(text: &str) -> Self {
        OrgState::from(text.to_string())
    }
}

impl From<OrgState> for String {
    fn from(state: OrgState) -> Self {
        state.as_str().to_string()
    }
}

impl fmt::Display for OrgState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One account of a run, and the role its IAM calls go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountScope {
    pub id: AccountId,
    /// The member role to assume (fixed session name); `None`: the stack's own account,
    /// read through the stack's reader role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The earlier runs that scanned the account, newest first: a principal's previous
    /// report is its report in the first that has one (`summary::previous`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_runs: Vec<RunRef>,
}

/// One account of a run, as Plan resolved it: the outer Map's item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountItem {
    pub id: AccountId,
    #[serde(default)]
    pub name: String,
    /// Organizations' state; `ACTIVE` for the stack's own account outside an
    /// organization run.
    pub status: OrgState,
    #[serde(default)]
    pub ou_path: String,
    /// The member role; `None`: the stack's own account, through its reader role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The account's batches are numbered from here, so batch indices (and the work
    /// files named by them) are unique across the run.
    pub first_batch: u32,
    /// Whether its reader is probed before its batches (organization runs: the run's
    /// own preflight probes the stack's reader otherwise).
    #[serde(default)]
    pub probe: bool,
    /// The earlier runs that scanned the account, newest first (`summary::previous`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_runs: Vec<RunRef>,
}

impl AccountItem {
    /// The stack's own account outside an organization run, read through its reader.
    pub fn own(id: AccountId) -> Self {
        AccountItem {
            id,
            name: String::new(),
            status: OrgState::Active,
            ou_path: String::new(),
            role_arn: None,
            first_batch: 0,
            probe: false,
            previous_runs: Vec::new(),
        }
    }
}

/// Whether Plan could plan an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    Planned,
    /// Its member role is missing or refuses us, or the account is not ACTIVE.
    Unreachable,
}

/// What Plan found in one account, under `work/run=…/accounts/ID/account.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    #[serde(flatten)]
    pub item: AccountItem,
    pub state: AccountState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub principals: u32,
    pub batches: u32,
    pub batch_size: u32,
    #[serde(default)]
    pub skipped: Vec<crate::domain::selection::Skipped>,
    /// An incremental run: how its batches split (`batches` counts both kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry: Option<AccountCarry>,
}

/// An incremental run's account: its scanned batches come first (the sample among
/// them), then its carriable ones (`…/accounts/ID/carry-batches.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountCarry {
    pub scan_batches: u32,
    pub carry_batches: u32,
    /// Principals in the carry batches.
    pub carriable: u32,
    /// Principals of the scanned batches drawn for the sample.
    pub sampled: u32,
}

impl AccountRecord {
    /// An account that can't be read, and why: nothing of it is planned.
    pub fn unreachable(item: AccountItem, why: String, batch_size: u32) -> Self {
        AccountRecord {
            item,
            state: AccountState::Unreachable,
            error: Some(why),
            principals: 0,
            batches: 0,
            batch_size,
            skipped: Vec::new(),
            carry: None,
        }
    }
}

/// How one account of the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Every planned principal of the account has a report.
    Succeeded,
    /// Some of its batches (or its preflight) failed: not every principal has a report.
    Incomplete,
    /// Nothing of it was read: its member role is missing or refuses us, or the account
    /// is suspended.
    Unreachable,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Succeeded => "SUCCEEDED",
            AccountStatus::Incomplete => "INCOMPLETE",
            AccountStatus::Unreachable => "UNREACHABLE",
        }
    }
}

/// One account's line of the summary (schema 3.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: AccountId,
    pub name: String,
    /// Root and OU ids from the root down (`r-ab12/ou-ab12-11111111`).
    pub ou_path: String,
    pub status: AccountStatus,
    /// The earlier run this account's principals were compared with first (schema 3.1):
    /// the latest that scanned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<RunRef>,
    /// How IAM binds a JobId in this account, as its preflight found (schema 3.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_binding: Option<crate::domain::job::JobBinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub principals: u32,
    pub reports_written: u32,
    pub services_granted: u64,
    /// Active: used within `unused_days`.
    pub services_used: u64,
    /// Stale + never used.
    pub services_unused: u64,
}

/// What Summarize read of one account: its item, Plan's record and a recorded failure.
#[derive(Debug, Clone)]
pub struct AccountRun {
    pub item: AccountItem,
    pub record: Option<AccountRecord>,
    pub failure: Option<StepFunctionsError>,
}

/// One account of the Organization, where it sits and whether it can be scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    /// Organizations' `State`.
    pub status: OrgState,
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
    pub fn select(&self, organization: &Organization) -> Result<Vec<OrgAccount>, InputError> {
        let by_id: BTreeMap<&str, &OrgAccount> =
            self.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let mut chosen: Vec<OrgAccount> = match &organization.selection {
            AccountSelection::All => self
                .accounts
                .iter()
                .filter(|a| a.status == OrgState::Active)
                .cloned()
                .collect(),
            AccountSelection::Accounts(ids) => ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    by_id.get(id.as_str()).map(|a| (*a).clone()).ok_or_else(|| {
                        InputError::invalid(
                            &format!("organization.accounts[{i}]"),
                            format!("{id} is not an account of the Organization"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            AccountSelection::Units(units) => {
                for (i, unit) in units.iter().enumerate() {
                    if !self.units.contains(unit) {
                        return Err(InputError::invalid(
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
        chosen.retain(|a| !organization.exclude.iter().any(|x| a.id == x.as_str()));
        chosen.sort_by(|a, b| a.id.cmp(&b.id));
        chosen.dedup_by(|a, b| a.id == b.id);
        if chosen.is_empty() {
            return Err(InputError::invalid(
                "organization",
                "selects no account (after exclude, and `all` counts ACTIVE accounts only)",
            ));
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests;
