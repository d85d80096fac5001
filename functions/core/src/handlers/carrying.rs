//! An incremental run's carried principals. Generate's part: which of a carry batch's
//! witnessed groups and policies still hold (`unwitnessed`). Write's: a carried
//! principal's report (its previous report's data re-judged at this run's `as_of`), and
//! a sampled principal's fresh answer against the one it would have carried. Both read
//! the principal's previous report (`previous_report`).

use crate::adapters::iam::AccessAdvisor;
use crate::adapters::s3::ReportStore;
use crate::domain::arn::PrincipalArn;
use crate::domain::batch::Batch;
use crate::domain::clock;
use crate::domain::incremental::carried::witnessed_unchanged;
use crate::domain::incremental::carried::{carried_from, details_of, differences};
use crate::domain::incremental::{JobMark, OutcomeMark};
use crate::domain::job::{JobError, JobStatus};
use crate::domain::keys;
use crate::domain::report::{
    build_report, unused_namespaces, JobDetails, PrincipalReport, ReportContext,
};
use crate::domain::run::{RunContext, RunRef};
use crate::error::Error;
use crate::handlers::PRINCIPALS_IN_FLIGHT;
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// The principal's previous report: its report in the first of its account's earlier
/// runs that has one (newest first; usually the first: one S3 read, the extra read
/// `changes` and history cost). None in any: the principal is new since the first, with
/// nothing to inherit. A report that can't be read as one is passed over, said aloud. A
/// context without an account (before organization runs) looks in the run's previous
/// run.
pub async fn previous_report(
    store: &ReportStore,
    run: &RunContext,
    arn: &PrincipalArn,
) -> Result<Option<(RunRef, Option<PrincipalReport>)>, Error> {
    let candidates: &[RunRef] = match &run.account {
        Some(account) => &account.previous_runs,
        None => run.previous_run.as_slice(),
    };
    for prev in candidates {
        let key = if prev.account_keys {
            keys::report_key(&prev.dt, &prev.run_id, run.account_of(arn), arn)
        } else {
            keys::report_key_before_accounts(&prev.dt, &prev.run_id, arn)
        };
        let Some(stored) = store.get_json_opt::<serde_json::Value>(&key).await? else {
            continue;
        };
        match serde_json::from_value::<PrincipalReport>(stored) {
            Ok(report) => return Ok(Some((prev.clone(), Some(report)))),
            Err(e) => tracing::warn!(key, error = %e, "previous report unreadable; passed over"),
        }
    }
    Ok(candidates.first().map(|first| (first.clone(), None)))
}

