//! Generate: one GenerateServiceLastAccessedDetails per principal of the batch.
//!
//! Under the `session` JobId binding (only the STS session that created a job may read
//! it), Generate also reads its batch's jobs in full, in its own session, before it
//! returns (`read_in_session`): Check then has nothing to poll, and Write builds each
//! report from the stored read.
//!
//! Also the run's preflight (`{"probe": {"run": …}}`), before any batch: one job on
//! the reader role itself and one read of it, in one STS session. A reader that cannot
//! do its job at all fails the run there with `AccessDenied` naming the action, instead
//! of producing N DENIED reports; a principal IAM refuses inside a batch is that
//! principal's outcome. Check reads the job again in its own session: the JobId rule.

use crate::adapters::deadline::Deadline;
use crate::adapters::iam::{AccessAdvisor, Generated, JobRead};
use crate::adapters::s3::ReportStore;
use crate::domain::arn::PrincipalArn;
use crate::domain::batch::polling::{self, next_wait};
use crate::domain::batch::{Batch, BatchEvent, BatchState, Job};
use crate::domain::incremental::JobMark;
use crate::domain::input::Granularity;
use crate::domain::job::{JobBinding, JobStatus};
use crate::domain::run::RunContext;
use crate::error::{Error, IamError};
use crate::handlers::events::{GenerateOutput, GenerateStep, ProbeEvent, ProbeOutput};
use crate::handlers::{carrying, decode, reading, PRINCIPALS_IN_FLIGHT};
use crate::runtime::deps::GenerateDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use std::time::Duration;
// tokio's clock: the same as std's in a Lambda, and a test's paused clock drives the budget.
use tokio::time::Instant;
use tracing::Instrument;

/// One invocation; `deadline` is the invocation's own (under the session binding,
/// reading the batch's jobs stops at its budget).
#[tracing::instrument(skip(deps, event, deadline))]
pub async fn handle(
    deps: &GenerateDeps,
    event: serde_json::Value,
    deadline: Deadline,
) -> Result<GenerateOutput, Error> {
    match decode::<GenerateStep>("event", event)? {
        GenerateStep::Probe(ProbeEvent { run }) => {
            probe(deps, &run).await.map(GenerateOutput::Probe)
        }
        GenerateStep::Batch(event) => batch(deps, event, deadline)
            .await
            .map(|state| GenerateOutput::Batch(Box::new(state))),
    }
}

/// The preflight: can the reader of the run's account start a job and read it, in one
/// STS session? Any refusal here is the reader's, not a principal's, so it fails the
/// run (or, in an organization run, that account).
async fn probe(deps: &GenerateDeps, run: &RunContext) -> Result<ProbeOutput, Error> {
    let (arn, advisor) = deps.readers.session_for_run(run).await?;
    let reader = arn.as_str();
    let job_id = match advisor.generate(&arn, Granularity::ServiceLevel).await? {
        Generated::Job(id) => id,
        Generated::Refused { status, error } => {
            return Err(IamError::ReaderRefused {
                reader: reader.to_string(),
                status,
                error,
            }
            .into())
        }
    };
    let job_status = match advisor.read(&job_id).await.map_err(|e| match e {
        IamError::AccessDenied(call) => IamError::ReaderMayNotRead(call),
        other => other,
    })? {
        JobRead::InProgress => JobStatus::InProgress,
        JobRead::Finished { status, .. } => status,
        JobRead::Gone(error) => return Err(IamError::ReaderLostItsJob { job_id, error }.into()),
    };
    tracing::info!(
        reader,
        job_id,
        status = job_status.as_str(),
        "preflight passed"
    );
    Ok(ProbeOutput {
        reader: reader.to_string(),
        job_id,
        job_status,
    })
}

