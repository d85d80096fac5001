//! The run summary (`reports/runs/dt=…/run=…/summary.json`): the batches' results folded
//! into counts, the most unused principals, errors, and the principals without a report;
//! written last, so a reader who sees it sees a complete run. Pure code.

mod build;
mod error;
pub mod fold;
pub mod incremental;
pub mod previous;

pub use build::{in_unread_account, missing_of, summarize, too_many_failed, unread_accounts};
pub use error::RunError;
pub use fold::{ListRef, RunFold, SummaryLists, LIST_CAP};
pub use incremental::IncrementalSummary;

use crate::domain::access_report::AccessReportSummary;
use crate::domain::account::{AccountRun, AccountStatus, AccountSummary};
use crate::domain::arn::PrincipalType;
use crate::domain::batch::{Batch, BatchFailure};
use crate::domain::job::{JobError, JobStatus};
use crate::domain::outcome::BatchResult;
use crate::domain::report::ClassChanges;
use crate::domain::run::{PlanRecord, RunRef};
use crate::domain::sfn::StepFunctionsError;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

pub const SUMMARY_SCHEMA_VERSION: &str = "4.1.0";

/// A key of a count map: its name in the JSON.
pub trait CountKey: Copy {
    fn name(self) -> &'static str;
}

impl CountKey for JobStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CountKey for PrincipalType {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CountKey for AccountStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// A count map in its keys' names' order: the JSON reads as it did with text keys.
pub fn by_name<K: CountKey, S: Serializer>(
    counts: &BTreeMap<K, u32>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut named: Vec<(&str, u32)> = counts.iter().map(|(k, n)| (k.name(), *n)).collect();
    named.sort_unstable();
    serializer.collect_map(named)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopPrincipal {
    pub arn: String,
    pub services_unused: u32,
    pub services_granted: u32,
    pub report_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalError {
    pub arn: String,
    pub status: JobStatus,
    pub error: Option<JobError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub principals_planned: u32,
    pub reports_written: u32,
    #[serde(serialize_with = "by_name")]
    pub by_status: BTreeMap<JobStatus, u32>,
    #[serde(serialize_with = "by_name")]
    pub by_type: BTreeMap<PrincipalType, u32>,
    /// Summed over the reports: granted = active + stale + never used (disjoint classes).
    pub services_granted: u64,
    #[serde(default)]
    pub services_active: u64,
    #[serde(default)]
    pub services_stale: u64,
    #[serde(default)]
    pub services_never_used: u64,
    /// Stale + never used: the services worth cutting.
    pub services_unused: u64,
    pub batches_planned: u32,
    pub batches_reported: u32,
    /// Planned principals without a report (their batch failed; `missing` says why).
    #[serde(default)]
    pub principals_missing: u32,
    /// Principals discovery listed and skipped (`parameters.skipped` says why).
    #[serde(default)]
    pub principals_skipped: u32,
    /// With `report.recommendations` (schema 2.1): principals with at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendations: Option<RecommendationCounts>,
}

/// The run's recommendations, counted (schema 2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RecommendationCounts {
    pub principals_with_recommendations: u32,
    pub recommendations: u64,
    /// Summed over principals: distinct services each one's recommendations take away.
    pub services_removable: u64,
    pub policies_to_detach: u64,
    pub unused_credentials: u64,
    /// Principals not judged (job not COMPLETED, too new, excluded, service-linked, ...).
    pub principals_withheld: u32,
}

/// How the run ended, as the summary says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Every planned principal has a report, and few enough of them FAILED.
    Succeeded,
    /// Some planned principals have no report (a batch failed beyond its retries).
    Incomplete,
    /// More than the allowed share of principals ended FAILED: a systemic failure.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Incomplete => "INCOMPLETE",
            RunStatus::Failed => "FAILED",
        }
    }
}

/// A planned principal without a report, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingPrincipal {
    pub arn: String,
    pub batch: u32,
    /// The batch's error name (e.g. `StorageError`, `States.Timeout`), when it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub reason: String,
}

/// A principal among the run's largest changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedPrincipal {
    pub arn: String,
    pub report_key: String,
    /// Services (and actions) that changed.
    pub size: u32,
    #[serde(flatten)]
    pub services: ClassChanges,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<ClassChanges>,
}

