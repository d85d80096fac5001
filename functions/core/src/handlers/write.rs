//! Write: build each principal's report from the job Check stored (plus, on request,
//! entities and granting policies from IAM), store it; then the batch's outcome for
//! Summarize. Its second duty: when a batch fails beyond its retries, the child's Catch
//! sends the failure here, and Write records it for Summarize (`work/…/failures/`).

use crate::adapters::directory::Directory;
use crate::adapters::iam::AccessAdvisor;
use crate::domain::batch::{BatchFailure, BatchState, Job};
use crate::domain::incremental::{JobMark, OutcomeMark};
use crate::domain::job::{JobBinding, JobError, JobStatus};
use crate::domain::outcome::{BatchResult, PrincipalOutcome};
use crate::domain::policy::AdvisorView;
use crate::domain::recommend::{recommend, Slice, Subject};
use crate::domain::report::Previous;
use crate::domain::report::{build_report, unused_namespaces, JobDetails, ReportContext};
use crate::domain::run::RunContext;
use crate::domain::usage::Usage;
use crate::domain::{clock, keys};
use crate::error::{Error, IamError};
use crate::handlers::events::{FailureEvent, WriteOutput, WriteStep};
use crate::handlers::{carrying, decode, reading, PRINCIPALS_IN_FLIGHT};
use crate::runtime::deps::JobDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use tracing::Instrument;

/// The finished job Check stored, or, when there is none (a redrive after `work/`
/// expired), IAM's own read of it — with the status that read found, so a job that is
/// FAILED or gone by then is never reported COMPLETED. Any S3 failure other than a
/// missing key is a `StorageError`: never a silent fallback.
async fn finished_job(
    deps: &JobDeps,
    advisor: &AccessAdvisor,
    run: &RunContext,
    job: &Job,
    job_id: &str,
) -> Result<(JobStatus, JobDetails), Error> {
    let key = keys::job_key(&run.run_id, job_id);
    if let Some(details) = deps.store.get_json_opt::<JobDetails>(&key).await? {
        return Ok((job.status, details));
    }
    if run.job_binding() == JobBinding::Session {
        // Only the session that created the job could read it, and it stored no read.
        let error = JobError {
            code: "JobNotStored".into(),
            message: format!(
                "no stored read of job {job_id} (work files expired before a redrive?), and under the session JobId binding only the session that created it may read it"
            ),
        };
        return Ok((
            JobStatus::Failed,
            JobDetails {
                error: Some(error),
                ..JobDetails::default()
            },
        ));
    }
    tracing::warn!(job_id, "no stored read of the job; reading it from IAM");
    advisor.read(job_id).await?.finished().ok_or_else(|| {
        IamError::JobInProgressAgain {
            job_id: job_id.to_string(),
            arn: job.arn.to_string(),
        }
        .into()
    })
}

/// Adds what the run asked for beyond the job itself: entities (under the `session`
/// JobId binding, Generate stored them with the job: no other session may ask) and
/// granting policies (asked by ARN, not by JobId).
async fn with_extras(
    advisor: &AccessAdvisor,
    run: &RunContext,
    job: &Job,
    job_id: &str,
    mut details: JobDetails,
) -> Result<JobDetails, Error> {
    if run.job_binding() == JobBinding::RoleSessionName {
        details = reading::with_entities(advisor, run, job, job_id, details).await?;
    }
    let options = &run.report;
    if options.granting_policies && job.arn.kind().has_granting_policies() {
        let unused = unused_namespaces(
            &details.services,
            clock::as_of(&run.started_at),
            options.unused_days,
        );
        if !unused.is_empty() {
            details.granting_policies = advisor.granting_policies(&job.arn, &unused).await?;
        }
    }
    Ok(details)
}

async fn write_one(
    deps: &JobDeps,
    advisor: &AccessAdvisor,
    state: &BatchState,
    job: &Job,
    holdings: Option<&Slice>,
) -> Result<PrincipalOutcome, Error> {
    let run = &state.run;
    let previous = carrying::previous_report(&deps.store, run, &job.arn).await?;
    let ctx = ReportContext {
        previous: previous.as_ref().map(|(run, report)| Previous {
            run,
            report: report.as_ref(),
        }),
        arn: &job.arn,
        principal_id: job.principal_id.as_deref(),
        run_id: &run.run_id,
        granularity: run.granularity,
        options: &run.report,
        as_of: clock::as_of(&run.started_at),
        written_at: OffsetDateTime::now_utc(),
    };
    let carry_from = ctx.previous.and_then(|p| p.report);
    let (mut report, mark) = if job.incremental == Some(JobMark::Carried) {
        let report = carrying::carried(advisor, run, &ctx, carry_from, &job.arn).await?;
        // One that could not be carried (its FAILED report says why) was not carried.
        let carried = report.carried_from.is_some();
        (report, carried.then_some(OutcomeMark::Carried))
    } else {
        let (status, details) = job_details(deps, advisor, run, job).await?;
        let report = build_report(&ctx, job.job_id.as_deref(), status, details);
        let mark = carrying::mark(job.incremental, &ctx, carry_from, &report);
        (report, mark)
    };
    report.fingerprint = job.fingerprint.clone();
    let status = report.job.status;
    let account = run.account_of(&job.arn);
    report.scanned_account = account.to_string();
    if let Some(slice) = holdings {
        let judged = recommend(&Subject {
            arn: &job.arn,
            completed: status.is_completed(),
            view: &AdvisorView::from(&report.services[..]),
            options: &run.report,
            as_of: ctx.as_of,
            slice,
            own_roles: &own_roles(deps),
        });
        report.apply(judged, slice);
    }
    let key = keys::report_key(&run.dt, &run.run_id, account, &job.arn);
    deps.store.put_json(&key, &report).await?;
    let mut outcome = PrincipalOutcome::of(&report, key);
    outcome.entities = run.report.entities;
    outcome.incremental = mark;
    Ok(outcome)
}

