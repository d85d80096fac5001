//! How a run ended when it did not succeed; the summary, written first, says the rest.

use crate::domain::account::AccountStatus;
use crate::domain::job::JobStatus;
use crate::domain::sfn::{cut_to, StepFunctionsError};
use crate::domain::summary::{RunStatus, RunSummary};

/// The run's outcome as an error: every report is written and the summary with it, and
/// the message points to that summary (`see s3://…`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Some planned principals have no report (a batch failed beyond its retries, or the
    /// Map itself failed).
    #[error(
        "run incomplete: {reported} of {planned} principals reported ({batches_reported} of \
         {batches_planned} batches; {missing} principals without a report, named in the \
         summary){}{}; see {summary_url}",
        accounts(.accounts_not_scanned),
        after(.map_failure)
    )]
    Incomplete {
        reported: u32,
        planned: u32,
        batches_reported: u32,
        batches_planned: u32,
        missing: u32,
        /// Accounts not fully scanned, `ID (STATUS: error)`, the first few and how many more;
        /// and the access report when it is not complete.
        accounts_not_scanned: Vec<String>,
        /// Set when the batches' Map itself failed, as Step Functions reported it.
        map_failure: Option<StepFunctionsError>,
        /// `s3://bucket/key` of the summary.
        summary_url: String,
    },
    /// More than the allowed share of the principals ended FAILED: systemic.
    #[error(
        "too many principals failed: {failed} of {planned} principals FAILED, more than the \
         {max_failed_percent}% allowed (MaxFailedPercent): a systemic failure, not N findings; \
         see {summary_url}"
    )]
    TooManyFailures {
        failed: u32,
        planned: u32,
        max_failed_percent: f64,
        /// `s3://bucket/key` of the summary.
        summary_url: String,
    },
}

/// ` after {Error}: {Cause}` of a failed Map; nothing when the Map did not fail.
fn after(map_failure: &Option<StepFunctionsError>) -> String {
    map_failure
        .as_ref()
        .map(|f| {
            format!(
                " after {}",
                crate::domain::sfn::what_failed(f.error.as_deref(), f.cause.as_deref())
            )
        })
        .unwrap_or_default()
}

/// `; accounts not fully scanned: …` when some were not.
fn accounts(not_scanned: &[String]) -> String {
    if not_scanned.is_empty() {
        String::new()
    } else {
        format!("; not fully scanned: {}", not_scanned.join("; "))
    }
}

/// At most this many accounts are named in a run's error; the summary lists them all.
const ACCOUNTS_NAMED: usize = 10;

impl RunError {
    /// How the run summarized in `summary` (at `summary_url`) ends: `None` when it
    /// succeeded.
    pub fn of(summary: &RunSummary, summary_url: String, max_failed_percent: f64) -> Option<Self> {
        let counts = &summary.counts;
        match summary.status {
            RunStatus::Succeeded => None,
            RunStatus::Failed => Some(RunError::TooManyFailures {
                failed: counts
                    .by_status
                    .get(&JobStatus::Failed)
                    .copied()
                    .unwrap_or(0),
                planned: counts.principals_planned,
                max_failed_percent,
                summary_url,
            }),
            RunStatus::Incomplete => Some(RunError::Incomplete {
                reported: counts.reports_written,
                planned: counts.principals_planned,
                batches_reported: counts.batches_reported,
                batches_planned: counts.batches_planned,
                missing: counts.principals_missing,
                accounts_not_scanned: not_scanned(summary),
                map_failure: summary.failure.clone(),
                summary_url,
            }),
        }
    }
}

/// The run error's account part: the first few accounts not fully scanned, how many
/// more, and the access report when it is not complete.
fn not_scanned(summary: &RunSummary) -> Vec<String> {
    let bad: Vec<_> = summary
        .accounts
        .iter()
        .filter(|a| a.status != AccountStatus::Succeeded)
        .collect();
    let mut out: Vec<String> = bad
        .iter()
        .take(ACCOUNTS_NAMED)
        .map(|a| {
            let error = cut_to(a.error.clone().unwrap_or_default(), 200);
            format!("{} ({}: {error})", a.id, a.status.as_str())
        })
        .collect();
    if bad.len() > ACCOUNTS_NAMED {
        out.push(format!(
            "and {} more (the summary's accounts list them)",
            bad.len() - ACCOUNTS_NAMED
        ));
    }
    if let Some(r) = summary
        .access_report
        .as_ref()
        .filter(|r| r.done < r.entities)
    {
        out.push(format!(
            "access report: {} of {} entities done, {} failed, {} timed out{}",
            r.done,
            r.entities,
            r.failed,
            r.timed_out,
            r.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
    }
    out
}
