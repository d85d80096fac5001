//! The incremental rule: fingerprints, carried or scanned, the sample, a carried
//! report's data.

use super::carried::{details_of, differences};
use super::fingerprint::fingerprints;
use super::rule::{decide, sample, Activity, Candidate, Carry, ScanReason};
use super::*;
use crate::domain::arn::PrincipalArn;
use crate::domain::input::{Granularity, ReportOptions};
use crate::domain::job::JobStatus;
use crate::domain::recommend::{Holdings, InlinePolicy, ManagedPolicy};
use crate::domain::report::tests::service;
use crate::domain::report::{build_report, JobDetails, PrincipalReport, ReportContext};
use crate::domain::usage::Usage;
use std::collections::BTreeMap;
use time::macros::datetime;
use time::OffsetDateTime;

const ACCT: &str = "arn:aws:iam::123456789012";
pub(super) const NOW: OffsetDateTime = datetime!(2026-12-02 06:00 UTC);

pub(super) fn arn(resource: &str) -> String {
    format!("{ACCT}:{resource}")
}

fn inline(name: &str, doc: &str) -> InlinePolicy {
    InlinePolicy {
        name: name.into(),
        document: doc.into(),
    }
}

/// An account: role/app (inline s3), user/ann in group ops, group ops with policy Ops
/// attached, policy Ops.
pub(super) fn account() -> (BTreeMap<String, Holdings>, BTreeMap<String, ManagedPolicy>) {
    let ops = arn("policy/Ops");
    let mut principals = BTreeMap::new();
    principals.insert(
        arn("role/app"),
        Holdings {
            inline: vec![inline(
                "s3",
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            )],
            role_last_used: Some("2026-11-20T00:00:00Z".into()),
            ..Holdings::default()
        },
    );
    principals.insert(
        arn("user/ann"),
        Holdings {
            groups: vec!["ops".into()],
            ..Holdings::default()
        },
    );
    principals.insert(
        arn("group/ops"),
        Holdings {
            attached: vec![ops.clone()],
            ..Holdings::default()
        },
    );
    principals.insert(ops.clone(), Holdings::default());
    let mut policies = BTreeMap::new();
    policies.insert(
        ops.clone(),
        ManagedPolicy {
            arn: ops,
            name: "Ops".into(),
            aws_managed: false,
            document: r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#
                .into(),
            older_versions: Vec::new(),
        },
    );
    (principals, policies)
}

#[test]
fn a_fingerprint_moves_with_what_access_advisor_reads_and_nothing_else() {
    let (mut principals, mut policies) = account();
    let before = fingerprints(&principals, &policies);
    assert_eq!(before, fingerprints(&principals, &policies), "stable");
    assert_eq!(before.len(), 4, "every user, role, group and policy");

    // Tags and RoleLastUsed are not permissions.
    principals
        .get_mut(&arn("role/app"))
        .unwrap()
        .tags
        .insert("team".into(), "x".into());
    principals.get_mut(&arn("role/app")).unwrap().role_last_used = None;
    assert_eq!(before, fingerprints(&principals, &policies));

    // A new inline policy: the role's moves, nobody else's.
    principals
        .get_mut(&arn("role/app"))
        .unwrap()
        .inline
        .push(inline("sns", "{}"));
    let after = fingerprints(&principals, &policies);
    assert_ne!(before[&arn("role/app")], after[&arn("role/app")]);
    assert_eq!(before[&arn("user/ann")], after[&arn("user/ann")]);

    // A new default version of the group's policy: the policy, the group, and the user
    // in the group all move; the role does not.
    policies.get_mut(&arn("policy/Ops")).unwrap().document = r#"{"Statement":[]}"#.into();
    let revised = fingerprints(&principals, &policies);
    for who in ["policy/Ops", "group/ops", "user/ann"] {
        assert_ne!(after[&arn(who)], revised[&arn(who)], "{who}");
    }
    assert_eq!(after[&arn("role/app")], revised[&arn("role/app")]);

    // A member leaving: the group moves (and the user), the policy's attachments do not.
    principals.get_mut(&arn("user/ann")).unwrap().groups.clear();
    let left = fingerprints(&principals, &policies);
    assert_ne!(revised[&arn("group/ops")], left[&arn("group/ops")]);
    assert_eq!(revised[&arn("policy/Ops")], left[&arn("policy/Ops")]);
}

