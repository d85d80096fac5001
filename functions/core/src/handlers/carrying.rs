//! Write's part of an incremental run: a carried principal's report (its previous
//! report's data re-judged at this run's `as_of`), and a sampled principal's fresh
//! answer against the one it would have carried.

use crate::adapters::iam::AccessAdvisor;
use crate::domain::arn::PrincipalArn;
use crate::domain::clock;
use crate::domain::incremental::carried::{carried_from, details_of, differences};
use crate::domain::incremental::{JobMark, OutcomeMark};
use crate::domain::job::{JobError, JobStatus};
use crate::domain::report::{
    build_report, unused_namespaces, JobDetails, PrincipalReport, ReportContext,
};
use crate::domain::run::RunContext;
use crate::error::Error;

/// The report carried from `previous` (the principal's report in its account's first
/// previous run, which Plan's rule chose), with its granting policies asked afresh (by
/// ARN, no JobId) when the run wants them and it has none. A previous report that is
/// not there, or not COMPLETED (deleted since Plan read the carry rows), can't be
/// carried: the report says so (FAILED), and the next run scans the principal.
pub async fn carried(
    advisor: &AccessAdvisor,
    run: &RunContext,
    ctx: &ReportContext<'_>,
    previous: Option<&PrincipalReport>,
    arn: &PrincipalArn,
) -> Result<PrincipalReport, Error> {
    let first = run.account.as_ref().and_then(|a| a.previous_runs.first());
    let from_first = ctx.previous.is_some_and(|p| Some(p.run) == first);
    let Some(prev) = previous.filter(|p| from_first && p.job.status.is_completed()) else {
        let error = JobError {
            code: "NotCarried".into(),
            message: "the previous report Plan chose to carry is gone or not COMPLETED; the next run scans this principal".into(),
        };
        let details = JobDetails {
            error: Some(error),
            ..JobDetails::default()
        };
        return Ok(build_report(ctx, None, JobStatus::Failed, details));
    };
    let mut details = details_of(prev);
    let options = &run.report;
    if options.granting_policies
        && arn.kind().has_granting_policies()
        && details.granting_policies.is_empty()
    {
        let unused = unused_namespaces(
            &details.services,
            clock::as_of(&run.started_at),
            options.unused_days,
        );
        if !unused.is_empty() {
            details.granting_policies = advisor.granting_policies(arn, &unused).await?;
        }
    }
    let mut report = build_report(ctx, prev.job.id.as_deref(), JobStatus::Completed, details);
    report.carried_from = carried_from(prev);
    Ok(report)
}

/// What the outcome says of a scanned principal in an incremental run: a sampled one
/// matched or not (its fresh report against the one carried from `previous`), one of a
/// fallback; `None` for any other, and for a sampled one whose job did not complete (no
/// evidence either way: VerifySample wants a match to carry).
pub fn mark(
    job: Option<JobMark>,
    ctx: &ReportContext<'_>,
    previous: Option<&PrincipalReport>,
    fresh: &PrincipalReport,
) -> Option<OutcomeMark> {
    match job? {
        JobMark::Carried => Some(OutcomeMark::Carried),
        JobMark::Fallback => Some(OutcomeMark::Fallback),
        JobMark::Sampled if !fresh.job.status.is_completed() => None,
        JobMark::Sampled => {
            let matched = previous.is_some_and(|prev| {
                let would = build_report(
                    ctx,
                    prev.job.id.as_deref(),
                    JobStatus::Completed,
                    details_of(prev),
                );
                let diff = differences(fresh, &would);
                if !diff.is_empty() {
                    tracing::warn!(
                        arn = fresh.arn,
                        ?diff,
                        "incremental: the sample differs from what was carried"
                    );
                }
                diff.is_empty()
            });
            Some(if matched {
                OutcomeMark::SampleMatched
            } else {
                OutcomeMark::SampleMismatched
            })
        }
    }
}
