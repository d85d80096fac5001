//! The run input (or an event built from it) is not acceptable.

use crate::domain::arn::ArnError;

/// What is wrong with the input: the field (a path such as `arns[0]` or
/// `poll.max_attempts`) and why. The Display is always `"{field}: {why}"`.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A value breaks one of our rules (a range, a limit, a combination of fields).
    #[error("{field}: {why}")]
    Invalid { field: String, why: String },
    /// The JSON does not have the expected shape; serde_json says how.
    #[error("{field}: {source}")]
    Malformed {
        field: String,
        #[source]
        source: serde_json::Error,
    },
    /// An ARN we do not accept; the ARN error says why.
    #[error("{field}: {source}")]
    Arn {
        field: String,
        #[source]
        source: ArnError,
    },
}

impl InputError {
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        InputError::Invalid {
            field: field.to_string(),
            why: why.to_string(),
        }
    }

    /// A decoding failure: the field is `root` (`input`, `event`) when serde stopped at
    /// the top of the document, else `prefix` and the path inside it.
    pub fn malformed(
        root: &str,
        prefix: &str,
        error: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        let path = error.path().to_string();
        let field = if path == "." {
            root.to_string()
        } else {
            format!("{prefix}{path}")
        };
        InputError::Malformed {
            field,
            source: error.into_inner(),
        }
    }

    /// The field the error is about.
    pub fn field(&self) -> &str {
        match self {
            InputError::Invalid { field, .. }
            | InputError::Malformed { field, .. }
            | InputError::Arn { field, .. } => field,
        }
    }
}
