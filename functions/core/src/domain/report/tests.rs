//! Building a report from a job: findings, granularities, failed jobs.

use super::*;
use crate::domain::arn::PrincipalArn;
use crate::domain::input::ReportOptions;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

/// A service as IAM reports it, used by `role/app` in eu-west-1 when `last` is set.
pub(crate) fn service(
    ns: &str,
    last: Option<&str>,
    actions: Option<Vec<ActionAccess>>,
) -> ServiceAccess {
    ServiceAccess {
        name: format!("Service {ns}"),
        namespace: ns.into(),
        last_authenticated: last.map(str::to_string),
        last_authenticated_entity: last.map(|_| "arn:aws:iam::123456789012:role/app".to_string()),
        last_authenticated_region: last.map(|_| "eu-west-1".to_string()),
        total_authenticated_entities: Some(if last.is_some() { 1 } else { 0 }),
        tracked_actions: actions,
    }
}

/// A tracked action as IAM reports it.
pub(crate) fn action(name: &str, last: Option<&str>) -> ActionAccess {
    ActionAccess {
        action_name: Some(name.into()),
        last_accessed_time: last.map(str::to_string),
        last_accessed_entity: None,
        last_accessed_region: None,
    }
}

#[test]
fn findings_split_active_stale_and_never_used() {
    let arn = PrincipalArn::parse("arn:aws:iam::123456789012:role/app").unwrap();
    let options = ReportOptions {
        unused_days: 90,
        ..ReportOptions::default()
    };
    let ctx = ReportContext {
        principal_id: None,
        arn: &arn,
        run_id: "run-1",
        granularity: Granularity::ActionLevel,
        options: &options,
        as_of: NOW,
        written_at: NOW,
        previous: None,
    };
    let details = JobDetails {
        job_type: Some("ACTION_LEVEL".into()),
        created: Some("2026-11-25T11:59:00Z".into()),
        completed: Some("2026-11-25T11:59:05Z".into()),
        services: vec![
            service(
                "s3",
                Some("2026-11-20T00:00:00Z"),
                Some(vec![
                    action("GetObject", Some("2026-11-20T00:00:00Z")),
                    action("PutObject", Some("2026-01-01T00:00:00Z")),
                    action("DeleteObject", None),
                ]),
            ),
            service("ec2", Some("2026-08-27T12:00:00Z"), None),
            service("kms", None, None),
        ],
        granting_policies: vec![(
            "kms".into(),
            vec![GrantingPolicy {
                policy_name: "Admin".into(),
                policy_type: "MANAGED".into(),
                policy_arn: Some("arn:aws:iam::123456789012:policy/Admin".into()),
                entity_type: None,
                entity_name: None,
            }],
        )],
        ..JobDetails::default()
    };
    let report = build_report(&ctx, Some("job-1"), JobStatus::Completed, details);
    let f = &report.findings;
    assert_eq!(
        (
            f.services_granted,
            f.services_active,
            f.services_stale,
            f.services_never_used
        ),
        (3, 1, 1, 1),
        "three disjoint classes"
    );
    assert_eq!(f.stale_services, ["ec2"], "90 days exactly is stale");
    assert_eq!(f.never_used_services, ["kms"]);
    assert_eq!(f.stale_actions, ["s3:PutObject"]);
    assert_eq!(f.never_used_actions, ["s3:DeleteObject"]);
    assert_eq!(f.services_without_action_tracking, ["ec2", "kms"]);
    assert_eq!(f.services_stale + f.services_never_used, 2);
    assert_eq!(report.services[0].usage, Usage::Active);
    assert_eq!(report.services[0].days_since_last_authenticated, Some(5));
    assert_eq!(report.services[1].action_tracking, Some(false));
    assert_eq!(
        report.services[2].granting_policies.as_ref().unwrap()[0].policy_name,
        "Admin"
    );
    assert_eq!(report.services[0].granting_policies, None);
    assert_eq!(report.generated_at, "2026-11-25T12:00:00Z");
    assert_eq!(report.job.id.as_deref(), Some("job-1"));
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains('\n'), "one report, one line");
    assert!(json.contains(r#""type":"role""#));
}

#[test]
fn service_level_reports_have_no_action_fields() {
    let arn = PrincipalArn::parse("arn:aws:iam::123456789012:user/bob").unwrap();
    let options = ReportOptions::default();
    let ctx = ReportContext {
        principal_id: None,
        arn: &arn,
        run_id: "r",
        granularity: Granularity::ServiceLevel,
        options: &options,
        as_of: NOW,
        written_at: NOW,
        previous: None,
    };
    let details = JobDetails {
        services: vec![service("s3", None, None)],
        ..JobDetails::default()
    };
    let report = build_report(&ctx, Some("j"), JobStatus::Completed, details);
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["services"][0].get("action_tracking").is_none());
    assert!(json["services"][0].get("tracked_actions").is_none());
    assert!(report.findings.services_without_action_tracking.is_empty());
}

#[test]
fn a_failed_job_gets_a_report_with_its_error() {
    let arn = PrincipalArn::parse("arn:aws:iam::123456789012:group/ops").unwrap();
    let options = ReportOptions::default();
    let ctx = ReportContext {
        principal_id: None,
        arn: &arn,
        run_id: "r",
        granularity: Granularity::ServiceLevel,
        options: &options,
        as_of: NOW,
        written_at: NOW,
        previous: None,
    };
    let error = JobError {
        code: "NoSuchEntity".into(),
        message: "gone".into(),
    };
    let report = build_report(
        &ctx,
        None,
        JobStatus::NotFound,
        JobDetails {
            error: Some(error.clone()),
            ..JobDetails::default()
        },
    );
    assert_eq!(report.job.status, JobStatus::NotFound);
    assert_eq!(report.job.error, Some(error));
    assert!(report.services.is_empty());
    assert_eq!(report.findings.services_granted, 0);
}

#[test]
fn unused_namespaces_include_never_used() {
    let services = vec![
        service("s3", Some("2026-11-20T00:00:00Z"), None),
        service("ec2", Some("2025-01-01T00:00:00Z"), None),
        service("kms", None, None),
    ];
    assert_eq!(unused_namespaces(&services, NOW, 90), ["ec2", "kms"]);
}
