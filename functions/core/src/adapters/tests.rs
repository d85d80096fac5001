//! Adapter tests: the real aws-sdk-iam client, its HTTP answered by aws-smithy-mocks.

use super::iam::{AccessAdvisor, Generated, JobRead, MAX_NAMESPACES_PER_CALL};
use crate::arn::PrincipalArn;
use crate::error::Error;
use crate::input::Granularity;
use crate::model::JobStatus;
use crate::pacing::Pacer;
use aws_sdk_iam::operation::generate_service_last_accessed_details::GenerateServiceLastAccessedDetailsOutput;
use aws_sdk_iam::operation::get_service_last_accessed_details::GetServiceLastAccessedDetailsOutput;
use aws_sdk_iam::operation::list_policies_granting_service_access::ListPoliciesGrantingServiceAccessOutput;
use aws_sdk_iam::types::{
    ErrorDetails, JobStatusType, ListPoliciesGrantingServiceAccessEntry,
    PolicyGrantingServiceAccess, PolicyType, ServiceLastAccessed, TrackedActionLastAccessed,
};
use aws_sdk_iam::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::DateTime;
use std::sync::Arc;
use std::time::Duration;

const THROTTLED: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
const NO_SUCH_ENTITY: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name gone cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;

fn advisor(rules: &[&Rule], attempts: u32) -> AccessAdvisor {
    let iam = mock_client!(aws_sdk_iam, RuleMode::Sequential, rules, |c| c
        .retry_config(
            aws_sdk_iam::config::retry::RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2))
        ));
    AccessAdvisor::new(iam, Arc::new(Pacer::new(1000.0, 1000)))
}

fn role() -> PrincipalArn {
    PrincipalArn::parse("arn:aws:iam::123456789012:role/app").unwrap()
}

fn page(
    status: JobStatusType,
    services: Vec<ServiceLastAccessed>,
    marker: Option<&str>,
) -> GetServiceLastAccessedDetailsOutput {
    GetServiceLastAccessedDetailsOutput::builder()
        .job_status(status)
        .job_creation_date(DateTime::from_secs(1_764_000_000))
        .job_completion_date(DateTime::from_secs(1_764_000_005))
        .set_services_last_accessed(Some(services))
        .is_truncated(marker.is_some())
        .set_marker(marker.map(str::to_string))
        .build()
        .unwrap()
}

fn service(ns: &str, used: bool) -> ServiceLastAccessed {
    let b = ServiceLastAccessed::builder()
        .service_name(format!("Service {ns}"))
        .service_namespace(ns);
    let b = if used {
        b.last_authenticated(DateTime::from_secs(1_763_000_000))
            .last_authenticated_entity("arn:aws:iam::123456789012:role/app")
            .last_authenticated_region("eu-west-1")
            .total_authenticated_entities(1)
    } else {
        b.total_authenticated_entities(0)
    };
    b.build().unwrap()
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_nothing_is_lost() {
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(2)
        .output(|| {
            GenerateServiceLastAccessedDetailsOutput::builder()
                .job_id("job-1")
                .build()
        })
        .build();
    let advisor = advisor(&[&rule], 3);
    assert_eq!(
        advisor
            .generate(&role(), Granularity::ServiceLevel)
            .await
            .unwrap(),
        Generated::Job("job-1".into())
    );
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn throttling_beyond_the_retries_is_our_throttled_error() {
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(2)
        .build();
    let err = advisor(&[&rule], 2)
        .generate(&role(), Granularity::ActionLevel)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Throttled(_)), "{err:?}");
    assert_eq!(err.name(), "Throttled");
}

