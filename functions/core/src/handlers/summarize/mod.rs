//! Summarize: fold the batch results into the run summary, written last.
//!
//! In bounded memory, whatever the run's size: the batch results are read a few at a
//! time, in batch order (so account by account), and folded as they come into
//! - the run's index (`principals.json`), streamed to S3 as a multipart upload;
//! - the summary's counts, top lists and first [`LIST_CAP`](crate::domain::summary::LIST_CAP)
//!   entries of each list, the whole of `missing` and `changes.gone` streamed to their
//!   own files;
//! - the pages: the run's, or for an Organization run an overview and one page per
//!   account, each keeping the principals with the most unused services that fit
//!   [`page::PAGE_BUDGET_BYTES`].
//!
//! What grows with the run is one hash (8 bytes) per principal, to tell the previous
//! run's principals gone.

mod findings;
mod folding;

use crate::adapters::deadline::Deadline;
use crate::adapters::streams::ArrayUpload;
use crate::domain::access_report::{AccessReportSummary, EntityJob};
use crate::domain::account::{AccountItem, AccountRecord, AccountRun};
use crate::domain::clock::utc;
use crate::domain::keys;
use crate::domain::page::{self, PageHead};
use crate::domain::run::{PlanRecord, RunContext};
use crate::domain::scan_finished::ScanFinished;
use crate::domain::security_hub::SecurityHubOutcome;
use crate::domain::sfn::{failed_briefly, StepFunctionsError};
use crate::domain::summary::{Closing, RunError};
use crate::error::Error;
use crate::handlers::decode;
use crate::handlers::events::{SummarizeEvent, SummarizeOutput};
use crate::runtime::deps::SummarizeDeps;
use findings::Findings;
use folding::{fold_run, Outputs};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::time::Duration;
use time::OffsetDateTime;

#[tracing::instrument(skip(deps, event))]
pub async fn handle(
    deps: &SummarizeDeps,
    event: serde_json::Value,
) -> Result<SummarizeOutput, Error> {
    let event: SummarizeEvent = decode("event", event)?;
    let run = &event.plan.run;
    let store = &deps.store;
    let (plan, accounts, access_report) = gather(deps, &event).await?;
    let (findings, mut security_hub) = findings_of(deps, &plan);
    // The account pages' (they are written as the run is read); the summary's is taken
    // once every batch result is read.
    let closing = closing_now(run, deps.config.max_failed_percent);
    let mut out = Outputs {
        index: ArrayUpload::new(
            store.upload(&keys::index_key(&run.dt, &run.run_id), "application/json"),
        ),
        missing: ArrayUpload::new(
            store.upload(&keys::missing_key(&run.dt, &run.run_id), "application/json"),
        ),
        gone: ArrayUpload::new(
            store.upload(&keys::gone_key(&run.dt, &run.run_id), "application/json"),
        ),
    };
    let folded = fold_run(deps, &event, &plan, &accounts, &closing, &mut out, findings).await;
    let (fold, run_page, findings) = match folded {
        Ok(f) => f,
        Err(e) => {
            out.abort().await;
            return Err(e);
        }
    };
    // The index, the lists and the pages first, the summary last: who sees the summary
    // sees them.
    out.finish().await?;
    let organization = plan.organization.is_some();
    let closing = closing_now(run, deps.config.max_failed_percent);
    if let Some(findings) = findings {
        security_hub = Some(findings.finish().await);
    }
    let mut summary = fold.finish(plan, accounts, access_report, event.error.clone(), closing);
    summary.security_hub = security_hub;
    let head = PageHead::of_run(
        &summary,
        keys::index_key(&run.dt, &run.run_id),
        organization,
    );
    let html = page::render_page(&head, run_page);
    store
        .put_bytes(
            &keys::page_key(&run.dt, &run.run_id),
            html.into_bytes(),
            "text/html; charset=utf-8",
        )
        .await?;
    let summary_key = keys::summary_key(&run.dt, &run.run_id);
    store.put_json(&summary_key, &summary).await?;
    let counts = &summary.counts;
    tracing::info!(
        run_id = run.run_id,
        status = summary.status.as_str(),
        reports = counts.reports_written,
        missing = counts.principals_missing,
        "summarized"
    );
    let summary_url = format!("s3://{}/{summary_key}", store.bucket);
    let run_error = RunError::of(&summary, summary_url, deps.config.max_failed_percent);
    let finished = ScanFinished::of(&summary, &store.bucket, run_error.as_ref());
    store
        .put_json(&keys::scan_finished_key(&run.run_id), &finished)
        .await?;
    if let Some(e) = run_error {
        return Err(e.into());
    }
    Ok(SummarizeOutput {
        run_id: summary.run_id,
        status: summary.status,
        bucket: store.bucket.clone(),
        summary_key,
        as_of: summary.as_of,
        principals: counts.principals_planned,
        reports_written: counts.reports_written,
        by_status: counts.by_status.clone(),
        scan_finished: Some(finished),
    })
}

