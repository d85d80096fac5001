//! The run's work files under `work/run=…/`: what Plan decided, what each batch produced
//! or why it failed. Written by the Lambdas, read back by Summarize.

use crate::arn::PrincipalType;
use crate::input::{Discovery, Granularity, PollOptions, ReportOptions};
use crate::model::{JobError, JobStatus};
use crate::selection::Skipped;
use serde::{Deserialize, Serialize};

/// Written by Plan under the run's work prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub granularity: Granularity,
    /// The batch size used: the requested one, or smaller to fit one invocation's budget.
    pub batch_size: u32,
    #[serde(default)]
    pub batch_size_requested: u32,
    pub max_concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_requests_per_second: Option<f64>,
    pub poll: PollOptions,
    pub report: ReportOptions,
    pub explicit_arns: u32,
    pub discover: Option<Discovery>,
    pub principals: u32,
    pub batches: u32,
    /// Principals discovery listed but skipped (gone before their tags were read, or an
    /// ARN IAM accepts and this scanner can't parse), each with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
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

/// Why the batches' Map failed, as Step Functions reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// A batch that failed beyond its retries, as the child's Catch saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFailure {
    pub index: u32,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// A Step Functions error and cause, as one phrase: `Error: Cause`.
pub fn what_failed(error: Option<&str>, cause: Option<&str>) -> String {
    format!("{}: {}", error.unwrap_or("an error"), cause.unwrap_or(""))
}
