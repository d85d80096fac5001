//! The small handles the state machine carries between steps. Never report bodies:
//! Step Functions payloads are capped at 256 KiB.

use crate::arn::PrincipalArn;
use crate::input::{Granularity, PollOptions, ReportOptions};
use serde::{Deserialize, Serialize};

/// What every batch step needs to know about its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    /// The execution's name: unique per state machine, so report keys never collide across runs.
    pub run_id: String,
    /// The run's start date (UTC, `YYYY-MM-DD`): the `dt` partition of its reports.
    pub dt: String,
    pub started_at: String,
    pub granularity: Granularity,
    pub poll: PollOptions,
    pub report: ReportOptions,
    /// This run's per-Lambda IAM rate, when the run input set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_requests_per_second: Option<f64>,
    /// The previous completed run at this granularity (Plan finds it): Write compares
    /// each principal's report with its report there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<crate::history::RunRef>,
    /// The account this part of the run scans (Plan's account step sets it): every IAM
    /// call goes through its reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountScope>,
}

impl RunContext {
    /// The account this part of the run scans: `arn`'s own when the context names none
    /// (a context from before organization runs).
    pub fn account_of<'a>(&'a self, arn: &'a PrincipalArn) -> &'a str {
        self.account
            .as_ref()
            .map(|a| a.id.as_str())
            .unwrap_or_else(|| arn.account())
    }
}

/// One account of a run, and the role its IAM calls go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountScope {
    pub id: String,
    /// The member role to assume (fixed session name); `None`: the stack's own account,
    /// read through the stack's reader role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// One item of the Distributed Map: a batch of principals sharing one wait loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub index: u32,
    pub arns: Vec<PrincipalArn>,
}

/// The event of Generate: a batch and its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEvent {
    pub run: RunContext,
    pub batch: Batch,
}

/// Where one principal's IAM job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    InProgress,
    Completed,
    Failed,
    /// Still IN_PROGRESS when the poll limit was reached.
    TimedOut,
    /// The principal was gone (NoSuchEntity) when its job was to be created or read.
    NotFound,
    /// IAM refused the reader this principal (an SCP, a permissions boundary, a
    /// resource-scoped Deny): the report carries IAM's AccessDenied message.
    Denied,
}

impl JobStatus {
    /// The job finished and IAM's data is complete: the only status a report judges.
    pub fn is_completed(self) -> bool {
        self == JobStatus::Completed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
            JobStatus::TimedOut => "TIMED_OUT",
            JobStatus::NotFound => "NOT_FOUND",
            JobStatus::Denied => "DENIED",
        }
    }
}

/// An error IAM reported for a job or a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

/// One principal's job within a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub arn: PrincipalArn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// The state of a batch between Generate, Check and Write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchState {
    pub run: RunContext,
    pub index: u32,
    pub jobs: Vec<Job>,
    /// How many polls Check has done.
    pub attempt: u32,
    /// Jobs still IN_PROGRESS; the Choice loops while this is above zero.
    pub pending: u32,
    /// The next Wait's length, computed by Check (`SecondsPath`).
    pub wait_seconds: u32,
}

impl BatchState {
    pub fn count_pending(jobs: &[Job]) -> u32 {
        jobs.iter()
            .filter(|j| j.status == JobStatus::InProgress)
            .count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_status_serialises_as_iam_spells_it() {
        let text = serde_json::to_string(&[
            JobStatus::InProgress,
            JobStatus::TimedOut,
            JobStatus::NotFound,
        ])
        .unwrap();
        assert_eq!(text, r#"["IN_PROGRESS","TIMED_OUT","NOT_FOUND"]"#);
    }
}