pub(super) fn row(arn: &str, fingerprint: &str, data_as_of: &str) -> CarryRow {
    CarryRow {
        arn: arn.into(),
        principal_id: Some("AROAAPP".into()),
        status: JobStatus::Completed,
        fingerprint: Some(fingerprint.into()),
        data_as_of: Some(data_as_of.into()),
        entities: false,
    }
}

fn decide_role(
    holdings: &BTreeMap<String, Holdings>,
    row: Option<&CarryRow>,
    id: &str,
    fingerprint: &str,
) -> Result<Carry, ScanReason> {
    let users = BTreeMap::new();
    let activity = Activity::new(holdings, &users, None, NOW);
    let app = arn("role/app");
    let c = Candidate {
        arn: &app,
        principal_id: Some(id),
        fingerprint: Some(fingerprint),
        previous: row,
    };
    decide(&c, &activity, 7, false)
}

#[test]
fn a_role_is_carried_only_when_every_condition_holds() {
    let (mut principals, _) = account();
    // RoleLastUsed 2026-11-20; data of 2026-12-01: quiet (more than 16 hours before).
    let good = row(&arn("role/app"), "f1", "2026-12-01T05:00:00Z");
    assert_eq!(
        decide_role(&principals, Some(&good), "AROAAPP", "f1"),
        Ok(Carry::Quiet)
    );
    assert_eq!(
        decide_role(&principals, None, "AROAAPP", "f1"),
        Err(ScanReason::NotInPreviousRun)
    );
    let failed = CarryRow {
        status: JobStatus::Failed,
        ..good.clone()
    };
    assert_eq!(
        decide_role(&principals, Some(&failed), "AROAAPP", "f1"),
        Err(ScanReason::PreviousNotCompleted)
    );
    assert_eq!(
        decide_role(&principals, Some(&good), "AROANEW", "f1"),
        Err(ScanReason::OtherPrincipal),
        "re-created: a new RoleId"
    );
    assert_eq!(
        decide_role(&principals, Some(&good), "AROAAPP", "f2"),
        Err(ScanReason::PermissionsChanged)
    );
    let old = row(&arn("role/app"), "f1", "2026-11-25T05:00:00Z");
    assert_eq!(
        decide_role(&principals, Some(&old), "AROAAPP", "f1"),
        Err(ScanReason::DataTooOld),
        "7 days and an hour: full_refresh_days 7"
    );
    // Assumed 15 hours before the data: its session may have run past the data's time
    // minus IAM's 4 hours.
    principals.get_mut(&arn("role/app")).unwrap().role_last_used =
        Some("2026-11-30T14:00:00Z".into());
    assert_eq!(
        decide_role(&principals, Some(&good), "AROAAPP", "f1"),
        Err(ScanReason::UsedSince)
    );
    principals.get_mut(&arn("role/app")).unwrap().role_last_used =
        Some("2026-11-30T12:59:00Z".into());
    assert_eq!(
        decide_role(&principals, Some(&good), "AROAAPP", "f1"),
        Ok(Carry::Quiet)
    );
}

#[test]
fn users_groups_and_policies_are_quiet_only_when_every_holder_is() {
    let (principals, _) = account();
    let since = datetime!(2026-12-01 05:00 UTC);
    let mut users = BTreeMap::new();
    users.insert(arn("user/ann"), Some("2026-11-01T00:00:00Z".to_string()));
    let fresh = Some(NOW - time::Duration::hours(1));
    let activity = Activity::new(&principals, &users, fresh, NOW);
    for who in ["user/ann", "group/ops", "policy/Ops"] {
        assert!(activity.quiet(&arn(who), since), "{who}");
    }
    // A credential report five hours old can't say the last hours were quiet.
    let stale = Activity::new(
        &principals,
        &users,
        Some(NOW - time::Duration::hours(5)),
        NOW,
    );
    assert!(!stale.quiet(&arn("user/ann"), since));
    // Nor can one made before the data (IAM serves the same report for four hours): it
    // says nothing of the uses since.
    let recent_data = datetime!(2026-12-02 05:30 UTC);
    assert!(activity.quiet(&arn("user/ann"), datetime!(2026-12-02 04:30 UTC)));
    assert!(
        !activity.quiet(&arn("user/ann"), recent_data),
        "report 05:00, data 05:30"
    );
    assert!(
        !stale.quiet(&arn("group/ops"), since),
        "its member is unknown"
    );
    // Ann's key used a day before the data: a session token may outlive it (36 hours).
    users.insert(arn("user/ann"), Some("2026-11-30T05:00:00Z".to_string()));
    let busy = Activity::new(&principals, &users, fresh, NOW);
    for who in ["user/ann", "group/ops", "policy/Ops"] {
        assert!(!busy.quiet(&arn(who), since), "{who}");
    }
    // A user the report does not name (created since) is not known to be quiet.
    let none = BTreeMap::new();
    assert!(!Activity::new(&principals, &none, fresh, NOW).quiet(&arn("user/ann"), since));
}

