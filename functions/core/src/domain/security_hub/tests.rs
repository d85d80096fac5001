//! The ASFF builder: which principals get a finding, its severity, its stable `Id`, and
//! the archive.

use super::*;
use crate::domain::outcome::{Recommended, ServiceCell};

const ROLE: &str = "arn:aws:iam::111111111111:role/app/payments";

fn ctx() -> FindingContext {
    FindingContext {
        partition: "aws".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        run_id: "daily-2026-11-25".into(),
        as_of: "2026-11-25T03:00:00Z".into(),
        updated_at: "2026-11-25T03:10:00Z".into(),
        unused_days: 90,
    }
}

fn cell(ns: &str, class: Usage, days: Option<i64>) -> ServiceCell {
    ServiceCell {
        ns: ns.into(),
        class,
        days,
        last: None,
        policies: vec![],
        actions: vec![],
    }
}

fn outcome(services: Vec<ServiceCell>) -> PrincipalOutcome {
    let count = |c: Usage| services.iter().filter(|s| s.class == c).count() as u32;
    PrincipalOutcome {
        arn: ROLE.into(),
        principal_type: PrincipalType::Role,
        principal_id: Some("AROAEXAMPLE".into()),
        status: JobStatus::Completed,
        report_key:
            "reports/principals/dt=2026-11-25/run=daily/account=111111111111/role/payments.json"
                .into(),
        account: "111111111111".into(),
        services_granted: services.len() as u32,
        services_active: count(Usage::Active),
        services_stale: count(Usage::Stale),
        services_never_used: count(Usage::NeverUsed),
        error: None,
        services,
        changes: None,
        recommended: None,
        fingerprint: None,
        data_as_of: None,
        entities: false,
        incremental: None,
    }
}

#[test]
fn a_principal_with_stale_and_never_used_services_gets_one_active_finding() {
    let o = outcome(vec![
        cell("s3", Usage::Active, Some(3)),
        cell("ec2", Usage::Stale, Some(200)),
        cell("sns", Usage::NeverUsed, None),
    ]);
    let f = active(&o, &ctx()).expect("a finding");
    assert_eq!(f.schema_version, "2018-10-08");
    assert_eq!(f.record_state, RecordState::Active);
    assert_eq!(
        f.aws_account_id, "123456789012",
        "imported into the scanner's account"
    );
    assert_eq!(
        f.product_arn,
        "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    );
    assert_eq!(f.resources.len(), 1);
    assert_eq!(f.resources[0].kind, "AwsIamRole");
    assert_eq!(f.resources[0].id, ROLE);
    assert!(
        f.description.contains("ec2 (200 days)"),
        "{}",
        f.description
    );
    assert!(
        f.description.contains("sns (never used)"),
        "{}",
        f.description
    );
    assert!(
        !f.description.contains("s3"),
        "active services are not named: {}",
        f.description
    );
    let pf = &f.product_fields;
    assert_eq!(pf["iam-last-accessed/UnusedServices"], "ec2,sns");
    assert_eq!(
        pf["iam-last-accessed/UnusedServiceDays"],
        "ec2 (200 days),sns (never used)"
    );
    assert_eq!(
        pf["iam-last-accessed/Account"], "111111111111",
        "the principal's own account"
    );
    assert_eq!(pf["iam-last-accessed/ServicesStale"], "1");
    assert_eq!(pf["iam-last-accessed/ServicesNeverUsed"], "1");
    assert_eq!(f.finding_provider_fields.severity.label, SeverityLabel::Low);
    assert_eq!(
        f.finding_provider_fields.severity.original,
        "2 unused services"
    );
    assert_eq!(f.title, "role payments has 2 unused services");
    assert_eq!(
        f.finding_provider_fields.types,
        vec![FINDING_TYPE.to_string()]
    );
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["FindingProviderFields"]["Severity"]["Label"], "LOW");
    assert_eq!(json["Resources"][0]["Type"], "AwsIamRole");
    assert_eq!(json["RecordState"], "ACTIVE");
    assert!(
        json.get("Severity").is_none(),
        "severity only through FindingProviderFields"
    );
}

#[test]
fn nothing_unused_or_an_unfinished_job_gets_no_active_finding() {
    let clean = outcome(vec![cell("s3", Usage::Active, Some(3))]);
    assert!(active(&clean, &ctx()).is_none());
    assert!(is_clean(&clean));
    let mut failed = outcome(vec![cell("ec2", Usage::NeverUsed, None)]);
    failed.status = JobStatus::Failed;
    assert!(
        active(&failed, &ctx()).is_none(),
        "a FAILED job judges nothing"
    );
    assert!(!is_clean(&failed), "nor archives anything");
    let mut gone = outcome(vec![]);
    gone.status = JobStatus::NotFound;
    assert!(is_clean(&gone), "a principal gone has its finding archived");
}

