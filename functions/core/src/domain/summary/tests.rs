//! Folding batch results into the run summary, and how a run ends.

use super::*;
use crate::domain::account::{AccountItem, AccountRecord, AccountState};
use crate::domain::arn::PrincipalType;
use crate::domain::input::{Granularity, PollOptions, ReportOptions};
use crate::domain::outcome::PrincipalOutcome;

fn outcome(arn: &str, status: JobStatus, unused: u32) -> PrincipalOutcome {
    PrincipalOutcome {
        arn: arn.into(),
        principal_id: None,
        principal_type: PrincipalType::Role,
        status,
        report_key: format!("k/{arn}"),
        account: "123456789012".into(),
        services_granted: 10,
        services_active: 10 - unused,
        services_stale: unused.min(1),
        services_never_used: unused.saturating_sub(1),
        error: (status != JobStatus::Completed).then(|| JobError {
            code: "X".into(),
            message: "y".into(),
        }),
        services: Vec::new(),
        changes: None,
        recommended: None,
        fingerprint: None,
        data_as_of: None,
        entities: false,
        incremental: None,
    }
}

fn plan(principals: u32, batches: u32) -> PlanRecord {
    PlanRecord {
        run_id: "r".into(),
        dt: "2026-11-25".into(),
        started_at: "2026-11-25T00:00:00Z".into(),
        granularity: Granularity::ServiceLevel,
        batch_size: 2,
        max_concurrency: 1,
        iam_requests_per_second: None,
        poll: PollOptions::default(),
        report: ReportOptions::default(),
        explicit_arns: 0,
        discover: None,
        principals,
        batches,
        batch_size_requested: 2,
        skipped: Vec::new(),
        scope: "s".into(),
        previous_run: None,
        organization: None,
        accounts: 1,
        incremental: None,
    }
}

fn closing(max_failed_percent: f64) -> Closing {
    Closing {
        finished_at: "2026-11-25T00:01:00Z".into(),
        duration_seconds: 60,
        reports_prefix: "p/".into(),
        max_failed_percent,
    }
}

fn batch(index: u32, arns: &[&str]) -> Batch {
    Batch {
        index,
        arns: arns
            .iter()
            .map(|a| crate::domain::arn::PrincipalArn::parse(a).unwrap())
            .collect(),
        ..Batch::default()
    }
}

