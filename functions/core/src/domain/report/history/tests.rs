//! Changes between runs, history beyond IAM's window, and choosing the previous run.

use super::*;
use crate::domain::arn::PrincipalArn;
use crate::domain::input::{Discovery, Granularity, ReportOptions};
use crate::domain::job::JobStatus;
use crate::domain::report::tests::{action, service};
use crate::domain::report::{
    build_report, JobDetails, PrincipalReport, ReportContext, ServiceAccess,
};
use crate::domain::run::scope_of;
use crate::domain::summary::previous::{choose_previous, RunHead, MAX_PREVIOUS_RUNS};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);
const ARN: &str = "arn:aws:iam::123456789012:role/app";

fn classes(pairs: &[(&str, Usage)]) -> BTreeMap<String, Usage> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn diff_names_each_move_once() {
    use Usage::*;
    let before = classes(&[
        ("s3", Active),
        ("ec2", Active),
        ("kms", NeverUsed),
        ("sqs", Stale),
        ("sns", Stale),
        ("gone", Active),
    ]);
    let now = classes(&[
        ("s3", Active),
        ("ec2", Stale),
        ("kms", Active),
        ("sqs", NeverUsed),
        ("sns", Stale),
        ("lambda", Active),
        ("glue", NeverUsed),
    ]);
    let c = diff(&before, &now);
    assert_eq!(c.newly_used, ["kms", "lambda"]);
    assert_eq!(c.newly_stale, ["ec2"]);
    assert_eq!(c.newly_never_used, ["sqs"]);
    assert_eq!(c.granted_added, ["glue", "lambda"]);
    assert_eq!(c.granted_removed, ["gone"]);
    assert_eq!(c.size(), 7);
    assert!(diff(&now, &now).is_empty());
}

fn report(
    run_id: &str,
    as_of: OffsetDateTime,
    status: JobStatus,
    services: Vec<ServiceAccess>,
    previous: Option<Previous<'_>>,
) -> PrincipalReport {
    report_of(None, run_id, as_of, status, services, previous)
}

/// The same, of the principal whose unique id is `principal_id`.
fn report_of(
    principal_id: Option<&str>,
    run_id: &str,
    as_of: OffsetDateTime,
    status: JobStatus,
    services: Vec<ServiceAccess>,
    previous: Option<Previous<'_>>,
) -> PrincipalReport {
    let arn = PrincipalArn::parse(ARN).unwrap();
    let options = ReportOptions {
        unused_days: 90,
        ..ReportOptions::default()
    };
    let ctx = ReportContext {
        arn: &arn,
        principal_id,
        run_id,
        granularity: Granularity::ActionLevel,
        options: &options,
        as_of,
        written_at: as_of,
        previous,
    };
    let details = JobDetails {
        services,
        ..JobDetails::default()
    };
    build_report(&ctx, Some("job"), status, details)
}

/// The previous run `run`, with this principal's `report` in it.
fn after<'a>(run: &'a RunRef, report: &'a PrincipalReport) -> Option<Previous<'a>> {
    Some(Previous {
        run,
        report: Some(report),
    })
}

fn run(id: &str, as_of: &str) -> RunRef {
    RunRef {
        run_id: id.into(),
        dt: as_of[..10].into(),
        as_of: as_of.into(),
        account_keys: true,
    }
}