#[test]
fn the_sample_is_drawn_by_the_run_id_and_never_empty() {
    let arns: Vec<String> = (0..200).map(|i| arn(&format!("role/r{i}"))).collect();
    let refs: Vec<&str> = arns.iter().map(String::as_str).collect();
    let a = sample(&refs, 2.0, "nightly-1");
    assert_eq!(a.len(), 4, "2 % of 200");
    assert_eq!(
        a,
        sample(&refs, 2.0, "nightly-1"),
        "the same run draws the same"
    );
    assert_ne!(a, sample(&refs, 2.0, "nightly-2"));
    assert_eq!(sample(&refs[..10], 0.0, "x").len(), 1, "at least one");
    assert_eq!(sample(&refs[..10], 100.0, "x").len(), 10);
    assert!(sample(&[], 50.0, "x").is_empty());
}

#[test]
fn a_verdict_carries_only_on_a_match_and_no_mismatch() {
    assert!(!CarryVerdict::of(4, 4, 0).fallback);
    assert!(CarryVerdict::of(4, 3, 1).fallback);
    assert!(CarryVerdict::of(1, 0, 0).fallback, "no evidence: scan");
}

pub(super) fn report_at(
    as_of: OffsetDateTime,
    run_id: &str,
    details: JobDetails,
    previous: Option<&PrincipalReport>,
) -> PrincipalReport {
    let principal = PrincipalArn::parse(&arn("role/app")).unwrap();
    let options = ReportOptions {
        unused_days: 30,
        ..ReportOptions::default()
    };
    let prev_run = crate::domain::run::RunRef {
        run_id: "run-1".into(),
        dt: "2026-11-01".into(),
        as_of: "2026-11-01T06:00:00Z".into(),
        account_keys: true,
    };
    let ctx = ReportContext {
        principal_id: Some("AROAAPP"),
        arn: &principal,
        run_id,
        granularity: Granularity::ServiceLevel,
        options: &options,
        as_of,
        written_at: as_of,
        previous: previous.map(|report| crate::domain::report::Previous {
            run: &prev_run,
            report: Some(report),
        }),
    };
    build_report(&ctx, Some("job-1"), JobStatus::Completed, details)
}

#[test]
fn a_carried_report_is_the_previous_data_judged_later() {
    let details = JobDetails {
        created: Some("2026-11-01T05:59:00Z".into()),
        services: vec![
            service("s3", Some("2026-10-20T00:00:00Z"), None),
            service("ec2", None, None),
        ],
        ..JobDetails::default()
    };
    let first = report_at(
        datetime!(2026-11-01 06:00 UTC),
        "run-1",
        details.clone(),
        None,
    );
    assert_eq!(first.services[0].usage, Usage::Active);
    // A month later, carried: s3's use is 43 days old, stale at 30 days.
    let carried = report_at(NOW, "run-2", details_of(&first), Some(&first));
    assert_eq!(carried.services[0].usage, Usage::Stale);
    assert_eq!(
        carried.services[0].last_authenticated.as_deref(),
        Some("2026-10-20T00:00:00Z")
    );
    assert_eq!(
        carried.job.created.as_deref(),
        Some("2026-11-01T05:59:00Z"),
        "its job as it was"
    );
    let moved = carried.changes.as_ref().unwrap();
    assert_eq!(moved.services.newly_stale, vec!["s3".to_string()]);
    assert_eq!(
        super::carried::carried_from(&first).unwrap().data_as_of,
        "2026-11-01T05:59:00Z"
    );

    // IAM's fresh answer, the same data: no difference. A new use of ec2: one.
    let fresh = report_at(NOW, "run-2", details.clone(), Some(&first));
    assert!(differences(&fresh, &carried).is_empty());
    let mut used = details;
    used.services[1] = service("ec2", Some("2026-12-02T01:00:00Z"), None);
    let fresh = report_at(NOW, "run-2", used, Some(&first));
    let diff = differences(&fresh, &carried);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].starts_with("ec2: active"), "{diff:?}");
}

#[path = "witness_tests.rs"]
mod witness;
