//! Named errors: one `thiserror` enum per concern, and [`Error`] over them.
//!
//! Every error that leaves a Lambda carries a stable `errorType` so the state machine's
//! Retry/Catch match our names, never Rust type names. [`Error::name`] is the one place
//! that decides them. The concerns:
//!
//! - [`InputError`]: the run input (or an event built from it), a field path and why;
//! - [`crate::domain::arn::ArnError`]: what is wrong with an ARN (the source of an input or a
//!   configuration error, which name the field or variable);
//! - [`IamError`]: IAM refused, throttled or failed a call (the SDK's error is the
//!   source), or answered against its own protocol;
//! - [`StoreError`]: the report bucket (S3's error, or serde_json's, is the source);
//! - [`ConfigError`]: the function's environment, a variable name and why;
//! - [`RunError`]: how a run ended when it did not succeed.
//!
//! Step Functions sees only the name and the Display text, so each Display says what
//! happened in full, including the SDK's error chain where there is one.

mod config;
mod iam;
mod paging;
mod store;

pub use crate::domain::input::InputError;
pub use crate::domain::summary::RunError;
pub use config::ConfigError;
pub use iam::{IamCall, IamError};
pub use paging::{PageError, PageProblem};
pub use store::StoreError;

/// An error source the SDK gives us as a generic type, kept whole behind a box.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way a run can go wrong, one variant per concern.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Iam(#[from] IamError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Run(#[from] RunError),
}

impl Error {
    /// The stable name Step Functions sees as the task's `Error`: a contract with the
    /// ASL's Retry/Catch (`statemachine/last-accessed.asl.json`) and the tests.
    pub fn name(&self) -> &'static str {
        use crate::domain::job::JobStatus;
        match self {
            Error::Input(_) => "InvalidInput",
            Error::Iam(e) => match e {
                IamError::Throttled(_) => "Throttled",
                IamError::AccessDenied(_)
                | IamError::ReaderMayNotRead(_)
                | IamError::ReaderLostItsJob { .. } => "AccessDenied",
                IamError::ReaderRefused { status, .. } if *status == JobStatus::Denied => {
                    "AccessDenied"
                }
                IamError::ReaderRefused { .. }
                | IamError::Service(_)
                | IamError::Paging(_)
                | IamError::UnknownJobStatus { .. }
                | IamError::EmptyJobId
                | IamError::ReportNotReady { .. }
                | IamError::JobInProgressAgain { .. }
                | IamError::AssumeRole { .. } => "IamError",
            },
            Error::Store(_) => "StorageError",
            Error::Config(_) => "ConfigError",
            Error::Run(RunError::Incomplete { .. }) => "IncompleteRun",
            Error::Run(RunError::TooManyFailures { .. }) => "TooManyFailures",
        }
    }

    /// An [`InputError`] naming `field`: the shorthand of the handlers' own checks.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Error::Input(InputError::invalid(field, why))
    }
}

#[cfg(feature = "lambda")]
impl From<Error> for lambda_runtime::Diagnostic {
    fn from(error: Error) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: error.name().to_string(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