#[test]
fn a_last_use_iam_forgot_is_carried_from_the_run_that_saw_it() {
    // Run 1 sees s3 used 395 days ago; by run 3 IAM no longer reports it.
    let r1 = run("run-1", "2026-11-25T12:00:00Z");
    let first = report(
        "run-1",
        NOW,
        JobStatus::Completed,
        vec![service(
            "s3",
            Some("2025-10-26T12:00:00Z"),
            Some(vec![action("ListBuckets", Some("2025-10-26T12:00:00Z"))]),
        )],
        None,
    );
    let later = NOW + time::Duration::days(10);
    let second = report(
        "run-2",
        later,
        JobStatus::Completed,
        vec![service("s3", None, Some(vec![action("ListBuckets", None)]))],
        after(&r1, &first),
    );
    let s3 = &second.services[0];
    let ever = s3.last_authenticated_ever.as_ref().expect("carried");
    assert_eq!(
        (ever.time.as_str(), ever.run_id.as_str()),
        ("2025-10-26T12:00:00Z", "run-1")
    );
    assert_eq!(ever.region.as_deref(), Some("eu-west-1"));
    assert_eq!(s3.last_authenticated, None, "IAM's own field stays IAM's");
    assert_eq!(
        s3.usage,
        Usage::Stale,
        "stale with that date, not never used"
    );
    assert_eq!(s3.days_since_last_authenticated, Some(405));
    let a = &s3.tracked_actions.as_ref().unwrap()[0];
    assert_eq!(a.usage, Usage::Stale);
    assert_eq!(a.last_accessed_ever.as_ref().unwrap().run_id, "run-1");
    assert_eq!(second.findings.stale_services, ["s3"]);
    assert!(second.findings.never_used_services.is_empty());
    let c = second.changes.as_ref().unwrap();
    assert!(!c.new && !c.changed(), "same class before and after: {c:?}");

    // Run 3 compares with run 2, which only carried it: the source run stays run-1.
    let r2 = run("run-2", "2026-12-05T12:00:00Z");
    let third = report(
        "run-3",
        later + time::Duration::days(1),
        JobStatus::Completed,
        vec![service("s3", None, None)],
        after(&r2, &second),
    );
    assert_eq!(
        third.services[0]
            .last_authenticated_ever
            .as_ref()
            .unwrap()
            .run_id,
        "run-1"
    );
    let json = serde_json::to_value(&third).unwrap();
    assert_eq!(
        json["schema_version"],
        crate::domain::report::REPORT_SCHEMA_VERSION
    );
    assert_eq!(
        json["services"][0]["last_authenticated_ever"]["time"],
        "2025-10-26T12:00:00Z"
    );
}

#[test]
fn changes_compare_with_the_previous_report() {
    let r1 = run("run-1", "2026-11-20T12:00:00Z");
    let before = report(
        "run-1",
        NOW,
        JobStatus::Completed,
        vec![
            service("s3", Some("2026-11-20T00:00:00Z"), None),
            service("ec2", None, None),
            service("sqs", None, None),
        ],
        None,
    );
    let after = report(
        "run-2",
        NOW,
        JobStatus::Completed,
        vec![
            service("s3", Some("2026-11-20T00:00:00Z"), None),
            service("ec2", Some("2026-11-24T00:00:00Z"), None),
            service("kms", None, None),
        ],
        after(&r1, &before),
    );
    let c = after.changes.unwrap();
    assert_eq!(c.previous_run.as_ref().unwrap().run_id, "run-1");
    assert!(c.changed());
    assert_eq!(c.services.newly_used, ["ec2"]);
    assert_eq!(c.services.granted_added, ["kms"]);
    assert_eq!(c.services.granted_removed, ["sqs"]);
    assert_eq!(
        c.actions,
        Some(ClassChanges::default()),
        "ACTION_LEVEL compares actions"
    );
}

#[test]
fn new_and_incomparable_principals() {
    let none = report("run-1", NOW, JobStatus::Completed, Vec::new(), None);
    let c = none.changes.unwrap();
    assert!(
        c.new && c.previous_run.is_none(),
        "first run: every principal is new"
    );

    let r1 = run("run-1", "2026-11-20T12:00:00Z");
    let absent = report(
        "run-2",
        NOW,
        JobStatus::Completed,
        Vec::new(),
        Some(Previous {
            run: &r1,
            report: None,
        }),
    );
    let c = absent.changes.unwrap();
    assert!(
        c.new && c.previous_run.is_some(),
        "not in the previous run: new"
    );

    let failed = report("run-1", NOW, JobStatus::Failed, Vec::new(), None);
    let after_failed = report(
        "run-2",
        NOW,
        JobStatus::Completed,
        vec![service("s3", None, None)],
        after(&r1, &failed),
    );
    assert_eq!(
        after_failed.changes, None,
        "nothing to compare with a FAILED job"
    );
    assert_eq!(
        report("run-2", NOW, JobStatus::TimedOut, Vec::new(), None).changes,
        None
    );
}