/// The run's Security Hub findings when it sends them, or the outcome saying why it
/// can't. Summarize's invocation starts now and lasts at most the functions' Timeout.
fn findings_of(
    deps: &SummarizeDeps,
    plan: &PlanRecord,
) -> (Option<Findings>, Option<SecurityHubOutcome>) {
    let timeout = Duration::from_secs(u64::from(deps.config.function_timeout_seconds));
    match Findings::of_run(deps, plan, Deadline::after(timeout)) {
        Ok(findings) => (findings, None),
        Err(refused) => (None, Some(refused)),
    }
}

/// The run closes now: its end and duration.
fn closing_now(run: &RunContext, max_failed_percent: f64) -> Closing {
    let now = OffsetDateTime::now_utc();
    Closing {
        finished_at: utc::format(now),
        duration_seconds: utc::parse(&run.started_at)
            .map(|s| (now - s).whole_seconds())
            .unwrap_or(0),
        reports_prefix: keys::reports_prefix(&run.dt, &run.run_id),
        max_failed_percent,
    }
}

/// The plan with its accounts' sums, the accounts, and the access report.
async fn gather(
    deps: &SummarizeDeps,
    event: &SummarizeEvent,
) -> Result<(PlanRecord, Vec<AccountRun>, Option<AccessReportSummary>), Error> {
    let run = &event.plan.run;
    let store = &deps.store;
    let mut plan: PlanRecord = store.get_json(&keys::plan_key(&run.run_id)).await?;
    let accounts = read_accounts(deps, run, &event.plan.accounts_key).await?;
    let access_report = if event.plan.access_report {
        let lines: Vec<EntityJob> = store.get_json(&keys::access_state_key(&run.run_id)).await?;
        let error = event
            .access_report_error
            .as_ref()
            .map(|f| failed_briefly(f.error.as_deref(), f.cause.as_deref()));
        let prefix = keys::access_reports_prefix(&run.dt, &run.run_id);
        Some(AccessReportSummary::of(lines, prefix, error))
    } else {
        None
    };
    // The run's totals are its accounts' sums.
    for r in accounts.iter().filter_map(|a| a.record.as_ref()) {
        plan.principals += r.principals;
        plan.batches += r.batches;
        plan.skipped.extend(r.skipped.iter().cloned());
    }
    Ok((plan, accounts, access_report))
}

/// Each account's item, Plan's record of it and its recorded failure.
async fn read_accounts(
    deps: &SummarizeDeps,
    run: &RunContext,
    accounts_key: &str,
) -> Result<Vec<AccountRun>, Error> {
    let store = &deps.store;
    let items: Vec<AccountItem> = store.get_json(accounts_key).await?;
    stream::iter(items)
        .map(|item| async move {
            let record = store
                .get_json_opt::<AccountRecord>(&keys::account_record_key(&run.run_id, &item.id))
                .await?;
            let failure = store
                .get_json_opt::<StepFunctionsError>(&keys::account_failure_key(
                    &run.run_id,
                    &item.id,
                ))
                .await?;
            Ok::<_, Error>(AccountRun {
                item,
                record,
                failure,
            })
        })
        .buffered(16)
        .try_collect()
        .await
}
