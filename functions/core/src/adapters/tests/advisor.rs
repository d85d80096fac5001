//! The access advisor: generate, read (poll), entities, granting policies.

use crate::adapters::iam::{Generated, JobRead, MAX_NAMESPACES_PER_CALL, MAX_PAGES};
use crate::adapters::tests::{
    advisor, advisor_any, denied, failure, iam_error, marker_after, page_of, role, throttled,
};
use crate::domain::input::Granularity;
use crate::domain::job::JobStatus;
use aws_sdk_iam::operation::generate_service_last_accessed_details::GenerateServiceLastAccessedDetailsOutput;
use aws_sdk_iam::operation::get_service_last_accessed_details::GetServiceLastAccessedDetailsOutput;
use aws_sdk_iam::operation::get_service_last_accessed_details_with_entities::GetServiceLastAccessedDetailsWithEntitiesOutput;
use aws_sdk_iam::operation::list_policies_granting_service_access::ListPoliciesGrantingServiceAccessOutput;
use aws_sdk_iam::types::{
    EntityDetails, EntityInfo, ErrorDetails, JobStatusType, ListPoliciesGrantingServiceAccessEntry,
    PolicyGrantingServiceAccess, PolicyOwnerEntityType, PolicyType, ServiceLastAccessed,
    TrackedActionLastAccessed,
};
use aws_sdk_iam::Client;
use aws_smithy_mocks::mock;
use aws_smithy_types::DateTime;

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
        .http_status(400, Some(throttled()))
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
        .http_status(400, Some(throttled()))
        .times(2)
        .build();
    let err = failure(
        advisor(&[&rule], 2)
            .generate(&role(), Granularity::ActionLevel)
            .await,
    );
    assert_eq!(err.name(), "Throttled");
}