#[test]
fn counts_ranks_and_lists_errors() {
    let results = vec![
        BatchResult {
            job_binding: None,
            index: 1,
            principals: vec![outcome("c", JobStatus::Failed, 0)],
        },
        BatchResult {
            job_binding: None,
            index: 0,
            principals: vec![
                outcome("a", JobStatus::Completed, 3),
                outcome("b", JobStatus::Completed, 7),
            ],
        },
    ];
    let records = RunRecords {
        previous_arns: None,
        accounts: Vec::new(),
        results,
        ..RunRecords::default()
    };
    let s = summarize(plan(3, 2), records, closing(50.0)).0;
    assert_eq!(s.status, RunStatus::Succeeded);
    assert_eq!(s.as_of, "2026-11-25T00:00:00Z");
    assert_eq!(s.counts.reports_written, 3);
    assert_eq!(s.counts.by_status[&JobStatus::Completed], 2);
    assert_eq!(s.counts.by_status[&JobStatus::Failed], 1);
    assert_eq!(s.counts.services_unused, 10);
    assert_eq!(
        s.top_unused
            .iter()
            .map(|t| t.arn.as_str())
            .collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(s.errors.len(), 1);
    assert!(s.missing.is_empty());
    assert_eq!(s.report_keys, ["k/a", "k/b", "k/c"]);
}

#[test]
fn a_failed_batch_names_its_principals_and_why() {
    let records = RunRecords {
        previous_arns: None,
        accounts: Vec::new(),
        access_report: None,
        results: vec![BatchResult {
            job_binding: None,
            index: 0,
            principals: vec![outcome("a", JobStatus::Completed, 0)],
        }],
        failures: vec![BatchFailure {
            index: 1,
            error: Some("StorageError".into()),
            cause: Some("S3 call failed: PutObject: AccessDenied".into()),
        }],
        unreported: vec![batch(
            1,
            &[
                "arn:aws:iam::123456789012:role/b",
                "arn:aws:iam::123456789012:user/c",
            ],
        )],
        map_failure: None,
    };
    let s = summarize(plan(3, 2), records, closing(50.0)).0;
    assert_eq!(s.status, RunStatus::Incomplete);
    assert_eq!(s.counts.principals_missing, 2);
    let arns: Vec<&str> = s.missing.iter().map(|m| m.arn.as_str()).collect();
    assert_eq!(
        arns,
        [
            "arn:aws:iam::123456789012:role/b",
            "arn:aws:iam::123456789012:user/c"
        ]
    );
    assert_eq!(s.missing[0].error.as_deref(), Some("StorageError"));
    assert!(s.missing[0].reason.contains("PutObject: AccessDenied"));
}

#[test]
fn a_batch_without_a_record_still_says_so() {
    let failure = StepFunctionsError {
        error: Some("States.DataLimitExceeded".into()),
        cause: Some("too big".into()),
    };
    let records = RunRecords {
        previous_arns: None,
        accounts: Vec::new(),
        unreported: vec![batch(0, &["arn:aws:iam::123456789012:role/a"])],
        map_failure: Some(failure.clone()),
        ..RunRecords::default()
    };
    let s = summarize(plan(1, 1), records, closing(50.0)).0;
    assert_eq!(s.status, RunStatus::Incomplete);
    assert_eq!(s.failure, Some(failure));
    assert!(s.missing[0].reason.contains("States.DataLimitExceeded"));
}

#[test]
fn more_than_the_allowed_share_failed_is_a_failed_run() {
    let results = vec![BatchResult {
        job_binding: None,
        index: 0,
        principals: vec![
            outcome("a", JobStatus::Failed, 0),
            outcome("b", JobStatus::Failed, 0),
            outcome("c", JobStatus::Completed, 0),
        ],
    }];
    let records = RunRecords {
        previous_arns: None,
        accounts: Vec::new(),
        results,
        ..RunRecords::default()
    };
    let s = summarize(plan(3, 1), records.clone(), closing(50.0)).0;
    assert_eq!(s.status, RunStatus::Failed);
    let s = summarize(plan(3, 1), records, closing(70.0)).0;
    assert_eq!(s.status, RunStatus::Succeeded);
}

#[test]
fn the_failed_share_is_strictly_more_than_the_limit() {
    assert!(!too_many_failed(1, 2, 50.0));
    assert!(too_many_failed(2, 3, 50.0));
    assert!(!too_many_failed(0, 0, 0.0));
    assert!(too_many_failed(1, 100, 0.0));
    assert!(!too_many_failed(100, 100, 100.0));
}

#[test]
fn statuses_read_as_in_the_schema() {
    let text = serde_json::to_string(&[
        RunStatus::Succeeded,
        RunStatus::Incomplete,
        RunStatus::Failed,
    ])
    .unwrap();
    assert_eq!(text, r#"["SUCCEEDED","INCOMPLETE","FAILED"]"#);
}

#[test]
fn changes_count_new_gone_changed_and_unchanged() {
    use crate::domain::report::{Changes, ClassChanges};
    use crate::domain::run::RunRef;
    let prev = RunRef {
        run_id: "r0".into(),
        dt: "2026-11-24".into(),
        as_of: "2026-11-24T00:00:00Z".into(),
        account_keys: true,
    };
    let with = |arn: &str, changes: Option<Changes>| PrincipalOutcome {
        changes,
        ..outcome(arn, JobStatus::Completed, 0)
    };
    let compared = |new: bool, newly_used: &[&str]| {
        Some(Changes {
            previous_run: Some(prev.clone()),
            new,
            recreated: false,
            services: ClassChanges {
                newly_used: newly_used.iter().map(|s| s.to_string()).collect(),
                ..ClassChanges::default()
            },
            actions: None,
        })
    };
    let records = RunRecords {
        results: vec![BatchResult {
            job_binding: None,
            index: 0,
            principals: vec![
                with("a", compared(true, &[])),
                with("b", compared(false, &["s3"])),
                with("c", compared(false, &["s3", "ec2"])),
                with("d", compared(false, &[])),
                with("e", None),
            ],
        }],
        previous_arns: Some(vec!["b".into(), "c".into(), "gone-1".into(), "d".into()]),
        ..RunRecords::default()
    };
    let mut plan = plan(5, 1);
    plan.previous_run = Some(prev.clone());
    let (s, outcomes) = summarize(plan, records, closing(50.0));
    assert_eq!(outcomes.len(), 5);
    let c = &s.changes;
    assert_eq!(c.previous_run.as_ref(), Some(&prev));
    assert_eq!(
        (
            c.principals_new,
            c.principals_gone,
            c.principals_changed,
            c.principals_unchanged,
            c.principals_not_compared
        ),
        (1, 1, 2, 1, 1)
    );
    assert_eq!(c.gone, ["gone-1"]);
    let largest: Vec<(&str, u32)> = c.largest.iter().map(|l| (l.arn.as_str(), l.size)).collect();
    assert_eq!(largest, [("c", 2), ("b", 1)]);
}

fn account(id: &str, record: Option<(AccountState, u32)>, failure: Option<&str>) -> AccountRun {
    let item = AccountItem {
        id: crate::domain::arn::AccountId::parse(id).unwrap(),
        name: format!("n{id}"),
        status: "ACTIVE".into(),
        ou_path: "r-ab12".into(),
        role_arn: Some(format!("arn:aws:iam::{id}:role/member")),
        first_batch: 0,
        probe: true,
        previous_runs: Vec::new(),
    };
    AccountRun {
        record: record.map(|(state, principals)| AccountRecord {
            item: item.clone(),
            state,
            error: (state == AccountState::Unreachable).then(|| "cannot assume".into()),
            principals,
            batches: principals.min(1),
            batch_size: 2,
            skipped: Vec::new(),
            carry: None,
        }),
        item,
        failure: failure.map(|cause| StepFunctionsError {
            error: Some("States.TaskFailed".into()),
            cause: Some(cause.into()),
        }),
    }
}

#[test]
fn each_account_has_a_line_and_any_not_succeeded_makes_the_run_incomplete() {
    let scanned = |arn: &str, account: &str| PrincipalOutcome {
        account: account.into(),
        ..outcome(arn, JobStatus::Completed, 2)
    };
    let records = RunRecords {
        results: vec![BatchResult {
            job_binding: None,
            index: 0,
            principals: vec![scanned("a", "111111111111")],
        }],
        accounts: vec![
            account("111111111111", Some((AccountState::Planned, 1)), None),
            // Nothing of it to scan, but unreachable: every report written is not enough.
            account("222222222222", Some((AccountState::Unreachable, 0)), None),
            // Its PlanAccount failed beyond its retries: no record, a failure.
            account(
                "333333333333",
                None,
                Some(
                    r#"{"errorType":"IamError","errorMessage":"ListRoles failed (ServiceError(dump))"}"#,
                ),
            ),
        ],
        ..RunRecords::default()
    };
    let s = summarize(plan(1, 1), records, closing(50.0)).0;
    assert_eq!(
        (s.counts.reports_written, s.counts.batches_reported),
        (1, 1),
        "every planned principal has its report"
    );
    assert_eq!(s.status, RunStatus::Incomplete);
    let lines: Vec<_> = s
        .accounts
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.status,
                a.error.as_deref(),
                a.principals,
                a.reports_written,
                a.services_unused,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("111111111111", AccountStatus::Succeeded, None, 1, 1, 2),
            (
                "222222222222",
                AccountStatus::Unreachable,
                Some("cannot assume"),
                0,
                0,
                0
            ),
            (
                "333333333333",
                AccountStatus::Unreachable,
                Some("States.TaskFailed: ListRoles failed"),
                0,
                0,
                0
            ),
        ]
    );
    assert_eq!(
        s.account_counts,
        BTreeMap::from([
            (AccountStatus::Succeeded, 1),
            (AccountStatus::Unreachable, 2)
        ])
    );
}

