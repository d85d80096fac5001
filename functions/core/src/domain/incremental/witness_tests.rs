//! The incremental rule's witnesses: a group or policy used through some members,
//! carried on their fresh reports' word.

use super::super::carried::witnessed_unchanged;
use super::super::rule::{decide, Activity, Candidate, Carry, ScanReason, MAX_WITNESSES};
use super::super::CarryRow;
use super::{account, arn, report_at, row, NOW};
use crate::domain::job::JobStatus;
use crate::domain::recommend::Holdings;
use crate::domain::report::tests::service;
use crate::domain::report::JobDetails;
use std::collections::BTreeMap;
use time::macros::datetime;

#[test]
fn a_group_or_policy_used_through_some_members_is_witnessed_by_them() {
    let (mut principals, _) = account();
    principals.insert(
        arn("user/bob"),
        Holdings {
            groups: vec!["ops".into()],
            ..Holdings::default()
        },
    );
    principals.get_mut(&arn("role/app")).unwrap().attached = vec![arn("policy/Ops")];
    let since = datetime!(2026-12-01 05:00 UTC);
    let fresh = Some(NOW - time::Duration::hours(1));
    let mut users = BTreeMap::new();
    users.insert(arn("user/ann"), Some("2026-12-02T03:00:00Z".to_string()));
    users.insert(arn("user/bob"), Some("2026-11-01T00:00:00Z".to_string()));
    let activity = Activity::new(&principals, &users, fresh, NOW);
    assert!(!activity.quiet(&arn("group/ops"), since));
    assert_eq!(
        activity.witnesses(&arn("group/ops"), since),
        Some(vec![arn("user/ann")]),
        "the member used since, not the quiet one"
    );
    // The policy: its role (quiet: RoleLastUsed 2026-11-20) and its group's members.
    assert_eq!(
        activity.witnesses(&arn("policy/Ops"), since),
        Some(vec![arn("user/ann")])
    );
    assert_eq!(
        activity.witnesses(&arn("user/ann"), since),
        None,
        "a user is not witnessed"
    );
    assert_eq!(activity.witnesses(&arn("role/app"), since), None);
    // More members used than it is worth reading: its own job.
    let (mut crowd, mut crowd_users) = (principals.clone(), users.clone());
    for i in 0..MAX_WITNESSES {
        let name = arn(&format!("user/u{i}"));
        crowd.insert(
            name.clone(),
            Holdings {
                groups: vec!["ops".into()],
                ..Holdings::default()
            },
        );
        crowd_users.insert(name, Some("2026-12-02T03:00:00Z".to_string()));
    }
    let busy = Activity::new(&crowd, &crowd_users, fresh, NOW);
    assert_eq!(busy.witnesses(&arn("group/ops"), since), None);
    let good = CarryRow {
        principal_id: Some("AGPAOPS".into()),
        ..row(&arn("group/ops"), "g1", "2026-12-01T05:00:00Z")
    };
    let group = arn("group/ops");
    let c = Candidate {
        arn: &group,
        principal_id: Some("AGPAOPS"),
        fingerprint: Some("g1"),
        previous: Some(&good),
    };
    assert_eq!(decide(&c, &busy, 7, false), Err(ScanReason::UsedSince));
    assert_eq!(
        decide(&c, &activity, 7, false),
        Ok(Carry::Witnessed(vec![arn("user/ann")]))
    );
}

#[test]
fn a_witnessed_report_holds_only_when_no_witness_used_its_services_since() {
    // The group's previous report: ec2 (granted through it), data of 2026-12-01 05:00.
    let group = report_at(
        datetime!(2026-12-01 06:00 UTC),
        "run-1",
        JobDetails {
            created: Some("2026-12-01T05:00:00Z".into()),
            services: vec![service("ec2", Some("2026-11-20T00:00:00Z"), None)],
            ..JobDetails::default()
        },
        None,
    );
    let member = |services: Vec<crate::domain::report::ServiceAccess>| {
        report_at(
            NOW,
            "run-2",
            JobDetails {
                created: Some("2026-12-02T05:30:00Z".into()),
                services,
                ..JobDetails::default()
            },
            None,
        )
    };
    // Ann used s3 (her own policy), and ec2 last before the group's data less 4 hours.
    let elsewhere = member(vec![
        service("s3", Some("2026-12-02T02:00:00Z"), None),
        service("ec2", Some("2026-12-01T00:59:00Z"), None),
    ]);
    assert_eq!(
        witnessed_unchanged(&group, &[("ann", Some(&elsewhere))]),
        Ok(())
    );
    // ec2 within IAM's four hours before the data: the report may not have had it.
    let late = member(vec![service("ec2", Some("2026-12-01T02:00:00Z"), None)]);
    assert!(witnessed_unchanged(&group, &[("ann", Some(&late))]).is_err());
    // ec2 since: it went through the group (or may have).
    let through = member(vec![service("ec2", Some("2026-12-02T02:00:00Z"), None)]);
    let why = witnessed_unchanged(
        &group,
        &[("ann", Some(&elsewhere)), ("bob", Some(&through))],
    )
    .unwrap_err();
    assert!(why.starts_with("bob: used ec2"), "{why}");
    // No fresh report, a failed one, a carried one, or one without ec2: not known.
    assert!(witnessed_unchanged(&group, &[("ann", None)]).is_err());
    let mut failed = elsewhere.clone();
    failed.job.status = JobStatus::Failed;
    assert!(witnessed_unchanged(&group, &[("ann", Some(&failed))]).is_err());
    let mut carried = elsewhere.clone();
    carried.carried_from = super::carried::carried_from(&group);
    assert!(witnessed_unchanged(&group, &[("ann", Some(&carried))]).is_err());
    let without = member(vec![service("s3", None, None)]);
    let why = witnessed_unchanged(&group, &[("ann", Some(&without))]).unwrap_err();
    assert!(why.contains("not in its report"), "{why}");
}
