//! Building the run summary from what the run's work files say.

use crate::domain::access_report::AccessReportSummary;
use crate::domain::account::{AccountRun, AccountState, AccountStatus, AccountSummary};
use crate::domain::arn::PrincipalArn;
use crate::domain::batch::{Batch, BatchFailure};
use crate::domain::job::{JobBinding, JobStatus};
use crate::domain::outcome::PrincipalOutcome;
use crate::domain::run::PlanRecord;
use crate::domain::sfn::{failed_briefly, what_failed, StepFunctionsError};
use crate::domain::summary::fold::{AccountTally, RunFold};
use crate::domain::summary::{
    Closing, Counts, MissingPrincipal, RunRecords, RunStatus, RunSummary,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Folds the batch results into the summary; also gives back every outcome, in batch
/// order, for the run's index and page. Everything in memory: Summarize itself streams
/// the same fold ([`RunFold`]); this is it over lists, for tests and benchmarks.
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
    let mut fold = RunFold::default();
    for r in &results {
        fold.add_batch(r);
    }
    let outcomes: Vec<PrincipalOutcome> = results.into_iter().flat_map(|r| r.principals).collect();
    let mut scope: BTreeSet<String> = outcomes.iter().map(|o| o.arn.clone()).collect();
    for batch in unreported {
        for m in missing_of(batch, &failures, map_failure.as_ref()) {
            scope.insert(m.arn.clone());
            fold.add_missing(m);
        }
    }
    if let Some(before) = previous_arns {
        let unread = unread_accounts(&accounts);
        for arn in before {
            if !scope.contains(&arn) && !in_unread_account(&arn, &unread) {
                fold.add_gone(arn);
            }
        }
    }
    let summary = fold.finish(plan, accounts, access_report, map_failure, closing);
    (summary, outcomes)
}

/// The accounts this run could not read: an account not planned says nothing about its
/// principals, so none of them is "gone".
pub fn unread_accounts(accounts: &[AccountRun]) -> BTreeSet<String> {
    accounts
        .iter()
        .filter(|a| {
            a.record
                .as_ref()
                .is_none_or(|r| r.state == AccountState::Unreachable)
        })
        .map(|a| a.item.id.to_string())
        .collect()
}

/// The principal (an ARN of the previous run's index) is of an account not read.
pub fn in_unread_account(arn: &str, unread: &BTreeSet<String>) -> bool {
    PrincipalArn::parse(arn).is_ok_and(|a| unread.contains(a.account()))
}

/// SUCCEEDED when every account was scanned and every planned principal reported (and
/// the access report, if asked, is complete); FAILED past the failed share.
pub(super) fn run_status(
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

/// The run's JobId binding: the accounts' one, `mixed` when they differ, none when no
/// account's preflight said.
pub(super) fn run_job_binding(bindings: &BTreeMap<String, JobBinding>) -> Option<String> {
    let found: BTreeSet<JobBinding> = bindings.values().copied().collect();
    match found.len() {
        0 => None,
        1 => found.first().map(|b| b.as_str().to_string()),
        _ => Some("mixed".to_string()),
    }
}

/// One line per account: what Plan found there and what its reports add up to.
pub(super) fn account_lines(
    accounts: Vec<AccountRun>,
    tallies: &HashMap<String, AccountTally>,
    bindings: &BTreeMap<String, JobBinding>,
) -> Vec<AccountSummary> {
    accounts
        .into_iter()
        .map(|a| {
            let AccountTally {
                written,
                granted,
                used,
                unused,
            } = tallies.get(a.item.id.as_str()).copied().unwrap_or_default();
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

/// More than `max_percent` of the planned principals FAILED (strictly more: 50 % of 2 is 1
/// allowed). Zero planned principals never count as a failure.
pub fn too_many_failed(failed: u32, planned: u32, max_percent: f64) -> bool {
    planned > 0 && f64::from(failed) * 100.0 > max_percent * f64::from(planned)
}

/// The principals of a batch without a result, each with why: its recorded failure,
/// the batches' Map's, or neither.
pub fn missing_of(
    batch: Batch,
    failures: &[BatchFailure],
    map_failure: Option<&StepFunctionsError>,
) -> Vec<MissingPrincipal> {
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
    batch
        .arns
        .into_iter()
        .map(|arn| MissingPrincipal {
            arn: arn.to_string(),
            batch: batch.index,
            error: error.clone(),
            reason: reason.clone(),
        })
        .collect()
}