#[test]
fn principals_of_an_account_not_read_are_never_gone() {
    use crate::domain::run::RunRef;
    let mut p = plan(1, 1);
    p.previous_run = Some(RunRef {
        run_id: "r0".into(),
        dt: "2026-11-24".into(),
        as_of: "2026-11-24T00:00:00Z".into(),
        account_keys: true,
    });
    let a = "arn:aws:iam::111111111111:role/a";
    let records = RunRecords {
        results: vec![BatchResult {
            job_binding: None,
            index: 0,
            principals: vec![PrincipalOutcome {
                account: "111111111111".into(),
                ..outcome(a, JobStatus::Completed, 0)
            }],
        }],
        previous_arns: Some(vec![
            a.into(),
            // Deleted since: its account was read.
            "arn:aws:iam::111111111111:role/deleted".into(),
            // Its account's member role refused us this time: unknown, not gone.
            "arn:aws:iam::222222222222:role/b".into(),
            // Its account's plan failed: unknown too.
            "arn:aws:iam::333333333333:user/c".into(),
        ]),
        accounts: vec![
            account("111111111111", Some((AccountState::Planned, 1)), None),
            account("222222222222", Some((AccountState::Unreachable, 0)), None),
            account("333333333333", None, Some("ListUsers failed")),
        ],
        ..RunRecords::default()
    };
    let s = summarize(p, records, closing(50.0)).0;
    assert_eq!(s.changes.gone, ["arn:aws:iam::111111111111:role/deleted"]);
    assert_eq!(s.changes.principals_gone, 1);
}

