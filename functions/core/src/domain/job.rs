//! Where one principal's IAM job stands, and the errors IAM reports for it.

use serde::{Deserialize, Serialize};

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

/// How IAM binds a JobId to the caller that created it. IAM says a JobId "must be used
/// by the same role within a session" without saying whether that is the role and its
/// session name, or the STS session itself; the preflight finds out per account, by
/// reading its job again in another function's STS session (`docs/design.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobBinding {
    /// Any session of the reader role with its (fixed) session name may read the job:
    /// Generate creates it, Check polls it, Write reads its entities.
    RoleSessionName,
    /// Only the STS session (the access key) that created the job may read it: Generate
    /// reads each of its jobs in full in the invocation that created it.
    Session,
}

impl JobBinding {
    pub fn as_str(self) -> &'static str {
        match self {
            JobBinding::RoleSessionName => "role_session_name",
            JobBinding::Session => "session",
        }
    }
}

/// What a run's (or an account's) preflight found, carried in the run's context to its
/// batches: the state machine puts Generate's job at `run.preflight`, then what
/// Check's second read of it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preflight {
    pub job_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_binding: Option<JobBinding>,
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

    #[test]
    fn job_binding_serialises_as_the_summary_names_it() {
        let text =
            serde_json::to_string(&[JobBinding::RoleSessionName, JobBinding::Session]).unwrap();
        assert_eq!(text, r#"["role_session_name","session"]"#);
        assert_eq!(JobBinding::Session.as_str(), "session");
    }
}
