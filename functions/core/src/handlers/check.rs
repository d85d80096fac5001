//! Check: poll the batch's jobs still IN_PROGRESS, compute the next wait, and give up
//! (TIMED_OUT) at the poll limit. The poll that finds a job COMPLETED is also its read:
//! Check stores the result under the run's work prefix, and Write builds the report
//! from it without asking IAM again (IAM's rate is the scan's bottleneck, S3's is not).

use crate::adapters::iam::JobRead;
use crate::domain::batch::{polling, BatchState, Job};
use crate::domain::job::JobStatus;
use crate::domain::keys;
use crate::error::Error;
use crate::handlers::{decode, PRINCIPALS_IN_FLIGHT};
use crate::runtime::deps::JobDeps;
use futures::stream::{self, StreamExt, TryStreamExt};

#[tracing::instrument(skip(deps, event))]
pub async fn handle(deps: &JobDeps, event: serde_json::Value) -> Result<BatchState, Error> {
    let mut state: BatchState = decode("event", event)?;
    let store = &deps.store;
    let run_id = state.run.run_id.clone();
    let (_, advisor) = deps.readers.for_run(&state.run).await?;
    let advisor = &advisor;
    let jobs: Vec<Job> = stream::iter(std::mem::take(&mut state.jobs))
        .map(|mut job| {
            let run_id = &run_id;
            async move {
                if let (JobStatus::InProgress, Some(id)) = (job.status, job.job_id.as_deref()) {
                    if let JobRead::Finished { status, details } = advisor.read(id).await? {
                        // FAILED reads are kept too: their dates and error go in the report.
                        store.put_json(&keys::job_key(run_id, id), &details).await?;
                        job.status = status;
                        job.error = details.error;
                    }
                }
                Ok::<_, Error>(job)
            }
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await?;
    state.jobs = jobs;
    polling::after_poll(&mut state);
    tracing::info!(
        batch = state.index,
        attempt = state.attempt,
        pending = state.pending,
        "checked"
    );
    Ok(state)
}