#[test]
fn a_1x_report_reads_as_a_previous_report() {
    let old = serde_json::json!({
        "schema_version": "1.0.0", "arn": ARN, "type": "role", "name": "app", "path": "/",
        "account": "123456789012", "partition": "aws", "run_id": "old",
        "generated_at": "2026-01-01T00:00:00Z",
        "job": {"id": "j", "granularity": "SERVICE_LEVEL", "status": "COMPLETED",
                "job_type": null, "created": null, "completed": null, "error": null},
        "services": [
            {"namespace": "s3", "name": "S3", "usage": "used", "days_since_last_authenticated": 1,
             "last_authenticated": "2025-12-31T00:00:00Z", "last_authenticated_entity": null,
             "last_authenticated_region": null, "total_authenticated_entities": 1},
            {"namespace": "ec2", "name": "EC2", "usage": "unused", "days_since_last_authenticated": 100,
             "last_authenticated": "2025-09-01T00:00:00Z", "last_authenticated_entity": null,
             "last_authenticated_region": null, "total_authenticated_entities": 1}],
        "findings": {"unused_days": 90, "services_granted": 2, "services_used": 2,
                     "unused_services": ["ec2"], "never_used_services": [],
                     "unused_actions": [], "never_used_actions": [],
                     "services_without_action_tracking": []}
    });
    let r: PrincipalReport = serde_json::from_value(old).unwrap();
    assert_eq!(r.services[0].usage, Usage::Active);
    assert_eq!(r.services[1].usage, Usage::Stale);
}

fn head(run_id: &str, as_of: &str, status: Option<&str>, granularity: &str) -> RunHead {
    let scope = if run_id == "other-scope" { "0" } else { "s" };
    serde_json::from_value(serde_json::json!({
        "run_id": run_id, "dt": &as_of[..10], "started_at": as_of, "as_of": as_of,
        "status": status, "parameters": {"granularity": granularity, "scope": scope, "other": 1},
        "report_keys": []
    }))
    .unwrap()
}

/// A 3.x head with its accounts' lines.
fn head_with(run_id: &str, as_of: &str, status: &str, accounts: &[(&str, &str)]) -> RunHead {
    let lines: Vec<_> = accounts
        .iter()
        .map(|(id, status)| serde_json::json!({"id": id, "status": status, "name": ""}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "schema_version": "3.1.0", "run_id": run_id, "dt": &as_of[..10], "started_at": as_of,
        "as_of": as_of, "status": status,
        "parameters": {"granularity": "SERVICE_LEVEL", "scope": "s"}, "accounts": lines
    }))
    .unwrap()
}

fn ids(runs: &[RunRef]) -> Vec<&str> {
    runs.iter().map(|r| r.run_id.as_str()).collect()
}

