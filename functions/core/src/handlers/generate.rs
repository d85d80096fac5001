//! Generate: one GenerateServiceLastAccessedDetails per principal of the batch.
//!
//! Also the run's preflight (`{"probe": {"run": …}}`), before any batch: one job on
//! the reader role itself and one read of it. A reader that cannot do its job at all
//! fails the run there with `AccessDenied` naming the action, instead of producing N
//! DENIED reports; a principal IAM refuses inside a batch is that principal's outcome.

use crate::adapters::iam::{Generated, JobRead};
use crate::domain::batch::polling::next_wait;
use crate::domain::batch::{BatchEvent, BatchState, Job};
use crate::domain::input::Granularity;
use crate::domain::job::JobStatus;
use crate::domain::run::RunContext;
use crate::error::{Error, IamError};
use crate::handlers::events::{GenerateOutput, GenerateStep, ProbeEvent, ProbeOutput};
use crate::handlers::{decode, PRINCIPALS_IN_FLIGHT};
use crate::runtime::deps::GenerateDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::Instrument;

#[tracing::instrument(skip(deps, event))]
pub async fn handle(
    deps: &GenerateDeps,
    event: serde_json::Value,
) -> Result<GenerateOutput, Error> {
    match decode::<GenerateStep>("event", event)? {
        GenerateStep::Probe(ProbeEvent { run }) => {
            probe(deps, &run).await.map(GenerateOutput::Probe)
        }
        GenerateStep::Batch(event) => batch(deps, event)
            .await
            .map(|state| GenerateOutput::Batch(Box::new(state))),
    }
}

/// The preflight: can the reader of the run's account start a job and read it? Any
/// refusal here is the reader's, not a principal's, so it fails the run (or, in an
/// organization run, that account).
async fn probe(deps: &GenerateDeps, run: &RunContext) -> Result<ProbeOutput, Error> {
    let (arn, advisor) = deps.readers.for_run(run).await?;
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

async fn batch(deps: &GenerateDeps, event: BatchEvent) -> Result<BatchState, Error> {
    let BatchEvent { run, batch } = event;
    let started = std::time::Instant::now();
    let granularity = run.granularity;
    let (_, advisor) = deps.readers.for_run(&run).await?;
    let advisor = &advisor;
    let ids = &batch.ids;
    let jobs: Vec<Job> = stream::iter(&batch.arns)
        .map(|arn| {
            let span = tracing::info_span!("principal", arn = %arn);
            let principal_id = ids.get(arn.as_str()).cloned();
            let arn = arn.clone();
            async move {
                Ok::<_, Error>(match advisor.generate(&arn, granularity).await? {
                    Generated::Job(id) => Job {
                        arn,
                        principal_id,
                        job_id: Some(id),
                        status: JobStatus::InProgress,
                        error: None,
                    },
                    Generated::Refused { status, error } => Job {
                        arn,
                        principal_id,
                        job_id: None,
                        status,
                        error: Some(error),
                    },
                })
            }
            .instrument(span)
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await?;
    let pending = BatchState::count_pending(&jobs);
    tracing::info!(batch = batch.index, jobs = jobs.len(), pending, "generated");
    // The first wait counts from the first job's creation: when generating the batch took
    // longer than the wait (a paced batch usually does), Check polls at once.
    let elapsed = started.elapsed().as_secs().min(u64::from(u32::MAX)) as u32;
    Ok(BatchState {
        wait_seconds: next_wait(&run.poll, 0).saturating_sub(elapsed),
        run,
        index: batch.index,
        jobs,
        attempt: 0,
        pending,
    })
}
