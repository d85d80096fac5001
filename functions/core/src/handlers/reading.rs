//! Reading a batch's jobs, shared by the steps that do it: one poll of the jobs still
//! running, each finished one stored under the run's work prefix (Write builds its
//! report from that read, without asking IAM again); and a job's entities. Check polls
//! through it; under the `session` JobId binding, so does Generate, with the entities,
//! in the invocation that created the jobs (`generate::read_in_session`).

use crate::adapters::iam::AccessAdvisor;
use crate::adapters::s3::ReportStore;
use crate::domain::batch::Job;
use crate::domain::job::JobStatus;
use crate::domain::keys;
use crate::domain::report::JobDetails;
use crate::domain::run::RunContext;
use crate::error::Error;
use crate::handlers::PRINCIPALS_IN_FLIGHT;
use futures::stream::{self, StreamExt, TryStreamExt};

/// Reads each job still IN_PROGRESS once. A finished one (FAILED too: its dates and
/// error go in the report) is stored, with its entities first when `entities` says so,
/// and takes the status IAM gave it.
pub(crate) async fn poll_once(
    store: &ReportStore,
    advisor: &AccessAdvisor,
    run: &RunContext,
    jobs: Vec<Job>,
    entities: bool,
) -> Result<Vec<Job>, Error> {
    stream::iter(jobs)
        .map(|mut job| async move {
            if let (JobStatus::InProgress, Some(id)) = (job.status, job.job_id.clone()) {
                if let Some((status, mut details)) = advisor.read(&id).await?.finished() {
                    if entities && status.is_completed() {
                        details = with_entities(advisor, run, &job, &id, details).await?;
                    }
                    store
                        .put_json(&keys::job_key(&run.run_id, &id), &details)
                        .await?;
                    job.status = status;
                    job.error = details.error;
                }
            }
            Ok::<_, Error>(job)
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await
}

/// Adds, when the run asks for them, which users and roles used each of the job's used
/// services through a group or policy (GetServiceLastAccessedDetailsWithEntities: a
/// JobId read, so it is made where the job may be read).
pub(crate) async fn with_entities(
    advisor: &AccessAdvisor,
    run: &RunContext,
    job: &Job,
    job_id: &str,
    mut details: JobDetails,
) -> Result<JobDetails, Error> {
    let options = &run.report;
    if !(options.entities && job.arn.kind().has_entities()) {
        return Ok(details);
    }
    let used: Vec<String> = details
        .services
        .iter()
        .filter(|s| s.last_authenticated.is_some())
        .take(options.max_entity_services as usize)
        .map(|s| s.namespace.clone())
        .collect();
    for namespace in used {
        let entities = advisor.entities(job_id, &namespace).await?;
        details.entities.push((namespace, entities));
    }
    Ok(details)
}
