//! The `Scan Finished` event's detail (EventBridge, source `iam-last-accessed`): how a
//! run ended, in a few hundred bytes. Summarize builds it from the summary; the state
//! machine puts it on the default bus (`events:putEvents` after Summarize, and before
//! each Fail state, where the ASL builds a smaller one from the error).

use crate::domain::account::AccountStatus;
use crate::domain::job::JobStatus;
use crate::domain::keys;
use crate::domain::security_hub::SecurityHubOutcome;
use crate::domain::sfn::cut_to;
use crate::domain::summary::{by_name, RunError, RunSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The event's `source` and `detail-type` (the ASL says the same).
pub const SOURCE: &str = "iam-last-accessed";
pub const DETAIL_TYPE: &str = "Scan Finished";
/// Accounts named in the detail at most; `accounts_not_fully_scanned_total` counts all.
pub const ACCOUNTS_NAMED: usize = 100;
/// The cause is cut to this many bytes (EventBridge takes 256 KB an entry).
const MAX_CAUSE: usize = 2000;

/// The run's counts, as the event carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedCounts {
    pub principals_planned: u32,
    pub reports_written: u32,
    pub principals_missing: u32,
    pub services_unused: u64,
    #[serde(serialize_with = "by_name")]
    pub by_status: BTreeMap<JobStatus, u32>,
}

/// The `Scan Finished` detail of a run Summarize ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanFinished {
    pub run_id: String,
    /// `SUCCEEDED`, `INCOMPLETE` or `FAILED` (the summary's); the ASL's own events say
    /// `INVALID_INPUT` or `RUN_FAILED`.
    pub status: String,
    /// The run's error name when it did not succeed (`IncompleteRun`, `TooManyFailures`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub counts: FinishedCounts,
    /// Accounts not fully scanned (UNREACHABLE or INCOMPLETE), the first 100 ids.
    pub accounts_not_fully_scanned: Vec<String>,
    pub accounts_not_fully_scanned_total: u32,
    pub bucket: String,
    pub summary_key: String,
    /// The run's page (`index.html`; an Organization run's overview).
    pub page_key: String,
    /// What the run's Security Hub findings came to, when it sent any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_hub: Option<SecurityHubOutcome>,
}

impl ScanFinished {
    /// The detail of the run `summary` says, ended with `error` (`None`: it succeeded).
    pub fn of(summary: &RunSummary, bucket: &str, error: Option<&RunError>) -> ScanFinished {
        let c = &summary.counts;
        let not_scanned: Vec<&str> = summary
            .accounts
            .iter()
            .filter(|a| a.status != AccountStatus::Succeeded)
            .map(|a| a.id.as_str())
            .collect();
        let name = error.map(|e| match e {
            RunError::Incomplete { .. } => "IncompleteRun",
            RunError::TooManyFailures { .. } => "TooManyFailures",
        });
        ScanFinished {
            run_id: summary.run_id.clone(),
            status: summary.status.as_str().to_string(),
            error: name.map(str::to_string),
            cause: error.map(|e| cut_to(e.to_string(), MAX_CAUSE)),
            counts: FinishedCounts {
                principals_planned: c.principals_planned,
                reports_written: c.reports_written,
                principals_missing: c.principals_missing,
                services_unused: c.services_unused,
                by_status: c.by_status.clone(),
            },
            accounts_not_fully_scanned_total: not_scanned.len() as u32,
            accounts_not_fully_scanned: not_scanned
                .into_iter()
                .take(ACCOUNTS_NAMED)
                .map(str::to_string)
                .collect(),
            bucket: bucket.to_string(),
            summary_key: keys::summary_key(&summary.dt, &summary.run_id),
            page_key: keys::page_key(&summary.dt, &summary.run_id),
            security_hub: summary.security_hub.clone(),
        }
    }
}
