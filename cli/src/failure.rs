//! Exit codes, and failures told as sentences: what went wrong, the AWS error code and
//! message when AWS said no, and what to do.

use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use last_accessed::domain::summary::{RunStatus, RunSummary};
use last_accessed::error::StoreError;
use std::fmt::Debug;

/// The exit codes `ila --help` and docs/cli.md document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// The run failed or is incomplete, or what was asked about does not exist.
    Failed = 1,
    /// A bad flag or argument (clap's own errors exit 2 too).
    Usage = 2,
    /// A missing setting, or AWS refused or could not be reached.
    Aws = 3,
}

#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

/// An error and its sources, each by its Display, ": "-joined (never Debug).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// What AWS said about a failed call: its error code and message, or why the call got no
/// answer at all.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: Option<String>,
    /// Set when no service answered (connection refused, timeout, bad response).
    pub transport: Option<String>,
}

impl AwsError {
    pub fn from_sdk<E, R>(operation: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug + Send + Sync + 'static,
    {
        match err {
            SdkError::ServiceError(_) => AwsError {
                operation,
                code: err.code().map(str::to_string),
                message: err.message().map(str::to_string),
                transport: None,
            },
            other => AwsError {
                operation,
                code: None,
                message: None,
                transport: Some(chain(other)),
            },
        }
    }

    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// "StartExecution failed: ExecutionAlreadyExists: Execution Already Exists: '…'".
    pub fn what(&self) -> String {
        match (&self.transport, &self.code, &self.message) {
            (Some(why), _, _) => format!("{} got no answer from AWS: {why}", self.operation),
            (None, Some(code), Some(message)) => {
                format!(
                    "{} failed: {code}: {}",
                    self.operation,
                    message.trim_end_matches('.')
                )
            }
            (None, Some(code), None) => format!("{} failed: {code}", self.operation),
            (None, None, _) => format!("{} failed without an error code", self.operation),
        }
    }

    /// The failure with the advice that fits the error's code (exit 3).
    pub fn failure(self) -> Failure {
        let advice = match self.code() {
            _ if self.transport.is_some() => {
                "Check the network, AWS_ENDPOINT_URL (for the local stack: `source .local/env`) and AWS_REGION."
            }
            "AccessDenied" | "AccessDeniedException" => {
                "Your credentials lack this permission: use a role or user that has it."
            }
            "UnrecognizedClientException" | "InvalidSignatureException" | "InvalidClientTokenId" | "InvalidAccessKeyId"
            | "ExpiredToken" | "ExpiredTokenException" | "SignatureDoesNotMatch" => {
                "Check your AWS credentials (AWS_PROFILE, or refresh the session)."
            }
            "StateMachineDoesNotExist" | "InvalidArn" => {
                "Check --state-machine or STATE_MACHINE_ARN (the stack output StateMachineArn)."
            }
            "NoSuchBucket" => "Check --bucket or REPORT_BUCKET (the stack output ReportBucketName).",
            "ThrottlingException" | "Throttling" | "SlowDown" => "AWS is throttling: try again in a minute.",
            _ => "See the AWS error above; `ila --help` lists the settings.",
        };
        Failure::new(Exit::Aws, format!("{}. {advice}", self.what()))
    }
}

/// Any SDK error as a sentence with advice (exit 3).
pub fn aws<E, R>(operation: &'static str, err: SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    AwsError::from_sdk(operation, &err).failure()
}

/// A report-bucket failure: S3's code and message when S3 answered.
pub fn store(err: StoreError) -> Failure {
    use aws_sdk_s3::operation::{get_object::GetObjectError, list_objects_v2::ListObjectsV2Error};
    type S3Error<E> = aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>;
    if let StoreError::Request {
        operation,
        bucket,
        key,
        source,
    } = &err
    {
        let sdk = if let Some(e) = source.downcast_ref::<S3Error<GetObjectError>>() {
            Some(AwsError::from_sdk(operation, e))
        } else {
            source
                .downcast_ref::<S3Error<ListObjectsV2Error>>()
                .map(|e| AwsError::from_sdk(operation, e))
        };
        if let Some(mut sdk) = sdk {
            sdk.operation = operation;
            let failure = sdk.failure();
            return Failure::new(
                failure.exit,
                format!("s3://{bucket}/{key}: {}", failure.message),
            );
        }
    }
    Failure::new(Exit::Aws, err.to_string())
}

/// A setting from its flag (clap reads the environment variable into it too).
pub fn setting<'a>(value: &'a Option<String>, flag: &str, env: &str) -> Result<&'a str> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        Failure::new(
            Exit::Aws,
            format!(
                "no {flag} given: pass {flag} or set {env} (the stack's outputs; `source .local/env` for the local stack)"
            ),
        )
    })
}

impl Exit {
    /// 0 for a SUCCEEDED run, 1 otherwise.
    pub fn of_summary(s: &RunSummary) -> Exit {
        if s.status == RunStatus::Succeeded {
            Exit::Success
        } else {
            Exit::Failed
        }
    }
}