#[test]
fn the_previous_run_is_the_latest_earlier_one_with_a_summary_at_the_granularity() {
    let heads = [
        head(
            "old",
            "2026-11-20T00:00:00Z",
            Some("SUCCEEDED"),
            "SERVICE_LEVEL",
        ),
        head(
            "newer",
            "2026-11-24T00:00:00Z",
            Some("SUCCEEDED"),
            "SERVICE_LEVEL",
        ),
        head(
            "partial",
            "2026-11-24T06:00:00Z",
            Some("INCOMPLETE"),
            "SERVICE_LEVEL",
        ),
        head(
            "actions",
            "2026-11-24T07:00:00Z",
            Some("SUCCEEDED"),
            "ACTION_LEVEL",
        ),
        head(
            "later",
            "2026-11-25T13:00:00Z",
            Some("SUCCEEDED"),
            "SERVICE_LEVEL",
        ),
        head("v10", "2026-11-23T00:00:00Z", None, "SERVICE_LEVEL"),
        head(
            "other-scope",
            "2026-11-25T11:00:00Z",
            Some("SUCCEEDED"),
            "SERVICE_LEVEL",
        ),
    ];
    let before = "2026-11-25T12:00:00Z";
    let previous = |heads: &[RunHead], g: Granularity, before: &str| {
        choose_previous(heads, g, "s", before, &[]).run
    };
    let found = previous(&heads, Granularity::ServiceLevel, before).unwrap();
    assert_eq!(
        (found.run_id.as_str(), found.dt.as_str()),
        ("partial", "2026-11-24"),
        "an INCOMPLETE run has a summary: it is the run's previous run"
    );
    let found = previous(&heads, Granularity::ActionLevel, before).unwrap();
    assert_eq!(found.run_id, "actions");
    assert_eq!(
        previous(&heads[5..6], Granularity::ServiceLevel, before)
            .unwrap()
            .run_id,
        "v10"
    );
    assert_eq!(
        previous(&heads, Granularity::ServiceLevel, "2026-11-01T00:00:00Z"),
        None
    );
}

#[test]
fn each_account_looks_back_to_the_runs_that_scanned_it() {
    let heads = [
        head_with(
            "r1",
            "2026-11-20T00:00:00Z",
            "SUCCEEDED",
            &[("111111111111", "SUCCEEDED"), ("222222222222", "SUCCEEDED")],
        ),
        head_with(
            "r2",
            "2026-11-21T00:00:00Z",
            "INCOMPLETE",
            &[
                ("111111111111", "INCOMPLETE"),
                ("222222222222", "UNREACHABLE"),
            ],
        ),
        head_with(
            "r3",
            "2026-11-22T00:00:00Z",
            "INCOMPLETE",
            &[
                ("111111111111", "SUCCEEDED"),
                ("222222222222", "UNREACHABLE"),
                ("333333333333", "INCOMPLETE"),
            ],
        ),
        head_with(
            "r4",
            "2026-11-23T00:00:00Z",
            "INCOMPLETE",
            &[
                ("111111111111", "INCOMPLETE"),
                ("222222222222", "UNREACHABLE"),
                ("333333333333", "INCOMPLETE"),
            ],
        ),
        head_with(
            "r5",
            "2026-11-24T00:00:00Z",
            "INCOMPLETE",
            &[
                ("222222222222", "UNREACHABLE"),
                ("333333333333", "INCOMPLETE"),
            ],
        ),
    ];
    let accounts = [
        "111111111111",
        "222222222222",
        "333333333333",
        "444444444444",
    ];
    let found = choose_previous(
        &heads,
        Granularity::ServiceLevel,
        "s",
        "2026-11-25T00:00:00Z",
        &accounts,
    );
    assert_eq!(
        found.run.unwrap().run_id,
        "r5",
        "the run's own: the latest with a summary"
    );
    // Newest first, up to the first run that scanned the account fully.
    assert_eq!(ids(&found.accounts["111111111111"]), ["r4", "r3"]);
    // Never back to a run that could not read the account.
    assert_eq!(ids(&found.accounts["222222222222"]), ["r1"]);
    // Scanned only in part: at most MAX_PREVIOUS_RUNS runs.
    assert_eq!(ids(&found.accounts["333333333333"]), ["r5", "r4", "r3"]);
    assert_eq!(MAX_PREVIOUS_RUNS, 3);
    // No earlier run scanned it: none, and older summaries might still hold one.
    assert!(!found.accounts.contains_key("444444444444"));
    assert!(!found.settled);
    let found = choose_previous(
        &heads,
        Granularity::ServiceLevel,
        "s",
        "2026-11-25T00:00:00Z",
        &accounts[..3],
    );
    assert!(
        found.settled,
        "every account reached a full scan or the cap"
    );
    assert!(
        found.accounts["111111111111"][0].account_keys,
        "3.x reports have account= keys"
    );
}

