//! The run's bookkeeping: what Plan decided, what each batch produced, and the
//! summary written last (so a reader who sees it sees a complete run).

use crate::arn::PrincipalType;
use crate::input::{Discovery, Granularity, PollOptions, ReportOptions};
use crate::model::{JobError, JobStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SUMMARY_SCHEMA_VERSION: &str = "1.0.0";
const TOP_PRINCIPALS: usize = 20;

/// Written by Plan under the run's work prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub granularity: Granularity,
    pub batch_size: u32,
    pub max_concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_requests_per_second: Option<f64>,
    pub poll: PollOptions,
    pub report: ReportOptions,
    pub explicit_arns: u32,
    pub discover: Option<Discovery>,
    pub principals: u32,
    pub batches: u32,
}

/// One principal's outcome, as Write saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalOutcome {
    pub arn: String,
    #[serde(rename = "type")]
    pub principal_type: PrincipalType,
    pub status: JobStatus,
    pub report_key: String,
    pub services_granted: u32,
    pub services_used: u32,
    /// Unused for the threshold or never used.
    pub services_unused: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// Written by Write for each batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    pub index: u32,
    pub principals: Vec<PrincipalOutcome>,
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
    pub by_status: BTreeMap<String, u32>,
    pub by_type: BTreeMap<String, u32>,
    pub services_granted: u64,
    pub services_used: u64,
    pub services_unused: u64,
    pub batches_planned: u32,
    pub batches_reported: u32,
}

/// Why the batches' Map failed, as Step Functions reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// The run summary (`reports/runs/dt=…/run=…/summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema_version: String,
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_seconds: i64,
    /// `SUCCEEDED` when every planned principal has a report, else `INCOMPLETE`.
    pub status: String,
    pub parameters: PlanRecord,
    pub counts: Counts,
    pub top_unused: Vec<TopPrincipal>,
    pub errors: Vec<PrincipalError>,
    /// Set when a batch failed beyond its retries (the run then ends `IncompleteRun`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<RunFailure>,
    pub reports_prefix: String,
    pub report_keys: Vec<String>,
}

/// Folds the batch results into the summary.
pub fn summarize(
    plan: PlanRecord,
    mut results: Vec<BatchResult>,
    finished_at: String,
    duration_seconds: i64,
    reports_prefix: String,
    failure: Option<RunFailure>,
) -> RunSummary {
    results.sort_by_key(|r| r.index);
    let mut counts = Counts {
        principals_planned: plan.principals,
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
    let complete =
        counts.reports_written == plan.principals && counts.batches_reported == plan.batches;
    RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION.to_string(),
        run_id: plan.run_id.clone(),
        dt: plan.dt.clone(),
        started_at: plan.started_at.clone(),
        finished_at,
        duration_seconds,
        status: if complete { "SUCCEEDED" } else { "INCOMPLETE" }.to_string(),
        parameters: plan,
        counts,
        top_unused: top,
        errors,
        failure,
        reports_prefix,
        report_keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let s = summarize(
            plan(3, 2),
            results,
            "2026-11-25T00:01:00Z".into(),
            60,
            "p/".into(),
            None,
        );
        assert_eq!(s.status, "SUCCEEDED");
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
        assert_eq!(s.report_keys, ["k/a", "k/b", "k/c"]);
    }

    #[test]
    fn a_missing_batch_makes_the_run_incomplete() {
        let results = vec![BatchResult {
            index: 0,
            principals: vec![outcome("a", JobStatus::Completed, 0)],
        }];
        let failure = RunFailure {
            error: Some("AccessDenied".into()),
            cause: Some("no".into()),
        };
        let s = summarize(
            plan(2, 2),
            results,
            "t".into(),
            1,
            "p/".into(),
            Some(failure.clone()),
        );
        assert_eq!(s.status, "INCOMPLETE");
        assert_eq!(s.failure, Some(failure));
    }
}