/// What changed since the previous completed run of the same scope and granularity
/// (schema 2.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunChanges {
    pub previous_run: Option<RunRef>,
    /// Reports of principals the previous run had no report of (a re-created
    /// principal's previous report is another's: it is new).
    pub principals_new: u32,
    /// Of those, principals whose ARN the previous run reported under another unique id:
    /// deleted and re-created since (schema 3.2).
    #[serde(default)]
    pub principals_recreated: u32,
    /// In the previous run's scope, not in this one's.
    pub principals_gone: u32,
    pub principals_changed: u32,
    pub principals_unchanged: u32,
    /// Reports with nothing to compare: this job or the previous one not COMPLETED.
    pub principals_not_compared: u32,
    pub gone: Vec<String>,
    /// The largest changes, largest first.
    pub largest: Vec<ChangedPrincipal>,
}

/// The run summary (`reports/runs/dt=…/run=…/summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema_version: String,
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub finished_at: String,
    /// The instant every report of the run was judged at (the run's start; schema 1.1).
    pub as_of: String,
    pub duration_seconds: i64,
    pub status: RunStatus,
    pub parameters: PlanRecord,
    pub counts: Counts,
    /// One line per account (schema 3.0; one for a run of the stack's own account).
    #[serde(default)]
    pub accounts: Vec<AccountSummary>,
    /// Accounts by status (schema 3.0).
    #[serde(default, serialize_with = "by_name")]
    pub account_counts: BTreeMap<AccountStatus, u32>,
    /// IAM's Organizations access report, entity by entity (`organization.access_report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_report: Option<AccessReportSummary>,
    /// How IAM binds a JobId to its caller, as the preflights found (schema 3.3):
    /// `role_session_name`, `session`, or `mixed` when accounts differ (each account's
    /// line says its own). Absent when no preflight said (no account had a batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_binding: Option<String>,
    /// The principals with the most unused services, across every account.
    pub top_unused: Vec<TopPrincipal>,
    /// The first [`LIST_CAP`] principals whose job did not complete (schema 4.0).
    pub errors: Vec<PrincipalError>,
    /// Planned principals without a report, each with its batch's error (schema 1.1).
    #[serde(default)]
    pub missing: Vec<MissingPrincipal>,
    /// Since the previous completed run of the same scope and granularity (schema 2.0;
    /// empty when read from a 1.x summary).
    #[serde(default)]
    pub changes: RunChanges,
    /// Set when the batches' Map itself failed (the run then ends `IncompleteRun`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StepFunctionsError>,
    pub reports_prefix: String,
    /// The first [`LIST_CAP`] reports' keys (all of them before schema 4.0).
    pub report_keys: Vec<String>,
    /// How long the capped lists (`report_keys`, `errors`, `missing`, `changes.gone`,
    /// `parameters.skipped`) are, and where each is whole (schema 4.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<SummaryLists>,
    /// An incremental run: carried, scanned, sampled, mismatches, fallback accounts
    /// (schema 4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalSummary>,
    /// What the run's Security Hub findings came to (`report.security_hub`; schema 4.1):
    /// findings imported, archived and failed, and the first error. Absent when the run
    /// sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_hub: Option<crate::domain::security_hub::SecurityHubOutcome>,
}

/// What Summarize gathered from the run's work files.
#[derive(Debug, Clone, Default)]
pub struct RunRecords {
    pub results: Vec<BatchResult>,
    /// Why batches failed (written by the children's Catch).
    pub failures: Vec<BatchFailure>,
    /// The planned batches that have no result (read from the batch list only then).
    pub unreported: Vec<Batch>,
    /// Set when the batches' Map itself failed.
    pub map_failure: Option<StepFunctionsError>,
    /// The principals of the previous run's index (`None`: no previous run, or its index
    /// is missing), to name the ones gone.
    pub previous_arns: Option<Vec<String>>,
    /// The run's accounts, in the order Plan resolved them.
    pub accounts: Vec<AccountRun>,
    /// The Organizations access report, when the run made one.
    pub access_report: Option<AccessReportSummary>,
}

/// When the summary is written and how a run may end.
#[derive(Debug, Clone)]
pub struct Closing {
    pub finished_at: String,
    pub duration_seconds: i64,
    pub reports_prefix: String,
    /// A run with more than this percentage of its planned principals FAILED is `FAILED`.
    pub max_failed_percent: f64,
}

#[cfg(test)]
mod tests;
