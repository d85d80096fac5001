//! What the adapters share: SDK errors mapped to ours by their codes, SDK times.

use crate::error::{IamCall, IamError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An SDK time as RFC 3339 UTC (whole seconds).
pub(crate) fn time(t: &aws_smithy_types::DateTime) -> Option<String> {
    let t = ::time::OffsetDateTime::from_unix_timestamp(t.secs()).ok()?;
    Some(crate::domain::clock::utc::format(t))
}

/// Maps an SDK error of an IAM call to our named errors by IAM's error code, keeping
/// the SDK's error as the source.
pub(crate) fn classify<E, R>(operation: &str, err: aws_sdk_iam::error::SdkError<E, R>) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let kind = match err.code() {
        Some(
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "SlowDown",
        ) => IamError::Throttled,
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
            IamError::AccessDenied
        }
        _ => IamError::Service,
    };
    kind(IamCall::new(operation, err))
}

/// Whom an `AccessDenied` answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    /// The call is about one principal and a refusal can be too: an SCP, a permissions
    /// boundary or a resource-scoped Deny may keep the reader from that principal only
    /// (GenerateServiceLastAccessedDetails). The principal's outcome is `DENIED`.
    OfPrincipal,
    /// A refusal means the reader role lacks what the scan needs (reading a job it
    /// created, listing): `IamError::AccessDenied`, an error of the whole batch.
    OfScan,
}

/// IAM's answer about one principal rather than about the scan: `NoSuchEntity` (the
/// principal is gone) and `InvalidInput` (IAM refuses this principal) become that
/// principal's outcome, with IAM's own code and message; so does `AccessDenied` when
/// `denial` is [`Denial::OfPrincipal`]. Anything else stays an error of the batch (and
/// is retried).
pub(crate) fn principal_outcome<E, R>(
    operation: &str,
    err: aws_sdk_iam::error::SdkError<E, R>,
    denial: Denial,
) -> Result<(crate::domain::job::JobStatus, crate::domain::job::JobError), IamError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use crate::domain::job::{JobError, JobStatus};
    let status = match (err.code(), denial) {
        (Some("NoSuchEntity"), _) => JobStatus::NotFound,
        (Some("InvalidInput"), _) => JobStatus::Failed,
        (Some("AccessDenied" | "AccessDeniedException"), Denial::OfPrincipal) => JobStatus::Denied,
        _ => return Err(classify(operation, err)),
    };
    let error = JobError {
        code: err.code().unwrap_or_default().to_string(),
        message: err.message().unwrap_or_default().to_string(),
    };
    Ok((status, error))
}