/// The witnessed groups and policies of a carry batch (`Batch::witnesses`) that do not
/// hold, to be scanned: their witnesses were scanned before this batch, and one of them
/// used a service they grant since their data (`witnessed_unchanged`), or has no fresh
/// report, or their previous report is not the COMPLETED one Write would carry.
pub async fn unwitnessed(
    store: &ReportStore,
    run: &RunContext,
    batch: &Batch,
) -> Result<BTreeSet<String>, Error> {
    if batch.witnesses.is_empty() {
        return Ok(BTreeSet::new());
    }
    let wanted: BTreeSet<&str> = batch
        .witnesses
        .values()
        .flatten()
        .map(String::as_str)
        .collect();
    let fresh: BTreeMap<&str, Option<PrincipalReport>> = stream::iter(wanted)
        .map(|w| async move {
            let Ok(arn) = PrincipalArn::parse(w) else {
                return Ok((w, None));
            };
            let key = keys::report_key(&run.dt, &run.run_id, run.account_of(&arn), &arn);
            Ok::<_, Error>((w, store.get_json_opt::<PrincipalReport>(&key).await?))
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await?;
    let first = run.account.as_ref().and_then(|a| a.previous_runs.first());
    let mut out = BTreeSet::new();
    for arn in batch
        .arns
        .iter()
        .filter(|a| batch.witnesses.contains_key(a.as_str()))
    {
        let previous = previous_report(store, run, arn).await?;
        let holds = match previous {
            Some((ref from, Some(ref prev)))
                if Some(from) == first && prev.job.status.is_completed() =>
            {
                let witnesses: Vec<(&str, Option<&PrincipalReport>)> = batch.witnesses
                    [arn.as_str()]
                .iter()
                .map(|w| (w.as_str(), fresh.get(w.as_str()).and_then(Option::as_ref)))
                .collect();
                witnessed_unchanged(prev, &witnesses)
            }
            _ => Err("no COMPLETED report in the first previous run".into()),
        };
        if let Err(why) = holds {
            tracing::info!(arn = %arn, why, "incremental: witnessed, and scanned");
            out.insert(arn.to_string());
        }
    }
    Ok(out)
}

/// The report carried from `previous` (the principal's report in its account's first
/// previous run, which Plan's rule chose), with its granting policies asked afresh (by
/// ARN, no JobId) when the run wants them and it has none. A previous report that is
/// not there, or not COMPLETED (deleted since Plan read the carry rows), can't be
/// carried: the report says so (FAILED), and the next run scans the principal.
pub async fn carried(
    advisor: &AccessAdvisor,
    run: &RunContext,
    ctx: &ReportContext<'_>,
    previous: Option<&PrincipalReport>,
    arn: &PrincipalArn,
) -> Result<PrincipalReport, Error> {
    let first = run.account.as_ref().and_then(|a| a.previous_runs.first());
    let from_first = ctx.previous.is_some_and(|p| Some(p.run) == first);
    let Some(prev) = previous.filter(|p| from_first && p.job.status.is_completed()) else {
        let error = JobError {
            code: "NotCarried".into(),
            message: "the previous report Plan chose to carry is gone or not COMPLETED; the next run scans this principal".into(),
        };
        let details = JobDetails {
            error: Some(error),
            ..JobDetails::default()
        };
        return Ok(build_report(ctx, None, JobStatus::Failed, details));
    };
    let mut details = details_of(prev);
    let options = &run.report;
    if options.granting_policies
        && arn.kind().has_granting_policies()
        && details.granting_policies.is_empty()
    {
        let unused = unused_namespaces(
            &details.services,
            clock::as_of(&run.started_at),
            options.unused_days,
        );
        if !unused.is_empty() {
            details.granting_policies = advisor.granting_policies(arn, &unused).await?;
        }
    }
    let mut report = build_report(ctx, prev.job.id.as_deref(), JobStatus::Completed, details);
    report.carried_from = carried_from(prev);
    Ok(report)
}

/// What the outcome says of a scanned principal in an incremental run: a sampled one
/// matched or not (its fresh report against the one carried from `previous`), one of a
/// fallback; `None` for any other, and for a sampled one whose job did not complete (no
/// evidence either way: VerifySample wants a match to carry).
pub fn mark(
    job: Option<JobMark>,
    ctx: &ReportContext<'_>,
    previous: Option<&PrincipalReport>,
    fresh: &PrincipalReport,
) -> Option<OutcomeMark> {
    match job? {
        JobMark::Carried => Some(OutcomeMark::Carried),
        JobMark::Fallback => Some(OutcomeMark::Fallback),
        JobMark::Sampled if !fresh.job.status.is_completed() => None,
        JobMark::Sampled => {
            let matched = previous.is_some_and(|prev| {
                let would = build_report(
                    ctx,
                    prev.job.id.as_deref(),
                    JobStatus::Completed,
                    details_of(prev),
                );
                let diff = differences(fresh, &would);
                if !diff.is_empty() {
                    tracing::warn!(
                        arn = fresh.arn,
                        ?diff,
                        "incremental: the sample differs from what was carried"
                    );
                }
                diff.is_empty()
            });
            Some(if matched {
                OutcomeMark::SampleMatched
            } else {
                OutcomeMark::SampleMismatched
            })
        }
    }
}