async fn batch(
    deps: &GenerateDeps,
    event: BatchEvent,
    deadline: Deadline,
) -> Result<BatchState, Error> {
    let BatchEvent { run, mut batch } = event;
    let mut carried = Vec::new();
    if batch.carry && run.carry.is_some_and(|v| !v.fallback) {
        let scan = carrying::unwitnessed(&deps.store, &run, &batch).await?;
        let (to_scan, to_carry): (Vec<PrincipalArn>, Vec<PrincipalArn>) = batch
            .arns
            .iter()
            .cloned()
            .partition(|a| scan.contains(a.as_str()));
        carried = to_carry.iter().map(|a| carried_job(&batch, a)).collect();
        tracing::info!(
            batch = batch.index,
            carried = carried.len(),
            scanned = scan.len(),
            "carried"
        );
        if scan.is_empty() {
            return Ok(BatchState {
                run,
                index: batch.index,
                jobs: carried,
                attempt: 0,
                pending: 0,
                wait_seconds: 0,
            });
        }
        // The witnessed ones that do not hold are scanned as in any run.
        batch.arns = to_scan;
        batch.carry = false;
    }
    let started = Instant::now();
    let session = run.job_binding() == JobBinding::Session;
    let (_, advisor) = if session {
        deps.readers.session_for_run(&run).await?
    } else {
        deps.readers.for_run(&run).await?
    };
    let mut jobs = generate_jobs(&advisor, run.granularity, &batch).await?;
    jobs.append(&mut carried);
    let pending = BatchState::count_pending(&jobs);
    tracing::info!(batch = batch.index, jobs = jobs.len(), pending, "generated");
    // The first wait counts from the first job's creation: when generating the batch took
    // longer than the wait (a paced batch usually does), the first poll is at once.
    let elapsed = started.elapsed().as_secs().min(u64::from(u32::MAX)) as u32;
    let mut state = BatchState {
        wait_seconds: next_wait(&run.poll, 0).saturating_sub(elapsed),
        run,
        index: batch.index,
        jobs,
        attempt: 0,
        pending,
    };
    if session {
        read_in_session(&deps.store, &advisor, &mut state, deadline.budget_end()).await?;
    }
    Ok(state)
}

/// A principal of a carry batch whose account's sample held: no job, its previous report
/// is Write's to carry.
fn carried_job(batch: &Batch, arn: &PrincipalArn) -> Job {
    Job {
        principal_id: batch.ids.get(arn.as_str()).cloned(),
        fingerprint: batch.fingerprints.get(arn.as_str()).cloned(),
        arn: arn.clone(),
        job_id: None,
        status: JobStatus::Completed,
        error: None,
        incremental: Some(JobMark::Carried),
    }
}

/// What an incremental run does with a scanned principal: sampled, or scanned in its
/// account's fallback (a carry batch scanned); `None`: scanned as in any run.
fn mark_of(batch: &Batch, arn: &str) -> Option<JobMark> {
    if batch.carry {
        Some(JobMark::Fallback)
    } else if batch.sampled.iter().any(|s| s == arn) {
        Some(JobMark::Sampled)
    } else {
        None
    }
}

/// One GenerateServiceLastAccessedDetails per principal of the batch; a principal IAM
/// refuses is recorded with IAM's error.
async fn generate_jobs(
    advisor: &AccessAdvisor,
    granularity: Granularity,
    batch: &Batch,
) -> Result<Vec<Job>, Error> {
    let ids = &batch.ids;
    stream::iter(&batch.arns)
        .map(|arn| {
            let span = tracing::info_span!("principal", arn = %arn);
            let principal_id = ids.get(arn.as_str()).cloned();
            let fingerprint = batch.fingerprints.get(arn.as_str()).cloned();
            let incremental = mark_of(batch, arn.as_str());
            let arn = arn.clone();
            async move {
                let (job_id, status, error) = match advisor.generate(&arn, granularity).await? {
                    Generated::Job(id) => (Some(id), JobStatus::InProgress, None),
                    Generated::Refused { status, error } => (None, status, Some(error)),
                };
                Ok::<_, Error>(Job {
                    arn,
                    principal_id,
                    job_id,
                    status,
                    error,
                    fingerprint,
                    incremental,
                })
            }
            .instrument(span)
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await
}

/// Under the `session` binding, no other session may read the batch's jobs: poll them
/// here, with the run's waits, storing each finished one with its entities (Write's
/// only JobId reads), until none is left, the poll limit, or the invocation's budget.
/// A job still running at the budget is TIMED_OUT, saying why.
async fn read_in_session(
    store: &ReportStore,
    advisor: &AccessAdvisor,
    state: &mut BatchState,
    deadline: Instant,
) -> Result<(), Error> {
    while state.pending > 0 {
        let wait = Duration::from_secs(u64::from(state.wait_seconds));
        if Instant::now() + wait >= deadline {
            let message = format!(
                "job still IN_PROGRESS at the end of the Generate invocation that created it, after {} polls: under the session JobId binding no other session may read it",
                state.attempt
            );
            polling::time_out_pending(state, &message);
            break;
        }
        tokio::time::sleep(wait).await;
        let jobs = std::mem::take(&mut state.jobs);
        state.jobs = reading::poll_once(store, advisor, &state.run, jobs, true).await?;
        polling::after_poll(state);
    }
    state.wait_seconds = 0;
    tracing::info!(
        batch = state.index,
        polls = state.attempt,
        "read in its session"
    );
    Ok(())
}
