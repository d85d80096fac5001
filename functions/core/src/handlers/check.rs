//! Check: poll the batch's jobs still IN_PROGRESS, compute the next wait, and give up
//! (TIMED_OUT) at the poll limit. The poll that finds a job COMPLETED is also its read:
//! Check stores the result under the run's work prefix, and Write builds the report
//! from it without asking IAM again (IAM's rate is the scan's bottleneck, S3's is not).
//!
//! Also the preflight's second read (`{"probe": {"run": …}}`): the job the preflight
//! created and read in Generate, read again here, in another function's STS session of
//! the same role and session name. Its answer is how IAM binds JobIds in that account.

use crate::adapters::iam::JobRead;
use crate::domain::batch::{polling, BatchState};
use crate::domain::job::{JobBinding, Preflight};
use crate::error::{Error, IamError};
use crate::handlers::events::{CheckOutput, ProbeEvent};
use crate::handlers::{decode, reading};
use crate::runtime::deps::JobDeps;

#[tracing::instrument(skip(deps, event))]
pub async fn handle(deps: &JobDeps, event: serde_json::Value) -> Result<CheckOutput, Error> {
    if let Some(probe) = event.get("probe") {
        let ProbeEvent { run } = decode("event.probe", probe.clone())?;
        return second_read(deps, &run).await.map(CheckOutput::Probe);
    }
    let mut state: BatchState = decode("event", event)?;
    if state.pending == 0 {
        // Nothing left to poll (Generate read every job, or IAM refused them all).
        return Ok(CheckOutput::Batch(Box::new(state)));
    }
    let (_, advisor) = deps.readers.for_run(&state.run).await?;
    let jobs = std::mem::take(&mut state.jobs);
    state.jobs = reading::poll_once(&deps.store, &advisor, &state.run, jobs, false).await?;
    polling::after_poll(&mut state);
    tracing::info!(
        batch = state.index,
        attempt = state.attempt,
        pending = state.pending,
        "checked"
    );
    Ok(CheckOutput::Batch(Box::new(state)))
}

/// The JobId rule, proven on the account: Generate's own session read the preflight's
/// job; if this session may read it too, IAM binds a JobId to the role and its session
/// name; if IAM refuses it here (NoSuchEntity, InvalidInput or AccessDenied: IAM does
/// not document which), to the STS session itself. Anything else (throttling, the
/// network) is an error, retried: never a verdict.
async fn second_read(
    deps: &JobDeps,
    run: &crate::domain::run::RunContext,
) -> Result<Preflight, Error> {
    let job_id = run
        .preflight
        .as_ref()
        .map(|p| p.job_id.clone())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::invalid("event.probe.run.preflight.job_id", "the preflight's job"))?;
    let (_, advisor) = deps.readers.for_run(run).await?;
    let (job_binding, answer) = match advisor.read(&job_id).await {
        Ok(JobRead::Gone(error)) => (
            JobBinding::Session,
            format!("{}: {}", error.code, error.message),
        ),
        Err(IamError::AccessDenied(call)) => (JobBinding::Session, call.to_string()),
        Ok(JobRead::InProgress | JobRead::Finished { .. }) => {
            (JobBinding::RoleSessionName, "read".to_string())
        }
        Err(other) => return Err(other.into()),
    };
    tracing::info!(
        job_id,
        job_binding = job_binding.as_str(),
        answer,
        "preflight's second read"
    );
    Ok(Preflight {
        job_id,
        job_binding: Some(job_binding),
    })
}
