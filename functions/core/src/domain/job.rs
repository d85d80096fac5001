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
