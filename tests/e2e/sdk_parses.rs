//! aws-sdk-iam parses every access-advisor response the emulator gives: the shapes are
//! the IAM API model's, not an approximation our Python client would accept.

use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType, JobStatusType, PolicyType};
use e2e::{allow, days_ago, unique, Stack};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn aws_sdk_iam_parses_each_operation() {
    let stack = Stack::from_env().await;
    let iam = &stack.iam;
    let run = unique("sdk");
    let path = format!("/e2e/{run}/");
    let user = stack.create_user(&path, &format!("{run}-u"), None).await;
    let group = stack
        .create_group(
            &path,
            &format!("{run}-g"),
            allow(&["s3:GetObject", "ec2:*"]),
            &[&format!("{run}-u")],
        )
        .await;
    let failing = stack
        .create_role(&path, &format!("{run}-f"), allow(&["s3:*"]))
        .await;
    let used_at = days_ago(7);
    stack.seed_activity(json!([{"entity": user, "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": used_at}]));
    stack.configure(json!({"job_seconds": 1.0, "fail": [failing]}));

    let job = iam
        .generate_service_last_accessed_details()
        .arn(&group)
        .granularity(AccessAdvisorUsageGranularityType::ActionLevel)
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap();
    let running = iam
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(running.job_status(), &JobStatusType::InProgress);
    assert!(running.services_last_accessed().is_empty());
    let failed_job = iam
        .generate_service_last_accessed_details()
        .arn(&failing)
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let done = iam
        .get_service_last_accessed_details()
        .job_id(&job)
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(done.job_status(), &JobStatusType::Completed);
    assert_eq!(
        done.job_type(),
        Some(&AccessAdvisorUsageGranularityType::ActionLevel)
    );
    assert!(
        done.is_truncated() && done.marker().is_some(),
        "two services, one per page"
    );
    let first = &done.services_last_accessed()[0];
    assert_eq!(first.service_namespace(), "ec2");
    let second = iam
        .get_service_last_accessed_details()
        .job_id(&job)
        .max_items(1)
        .marker(done.marker().unwrap())
        .send()
        .await
        .unwrap();
    let s3 = &second.services_last_accessed()[0];
    assert!(!second.is_truncated());
    assert_eq!(
        (s3.service_namespace(), s3.last_authenticated_entity()),
        ("s3", Some(user.as_str()))
    );
    assert_eq!(s3.last_authenticated_region(), Some("eu-west-1"));
    assert_eq!(s3.total_authenticated_entities(), Some(1));
    let tracked = s3.tracked_actions_last_accessed();
    assert_eq!(tracked.len(), 1);
    assert_eq!(tracked[0].action_name(), Some("GetObject"));
    assert!(tracked[0].last_accessed_time().is_some());

    let failed = iam
        .get_service_last_accessed_details()
        .job_id(&failed_job)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.job_status(), &JobStatusType::Failed);
    assert!(!failed
        .error()
        .expect("a FAILED job carries its Error")
        .message()
        .is_empty());

    let entities = iam
        .get_service_last_accessed_details_with_entities()
        .job_id(&job)
        .service_namespace("s3")
        .send()
        .await
        .unwrap();
    assert_eq!(entities.job_status(), &JobStatusType::Completed);
    let listed = entities.entity_details_list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].entity_info().unwrap().arn(), user);
    assert!(listed[0].last_authenticated().is_some());

    let granting = iam
        .list_policies_granting_service_access()
        .arn(&group)
        .service_namespaces("s3")
        .service_namespaces("ec2")
        .send()
        .await
        .unwrap();
    let entries = granting.policies_granting_service_access();
    assert_eq!(entries.len(), 2);
    let policy = &entries[0].policies()[0];
    assert_eq!(
        (policy.policy_type(), policy.policy_name()),
        (&PolicyType::Inline, "inline")
    );
    stack.configure(json!({"fail": []}));
}
