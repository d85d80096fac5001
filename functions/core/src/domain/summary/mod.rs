//! The run summary (`reports/runs/dt=…/run=…/summary.json`): the batches' results folded
//! into counts, the most unused principals, errors, and the principals without a report;
//! written last, so a reader who sees it sees a complete run. Pure code.

mod error;
pub mod previous;

pub use error::RunError;

use crate::domain::access_report::AccessReportSummary;
use crate::domain::account::AccountState;
use crate::domain::account::{AccountRun, AccountStatus, AccountSummary};
use crate::domain::batch::Batch;
use crate::domain::batch::BatchFailure;
use crate::domain::job::{JobError, JobStatus};
use crate::domain::outcome::{BatchResult, PrincipalOutcome};
use crate::domain::report::ClassChanges;
use crate::domain::run::PlanRecord;
use crate::domain::run::RunRef;
use crate::domain::sfn::{failed_briefly, what_failed, RunFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SUMMARY_SCHEMA_VERSION: &str = "3.0.0";
const TOP_PRINCIPALS: usize = 20;

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
    pub by_status: BTreeMap<String, u32>,
    pub by_type: BTreeMap<String, u32>,
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

/// What changed since the previous completed run at the same granularity (schema 2.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunChanges {
    pub previous_run: Option<RunRef>,
    /// Reports of principals the previous run had no report of.
    pub principals_new: u32,
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
    #[serde(default)]
    pub account_counts: BTreeMap<String, u32>,
    /// IAM's Organizations access report, entity by entity (`organization.access_report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_report: Option<AccessReportSummary>,
    /// The principals with the most unused services, across every account.
    pub top_unused: Vec<TopPrincipal>,
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
    pub failure: Option<RunFailure>,
    pub reports_prefix: String,
    pub report_keys: Vec<String>,
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
    pub map_failure: Option<RunFailure>,
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

/// Folds the batch results into the summary; also gives back every outcome, in batch
/// order, for the run's index and page.
pub fn summarize(
    plan: PlanRecord,
    records: RunRecords,
    closing: Closing,
) -> (RunSummary, Vec<PrincipalOutcome>) {
    let RunRecords {
        mut results,
        failures,
        unreported,
        map_failure,
        previous_arns,
        accounts,
        access_report,
    } = records;
    results.sort_by_key(|r| r.index);
    let mut counts = Counts {
        principals_planned: plan.principals,
        principals_skipped: plan.skipped.len() as u32,
        batches_planned: plan.batches,
        batches_reported: results.len() as u32,
        ..Counts::default()
    };
    let mut top = Vec::new();
    let mut errors = Vec::new();
    let mut report_keys = Vec::new();
    let outcomes: Vec<PrincipalOutcome> = results.into_iter().flat_map(|r| r.principals).collect();
    for outcome in &outcomes {
        counts.reports_written += 1;
        *counts
            .by_status
            .entry(outcome.status.as_str().to_string())
            .or_default() += 1;
        *counts
            .by_type
            .entry(outcome.principal_type.as_str().to_string())
            .or_default() += 1;
        counts.services_granted += outcome.services_granted as u64;
        counts.services_active += outcome.services_active as u64;
        counts.services_stale += outcome.services_stale as u64;
        counts.services_never_used += outcome.services_never_used as u64;
        counts.services_unused += outcome.services_unused() as u64;
        if let Some(r) = &outcome.recommended {
            let c = counts
                .recommendations
                .get_or_insert_with(RecommendationCounts::default);
            c.principals_with_recommendations += u32::from(r.recommendations > 0);
            c.recommendations += u64::from(r.recommendations);
            c.services_removable += u64::from(r.services_removable);
            c.policies_to_detach += u64::from(r.policies_to_detach);
            c.unused_credentials += u64::from(r.unused_credentials);
            c.principals_withheld += u32::from(r.withheld.is_some());
        }
        if outcome.status != JobStatus::Completed {
            errors.push(PrincipalError {
                arn: outcome.arn.clone(),
                status: outcome.status,
                error: outcome.error.clone(),
            });
        }
        if outcome.services_unused() > 0 {
            top.push(TopPrincipal {
                arn: outcome.arn.clone(),
                services_unused: outcome.services_unused(),
                services_granted: outcome.services_granted,
                report_key: outcome.report_key.clone(),
            });
        }
        report_keys.push(outcome.report_key.clone());
    }
    top.sort_by(|a, b| {
        b.services_unused
            .cmp(&a.services_unused)
            .then_with(|| a.arn.cmp(&b.arn))
    });
    top.truncate(TOP_PRINCIPALS);
    let missing = missing_principals(unreported, &failures, map_failure.as_ref());
    counts.principals_missing = missing.len() as u32;
    // An account this run could not plan says nothing about its principals: none of
    // them is "gone".
    let unread: std::collections::BTreeSet<String> = accounts
        .iter()
        .filter(|a| {
            a.record
                .as_ref()
                .is_none_or(|r| r.state == AccountState::Unreachable)
        })
        .map(|a| a.item.id.clone())
        .collect();
    let previous_arns = previous_arns.map(|arns| {
        arns.into_iter()
            .filter(|arn| {
                arn.split(':')
                    .nth(4)
                    .is_none_or(|acct| !unread.contains(acct))
            })
            .collect()
    });
    let changes = run_changes(
        plan.previous_run.clone(),
        &outcomes,
        &missing,
        previous_arns,
    );
    let failed = counts
        .by_status
        .get(JobStatus::Failed.as_str())
        .copied()
        .unwrap_or(0);
    let account_lines = account_lines(accounts, &outcomes);
    let mut account_counts = BTreeMap::new();
    for a in &account_lines {
        *account_counts
            .entry(a.status.as_str().to_string())
            .or_insert(0) += 1;
    }
    let all_accounts_scanned = account_lines
        .iter()
        .all(|a| a.status == AccountStatus::Succeeded)
        && access_report.as_ref().is_none_or(|r| r.done == r.entities);
    let status = if too_many_failed(failed, plan.principals, closing.max_failed_percent) {
        RunStatus::Failed
    } else if all_accounts_scanned
        && counts.reports_written == plan.principals
        && counts.batches_reported == plan.batches
    {
        RunStatus::Succeeded
    } else {
        RunStatus::Incomplete
    };
    let summary = RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION.to_string(),
        run_id: plan.run_id.clone(),
        dt: plan.dt.clone(),
        started_at: plan.started_at.clone(),
        finished_at: closing.finished_at,
        as_of: plan.started_at.clone(),
        duration_seconds: closing.duration_seconds,
        status,
        parameters: plan,
        counts,
        accounts: account_lines,
        account_counts,
        access_report,
        top_unused: top,
        errors,
        missing,
        changes,
        failure: map_failure,
        reports_prefix: closing.reports_prefix,
        report_keys,
    };
    (summary, outcomes)
}