#[test]
fn a_summary_before_accounts_scanned_the_stacks_account() {
    // Schema 2.x: no account lines; an INCOMPLETE run scanned in part.
    let heads = [
        head(
            "full",
            "2026-11-20T00:00:00Z",
            Some("SUCCEEDED"),
            "SERVICE_LEVEL",
        ),
        head(
            "part",
            "2026-11-21T00:00:00Z",
            Some("INCOMPLETE"),
            "SERVICE_LEVEL",
        ),
    ];
    let found = choose_previous(
        &heads,
        Granularity::ServiceLevel,
        "s",
        "2026-11-22T00:00:00Z",
        &["123456789012"],
    );
    assert_eq!(ids(&found.accounts["123456789012"]), ["part", "full"]);
    assert!(!found.accounts["123456789012"][0].account_keys);
    assert!(found.settled);
}

#[test]
fn the_scope_is_the_filter_and_the_set_of_arns() {
    let a = PrincipalArn::parse("arn:aws:iam::123456789012:role/a").unwrap();
    let b = PrincipalArn::parse("arn:aws:iam::123456789012:user/b").unwrap();
    let one = scope_of(&[a.clone(), b.clone()], None, None);
    assert_eq!(
        one,
        scope_of(&[b.clone(), a.clone()], None, None),
        "order does not matter"
    );
    assert_eq!(one.len(), 16);
    assert_ne!(one, scope_of(std::slice::from_ref(&a), None, None));
    let all: Discovery = serde_json::from_value(serde_json::json!({})).unwrap();
    let roles: Discovery = serde_json::from_value(serde_json::json!({"types": ["role"]})).unwrap();
    assert_ne!(
        scope_of(&[], Some(&all), None),
        scope_of(&[], Some(&roles), None)
    );
    assert_eq!(
        scope_of(&[], Some(&all), None),
        scope_of(&[], Some(&all.clone()), None)
    );
}

#[test]
fn a_failed_job_carries_history_on_to_the_next_run() {
    let r1 = run("run-1", "2026-11-25T12:00:00Z");
    let first = report(
        "run-1",
        NOW,
        JobStatus::Completed,
        vec![service(
            "sns",
            Some("2025-10-26T12:00:00Z"),
            Some(vec![action("Publish", Some("2025-10-26T12:00:00Z"))]),
        )],
        None,
    );
    // Run 2: the job fails; the report keeps what run 1 saw.
    let failed = report(
        "run-2",
        NOW + time::Duration::days(1),
        JobStatus::Failed,
        Vec::new(),
        after(&r1, &first),
    );
    assert_eq!(failed.carried_history.len(), 1);
    assert_eq!(
        failed.carried_history[0]
            .last_authenticated_ever
            .as_ref()
            .unwrap()
            .run_id,
        "run-1"
    );
    assert_eq!(failed.changes, None, "nothing compared");
    // Run 3: IAM has forgotten; history comes through the failed run from run 1.
    let r2 = run("run-2", "2026-11-26T12:00:00Z");
    let third = report(
        "run-3",
        NOW + time::Duration::days(10),
        JobStatus::Completed,
        vec![service("sns", None, Some(vec![action("Publish", None)]))],
        after(&r2, &failed),
    );
    let sns = &third.services[0];
    assert_eq!(sns.usage, Usage::Stale, "not never used: {sns:?}");
    let ever = sns.last_authenticated_ever.as_ref().unwrap();
    assert_eq!(
        (ever.time.as_str(), ever.run_id.as_str()),
        ("2025-10-26T12:00:00Z", "run-1")
    );
    let a = &sns.tracked_actions.as_ref().unwrap()[0];
    assert_eq!(a.last_accessed_ever.as_ref().unwrap().run_id, "run-1");
    assert_eq!(
        third.changes, None,
        "the previous job did not complete: not compared"
    );
    // A failed job after a failed job carries the same history again.
    let again = report(
        "run-4",
        NOW + time::Duration::days(11),
        JobStatus::TimedOut,
        Vec::new(),
        after(&r2, &failed),
    );
    assert_eq!(again.carried_history, failed.carried_history);
}