#[tokio::test]
async fn a_vanished_principal_is_an_outcome_not_a_failure() {
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(404, Some(NO_SUCH_ENTITY.into()))
        .build();
    match advisor(&[&rule], 1)
        .generate(&role(), Granularity::ServiceLevel)
        .await
        .unwrap()
    {
        Generated::Refused { status, error } => {
            assert_eq!(status, JobStatus::NotFound);
            assert_eq!(error.code, "NoSuchEntity");
            assert_eq!(
                error.message, "The role with name gone cannot be found.",
                "IAM's message, not the SDK's whole context"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_principal_iam_refuses_is_failed_and_access_denied_stays_an_error() {
    const INVALID: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>InvalidInput</Code><Message>ARN arn:aws:iam::aws:policy/X is not valid.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    const DENIED: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(400, Some(INVALID.into()))
        .http_status(403, Some(DENIED.into()))
        .build();
    let advisor = advisor(&[&rule], 1);
    match advisor
        .generate(&role(), Granularity::ServiceLevel)
        .await
        .unwrap()
    {
        Generated::Refused { status, error } => assert_eq!(
            (status, error.code.as_str()),
            (JobStatus::Failed, "InvalidInput")
        ),
        other => panic!("{other:?}"),
    }
    let err = advisor
        .generate(&role(), Granularity::ServiceLevel)
        .await
        .unwrap_err();
    assert_eq!(
        err.name(),
        "AccessDenied",
        "a reader role that may not read is the scan's problem: {err}"
    );
}

#[tokio::test]
async fn a_read_sees_in_progress_then_completed_then_failed() {
    let rule = mock!(Client::get_service_last_accessed_details)
        .match_requests(|r| r.max_items() == Some(1000) && r.job_id() == Some("job-1"))
        .sequence()
        .output(|| page(JobStatusType::InProgress, vec![], None))
        .output(|| page(JobStatusType::Completed, vec![service("s3", true)], None))
        .output(|| {
            let mut p = page(JobStatusType::Failed, vec![], None);
            p.error = Some(
                ErrorDetails::builder()
                    .code("Internal")
                    .message("job failed")
                    .build()
                    .unwrap(),
            );
            p
        })
        .build();
    let advisor = advisor(&[&rule], 1);
    assert_eq!(advisor.read("job-1").await.unwrap(), JobRead::InProgress);
    match advisor.read("job-1").await.unwrap() {
        JobRead::Finished { status, details } => {
            assert_eq!(status, JobStatus::Completed);
            assert_eq!(
                details.services[0].namespace, "s3",
                "the poll that finds it done is its read"
            );
        }
        other => panic!("{other:?}"),
    }
    match advisor.read("job-1").await.unwrap() {
        JobRead::Finished { status, details } => {
            assert_eq!(status, JobStatus::Failed);
            assert_eq!(details.error.unwrap().message, "job failed");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rule.num_calls(), 3, "one call per read");
}

#[tokio::test]
async fn details_follow_the_marker_over_every_page_and_keep_every_field() {
    let first = mock!(Client::get_service_last_accessed_details)
        .match_requests(|r| r.marker().is_none() && r.max_items() == Some(1000))
        .then_output(|| {
            page(
                JobStatusType::Completed,
                vec![service("ec2", false), service("s3", true)],
                Some("m1"),
            )
        });
    let second = mock!(Client::get_service_last_accessed_details)
        .match_requests(|r| r.marker() == Some("m1"))
        .then_output(|| {
            let tracked = ServiceLastAccessed::builder()
                .service_name("AWS Identity and Access Management")
                .service_namespace("iam")
                .tracked_actions_last_accessed(
                    TrackedActionLastAccessed::builder()
                        .action_name("ListRoles")
                        .last_accessed_time(DateTime::from_secs(1_763_000_000))
                        .last_accessed_region("us-east-1")
                        .build(),
                )
                .build()
                .unwrap();
            page(JobStatusType::Completed, vec![tracked], None)
        });
    let JobRead::Finished { details, .. } =
        advisor(&[&first, &second], 1).read("job-1").await.unwrap()
    else {
        panic!("a completed job")
    };
    let namespaces: Vec<&str> = details
        .services
        .iter()
        .map(|s| s.namespace.as_str())
        .collect();
    assert_eq!(namespaces, ["ec2", "s3", "iam"]);
    let s3 = &details.services[1];
    assert_eq!(
        s3.last_authenticated.as_deref(),
        Some("2025-11-13T02:13:20Z")
    );
    assert_eq!(
        (
            s3.last_authenticated_region.as_deref(),
            s3.total_authenticated_entities
        ),
        (Some("eu-west-1"), Some(1))
    );
    assert!(
        details.services[0].tracked_actions.is_none(),
        "no tracking stays distinguishable from no actions"
    );
    let actions = details.services[2].tracked_actions.as_ref().unwrap();
    assert_eq!(actions[0].action_name.as_deref(), Some("ListRoles"));
    assert_eq!(details.created.as_deref(), Some("2025-11-24T16:00:00Z"));
    assert_eq!(details.completed.as_deref(), Some("2025-11-24T16:00:05Z"));
}

#[tokio::test]
async fn a_marker_that_never_ends_is_stopped() {
    let endless = mock!(Client::get_service_last_accessed_details)
        .sequence()
        .output(|| {
            page(
                JobStatusType::Completed,
                vec![service("s3", false)],
                Some("again"),
            )
        })
        .repeatedly()
        .build();
    let err = advisor(&[&endless], 1).read("job-1").await.unwrap_err();
    assert!(err.to_string().contains("more than 100 pages"), "{err}");
}

#[tokio::test]
async fn granting_policies_are_asked_at_most_200_namespaces_at_a_time() {
    let namespaces: Vec<String> = (0..250).map(|i| format!("svc{i:03}")).collect();
    let rule = mock!(Client::list_policies_granting_service_access)
        .match_requests(|r| r.service_namespaces().len() <= MAX_NAMESPACES_PER_CALL)
        .sequence()
        .output(|| {
            ListPoliciesGrantingServiceAccessOutput::builder()
                .policies_granting_service_access(
                    ListPoliciesGrantingServiceAccessEntry::builder()
                        .service_namespace("svc000")
                        .policies(
                            PolicyGrantingServiceAccess::builder()
                                .policy_name("inline")
                                .policy_type(PolicyType::Inline)
                                .entity_type(aws_sdk_iam::types::PolicyOwnerEntityType::Role)
                                .entity_name("app")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .is_truncated(false)
                .build()
                .unwrap()
        })
        .output(|| {
            ListPoliciesGrantingServiceAccessOutput::builder()
                .set_policies_granting_service_access(Some(vec![]))
                .is_truncated(false)
                .build()
                .unwrap()
        })
        .build();
    let found = advisor(&[&rule], 1)
        .granting_policies(&role(), &namespaces)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 2);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (
            found[0].0.as_str(),
            found[0].1[0].policy_type.as_str(),
            found[0].1[0].entity_name.as_deref()
        ),
        ("svc000", "INLINE", Some("app"))
    );
}