/// One line per account: what Plan found there and what its reports add up to.
fn account_lines(accounts: Vec<AccountRun>, outcomes: &[PrincipalOutcome]) -> Vec<AccountSummary> {
    let mut by_account: BTreeMap<&str, (u32, u64, u64, u64)> = BTreeMap::new();
    for o in outcomes {
        let e = by_account.entry(o.account.as_str()).or_default();
        e.0 += 1;
        e.1 += u64::from(o.services_granted);
        e.2 += u64::from(o.services_active);
        e.3 += u64::from(o.services_unused());
    }
    accounts
        .into_iter()
        .map(|a| {
            let (written, granted, used, unused) = by_account
                .get(a.item.id.as_str())
                .copied()
                .unwrap_or_default();
            let failed = a
                .failure
                .as_ref()
                .map(|f| failed_briefly(f.error.as_deref(), f.cause.as_deref()));
            let (status, error, principals) = match &a.record {
                Some(r) if r.state == AccountState::Unreachable => {
                    (AccountStatus::Unreachable, r.error.clone(), 0)
                }
                None => (
                    AccountStatus::Unreachable,
                    Some(failed.unwrap_or_else(|| "Plan recorded nothing for the account".into())),
                    0,
                ),
                Some(r) if failed.is_some() || written < r.principals => (
                    AccountStatus::Incomplete,
                    Some(failed.unwrap_or_else(|| {
                        format!("{} of {} principals reported", written, r.principals)
                    })),
                    r.principals,
                ),
                Some(r) => (AccountStatus::Succeeded, None, r.principals),
            };
            AccountSummary {
                id: a.item.id,
                name: a.item.name,
                ou_path: a.item.ou_path,
                status,
                error,
                principals,
                reports_written: written,
                services_granted: granted,
                services_used: used,
                services_unused: unused,
            }
        })
        .collect()
}