#[tokio::test]
async fn a_vanished_principal_is_an_outcome_not_a_failure() {
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(
            404,
            Some(iam_error(
                "NoSuchEntity",
                "The role with name gone cannot be found.",
            )),
        )
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
async fn a_principal_iam_refuses_is_failed() {
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(
            400,
            Some(iam_error(
                "InvalidInput",
                "ARN arn:aws:iam::aws:policy/X is not valid.",
            )),
        )
        .build();
    match advisor(&[&rule], 1)
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
}

#[tokio::test]
async fn generate_denied_for_one_principal_is_its_denied_outcome() {
    for code in ["AccessDenied", "AccessDeniedException"] {
        let rule = mock!(Client::generate_service_last_accessed_details)
            .sequence()
            .http_status(403, Some(iam_error(code, "explicit deny in an SCP")))
            .build();
        match advisor(&[&rule], 1)
            .generate(&role(), Granularity::ServiceLevel)
            .await
            .unwrap()
        {
            Generated::Refused { status, error } => {
                assert_eq!(status, JobStatus::Denied);
                assert_eq!(error.code, code, "IAM's code");
                assert_eq!(error.message, "explicit deny in an SCP", "IAM's message");
            }
            other => panic!("{other:?}"),
        }
    }
    let rule = mock!(Client::generate_service_last_accessed_details)
        .sequence()
        .http_status(403, Some(denied()))
        .build();
    assert!(matches!(
        advisor(&[&rule], 1)
            .generate(&role(), Granularity::ActionLevel)
            .await
            .unwrap(),
        Generated::Refused {
            status: JobStatus::Denied,
            ..
        }
    ));
}

#[tokio::test]
async fn denied_reads_entities_and_granting_policies_are_the_scans_access_denied() {
    let read = mock!(Client::get_service_last_accessed_details)
        .sequence()
        .http_status(403, Some(denied()))
        .build();
    let err = failure(advisor(&[&read], 1).read("job-1").await);
    assert_eq!(err.name(), "AccessDenied");
    assert!(
        err.to_string().contains("GetServiceLastAccessedDetails"),
        "{err}"
    );

    let entities = mock!(Client::get_service_last_accessed_details_with_entities)
        .sequence()
        .http_status(403, Some(denied()))
        .build();
    let err = failure(advisor(&[&entities], 1).entities("job-1", "s3").await);
    assert_eq!(err.name(), "AccessDenied", "{err:?}");

    let granting = mock!(Client::list_policies_granting_service_access)
        .sequence()
        .http_status(403, Some(denied()))
        .build();
    let err = failure(
        advisor(&[&granting], 1)
            .granting_policies(&role(), &["s3".to_string()])
            .await,
    );
    assert_eq!(err.name(), "AccessDenied", "{err:?}");
}

#[tokio::test]
async fn a_read_of_a_vanished_job_is_gone_and_a_principals_failed_job() {
    let rule = mock!(Client::get_service_last_accessed_details)
        .sequence()
        .http_status(404, Some(iam_error("NoSuchEntity", "No such job: job-1")))
        .build();
    let read = advisor(&[&rule], 1).read("job-1").await.unwrap();
    let JobRead::Gone(error) = &read else {
        panic!("{read:?}")
    };
    assert_eq!(
        (error.code.as_str(), error.message.as_str()),
        ("NoSuchEntity", "No such job: job-1")
    );
    let (status, details) = read.finished().unwrap();
    assert_eq!(status, JobStatus::Failed);
    assert_eq!(details.error.unwrap().code, "NoSuchEntity");
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
    let err = failure(advisor(&[&endless], 1).read("job-1").await);
    assert_eq!(err.name(), "IamError", "{err:?}");
    assert!(err.to_string().contains("more than 100 pages"), "{err}");
    assert!(
        err.to_string().contains("GetServiceLastAccessedDetails"),
        "{err}"
    );
    assert_eq!(endless.num_calls(), MAX_PAGES, "exactly the guard's pages");
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

#[tokio::test]
async fn a_read_truncated_without_a_marker_is_an_error() {
    let rule = mock!(Client::get_service_last_accessed_details)
        .sequence()
        .output(|| {
            let mut p = page(JobStatusType::Completed, vec![service("s3", true)], None);
            p.is_truncated = true;
            p
        })
        .build();
    let err = failure(advisor(&[&rule], 1).read("job-1").await);
    assert_eq!(err.name(), "IamError", "{err:?}");
    assert!(
        err.to_string()
            .contains("GetServiceLastAccessedDetails (job job-1): IsTruncated without a Marker"),
        "{err}"
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_later_page_failing_is_an_error_not_an_outcome() {
    let rule = mock!(Client::get_service_last_accessed_details)
        .sequence()
        .output(|| {
            page(
                JobStatusType::Completed,
                vec![service("s3", true)],
                Some("m1"),
            )
        })
        .http_status(404, Some(iam_error("NoSuchEntity", "No such job")))
        .build();
    let err = failure(advisor(&[&rule], 1).read("job-1").await);
    assert_eq!(err.name(), "IamError", "{err:?}");
}

fn entities_page(
    page: usize,
    pages: Option<usize>,
) -> GetServiceLastAccessedDetailsWithEntitiesOutput {
    let marker = marker_after(page, pages);
    GetServiceLastAccessedDetailsWithEntitiesOutput::builder()
        .job_status(JobStatusType::Completed)
        .job_creation_date(DateTime::from_secs(1_764_000_000))
        .job_completion_date(DateTime::from_secs(1_764_000_005))
        .entity_details_list(
            EntityDetails::builder()
                .entity_info(
                    EntityInfo::builder()
                        .arn(format!("arn:aws:iam::123456789012:user/u{page}"))
                        .name(format!("u{page}"))
                        .r#type(PolicyOwnerEntityType::User)
                        .id(format!("AIDA{page:016}"))
                        .build()
                        .unwrap(),
                )
                .last_authenticated(DateTime::from_secs(1_763_000_000))
                .build(),
        )
        .is_truncated(marker.is_some())
        .set_marker(marker)
        .build()
        .unwrap()
}

#[tokio::test]
async fn entities_follow_the_marker_over_every_page() {
    let rule = mock!(Client::get_service_last_accessed_details_with_entities)
        .match_requests(|r| r.max_items() == Some(1000) && r.service_namespace() == Some("s3"))
        .then_compute_output(|r| entities_page(page_of(r.marker()), Some(3)));
    let found = advisor_any(&[&rule]).entities("job-1", "s3").await.unwrap();
    let names: Vec<&str> = found.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["u0", "u1", "u2"]);
    assert_eq!(found[1].entity_type, "USER");
    assert_eq!(
        found[2].last_authenticated.as_deref(),
        Some("2025-11-13T02:13:20Z")
    );
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn entities_truncated_without_a_marker_or_beyond_the_guard_are_errors() {
    let rule =
        mock!(Client::get_service_last_accessed_details_with_entities).then_compute_output(|r| {
            let mut p = entities_page(page_of(r.marker()), Some(1));
            p.is_truncated = true;
            p
        });
    let err = failure(advisor_any(&[&rule]).entities("job-1", "s3").await);
    assert_eq!(err.name(), "IamError", "{err:?}");
    assert!(
        err.to_string()
            .contains("GetServiceLastAccessedDetailsWithEntities: IsTruncated without a Marker"),
        "{err}"
    );

    let endless = mock!(Client::get_service_last_accessed_details_with_entities)
        .then_compute_output(|r| entities_page(page_of(r.marker()), None));
    let err = failure(advisor_any(&[&endless]).entities("job-1", "s3").await);
    assert!(
        err.to_string().contains(&format!(
            "GetServiceLastAccessedDetailsWithEntities: more than {MAX_PAGES} pages"
        )),
        "{err}"
    );
    assert_eq!(endless.num_calls(), MAX_PAGES);
}

fn granting_page(page: usize, pages: Option<usize>) -> ListPoliciesGrantingServiceAccessOutput {
    let marker = marker_after(page, pages);
    ListPoliciesGrantingServiceAccessOutput::builder()
        .policies_granting_service_access(
            ListPoliciesGrantingServiceAccessEntry::builder()
                .service_namespace("s3")
                .policies(
                    PolicyGrantingServiceAccess::builder()
                        .policy_name(format!("policy{page}"))
                        .policy_type(PolicyType::Managed)
                        .policy_arn(format!("arn:aws:iam::123456789012:policy/policy{page}"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .is_truncated(marker.is_some())
        .set_marker(marker)
        .build()
        .unwrap()
}

#[tokio::test]
async fn granting_policies_follow_the_marker_and_merge_by_namespace() {
    let rule = mock!(Client::list_policies_granting_service_access)
        .then_compute_output(|r| granting_page(page_of(r.marker()), Some(3)));
    let found = advisor_any(&[&rule])
        .granting_policies(&role(), &["s3".to_string()])
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(found.len(), 1, "one namespace, its pages merged");
    let names: Vec<&str> = found[0].1.iter().map(|p| p.policy_name.as_str()).collect();
    assert_eq!(names, ["policy0", "policy1", "policy2"]);
}

#[tokio::test]
async fn granting_policies_truncated_without_a_marker_or_beyond_the_guard_are_errors() {
    let rule = mock!(Client::list_policies_granting_service_access).then_compute_output(|r| {
        let mut p = granting_page(page_of(r.marker()), Some(1));
        p.is_truncated = true;
        p
    });
    let err = failure(
        advisor_any(&[&rule])
            .granting_policies(&role(), &["s3".to_string()])
            .await,
    );
    assert!(
        err.to_string()
            .contains("ListPoliciesGrantingServiceAccess: IsTruncated without a Marker"),
        "{err}"
    );

    let endless = mock!(Client::list_policies_granting_service_access)
        .then_compute_output(|r| granting_page(page_of(r.marker()), None));
    let err = failure(
        advisor_any(&[&endless])
            .granting_policies(&role(), &["s3".to_string()])
            .await,
    );
    assert_eq!(err.name(), "IamError", "{err:?}");
    assert!(
        err.to_string().contains(&format!(
            "ListPoliciesGrantingServiceAccess: more than {MAX_PAGES} pages"
        )),
        "{err}"
    );
    assert_eq!(endless.num_calls(), MAX_PAGES);
}

#[tokio::test]
async fn a_multi_page_read_costs_one_call_per_page() {
    let rule = mock!(Client::get_service_last_accessed_details).then_compute_output(|r| {
        let n = page_of(r.marker());
        page(
            JobStatusType::Completed,
            vec![service(&format!("svc{n}"), n == 0)],
            marker_after(n, Some(4)).as_deref(),
        )
    });
    let JobRead::Finished { status, details } = advisor_any(&[&rule])
        .with_page_size(1)
        .read("job-1")
        .await
        .unwrap()
    else {
        panic!("a completed job")
    };
    assert_eq!(status, JobStatus::Completed);
    assert_eq!(details.services.len(), 4);
    assert_eq!(rule.num_calls(), 4);
}