/// The scanner's own role names, vital: its reader's and its member role's.
fn own_roles(deps: &JobDeps) -> Vec<String> {
    let config = &deps.config;
    let reader = config
        .reader_role_arn
        .as_deref()
        .and_then(|arn| arn.rsplit('/').next())
        .map(str::to_string);
    reader
        .into_iter()
        .chain([config.member_role_name.clone()])
        .collect()
}

/// The job's status and what IAM said of it: a COMPLETED job from its stored read (and,
/// on request, its entities and granting policies), a FAILED one from its stored read
/// (IAM's dates and error), any other with the error Generate or Check recorded.
async fn job_details(
    deps: &JobDeps,
    advisor: &AccessAdvisor,
    run: &RunContext,
    job: &Job,
) -> Result<(JobStatus, JobDetails), Error> {
    let recorded = || JobDetails {
        error: job.error.clone(),
        ..JobDetails::default()
    };
    Ok(match (job.status, job.job_id.as_deref()) {
        (JobStatus::Completed, Some(id)) => {
            let (status, details) = finished_job(deps, advisor, run, job, id).await?;
            if status == JobStatus::Completed {
                (status, with_extras(advisor, run, job, id, details).await?)
            } else {
                (status, details)
            }
        }
        (JobStatus::InProgress, _) => {
            return Err(Error::invalid(
                "jobs",
                format!("{} is still IN_PROGRESS; Write runs after Check", job.arn),
            ))
        }
        (JobStatus::Failed, Some(id)) => {
            let stored = deps
                .store
                .get_json_opt::<JobDetails>(&keys::job_key(&run.run_id, id))
                .await?;
            (job.status, stored.unwrap_or_else(recorded))
        }
        _ => (job.status, recorded()),
    })
}

/// Re-reads, fresh, what the credential report (up to four hours old) says is unused of
/// the batch's users: their password's and keys' last use (GetUser, ListAccessKeys,
/// GetAccessKeyLastUsed), paced with the batch's other calls and counted in its budget
/// (`sizing::calls_per_principal`). A user gone since: no credentials to judge.
async fn confirm_credentials(
    advisor: &AccessAdvisor,
    run: &RunContext,
    slice: &mut Slice,
) -> Result<(), Error> {
    let directory = Directory::new(advisor.iam.clone(), advisor.pacer.clone());
    let as_of = clock::as_of(&run.started_at);
    let unused_days = run.report.unused_days;
    let stale = |last: Option<&str>| Usage::of(last, as_of, unused_days).0 != Usage::Active;
    for (arn, held) in &mut slice.principals {
        if let Some(credentials) = held.credentials.take() {
            held.credentials = directory
                .confirm_credentials(arn, credentials, stale)
                .await?;
        }
    }
    Ok(())
}

async fn record_failure(deps: &JobDeps, event: FailureEvent) -> Result<WriteOutput, Error> {
    let index = event
        .index
        .or(event.batch.map(|b| b.index))
        .ok_or_else(|| Error::invalid("event.index", "a failed batch names its index"))?;
    let record = BatchFailure {
        index,
        error: event.failure.error,
        cause: event.failure.cause,
    };
    tracing::warn!(batch = index, error = ?record.error, "batch failed; recorded");
    deps.store
        .put_json(&keys::failure_key(&event.run.run_id, index), &record)
        .await?;
    Ok(WriteOutput {
        index,
        written: 0,
        by_status: BTreeMap::new(),
    })
}

#[tracing::instrument(skip(deps, event))]
pub async fn handle(deps: &JobDeps, event: serde_json::Value) -> Result<WriteOutput, Error> {
    let state = match decode::<WriteStep>("event", event)? {
        WriteStep::Failed(failed) => return record_failure(deps, failed).await,
        WriteStep::Batch(state) => state,
    };
    // One pace for the whole invocation, shared by every principal of the batch.
    let (_, advisor) = deps.readers.for_run(&state.run).await?;
    let advisor = &advisor;
    // What the batch's principals hold, as Plan read it (one read per batch). Missing
    // (the work files expired before a redrive): every principal is judged "not read".
    let holdings = if state.run.report.recommendations {
        let key = keys::holdings_key(&state.run.run_id, state.index);
        let mut slice = deps
            .store
            .get_json_opt::<Slice>(&key)
            .await?
            .unwrap_or_default();
        confirm_credentials(advisor, &state.run, &mut slice).await?;
        Some(slice)
    } else {
        None
    };
    let principals: Vec<PrincipalOutcome> = stream::iter(state.jobs.iter())
        .map(|job| {
            write_one(deps, advisor, &state, job, holdings.as_ref())
                .instrument(tracing::info_span!("principal", arn = %job.arn))
        })
        .buffered(PRINCIPALS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut by_status = BTreeMap::new();
    for p in &principals {
        *by_status.entry(p.status).or_insert(0) += 1;
    }
    let result = BatchResult {
        index: state.index,
        principals,
        job_binding: state.run.preflight.as_ref().and_then(|p| p.job_binding),
    };
    deps.store
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