/// The run's `changes`: its reports' changes counted, the largest listed, and the
/// previous run's principals this run has no report of named as gone.
fn run_changes(
    previous_run: Option<RunRef>,
    outcomes: &[PrincipalOutcome],
    missing: &[MissingPrincipal],
    previous_arns: Option<Vec<String>>,
) -> RunChanges {
    let mut c = RunChanges {
        previous_run,
        ..RunChanges::default()
    };
    let mut largest = Vec::new();
    for o in outcomes {
        match &o.changes {
            None => c.principals_not_compared += 1,
            Some(ch) if ch.new => c.principals_new += 1,
            Some(ch) if ch.changed() => {
                c.principals_changed += 1;
                largest.push(ChangedPrincipal {
                    arn: o.arn.clone(),
                    report_key: o.report_key.clone(),
                    size: ch.size() as u32,
                    services: ch.services.clone(),
                    actions: ch.actions.clone(),
                });
            }
            Some(_) => c.principals_unchanged += 1,
        }
    }
    largest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.arn.cmp(&b.arn)));
    largest.truncate(TOP_PRINCIPALS);
    c.largest = largest;
    if let Some(before) = previous_arns {
        // This run's scope: its reports and its planned principals without one.
        let now: std::collections::BTreeSet<&str> = outcomes
            .iter()
            .map(|o| o.arn.as_str())
            .chain(missing.iter().map(|m| m.arn.as_str()))
            .collect();
        c.gone = before
            .into_iter()
            .filter(|a| !now.contains(a.as_str()))
            .collect();
        c.gone.sort();
        c.principals_gone = c.gone.len() as u32;
    }
    c
}

/// More than `max_percent` of the planned principals FAILED (strictly more: 50 % of 2 is 1
/// allowed). Zero planned principals never count as a failure.
pub fn too_many_failed(failed: u32, planned: u32, max_percent: f64) -> bool {
    planned > 0 && f64::from(failed) * 100.0 > max_percent * f64::from(planned)
}

fn missing_principals(
    unreported: Vec<Batch>,
    failures: &[BatchFailure],
    map_failure: Option<&RunFailure>,
) -> Vec<MissingPrincipal> {
    let mut missing = Vec::new();
    for batch in unreported {
        let failure = failures.iter().find(|f| f.index == batch.index);
        let (error, reason) = match (failure, map_failure) {
            (Some(f), _) => (
                f.error.clone(),
                format!(
                    "batch {} failed beyond its retries: {}",
                    batch.index,
                    what_failed(f.error.as_deref(), f.cause.as_deref())
                ),
            ),
            (None, Some(m)) => (
                m.error.clone(),
                format!(
                    "batch {} did not finish: the batches' Map failed: {}",
                    batch.index,
                    what_failed(m.error.as_deref(), m.cause.as_deref())
                ),
            ),
            (None, None) => (
                None,
                format!(
                    "batch {} wrote no result and recorded no failure",
                    batch.index
                ),
            ),
        };
        missing.extend(batch.arns.into_iter().map(|arn| MissingPrincipal {
            arn: arn.to_string(),
            batch: batch.index,
            error: error.clone(),
            reason: reason.clone(),
        }));
    }
    missing
}

#[cfg(test)]
mod tests;
