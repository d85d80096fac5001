//! The run summary (`reports/runs/dt=…/run=…/summary.json`): the batches' results folded
//! into counts, the most unused principals, errors, and the principals without a report;
//! written last, so a reader who sees it sees a complete run. Pure code.

use crate::model::{Batch, JobError, JobStatus};
use crate::records::{BatchFailure, BatchResult, PlanRecord, RunFailure};
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
                    "batch {} failed beyond its retries: {}: {}",
                    batch.index,
                    f.error.as_deref().unwrap_or("an error"),
                    f.cause.as_deref().unwrap_or("")
                ),
            ),
            (None, Some(m)) => (
                m.error.clone(),
                format!(
                    "batch {} did not finish: the batches' Map failed: {}: {}",
                    batch.index,
                    m.error.as_deref().unwrap_or("an error"),
                    m.cause.as_deref().unwrap_or("")
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
mod tests {
    use super::*;
    use crate::arn::PrincipalType;
    use crate::input::{Granularity, PollOptions, ReportOptions};
    use crate::records::PrincipalOutcome;

    fn outcome(arn: &str, status: JobStatus, unused: u32) -> PrincipalOutcome {
        PrincipalOutcome {
            arn: arn.into(),
            principal_type: PrincipalType::Role,
            status,
            report_key: format!("k/{arn}"),
            services_granted: 10,
            services_used: 10 - unused,
            services_unused: unused,
            error: (status != JobStatus::Completed).then(|| JobError {
                code: "X".into(),
                message: "y".into(),
            }),
        }
    }

    fn plan(principals: u32, batches: u32) -> PlanRecord {
        PlanRecord {
            run_id: "r".into(),
            dt: "2026-11-25".into(),
            started_at: "2026-11-25T00:00:00Z".into(),
            granularity: Granularity::ServiceLevel,
            batch_size: 2,
            max_concurrency: 1,
            iam_requests_per_second: None,
            poll: PollOptions::default(),
            report: ReportOptions::default(),
            explicit_arns: 0,
            discover: None,
            principals,
            batches,
            batch_size_requested: 2,
            skipped: Vec::new(),
        }
    }

    fn closing(max_failed_percent: f64) -> Closing {
        Closing {
            finished_at: "2026-11-25T00:01:00Z".into(),
            duration_seconds: 60,
            reports_prefix: "p/".into(),
            max_failed_percent,
        }
    }

    fn batch(index: u32, arns: &[&str]) -> Batch {
        Batch {
            index,
            arns: arns
                .iter()
                .map(|a| crate::arn::PrincipalArn::parse(a).unwrap())
                .collect(),
        }
    }

    #[test]
    fn counts_ranks_and_lists_errors() {
        let results = vec![
            BatchResult {
                index: 1,
                principals: vec![outcome("c", JobStatus::Failed, 0)],
            },
            BatchResult {
                index: 0,
                principals: vec![
                    outcome("a", JobStatus::Completed, 3),
                    outcome("b", JobStatus::Completed, 7),
                ],
            },
        ];
        let records = RunRecords {
            results,
            ..RunRecords::default()
        };
        let s = summarize(plan(3, 2), records, closing(50.0));
        assert_eq!(s.status, RunStatus::Succeeded);
        assert_eq!(s.as_of, "2026-11-25T00:00:00Z");
        assert_eq!(s.counts.reports_written, 3);
        assert_eq!(s.counts.by_status["COMPLETED"], 2);
        assert_eq!(s.counts.by_status["FAILED"], 1);
        assert_eq!(s.counts.services_unused, 10);
        assert_eq!(
            s.top_unused
                .iter()
                .map(|t| t.arn.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(s.errors.len(), 1);
        assert!(s.missing.is_empty());
        assert_eq!(s.report_keys, ["k/a", "k/b", "k/c"]);
    }

    #[test]
    fn a_failed_batch_names_its_principals_and_why() {
        let records = RunRecords {
            results: vec![BatchResult {
                index: 0,
                principals: vec![outcome("a", JobStatus::Completed, 0)],
            }],
            failures: vec![BatchFailure {
                index: 1,
                error: Some("StorageError".into()),
                cause: Some("S3 call failed: PutObject: AccessDenied".into()),
            }],
            unreported: vec![batch(
                1,
                &[
                    "arn:aws:iam::123456789012:role/b",
                    "arn:aws:iam::123456789012:user/c",
                ],
            )],
            map_failure: None,
        };
        let s = summarize(plan(3, 2), records, closing(50.0));
        assert_eq!(s.status, RunStatus::Incomplete);
        assert_eq!(s.counts.principals_missing, 2);
        let arns: Vec<&str> = s.missing.iter().map(|m| m.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::123456789012:role/b",
                "arn:aws:iam::123456789012:user/c"
            ]
        );
        assert_eq!(s.missing[0].error.as_deref(), Some("StorageError"));
        assert!(s.missing[0].reason.contains("PutObject: AccessDenied"));
    }

    #[test]
    fn a_batch_without_a_record_still_says_so() {
        let failure = RunFailure {
            error: Some("States.DataLimitExceeded".into()),
            cause: Some("too big".into()),
        };
        let records = RunRecords {
            unreported: vec![batch(0, &["arn:aws:iam::123456789012:role/a"])],
            map_failure: Some(failure.clone()),
            ..RunRecords::default()
        };
        let s = summarize(plan(1, 1), records, closing(50.0));
        assert_eq!(s.status, RunStatus::Incomplete);
        assert_eq!(s.failure, Some(failure));
        assert!(s.missing[0].reason.contains("States.DataLimitExceeded"));
    }

    #[test]
    fn more_than_the_allowed_share_failed_is_a_failed_run() {
        let results = vec![BatchResult {
            index: 0,
            principals: vec![
                outcome("a", JobStatus::Failed, 0),
                outcome("b", JobStatus::Failed, 0),
                outcome("c", JobStatus::Completed, 0),
            ],
        }];
        let records = RunRecords {
            results,
            ..RunRecords::default()
        };
        let s = summarize(plan(3, 1), records.clone(), closing(50.0));
        assert_eq!(s.status, RunStatus::Failed);
        let s = summarize(plan(3, 1), records, closing(70.0));
        assert_eq!(s.status, RunStatus::Succeeded);
    }

    #[test]
    fn the_failed_share_is_strictly_more_than_the_limit() {
        assert!(!too_many_failed(1, 2, 50.0));
        assert!(too_many_failed(2, 3, 50.0));
        assert!(!too_many_failed(0, 0, 0.0));
        assert!(too_many_failed(1, 100, 0.0));
        assert!(!too_many_failed(100, 100, 100.0));
    }

    #[test]
    fn statuses_read_as_in_the_schema() {
        let text = serde_json::to_string(&[
            RunStatus::Succeeded,
            RunStatus::Incomplete,
            RunStatus::Failed,
        ])
        .unwrap();
        assert_eq!(text, r#"["SUCCEEDED","INCOMPLETE","FAILED"]"#);
    }
}
