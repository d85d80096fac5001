//! Building the run summary from what the run's work files say.

use crate::domain::access_report::AccessReportSummary;
use crate::domain::account::{AccountRun, AccountState, AccountStatus, AccountSummary};
use crate::domain::arn::PrincipalArn;
use crate::domain::batch::{Batch, BatchFailure};
use crate::domain::job::{JobBinding, JobStatus};
use crate::domain::outcome::{BatchResult, PrincipalOutcome};
use crate::domain::run::{PlanRecord, RunRef};
use crate::domain::sfn::{failed_briefly, what_failed, StepFunctionsError};
use crate::domain::summary::{
    ChangedPrincipal, Closing, Counts, MissingPrincipal, PrincipalError, RecommendationCounts,
    RunChanges, RunRecords, RunStatus, RunSummary, TopPrincipal, SUMMARY_SCHEMA_VERSION,
};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many principals in `top_unused` and `changes.largest`.
const TOP_PRINCIPALS: usize = 20;

/// Folds the batch results into the summary; also gives back every outcome, in batch
/// order, for the run's index and page.
pub fn summarize(
    plan: PlanRecord,
    records: RunRecords,
    closing: Closing,
) -> (RunSummary, Vec<PrincipalOutcome>) {
    let RunRecords {
        mut results,
        failures,
        unreported,
        map_failure,
        previous_arns,
        accounts,
        access_report,
    } = records;
    results.sort_by_key(|r| r.index);
    let batches_reported = results.len() as u32;
    let bindings = job_bindings(&results);
    let outcomes: Vec<PrincipalOutcome> = results.into_iter().flat_map(|r| r.principals).collect();
    let tally = Tally::of(&outcomes);
    let missing = missing_principals(unreported, &failures, map_failure.as_ref());
    let counts = Counts {
        principals_planned: plan.principals,
        principals_skipped: plan.skipped.len() as u32,
        principals_missing: missing.len() as u32,
        batches_planned: plan.batches,
        batches_reported,
        ..tally.counts
    };
    let previous_arns = previous_arns.map(|arns| read_accounts_only(arns, &accounts));
    let changes = run_changes(
        plan.previous_run.clone(),
        &outcomes,
        &missing,
        previous_arns,
    );
    let account_lines = account_lines(accounts, &outcomes, &bindings);
    let mut account_counts = BTreeMap::new();
    for a in &account_lines {
        *account_counts.entry(a.status).or_insert(0) += 1;
    }
    let status = run_status(
        &plan,
        &counts,
        &account_lines,
        access_report.as_ref(),
        closing.max_failed_percent,
    );
    let summary = RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION.to_string(),
        run_id: plan.run_id.clone(),
        dt: plan.dt.clone(),
        started_at: plan.started_at.clone(),
        finished_at: closing.finished_at,
        as_of: plan.started_at.clone(),
        duration_seconds: closing.duration_seconds,
        status,
        parameters: plan,
        counts,
        accounts: account_lines,
        account_counts,
        access_report,
        job_binding: run_job_binding(&bindings),
        top_unused: tally.top,
        errors: tally.errors,
        missing,
        changes,
        failure: map_failure,
        reports_prefix: closing.reports_prefix,
        report_keys: tally.report_keys,
    };
    (summary, outcomes)
}

/// What the outcomes add up to, one pass.
struct Tally {
    counts: Counts,
    top: Vec<TopPrincipal>,
    errors: Vec<PrincipalError>,
    report_keys: Vec<String>,
}

impl Tally {
    fn of(outcomes: &[PrincipalOutcome]) -> Tally {
        let mut t = Tally {
            counts: Counts::default(),
            top: Vec::new(),
            errors: Vec::new(),
            report_keys: Vec::new(),
        };
        for outcome in outcomes {
            t.counts.add(outcome);
            if outcome.status != JobStatus::Completed {
                t.errors.push(PrincipalError {
                    arn: outcome.arn.clone(),
                    status: outcome.status,
                    error: outcome.error.clone(),
                });
            }
            if outcome.services_unused() > 0 {
                t.top.push(TopPrincipal {
                    arn: outcome.arn.clone(),
                    services_unused: outcome.services_unused(),
                    services_granted: outcome.services_granted,
                    report_key: outcome.report_key.clone(),
                });
            }
            t.report_keys.push(outcome.report_key.clone());
        }
        t.top.sort_by(|a, b| {
            b.services_unused
                .cmp(&a.services_unused)
                .then_with(|| a.arn.cmp(&b.arn))
        });
        t.top.truncate(TOP_PRINCIPALS);
        t
    }
}

