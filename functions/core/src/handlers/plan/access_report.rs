//! Plan's `AccessReport` step: one round of IAM's Organizations access report.

use crate::adapters::access_report::{OrgAccessReports, Polled};
use crate::adapters::organizations::OrgError;
use crate::domain::access_report::{EntityJob, EntityState};
use crate::domain::keys;
use crate::domain::run::RunContext;
use crate::error::{Error, IamError};
use crate::handlers::events::AccessReportProgress;
use crate::runtime::deps::PlanDeps;

/// One round of the Organizations access report: poll the pending jobs (a finished one
/// is written to `reports/access/`), start waiting ones until IAM says too many are
/// pending, and say how many are left. The state lives in `work/run=…/access-report.json`,
/// so each round's payload stays small however large the Organization.
pub(super) async fn round(
    deps: &PlanDeps,
    run: &RunContext,
) -> Result<AccessReportProgress, Error> {
    let store = &deps.store;
    let key = keys::access_state_key(&run.run_id);
    let mut entities: Vec<EntityJob> = store.get_json(&key).await?;
    let reports = OrgAccessReports::new(deps.iam.clone());
    // A failure to store a finished report: the state is saved first (the job stays
    // pending, with its JobId), then the round fails and is retried.
    let (mut changed, stored) = poll_pending(deps, &reports, run, &mut entities).await;
    if stored.is_ok() {
        changed |= start_waiting(&reports, &mut entities).await;
    }
    // Saved before any error leaves: no JobId IAM gave is ever lost.
    store.put_json(&key, &entities).await?;
    stored?;
    let count = |s: EntityState| entities.iter().filter(|j| j.state == s).count() as u32;
    let progress = AccessReportProgress {
        entities: entities.len() as u32,
        pending: count(EntityState::Pending) + count(EntityState::Waiting),
        done: count(EntityState::Done),
        failed: count(EntityState::Failed),
        // Quick while reports come and go; slower while IAM is still working, so a long
        // report keeps the parent's history small (a round is ~9 events).
        wait_seconds: if changed { 5 } else { 30 },
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
