//! Named errors. Every error that leaves a Lambda carries a stable `errorType`
//! (see [`Error::name`]) so the state machine's Retry/Catch match our names,
//! never Rust type names.

use lambda_runtime::Diagnostic;

/// Errors of the scan, one variant per way a run can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run input (or an event built from it) is not acceptable. The message names the field.
    #[error("{0}")]
    InvalidInput(String),
    /// IAM kept throttling after the SDK's retries; Step Functions retries the task.
    #[error("IAM throttled the request after retries: {0}")]
    Throttled(String),
    /// The reader role may not do what the scan needs.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// Any other IAM failure.
    #[error("IAM call failed: {0}")]
    Iam(String),
    /// S3 failed to read or write a report or a run file.
    #[error("S3 call failed: {0}")]
    Storage(String),
    /// The function's environment is incomplete or wrong.
    #[error("configuration error: {0}")]
    Config(String),
    /// The run ended without a report for every planned principal (the summary says which).
    #[error("run incomplete: {0}")]
    Incomplete(String),
    /// More than the allowed share of the run's principals ended FAILED: systemic.
    #[error("too many principals failed: {0}")]
    TooManyFailures(String),
}

impl Error {
    /// The stable name Step Functions sees as the task's `Error`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "InvalidInput",
            Error::Throttled(_) => "Throttled",
            Error::AccessDenied(_) => "AccessDenied",
            Error::Iam(_) => "IamError",
            Error::Storage(_) => "StorageError",
            Error::Config(_) => "ConfigError",
            Error::Incomplete(_) => "IncompleteRun",
            Error::TooManyFailures(_) => "TooManyFailures",
        }
    }

    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Error::InvalidInput(format!("{field}: {why}"))
    }
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Diagnostic {
        Diagnostic {
            error_type: error.name().to_string(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_carry_our_names_not_rust_type_names() {
        let cases = [
            (
                Error::invalid("arns[0]", "bad"),
                "InvalidInput",
                "arns[0]: bad",
            ),
            (
                Error::Throttled("x".into()),
                "Throttled",
                "IAM throttled the request after retries: x",
            ),
            (
                Error::AccessDenied("x".into()),
                "AccessDenied",
                "access denied: x",
            ),
            (Error::Iam("x".into()), "IamError", "IAM call failed: x"),
            (
                Error::Storage("x".into()),
                "StorageError",
                "S3 call failed: x",
            ),
            (
                Error::Config("x".into()),
                "ConfigError",
                "configuration error: x",
            ),
            (
                Error::Incomplete("x".into()),
                "IncompleteRun",
                "run incomplete: x",
            ),
            (
                Error::TooManyFailures("x".into()),
                "TooManyFailures",
                "too many principals failed: x",
            ),
        ];
        for (error, name, message) in cases {
            let diagnostic: Diagnostic = error.into();
            assert_eq!(diagnostic.error_type, name);
            assert_eq!(diagnostic.error_message, message);
        }
    }
}
