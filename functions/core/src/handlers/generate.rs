//! Generate: one GenerateServiceLastAccessedDetails per principal of the batch.

use super::{decode, Deps, PRINCIPALS_IN_FLIGHT};
use crate::adapters::iam::Generated;
use crate::error::Error;
use crate::model::{next_wait, BatchEvent, BatchState, Job, JobStatus};
use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::Instrument;

#[tracing::instrument(skip(deps, event))]
pub async fn handle(deps: &Deps, event: serde_json::Value) -> Result<BatchState, Error> {
    let BatchEvent { run, batch } = decode("event", event)?;
    let started = std::time::Instant::now();
    let granularity = run.granularity;
    let advisor = &deps.advisor_for(&run);
    let jobs: Vec<Job> = stream::iter(batch.arns)
        .map(|arn| {
            let span = tracing::info_span!("principal", arn = %arn);
            async move {
                Ok::<_, Error>(match advisor.generate(&arn, granularity).await? {
                    Generated::Job(id) => Job {
                        arn,
                        job_id: Some(id),
                        status: JobStatus::InProgress,
                        error: None,
                    },
                    Generated::Refused { status, error } => Job {
                        arn,
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