#[test]
fn the_id_is_the_same_in_every_run_and_one_per_principal() {
    let o = outcome(vec![cell("ec2", Usage::Stale, Some(120))]);
    let first = active(&o, &ctx()).unwrap();
    let later = FindingContext {
        run_id: "daily-2026-11-26".into(),
        as_of: "2026-11-26T03:00:00Z".into(),
        updated_at: "2026-11-26T03:10:00Z".into(),
        ..ctx()
    };
    let mut more = o.clone();
    more.services.push(cell("sns", Usage::NeverUsed, None));
    more.services_never_used = 1;
    let second = active(&more, &later).unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(first.id, format!("iam-last-accessed/unused-access/{ROLE}"));
    assert_ne!(second.updated_at, first.updated_at);
    let archive = archived(ROLE, PrincipalType::Role, "111111111111", &later);
    assert_eq!(archive.id, first.id, "the archive updates the same finding");
    let other = finding_id("arn:aws:iam::111111111111:role/app/billing");
    assert_ne!(other, first.id);
}

#[test]
fn an_arn_too_long_for_asff_keeps_a_stable_unique_id_within_512_characters() {
    let path = "p/".repeat(240);
    let a = format!("arn:aws:iam::111111111111:role/{path}a");
    let b = format!("arn:aws:iam::111111111111:role/{path}b");
    let (ia, ib) = (finding_id(&a), finding_id(&b));
    assert!(
        ia.len() <= 512 && ib.len() <= 512,
        "{} {}",
        ia.len(),
        ib.len()
    );
    assert_ne!(ia, ib, "cut to the same prefix, told apart by the hash");
    assert_eq!(ia, finding_id(&a));
}

#[test]
fn severity_follows_what_is_unused() {
    let admin = outcome(vec![
        cell("iam", Usage::NeverUsed, None),
        cell("s3", Usage::Active, Some(1)),
    ]);
    let f = active(&admin, &ctx()).unwrap();
    assert_eq!(
        f.finding_provider_fields.severity.label,
        SeverityLabel::High
    );
    assert_eq!(
        f.finding_provider_fields.severity.original,
        "unused admin services: iam"
    );

    let mut star: Vec<ServiceCell> = (0..370)
        .map(|i| cell(&format!("svc{i}"), Usage::Active, Some(1)))
        .collect();
    star[5].class = Usage::Stale;
    star[5].days = Some(100);
    let wide = outcome(star);
    let f = active(&wide, &ctx()).unwrap();
    assert_eq!(
        f.finding_provider_fields.severity.label,
        SeverityLabel::High
    );
    assert!(f
        .finding_provider_fields
        .severity
        .original
        .starts_with("admin-like grant"));

    let many = outcome(
        (0..12)
            .map(|i| cell(&format!("svc{i}"), Usage::NeverUsed, None))
            .collect(),
    );
    let f = active(&many, &ctx()).unwrap();
    assert_eq!(
        f.finding_provider_fields.severity.label,
        SeverityLabel::Medium
    );

    let mut creds = outcome(vec![cell("s3", Usage::Active, Some(1))]);
    creds.recommended = Some(Recommended {
        unused_credentials: 1,
        ..Recommended::default()
    });
    let f = active(&creds, &ctx()).expect("unused credentials alone are a finding");
    assert_eq!(
        f.finding_provider_fields.severity.label,
        SeverityLabel::Medium
    );
    assert!(f.title.contains("1 unused credential"), "{}", f.title);
    assert_eq!(f.product_fields["iam-last-accessed/UnusedCredentials"], "1");
}

#[test]
fn the_archive_is_the_same_finding_archived_with_asff_required_fields() {
    let f = archived(ROLE, PrincipalType::Role, "", &ctx());
    assert_eq!(f.record_state, RecordState::Archived);
    assert_eq!(
        f.product_fields["iam-last-accessed/Account"], "111111111111",
        "from the ARN"
    );
    let json = serde_json::to_value(&f).unwrap();
    for field in [
        "AwsAccountId",
        "CreatedAt",
        "Description",
        "GeneratorId",
        "Id",
        "ProductArn",
        "Resources",
        "SchemaVersion",
        "Title",
        "Types",
        "UpdatedAt",
    ] {
        let v = &json[field];
        assert!(
            !v.is_null() && v != "" && v != &serde_json::json!([]),
            "{field}: {v}"
        );
    }
    assert_eq!(json["RecordState"], "ARCHIVED");
}

#[test]
fn text_stays_within_asff_limits() {
    let o = outcome(
        (0..400)
            .map(|i| {
                cell(
                    &format!("service-with-a-long-name-{i}"),
                    Usage::NeverUsed,
                    None,
                )
            })
            .collect(),
    );
    let f = active(&o, &ctx()).unwrap();
    assert!(f.description.len() <= 1024, "{}", f.description.len());
    assert!(f.description.ends_with('…'), "a cut is marked");
    assert!(f.title.len() <= 256);
    assert!(f.product_fields.values().all(|v| v.len() <= 2048));
    assert!(serde_json::to_vec(&f).unwrap().len() < MAX_FINDING_BYTES);
}

#[test]
fn an_outcome_marks_the_first_error_and_counts_every_failure() {
    let mut o = SecurityHubOutcome::default();
    o.fail(3, "first");
    o.fail(2, "second");
    assert_eq!(o.failed, 5);
    assert_eq!(o.error.as_deref(), Some("first"));
}
