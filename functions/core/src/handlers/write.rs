//! Write: build each principal's report from the job Check stored (plus, on request,
//! entities and granting policies from IAM), store it; then the batch's outcome for
//! Summarize.

use super::{decode, Deps, PRINCIPALS_IN_FLIGHT};
use crate::adapters::iam::{AccessAdvisor, JobRead};
use crate::error::Error;
use crate::keys;
use crate::model::{BatchState, Job, JobStatus};
use crate::report::{build_report, unused_namespaces, JobDetails, ReportContext};
use crate::summary::{BatchResult, PrincipalOutcome};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use tracing::Instrument;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOutput {
    pub index: u32,
    pub written: u32,
    pub by_status: BTreeMap<String, u32>,
}

/// Reads what IAM has for a finished job, with the optional extras.
async fn job_details(
    deps: &Deps,
    advisor: &AccessAdvisor,
    state: &BatchState,
    job: &Job,
    job_id: &str,
) -> Result<JobDetails, Error> {
    let options = &state.run.report;
    let kind = job.arn.kind();
    let stashed = deps
        .store()?
        .get_json::<JobDetails>(&keys::job_key(&state.run.run_id, job_id))
        .await;
    let mut details = match stashed {
        Ok(details) => details,
        Err(e) => {
            tracing::warn!(error = %e, "no stored read of the job; reading it from IAM");
            match advisor.read(job_id).await? {
                JobRead::Finished { details, .. } => details,
                JobRead::InProgress => {
                    return Err(Error::Iam(format!(
                        "job {job_id} of {} is IN_PROGRESS again",
                        job.arn
                    )))
                }
            }
        }
    };
    if options.entities && kind.has_entities() {
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
    }
    if options.granting_policies && kind.has_granting_policies() {
        let unused = unused_namespaces(
            &details.services,
            OffsetDateTime::now_utc(),
            options.unused_days,
        );
        if !unused.is_empty() {
            details.granting_policies = advisor.granting_policies(&job.arn, &unused).await?;
        }
    }
    Ok(details)
}

async fn write_one(
    deps: &Deps,
    advisor: &AccessAdvisor,
    state: &BatchState,
    job: &Job,
) -> Result<PrincipalOutcome, Error> {
    let store = deps.store()?;
    let details = match (job.status, job.job_id.as_deref()) {
        (JobStatus::Completed, Some(id)) => job_details(deps, advisor, state, job, id).await?,
        (JobStatus::InProgress, _) => {
            return Err(Error::invalid(
                "jobs",
                format!("{} is still IN_PROGRESS; Write runs after Check", job.arn),
            ))
        }
        // A FAILED job's stored read carries IAM's dates and error; a job without one
        // (never created, or timed out) has only the error Generate or Check recorded.
        (JobStatus::Failed, Some(id)) => store
            .get_json::<JobDetails>(&keys::job_key(&state.run.run_id, id))
            .await
            .unwrap_or_else(|_| JobDetails {
                error: job.error.clone(),
                ..JobDetails::default()
            }),
        _ => JobDetails {
            error: job.error.clone(),
            ..JobDetails::default()
        },
    };
    let ctx = ReportContext {
        arn: &job.arn,
        run_id: &state.run.run_id,
        granularity: state.run.granularity,
        options: &state.run.report,
        now: OffsetDateTime::now_utc(),
    };
    let report = build_report(&ctx, job.job_id.as_deref(), job.status, details);
    let key = keys::report_key(&state.run.dt, &state.run.run_id, &job.arn);
    store.put_json(&key, &report).await?;
    let unused = report.findings.cut_candidates();
    Ok(PrincipalOutcome {
        arn: report.arn,
        principal_type: report.principal_type,
        status: job.status,
        report_key: key,
        services_granted: report.findings.services_granted,
        services_used: report.findings.services_used,
        services_unused: unused,
        error: report.job.error,
    })
}

#[tracing::instrument(skip(deps, event))]
pub async fn handle(deps: &Deps, event: serde_json::Value) -> Result<WriteOutput, Error> {
    let state: BatchState = decode("event", event)?;
    // One pace for the whole invocation, shared by every principal of the batch.
    let advisor = &deps.advisor_for(&state.run);
    let principals: Vec<PrincipalOutcome> = stream::iter(state.jobs.iter())
        .map(|job| {
            write_one(deps, advisor, &state, job)
                .instrument(tracing::info_span!("principal", arn = %job.arn))
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut by_status = BTreeMap::new();
    for p in &principals {
        *by_status.entry(p.status.as_str().to_string()).or_insert(0) += 1;
    }
    let result = BatchResult {
        index: state.index,
        principals,
    };
    deps.store()?
        .put_json(&keys::result_key(&state.run.run_id, state.index), &result)
        .await?;
    tracing::info!(
        batch = state.index,
        written = result.principals.len(),
        "written"
    );
    Ok(WriteOutput {
        index: state.index,
        written: result.principals.len() as u32,
        by_status,
    })
}
