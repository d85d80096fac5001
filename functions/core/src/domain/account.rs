//! One account of a run, every view of it: its scope (the role its IAM calls go
//! through), the accounts Map's item, what Plan found, how it ended, its summary line.

use crate::domain::sfn::RunFailure;
use serde::{Deserialize, Serialize};

/// One account of a run, and the role its IAM calls go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountScope {
    pub id: String,
    /// The member role to assume (fixed session name); `None`: the stack's own account,
    /// read through the stack's reader role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// One account of a run, as Plan resolved it: the outer Map's item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountItem {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Organizations' status (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`); `ACTIVE` for the
    /// stack's own account outside an organization run.
    pub status: String,
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
}

/// How one account of the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub id: String,
    pub name: String,
    /// Root and OU ids from the root down (`r-ab12/ou-ab12-11111111`).
    pub ou_path: String,
    pub status: AccountStatus,
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
    pub failure: Option<RunFailure>,
}