#[test]
fn history_follows_the_unique_id_not_the_arn() {
    // Run 1 sees s3 used 395 days ago by the role whose id is AROA…OLD.
    let r1 = run("run-1", "2026-11-25T12:00:00Z");
    let s3_used = || vec![service("s3", Some("2025-10-26T12:00:00Z"), None)];
    let old = Some("AROAOLD0000000000000");
    let first = report_of(old, "run-1", NOW, JobStatus::Completed, s3_used(), None);
    assert_eq!(first.principal_id.as_deref(), old);
    let later = NOW + time::Duration::days(10);
    let forgotten = || vec![service("s3", None, None)];

    // The same role: it inherits the last use IAM forgot.
    let same = report_of(
        old,
        "run-2",
        later,
        JobStatus::Completed,
        forgotten(),
        after(&r1, &first),
    );
    assert_eq!(same.services[0].usage, Usage::Stale);
    let c = same.changes.as_ref().unwrap();
    assert!(!c.new && !c.recreated, "{c:?}");

    // Deleted and re-created under its name: another principal, which inherits nothing.
    let new_id = Some("AROANEW0000000000000");
    let recreated = report_of(
        new_id,
        "run-2",
        later,
        JobStatus::Completed,
        forgotten(),
        after(&r1, &first),
    );
    let s3 = &recreated.services[0];
    assert_eq!(
        (s3.usage, &s3.last_authenticated_ever),
        (Usage::NeverUsed, &None)
    );
    let c = recreated.changes.as_ref().unwrap();
    assert!(c.new && c.recreated, "{c:?}");
    assert_eq!(
        c.previous_run.as_ref().map(|r| r.run_id.as_str()),
        Some("run-1")
    );
    assert!(
        c.services.is_empty(),
        "nothing compared with another principal's report"
    );
    assert!(!c.changed(), "new is not 'changed'");
    // Its job failing carries nothing of the old role's either.
    let failed = report_of(
        new_id,
        "run-2",
        later,
        JobStatus::Failed,
        Vec::new(),
        after(&r1, &first),
    );
    assert!(failed.carried_history.is_empty() && failed.changes.is_none());
    let failed_same = report_of(
        old,
        "run-2",
        later,
        JobStatus::Failed,
        Vec::new(),
        after(&r1, &first),
    );
    assert_eq!(
        failed_same.carried_history.len(),
        1,
        "the same role's job failing carries"
    );

    // A previous report without an id (schema 3.0, or an id Plan could not read), or
    // this run's id unknown: matched by ARN, as before.
    let unknown = report("run-1", NOW, JobStatus::Completed, s3_used(), None);
    assert_eq!(unknown.principal_id, None);
    for (now, before) in [(new_id, &unknown), (None, &first)] {
        let r = report_of(
            now,
            "run-2",
            later,
            JobStatus::Completed,
            forgotten(),
            after(&r1, before),
        );
        assert_eq!(r.services[0].usage, Usage::Stale, "{now:?}");
        assert!(!r.changes.unwrap().recreated);
    }
}

#[test]
fn a_3_0_report_without_principal_id_reads_as_a_previous_report() {
    let r1 = run("run-1", "2026-11-25T12:00:00Z");
    let mut stored =
        serde_json::to_value(report("run-1", NOW, JobStatus::Completed, Vec::new(), None)).unwrap();
    let fields = stored.as_object_mut().unwrap();
    fields.remove("principal_id");
    fields["schema_version"] = "3.0.0".into();
    fields["changes"]
        .as_object_mut()
        .unwrap()
        .remove("recreated");
    let old: PrincipalReport = serde_json::from_value(stored).unwrap();
    assert_eq!(old.principal_id, None);
    assert!(!old.changes.as_ref().unwrap().recreated);
    let r = report_of(
        Some("AROANEW0000000000000"),
        "run-2",
        NOW,
        JobStatus::Completed,
        Vec::new(),
        after(&r1, &old),
    );
    let c = r.changes.unwrap();
    assert!(!c.new && !c.recreated, "matched by ARN: {c:?}");
}