impl Counts {
    /// One report counted.
    fn add(&mut self, outcome: &PrincipalOutcome) {
        self.reports_written += 1;
        *self.by_status.entry(outcome.status).or_default() += 1;
        *self.by_type.entry(outcome.principal_type).or_default() += 1;
        self.services_granted += u64::from(outcome.services_granted);
        self.services_active += u64::from(outcome.services_active);
        self.services_stale += u64::from(outcome.services_stale);
        self.services_never_used += u64::from(outcome.services_never_used);
        self.services_unused += u64::from(outcome.services_unused());
        if let Some(r) = &outcome.recommended {
            let c = self
                .recommendations
                .get_or_insert_with(RecommendationCounts::default);
            c.principals_with_recommendations += u32::from(r.recommendations > 0);
            c.recommendations += u64::from(r.recommendations);
            c.services_removable += u64::from(r.services_removable);
            c.policies_to_detach += u64::from(r.policies_to_detach);
            c.unused_credentials += u64::from(r.unused_credentials);
            c.principals_withheld += u32::from(r.withheld.is_some());
        }
    }
}

/// The previous run's principals, less those of accounts this run could not read: an
/// account not planned says nothing about its principals, so none of them is "gone".
fn read_accounts_only(arns: Vec<String>, accounts: &[AccountRun]) -> Vec<String> {
    let unread: BTreeSet<&str> = accounts
        .iter()
        .filter(|a| {
            a.record
                .as_ref()
                .is_none_or(|r| r.state == AccountState::Unreachable)
        })
        .map(|a| a.item.id.as_str())
        .collect();
    arns.into_iter()
        .filter(|arn| PrincipalArn::parse(arn).map_or(true, |a| !unread.contains(a.account())))
        .collect()
}

/// SUCCEEDED when every account was scanned and every planned principal reported (and
/// the access report, if asked, is complete); FAILED past the failed share.
fn run_status(
    plan: &PlanRecord,
    counts: &Counts,
    accounts: &[AccountSummary],
    access_report: Option<&AccessReportSummary>,
    max_failed_percent: f64,
) -> RunStatus {
    let failed = counts
        .by_status
        .get(&JobStatus::Failed)
        .copied()
        .unwrap_or(0);
    let all_accounts_scanned = accounts
        .iter()
        .all(|a| a.status == AccountStatus::Succeeded)
        && access_report.is_none_or(|r| r.done == r.entities);
    if too_many_failed(failed, plan.principals, max_failed_percent) {
        RunStatus::Failed
    } else if all_accounts_scanned
        && counts.reports_written == plan.principals
        && counts.batches_reported == plan.batches
    {
        RunStatus::Succeeded
    } else {
        RunStatus::Incomplete
    }
}

/// How IAM bound JobIds in each account, as its batches' results say (its preflight's
/// finding, carried to every batch).
fn job_bindings(results: &[BatchResult]) -> BTreeMap<String, JobBinding> {
    results
        .iter()
        .filter_map(|r| Some((r.principals.first()?.account.clone(), r.job_binding?)))
        .collect()
}

/// The run's JobId binding: the accounts' one, `mixed` when they differ, none when no
/// account's preflight said.
fn run_job_binding(bindings: &BTreeMap<String, JobBinding>) -> Option<String> {
    let found: BTreeSet<JobBinding> = bindings.values().copied().collect();
    match found.len() {
        0 => None,
        1 => found.first().map(|b| b.as_str().to_string()),
        _ => Some("mixed".to_string()),
    }
}

