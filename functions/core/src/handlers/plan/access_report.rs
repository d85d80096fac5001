//! Plan's `AccessReport` step: one round of IAM's Organizations access report.

use crate::adapters::access_report::{OrgAccessReports, Polled};
use crate::adapters::organizations::OrgError;
use crate::domain::access_report::{
    next_wait, EntityJob, EntityState, DEFAULT_TIMEOUT_SECONDS, MAX_ROUNDS,
};
use crate::domain::clock::utc;
use crate::domain::input::RunInput;
use crate::domain::keys;
use crate::domain::run::RunContext;
use crate::error::{Error, IamError};
use crate::handlers::events::{AccessReportClock, AccessReportProgress, AccessReportRun};
use crate::runtime::deps::PlanDeps;
use time::OffsetDateTime;

/// One round of the Organizations access report: poll the pending jobs (a finished one
/// is written to `reports/access/`), start waiting ones until IAM says too many are
/// pending, and say how many are left. The state lives in `work/run=…/access-report.json`,
/// so each round's payload stays small however large the Organization. Every loop ends:
/// past `organization.access_report_timeout_seconds` from its first round (or
/// [`MAX_ROUNDS`] rounds), what is unfinished is TIMED_OUT and the run goes on.
pub(super) async fn round(
    deps: &PlanDeps,
    event: AccessReportRun,
) -> Result<AccessReportProgress, Error> {
    let run = &event.run;
    let store = &deps.store;
    let key = keys::access_state_key(&run.run_id);
    let mut entities: Vec<EntityJob> = store.get_json(&key).await?;
    let input: RunInput = store.get_json(&keys::input_key(&run.run_id)).await?;
    let timeout = input
        .organization
        .map_or(DEFAULT_TIMEOUT_SECONDS, |o| o.access_report_timeout_seconds);
    let now = OffsetDateTime::now_utc();
    let last = event.access_report_progress;
    let started = last
        .as_ref()
        .and_then(|c| utc::parse(&c.started_at))
        .unwrap_or(now);
    let clock = AccessReportClock {
        started_at: utc::format(started),
        round: last.as_ref().map_or(1, |c| c.round.saturating_add(1)),
        idle_rounds: last.as_ref().map_or(0, |c| c.idle_rounds),
    };
    let elapsed = (now - started).whole_seconds().max(0) as u64;
    let remaining = u64::from(timeout).saturating_sub(elapsed);
    let (changed, stored) = if remaining == 0 || clock.round > MAX_ROUNDS {
        let why = if remaining == 0 {
            format!("unfinished at the access report's deadline, {timeout} s after its first round (organization.access_report_timeout_seconds)")
        } else {
            format!("unfinished after {MAX_ROUNDS} rounds of the access report (their history is bounded)")
        };
        for job in entities
            .iter_mut()
            .filter(|j| matches!(j.state, EntityState::Waiting | EntityState::Pending))
        {
            job.time_out(why.clone());
        }
        (true, Ok(()))
    } else {
        let reports = OrgAccessReports::new(deps.iam.clone());
        // A failure to store a finished report: the state is saved first (the job stays
        // pending, with its JobId), then the round fails and is retried.
        let (mut changed, stored) = poll_pending(deps, &reports, run, &mut entities).await;
        if stored.is_ok() {
            changed |= start_waiting(&reports, &mut entities).await;
        }
        (changed, stored)
    };
    // Saved before any error leaves: no JobId IAM gave is ever lost.
    store.put_json(&key, &entities).await?;
    stored?;
    let count = |s: EntityState| entities.iter().filter(|j| j.state == s).count() as u32;
    let idle_rounds = if changed { 0 } else { clock.idle_rounds + 1 };
    let progress = AccessReportProgress {
        entities: entities.len() as u32,
        pending: count(EntityState::Pending) + count(EntityState::Waiting),
        done: count(EntityState::Done),
        failed: count(EntityState::Failed),
        timed_out: count(EntityState::TimedOut),
        // Quick while reports come and go; backing off while IAM is still working, so a
        // long report keeps the parent's history small (a round is ~9 events).
        wait_seconds: next_wait(changed, idle_rounds, remaining),
        clock: AccessReportClock {
            idle_rounds,
            ..clock
        },
    };
    tracing::info!(run_id = run.run_id, ?progress, "access report round");
    Ok(progress)
}

/// Polls the pending jobs; a finished one's report is stored. Whether any job changed,
/// and the first failure to store a report (the round stops there).
async fn poll_pending(
    deps: &PlanDeps,
    reports: &OrgAccessReports,
    run: &RunContext,
    entities: &mut [EntityJob],
) -> (bool, Result<(), Error>) {
    let mut changed = false;
    for job in entities
        .iter_mut()
        .filter(|j| j.state == EntityState::Pending)
    {
        let Some(job_id) = job.job_id.clone() else {
            continue;
        };
        match reports.poll(&run.run_id, job, &job_id).await {
            Ok(Polled::InProgress) => continue,
            Ok(Polled::Failed(why)) => job.fail(why),
            Ok(Polled::Done(report)) => {
                let report_key = keys::access_report_key(&run.dt, &run.run_id, job.entity_id());
                if let Err(e) = deps.store.put_json(&report_key, &report).await {
                    return (changed, Err(e.into()));
                }
                job.done(&report, report_key);
            }
            // IAM's pace: the next round polls again.
            Err(IamError::Throttled(_)) => break,
            Err(e) => job.fail(e.to_string()),
        }
        changed = true;
    }
    (changed, Ok(()))
}

/// Starts waiting jobs until IAM says too many are pending (or throttles); whether any
/// job changed.
async fn start_waiting(reports: &OrgAccessReports, entities: &mut [EntityJob]) -> bool {
    let mut changed = false;
    for job in entities
        .iter_mut()
        .filter(|j| j.state == EntityState::Waiting)
    {
        match reports.generate(&job.entity_path).await {
            Ok(Some(job_id)) => {
                job.job_id = Some(job_id);
                job.state = EntityState::Pending;
            }
            // Too many pending, or IAM's pace: the next round starts more.
            Ok(None) | Err(IamError::Throttled(_)) => break,
            Err(e) => job.fail(e.to_string()),
        }
        changed = true;
    }
    changed
}

/// Organizations refusing this account (neither the management account nor a delegated
/// administrator, or no Organization at all) is the input's mistake, said so.
pub(super) fn not_organization(e: OrgError) -> Error {
    match e {
        OrgError::Refused { code, message } => Error::invalid(
            "organization",
            format!("Organizations refused this stack's account: {code}: {message}. Deploy the scanner in the Organization's management account or in a delegated administrator for AWS Organizations"),
        ),
        OrgError::Call(e) => e.into(),
    }
}