#[test]
fn count_maps_are_written_in_their_names_order() {
    let counts = Counts {
        by_status: [
            (JobStatus::TimedOut, 1),
            (JobStatus::Completed, 2),
            (JobStatus::Denied, 3),
        ]
        .into(),
        by_type: [
            (PrincipalType::User, 1),
            (PrincipalType::AwsManagedPolicy, 2),
        ]
        .into(),
        ..Counts::default()
    };
    let text = serde_json::to_string(&counts).unwrap();
    assert!(
        text.contains(r#""by_status":{"COMPLETED":2,"DENIED":3,"TIMED_OUT":1}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""by_type":{"aws_managed_policy":2,"user":1}"#),
        "{text}"
    );
    let back: Counts = serde_json::from_str(&text).unwrap();
    assert_eq!(back, counts);
}

#[test]
fn each_account_says_how_iam_binds_its_jobids_and_the_run_says_whether_they_agree() {
    use crate::domain::job::JobBinding;
    let result = |index: u32, account: &str, binding: Option<JobBinding>| BatchResult {
        index,
        job_binding: binding,
        principals: vec![PrincipalOutcome {
            account: account.into(),
            ..outcome(
                &format!("arn:aws:iam::{account}:role/r{index}"),
                JobStatus::Completed,
                0,
            )
        }],
    };
    let records = |results: Vec<BatchResult>| RunRecords {
        results,
        accounts: vec![
            account("111111111111", Some((AccountState::Planned, 1)), None),
            account("222222222222", Some((AccountState::Planned, 1)), None),
        ],
        ..RunRecords::default()
    };
    let bindings = |s: &RunSummary| -> Vec<Option<JobBinding>> {
        s.accounts.iter().map(|a| a.job_binding).collect()
    };

    let same = summarize(
        plan(2, 2),
        records(vec![
            result(0, "111111111111", Some(JobBinding::Session)),
            result(1, "222222222222", Some(JobBinding::Session)),
        ]),
        closing(50.0),
    )
    .0;
    assert_eq!(same.job_binding.as_deref(), Some("session"));
    assert_eq!(bindings(&same), [Some(JobBinding::Session); 2]);

    let mixed = summarize(
        plan(2, 2),
        records(vec![
            result(0, "111111111111", Some(JobBinding::Session)),
            result(1, "222222222222", Some(JobBinding::RoleSessionName)),
        ]),
        closing(50.0),
    )
    .0;
    assert_eq!(mixed.job_binding.as_deref(), Some("mixed"));
    assert_eq!(
        bindings(&mixed),
        [Some(JobBinding::Session), Some(JobBinding::RoleSessionName)]
    );
    let json = serde_json::to_value(&mixed).unwrap();
    assert_eq!(json["accounts"][1]["job_binding"], "role_session_name");

    let unsaid = summarize(
        plan(2, 2),
        records(vec![result(0, "111111111111", None)]),
        closing(50.0),
    )
    .0;
    assert_eq!(
        unsaid.job_binding, None,
        "no preflight said: no binding claimed"
    );
    assert!(serde_json::to_value(&unsaid)
        .unwrap()
        .get("job_binding")
        .is_none());
}

#[test]
fn growing_lists_hold_their_first_thousand_and_count_every_entry() {
    let n = LIST_CAP + 5;
    let arn = |i: usize| format!("arn:aws:iam::123456789012:role/r{i:05}");
    let principals: Vec<PrincipalOutcome> = (0..n)
        .map(|i| outcome(&arn(i), JobStatus::Failed, (i % 7) as u32))
        .collect();
    let records = RunRecords {
        results: vec![BatchResult {
            job_binding: None,
            index: 0,
            principals,
        }],
        unreported: vec![batch(1, &[&arn(n), &arn(n + 1)])],
        // Every one of them gone: the previous run's, none in this one's scope.
        previous_arns: Some((0..n).map(|i| arn(i + 10_000)).rev().collect()),
        ..RunRecords::default()
    };
    let s = summarize(plan(n as u32 + 2, 2), records, closing(100.0)).0;
    assert_eq!(s.report_keys.len(), LIST_CAP);
    assert_eq!(s.errors.len(), LIST_CAP);
    assert_eq!(s.changes.gone.len(), LIST_CAP);
    assert!(
        s.changes.gone.windows(2).all(|w| w[0] < w[1]),
        "the listed ones sorted"
    );
    assert_eq!(s.changes.principals_gone as usize, n);
    assert_eq!(s.counts.reports_written as usize, n);
    assert_eq!(s.counts.principals_missing, 2);
    assert_eq!(s.top_unused.len(), 20, "the top list is its own size");
    assert!(s.top_unused.iter().all(|t| t.services_unused == 6));
    let lists = s.lists.expect("schema 4.0 says how long the lists are");
    assert_eq!(
        (
            lists.report_keys.total,
            lists.errors.total,
            lists.missing.total,
            lists.gone.total
        ),
        (n as u64, n as u64, 2, n as u64)
    );
    assert_eq!(lists.gone.key, "reports/runs/dt=2026-11-25/run=r/gone.json");
    assert_eq!(
        lists.errors.key,
        "reports/runs/dt=2026-11-25/run=r/principals.json"
    );
}
