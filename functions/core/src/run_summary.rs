//! The run summary (`reports/runs/dt=…/run=…/summary.json`): the batches' results folded
//! into counts, the most unused principals, errors, and the principals without a report;
//! written last, so a reader who sees it sees a complete run. Pure code.

use crate::model::{Batch, JobError, JobStatus};
use crate::records::{what_failed, BatchFailure, BatchResult, PlanRecord, RunFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SUMMARY_SCHEMA_VERSION: &str = "1.1.0";
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
    pub services_granted: u64,
    pub services_used: u64,
    pub services_unused: u64,
    pub batches_planned: u32,
    pub batches_reported: u32,
    /// Planned principals without a report (their batch failed; `missing` says why).
    #[serde(default)]
    pub principals_missing: u32,
    /// Principals discovery listed and skipped (`parameters.skipped` says why).
    #[serde(default)]
    pub principals_skipped: u32,
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
    pub top_unused: Vec<TopPrincipal>,
    pub errors: Vec<PrincipalError>,
    /// Planned principals without a report, each with its batch's error (schema 1.1).
    #[serde(default)]
    pub missing: Vec<MissingPrincipal>,
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

/// Folds the batch results into the summary.
pub fn summarize(plan: PlanRecord, records: RunRecords, closing: Closing) -> RunSummary {
    let RunRecords {
        mut results,
        failures,
        unreported,
        map_failure,
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
    for outcome in results.into_iter().flat_map(|r| r.principals) {
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
        counts.services_used += outcome.services_used as u64;
        counts.services_unused += outcome.services_unused as u64;
        if outcome.status != JobStatus::Completed {
            errors.push(PrincipalError {
                arn: outcome.arn.clone(),
                status: outcome.status,
                error: outcome.error.clone(),
            });
        }
        if outcome.services_unused > 0 {
            top.push(TopPrincipal {
                arn: outcome.arn.clone(),
                services_unused: outcome.services_unused,
                services_granted: outcome.services_granted,
                report_key: outcome.report_key.clone(),
            });
        }
        report_keys.push(outcome.report_key);
    }
    top.sort_by(|a, b| {
        b.services_unused
            .cmp(&a.services_unused)
            .then_with(|| a.arn.cmp(&b.arn))
    });
    top.truncate(TOP_PRINCIPALS);
    let missing = missing_principals(unreported, &failures, map_failure.as_ref());
    counts.principals_missing = missing.len() as u32;
    let failed = counts
        .by_status
        .get(JobStatus::Failed.as_str())
        .copied()
        .unwrap_or(0);
    let status = if too_many_failed(failed, plan.principals, closing.max_failed_percent) {
        RunStatus::Failed
    } else if counts.reports_written == plan.principals && counts.batches_reported == plan.batches {
        RunStatus::Succeeded
    } else {
        RunStatus::Incomplete
    };
    RunSummary {
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
        top_unused: top,
        errors,
        missing,
        failure: map_failure,
        reports_prefix: closing.reports_prefix,
        report_keys,
    }
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
