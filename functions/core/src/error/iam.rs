//! IAM refused, throttled or failed a call, or answered against its own protocol.

use crate::domain::job::{JobError, JobStatus};
use crate::error::{BoxError, PageError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// One IAM call that failed: the operation, and the SDK's error kept whole as the
/// source. The Display carries the SDK's whole chain (`DisplayErrorContext`): Step
/// Functions sees only the message.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {}", DisplayErrorContext(.source.as_ref()))]
pub struct IamCall {
    pub operation: String,
    #[source]
    pub source: BoxError,
}

impl IamCall {
    pub fn new(operation: impl Into<String>, source: impl Into<BoxError>) -> Self {
        IamCall {
            operation: operation.into(),
            source: source.into(),
        }
    }
}

/// What went wrong with IAM.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// IAM kept throttling after the SDK's retries; Step Functions retries the task.
    #[error("IAM throttled the request after retries: {0}")]
    Throttled(#[source] IamCall),
    /// The reader role may not do what the scan needs.
    #[error("access denied: {0}")]
    AccessDenied(#[source] IamCall),
    /// Any other error IAM answered.
    #[error("IAM call failed: {0}")]
    Service(#[source] IamCall),
    /// A paginated answer broke the pagination protocol.
    #[error("IAM call failed: {0}")]
    Paging(#[from] PageError),
    /// A job status this code does not know.
    #[error("IAM call failed: IAM returned an unknown job status {status:?}")]
    UnknownJobStatus { status: String },
    /// GenerateServiceLastAccessedDetails succeeded without a JobId.
    #[error("IAM call failed: GenerateServiceLastAccessedDetails returned no JobId")]
    EmptyJobId,
    /// A job Check saw finished reads as running again (Write's read of it from IAM).
    #[error("IAM call failed: job {job_id} of {arn} is IN_PROGRESS again")]
    JobInProgressAgain { job_id: String, arn: String },
    /// The preflight: IAM refused a job on the reader role itself. `AccessDenied` when
    /// the refusal is a denial, else `IamError`.
    #[error(
        "{}: the reader role may not start access-advisor jobs: \
         iam:GenerateServiceLastAccessedDetails on {reader} was refused ({}, {}): {}",
        if *.status == JobStatus::Denied { "access denied" } else { "IAM call failed" },
        .status.as_str(),
        .error.code,
        .error.message
    )]
    ReaderRefused {
        reader: String,
        status: JobStatus,
        error: JobError,
    },
    /// GenerateCredentialReport never said COMPLETE.
    #[error("IAM call failed: GenerateCredentialReport was not COMPLETE after {seconds} s")]
    ReportNotReady { seconds: u32 },
    /// The preflight: the reader role may not read the job it just created.
    #[error(
        "access denied: the reader role may not read access-advisor jobs: \
         iam:GetServiceLastAccessedDetails: {0}"
    )]
    ReaderMayNotRead(#[source] IamCall),
    /// The preflight: IAM refused the reader the job it had just created, in the same
    /// STS session (NoSuchEntity or InvalidInput).
    #[error(
        "access denied: the reader role may not read the access-advisor job it just \
         created, in the same session: iam:GetServiceLastAccessedDetails of job {job_id} \
         answered {}: {}",
        .error.code,
        .error.message
    )]
    ReaderLostItsJob { job_id: String, error: JobError },
    /// STS did not answer an AssumeRole of a member role (throttled, the network): not a
    /// refusal, so the step is retried (a refusal makes the account UNREACHABLE instead).
    #[error("could not assume {role} (not a refusal; retried): {why}")]
    AssumeRole { role: String, why: String },
}
