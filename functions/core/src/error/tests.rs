//! Every variant of every concern: its stable name, and the shape of its message (what
//! Step Functions shows as the Cause).

use super::*;
use crate::domain::arn::PrincipalArn;
use crate::domain::job::{JobError, JobStatus};
use crate::domain::sfn::StepFunctionsError;
use std::error::Error as _;
use std::sync::Arc;

/// An SDK error with a chain (the SDK's own message, then its cause), as a failed
/// request gives one.
fn sdk_error() -> aws_sdk_iam::error::SdkError<
    aws_sdk_iam::operation::list_users::ListUsersError,
    aws_sdk_iam::config::http::HttpResponse,
> {
    aws_sdk_iam::error::SdkError::construction_failure(std::io::Error::other("no region"))
}

fn call() -> IamCall {
    IamCall::new("ListUsers", sdk_error())
}

fn serde_error() -> serde_json::Error {
    serde_json::from_str::<u32>("\"x\"").unwrap_err()
}

fn arn_error() -> crate::domain::arn::ArnError {
    PrincipalArn::parse("nope").unwrap_err()
}

fn paging(problem: PageProblem) -> PageError {
    PageError {
        operation: "ListRoles".into(),
        problem,
    }
}

/// How a message must look: exactly this, or starting with this and holding these.
enum Shape {
    Exactly(&'static str),
    StartsWith(&'static str, &'static [&'static str]),
}

fn every_variant() -> Vec<(Error, &'static str, Shape)> {
    use Shape::*;
    // The SDK's chain: its message, its cause, then its Debug (DisplayErrorContext).
    const CHAIN: &[&str] = &["failed to construct request: no region (ConstructionFailure"];
    let refused = |status| IamError::ReaderRefused {
        reader: "arn:aws:iam::123456789012:role/reader".into(),
        status,
        error: JobError {
            code: "AccessDenied".into(),
            message: "explicit deny".into(),
        },
    };
    let incomplete = |map_failure| {
        Error::from(RunError::Incomplete {
            reported: 2,
            planned: 3,
            batches_reported: 1,
            batches_planned: 2,
            missing: 1,
            accounts_not_scanned: Vec::new(),
            map_failure,
            summary_url: "s3://reports/summary.json".into(),
        })
    };
    vec![
        (
            InputError::invalid("report.max_entity_services", "one principal may need 100 IAM calls")
                .into(),
            "InvalidInput",
            Exactly("report.max_entity_services: one principal may need 100 IAM calls"),
        ),
        (
            InputError::Malformed {
                field: "batch_size".into(),
                source: serde_error(),
            }
            .into(),
            "InvalidInput",
            StartsWith("batch_size: invalid type: string \"x\"", &[]),
        ),
        (
            InputError::Arn {
                field: "arns[0]".into(),
                source: arn_error(),
            }
            .into(),
            "InvalidInput",
            StartsWith("arns[0]: \"nope\" is not an ARN", &[]),
        ),
        (
            IamError::Throttled(call()).into(),
            "Throttled",
            StartsWith("IAM throttled the request after retries: ListUsers: ", CHAIN),
        ),
        (
            IamError::AccessDenied(call()).into(),
            "AccessDenied",
            StartsWith("access denied: ListUsers: ", CHAIN),
        ),
        (
            IamError::Service(call()).into(),
            "IamError",
            StartsWith("IAM call failed: ListUsers: ", CHAIN),
        ),
        (
            IamError::from(paging(PageProblem::TruncatedWithoutMarker { marker: "Marker" }))
                .into(),
            "IamError",
            Exactly("IAM call failed: ListRoles: IsTruncated without a Marker"),
        ),
        (
            IamError::from(paging(PageProblem::TooManyPages { limit: 1000 })).into(),
            "IamError",
            Exactly("IAM call failed: ListRoles: more than 1000 pages"),
        ),
        (
            IamError::UnknownJobStatus {
                status: "PAUSED".into(),
            }
            .into(),
            "IamError",
            Exactly("IAM call failed: IAM returned an unknown job status \"PAUSED\""),
        ),
        (
            IamError::EmptyJobId.into(),
            "IamError",
            Exactly("IAM call failed: GenerateServiceLastAccessedDetails returned no JobId"),
        ),
        (
            IamError::JobInProgressAgain {
                job_id: "job-1".into(),
                arn: "arn:aws:iam::123456789012:role/a".into(),
            }
            .into(),
            "IamError",
            Exactly("IAM call failed: job job-1 of arn:aws:iam::123456789012:role/a is IN_PROGRESS again"),
        ),
        (
            refused(JobStatus::Denied).into(),
            "AccessDenied",
            Exactly(
                "access denied: the reader role may not start access-advisor jobs: \
                 iam:GenerateServiceLastAccessedDetails on arn:aws:iam::123456789012:role/reader \
                 was refused (DENIED, AccessDenied): explicit deny",
            ),
        ),
        (
            refused(JobStatus::Failed).into(),
            "IamError",
            StartsWith(
                "IAM call failed: the reader role may not start access-advisor jobs: \
                 iam:GenerateServiceLastAccessedDetails on ",
                &["(FAILED, AccessDenied)"],
            ),
        ),
        (
            IamError::ReaderMayNotRead(IamCall::new("GetServiceLastAccessedDetails", sdk_error()))
                .into(),
            "AccessDenied",
            StartsWith(
                "access denied: the reader role may not read access-advisor jobs: \
                 iam:GetServiceLastAccessedDetails: GetServiceLastAccessedDetails: ",
                CHAIN,
            ),
        ),
        (
            StoreError::Request {
                operation: "PutObject",
                bucket: "reports".into(),
                key: "a.json".into(),
                source: Box::new(sdk_error()),
            }
            .into(),
            "StorageError",
            StartsWith("S3 call failed: PutObject s3://reports/a.json: ", CHAIN),
        ),
        (
            StoreError::NoSuchKey {
                bucket: "reports".into(),
                key: "a.json".into(),
            }
            .into(),
            "StorageError",
            Exactly("S3 call failed: GetObject s3://reports/a.json: NoSuchKey"),
        ),
        (
            StoreError::Read {
                key: "a.json".into(),
                source: aws_smithy_types::byte_stream::error::Error::from(
                    std::io::Error::other("reset"),
                ),
            }
            .into(),
            "StorageError",
            StartsWith("S3 call failed: reading a.json: ", &[]),
        ),
        (
            StoreError::Encode {
                key: "a.json".into(),
                source: serde_error(),
            }
            .into(),
            "StorageError",
            StartsWith("S3 call failed: encoding a.json: invalid type", &[]),
        ),
        (
            StoreError::Decode {
                bucket: "reports".into(),
                key: "a.json".into(),
                source: serde_error(),
            }
            .into(),
            "StorageError",
            StartsWith("S3 call failed: decoding s3://reports/a.json: invalid type", &[]),
        ),
        (
            StoreError::from(PageError {
                operation: "ListObjectsV2 s3://reports/runs/".into(),
                problem: PageProblem::TruncatedWithoutMarker {
                    marker: "NextContinuationToken",
                },
            })
            .into(),
            "StorageError",
            Exactly(
                "S3 call failed: ListObjectsV2 s3://reports/runs/: IsTruncated without a \
                 NextContinuationToken",
            ),
        ),
        (
            ConfigError::Unset {
                name: "REPORT_BUCKET",
                why: "this function reads and writes the report bucket",
            }
            .into(),
            "ConfigError",
            Exactly(
                "configuration error: REPORT_BUCKET is not set: this function reads and \
                 writes the report bucket",
            ),
        ),
        (
            ConfigError::NotANumber {
                name: "BATCH_SIZE",
                text: "ten".into(),
                source: Arc::new("ten".parse::<u32>().unwrap_err()),
            }
            .into(),
            "ConfigError",
            Exactly("configuration error: BATCH_SIZE=\"ten\" is not a valid number"),
        ),
        (
            ConfigError::OutOfRange {
                name: "IAM_PAGE_SIZE",
                why: "must be 1 to 1000",
            }
            .into(),
            "ConfigError",
            Exactly("configuration error: IAM_PAGE_SIZE must be 1 to 1000"),
        ),
        (
            ConfigError::Arn {
                name: "READER_ROLE_ARN",
                text: "nope".into(),
                source: arn_error(),
            }
            .into(),
            "ConfigError",
            StartsWith(
                "configuration error: READER_ROLE_ARN=\"nope\": \"nope\" is not an ARN",
                &[],
            ),
        ),
        (
            incomplete(Some(StepFunctionsError {
                error: Some("States.ExceedToleratedFailureThreshold".into()),
                cause: Some("too many".into()),
            })),
            "IncompleteRun",
            Exactly(
                "run incomplete: 2 of 3 principals reported (1 of 2 batches; 1 principals \
                 without a report, named in the summary) after \
                 States.ExceedToleratedFailureThreshold: too many; see s3://reports/summary.json",
            ),
        ),
        (
            incomplete(None),
            "IncompleteRun",
            Exactly(
                "run incomplete: 2 of 3 principals reported (1 of 2 batches; 1 principals \
                 without a report, named in the summary); see s3://reports/summary.json",
            ),
        ),
        (
            RunError::TooManyFailures {
                failed: 2,
                planned: 3,
                max_failed_percent: 50.0,
                summary_url: "s3://reports/summary.json".into(),
            }
            .into(),
            "TooManyFailures",
            Exactly(
                "too many principals failed: 2 of 3 principals FAILED, more than the 50% \
                 allowed (MaxFailedPercent): a systemic failure, not N findings; see \
                 s3://reports/summary.json",
            ),
        ),
    ]
}

#[test]
fn every_variant_has_its_name_and_an_informative_message() {
    for (error, name, shape) in every_variant() {
        let diagnostic: lambda_runtime::Diagnostic = {
            assert_eq!(error.name(), name, "{error:?}");
            error.into()
        };
        assert_eq!(diagnostic.error_type, name);
        let message = diagnostic.error_message;
        match shape {
            Shape::Exactly(expected) => assert_eq!(message, expected),
            Shape::StartsWith(start, parts) => {
                assert!(message.starts_with(start), "{message:?} lacks {start:?}");
                for part in parts {
                    assert!(message.contains(part), "{message:?} lacks {part:?}");
                }
            }
        }
    }
}

#[test]
fn the_names_are_the_ones_the_state_machine_matches() {
    let mut names: Vec<_> = every_variant().iter().map(|(e, _, _)| e.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        [
            "AccessDenied",
            "ConfigError",
            "IamError",
            "IncompleteRun",
            "InvalidInput",
            "StorageError",
            "Throttled",
            "TooManyFailures",
        ]
    );
}

#[test]
fn sdk_and_serde_errors_stay_the_source() {
    let iam = Error::from(IamError::Service(call()));
    let call = iam.source().expect("the call");
    assert!(call
        .source()
        .expect("the SDK's error")
        .is::<aws_sdk_iam::error::SdkError<
            aws_sdk_iam::operation::list_users::ListUsersError,
            aws_sdk_iam::config::http::HttpResponse,
        >>());
    let decode = Error::from(StoreError::Decode {
        bucket: "b".into(),
        key: "k".into(),
        source: serde_error(),
    });
    assert!(decode.source().unwrap().is::<serde_json::Error>());
    let input = Error::from(InputError::Arn {
        field: "arns[0]".into(),
        source: arn_error(),
    });
    assert!(input.source().unwrap().is::<crate::domain::arn::ArnError>());
}

#[test]
fn a_config_error_replayed_by_every_invocation_is_prefixed_once() {
    // `serve` reports the error of a failed init as `Error::Config(e.clone())`.
    let init = ConfigError::OutOfRange {
        name: "IAM_MAX_ATTEMPTS",
        why: "must be at least 1",
    };
    for _ in 0..2 {
        let error = Error::Config(init.clone());
        assert_eq!(error.name(), "ConfigError");
        assert_eq!(
            error.to_string(),
            "configuration error: IAM_MAX_ATTEMPTS must be at least 1"
        );
    }
    assert_eq!(init.variable(), "IAM_MAX_ATTEMPTS");
}

#[test]
fn input_errors_name_their_field() {
    let cases = [
        InputError::invalid("discover.tags", "at most 50 tags"),
        InputError::Malformed {
            field: "discover.tags".into(),
            source: serde_error(),
        },
        InputError::Arn {
            field: "discover.tags".into(),
            source: arn_error(),
        },
    ];
    for error in cases {
        assert_eq!(error.field(), "discover.tags");
        assert!(error.to_string().starts_with("discover.tags: "), "{error}");
    }
}
