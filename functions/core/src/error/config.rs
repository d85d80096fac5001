//! The function's environment is incomplete or wrong.

use crate::domain::arn::ArnError;
use std::sync::Arc;

/// What is wrong with one environment variable: its name and why. Reported, as
/// `ConfigError`, by every invocation of a function that could not start; so it is
/// `Clone`, its sources shared rather than re-formatted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    /// A variable the function needs is not set (or blank).
    #[error("configuration error: {name} is not set: {why}")]
    Unset {
        name: &'static str,
        why: &'static str,
    },
    /// A variable that should hold a number does not.
    #[error("configuration error: {name}={text:?} is not a valid number")]
    NotANumber {
        name: &'static str,
        text: String,
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A number outside what the variable allows.
    #[error("configuration error: {name} {why}")]
    OutOfRange {
        name: &'static str,
        why: &'static str,
    },
    /// A variable that should hold an IAM ARN does not.
    #[error("configuration error: {name}={text:?}: {source}")]
    Arn {
        name: &'static str,
        text: String,
        #[source]
        source: ArnError,
    },
}

impl ConfigError {
    /// The variable the error is about.
    pub fn variable(&self) -> &'static str {
        match self {
            ConfigError::Unset { name, .. }
            | ConfigError::NotANumber { name, .. }
            | ConfigError::OutOfRange { name, .. }
            | ConfigError::Arn { name, .. } => name,
        }
    }
}