/// One line per account: what Plan found there and what its reports add up to.
fn account_lines(
    accounts: Vec<AccountRun>,
    outcomes: &[PrincipalOutcome],
    bindings: &BTreeMap<String, JobBinding>,
) -> Vec<AccountSummary> {
    let mut by_account: BTreeMap<&str, (u32, u64, u64, u64)> = BTreeMap::new();
    for o in outcomes {
        let e = by_account.entry(o.account.as_str()).or_default();
        e.0 += 1;
        e.1 += u64::from(o.services_granted);
        e.2 += u64::from(o.services_active);
        e.3 += u64::from(o.services_unused());
    }
    accounts
        .into_iter()
        .map(|a| {
            let (written, granted, used, unused) = by_account
                .get(a.item.id.as_str())
                .copied()
                .unwrap_or_default();
            let failed = a
                .failure
                .as_ref()
                .map(|f| failed_briefly(f.error.as_deref(), f.cause.as_deref()));
            let (status, error, principals) = match &a.record {
                Some(r) if r.state == AccountState::Unreachable => {
                    (AccountStatus::Unreachable, r.error.clone(), 0)
                }
                None => (
                    AccountStatus::Unreachable,
                    Some(failed.unwrap_or_else(|| "Plan recorded nothing for the account".into())),
                    0,
                ),
                Some(r) if failed.is_some() || written < r.principals => (
                    AccountStatus::Incomplete,
                    Some(failed.unwrap_or_else(|| {
                        format!("{} of {} principals reported", written, r.principals)
                    })),
                    r.principals,
                ),
                Some(r) => (AccountStatus::Succeeded, None, r.principals),
            };
            AccountSummary {
                job_binding: bindings.get(a.item.id.as_str()).copied(),
                previous_run: a.item.previous_runs.into_iter().next(),
                id: a.item.id,
                name: a.item.name,
                ou_path: a.item.ou_path,
                status,
                error,
                principals,
                reports_written: written,
                services_granted: granted,
                services_used: used,
                services_unused: unused,
            }
        })
        .collect()
}

/// The run's `changes`: its reports' changes counted, the largest listed, and the
/// previous run's principals this run has no report of named as gone.
fn run_changes(
    previous_run: Option<RunRef>,
    outcomes: &[PrincipalOutcome],
    missing: &[MissingPrincipal],
    previous_arns: Option<Vec<String>>,
) -> RunChanges {
    let mut c = RunChanges {
        previous_run,
        ..RunChanges::default()
    };
    let mut largest = Vec::new();
    for o in outcomes {
        match &o.changes {
            None => c.principals_not_compared += 1,
            Some(ch) if ch.new => {
                c.principals_new += 1;
                c.principals_recreated += u32::from(ch.recreated);
            }
            Some(ch) if ch.changed() => {
                c.principals_changed += 1;
                largest.push(ChangedPrincipal {
                    arn: o.arn.clone(),
                    report_key: o.report_key.clone(),
                    size: ch.size() as u32,
                    services: ch.services.clone(),
                    actions: ch.actions.clone(),
                });
            }
            Some(_) => c.principals_unchanged += 1,
        }
    }
    largest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.arn.cmp(&b.arn)));
    largest.truncate(TOP_PRINCIPALS);
    c.largest = largest;
    if let Some(before) = previous_arns {
        // This run's scope: its reports and its planned principals without one.
        let now: BTreeSet<&str> = outcomes
            .iter()
            .map(|o| o.arn.as_str())
            .chain(missing.iter().map(|m| m.arn.as_str()))
            .collect();
        c.gone = before
            .into_iter()
            .filter(|a| !now.contains(a.as_str()))
            .collect();
        c.gone.sort();
        c.principals_gone = c.gone.len() as u32;
    }
    c
}

/// More than `max_percent` of the planned principals FAILED (strictly more: 50 % of 2 is 1
/// allowed). Zero planned principals never count as a failure.
pub fn too_many_failed(failed: u32, planned: u32, max_percent: f64) -> bool {
    planned > 0 && f64::from(failed) * 100.0 > max_percent * f64::from(planned)
}

fn missing_principals(
    unreported: Vec<Batch>,
    failures: &[BatchFailure],
    map_failure: Option<&StepFunctionsError>,
) -> Vec<MissingPrincipal> {
    let mut missing = Vec::new();
    for batch in unreported {
        let failure = failures.iter().find(|f| f.index == batch.index);
        let (error, reason) = match (failure, map_failure) {
            (Some(f), _) => (
                f.error.clone(),
                format!(
                    "batch {} failed beyond its retries: {}",
                    batch.index,
                    what_failed(f.error.as_deref(), f.cause.as_deref())
                ),
            ),
            (None, Some(m)) => (
                m.error.clone(),
                format!(
                    "batch {} did not finish: the batches' Map failed: {}",
                    batch.index,
                    what_failed(m.error.as_deref(), m.cause.as_deref())
                ),
            ),
            (None, None) => (
                None,
                format!(
                    "batch {} wrote no result and recorded no failure",
                    batch.index
                ),
            ),
        };
        missing.extend(batch.arns.into_iter().map(|arn| MissingPrincipal {
            arn: arn.to_string(),
            batch: batch.index,
            error: error.clone(),
            reason: reason.clone(),
        }));
    }
    missing
}
