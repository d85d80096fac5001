//! Summarize: fold the batch results into the run summary, written last.

use crate::domain::access_report::AccessReportSummary;
use crate::domain::access_report::{EntityJob, EntityState};
use crate::domain::account::{AccountItem, AccountRecord};
use crate::domain::account::{AccountRun, AccountStatus};
use crate::domain::batch::Batch;
use crate::domain::batch::BatchFailure;
use crate::domain::clock::utc;
use crate::domain::job::JobStatus;
use crate::domain::keys;
use crate::domain::outcome::BatchResult;
use crate::domain::page;
use crate::domain::run::PlanRecord;
use crate::domain::sfn::{cut_to, failed_briefly, RunFailure};
use crate::domain::summary::RunError;
use crate::domain::summary::{summarize, Closing, RunRecords, RunStatus};
use crate::error::Error;
use crate::handlers::decode;
use crate::handlers::events::{SummarizeEvent, SummarizeOutput};
use crate::runtime::deps::SummarizeDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The one field of the previous run's index that `gone` needs.
#[derive(Debug, Deserialize)]
struct IndexedArn {
    arn: String,
}

/// At most this many accounts are named in a run's error; the summary lists them all.
const ACCOUNTS_NAMED: usize = 10;

/// The run error's account part: the first few accounts not fully scanned, how many
/// more, and the access report when it is not complete.
fn not_scanned(summary: &crate::domain::summary::RunSummary) -> Vec<String> {
    let bad: Vec<_> = summary
        .accounts
        .iter()
        .filter(|a| a.status != AccountStatus::Succeeded)
        .collect();
    let mut out: Vec<String> = bad
        .iter()
        .take(ACCOUNTS_NAMED)
        .map(|a| {
            let error = cut_to(a.error.clone().unwrap_or_default(), 200);
            format!("{} ({}: {error})", a.id, a.status.as_str())
        })
        .collect();
    if bad.len() > ACCOUNTS_NAMED {
        out.push(format!(
            "and {} more (the summary's accounts list them)",
            bad.len() - ACCOUNTS_NAMED
        ));
    }
    if let Some(r) = summary
        .access_report
        .as_ref()
        .filter(|r| r.done < r.entities)
    {
        out.push(format!(
            "access report: {} of {} entities done, {} failed{}",
            r.done,
            r.entities,
            r.failed,
            r.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
    }
    out
}

/// Every JSON document under `prefix`, a few reads at a time.
async fn read_all<T: DeserializeOwned>(
    deps: &SummarizeDeps,
    prefix: &str,
) -> Result<Vec<T>, Error> {
    let store = &deps.store;
    let found = store.list_keys(prefix).await?;
    stream::iter(found)
        .map(|key| async move { store.get_json(&key).await.map_err(Error::from) })
        .buffered(16)
        .try_collect()
        .await
}

#[tracing::instrument(skip(deps, event))]
pub async fn handle(
    deps: &SummarizeDeps,
    event: serde_json::Value,
) -> Result<SummarizeOutput, Error> {
    let SummarizeEvent {
        plan: plan_output,
        error: map_failure,
        access_report_error,
    } = decode("event", event)?;
    let run = &plan_output.run;
    let store = &deps.store;
    let mut plan: PlanRecord = store.get_json(&keys::plan_key(&run.run_id)).await?;
    let items: Vec<AccountItem> = store.get_json(&plan_output.accounts_key).await?;
    let accounts: Vec<AccountRun> = stream::iter(items)
        .map(|item| async move {
            let record = store
                .get_json_opt::<AccountRecord>(&keys::account_record_key(&run.run_id, &item.id))
                .await?;
            let failure = store
                .get_json_opt::<RunFailure>(&keys::account_failure_key(&run.run_id, &item.id))
                .await?;
            Ok::<_, Error>(AccountRun {
                item,
                record,
                failure,
            })
        })
        .buffered(16)
        .try_collect()
        .await?;
    let access_report = if plan_output.access_report {
        let lines: Vec<EntityJob> = store.get_json(&keys::access_state_key(&run.run_id)).await?;
        let count = |s: EntityState| lines.iter().filter(|j| j.state == s).count() as u32;
        Some(AccessReportSummary {
            entities: lines.len() as u32,
            done: count(EntityState::Done),
            failed: count(EntityState::Failed),
            reports_prefix: format!("{}dt={}/run={}/", keys::ACCESS_PREFIX, run.dt, run.run_id),
            error: access_report_error
                .as_ref()
                .map(|f| failed_briefly(f.error.as_deref(), f.cause.as_deref())),
            lines,
        })
    } else {
        None
    };
    // The run's totals are its accounts' sums.
    for r in accounts.iter().filter_map(|a| a.record.as_ref()) {
        plan.principals += r.principals;
        plan.batches += r.batches;
        plan.skipped.extend(r.skipped.iter().cloned());
    }
    let results: Vec<BatchResult> = read_all(deps, &keys::results_prefix(&run.run_id)).await?;
    let failures: Vec<BatchFailure> = read_all(deps, &keys::failures_prefix(&run.run_id)).await?;
    // A batch list is read only when some batch of its account has no result: to name
    // its principals.
    let reported: BTreeSet<u32> = results.iter().map(|r| r.index).collect();
    let mut unreported = Vec::new();
    for a in &accounts {
        let Some(record) = a.record.as_ref().filter(|r| r.batches > 0) else {
            continue;
        };
        let first = a.item.first_batch;
        let done = reported.range(first..first + record.batches).count() as u32;
        if done < record.batches {
            let batches: Vec<Batch> = store
                .get_json(&keys::account_batches_key(&run.run_id, &a.item.id))
                .await?;
            unreported.extend(batches.into_iter().filter(|b| !reported.contains(&b.index)));
        }
    }
    // Gone principals: the previous run's index names its scope.
    let previous_arns = match &plan.previous_run {
        Some(prev) => store
            .get_json_opt::<Vec<IndexedArn>>(&keys::index_key(&prev.dt, &prev.run_id))
            .await?
            .map(|rows| rows.into_iter().map(|r| r.arn).collect()),
        None => None,
    };
    let now = OffsetDateTime::now_utc();
    let duration = utc::parse(&run.started_at)
        .map(|s| (now - s).whole_seconds())
        .unwrap_or(0);
    let (summary, outcomes) = summarize(
        plan,
        RunRecords {
            results,
            failures,
            unreported,
            map_failure,
            previous_arns,
            accounts,
            access_report,
        },
        Closing {
            finished_at: utc::format(now),
            duration_seconds: duration,
            reports_prefix: keys::reports_prefix(&run.dt, &run.run_id),
            max_failed_percent: deps.config.max_failed_percent,
        },
    );
    // The index and the page first, the summary last: who sees the summary sees them.
    store
        .put_json(&keys::index_key(&run.dt, &run.run_id), &outcomes)
        .await?;
    let html = page::render(&summary, &outcomes);
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
    match summary.status {
        RunStatus::Succeeded => Ok(SummarizeOutput {
            run_id: summary.run_id,
            status: summary.status,
            bucket: store.bucket.clone(),
            summary_key,
            as_of: summary.as_of,
            principals: counts.principals_planned,
            reports_written: counts.reports_written,
            by_status: counts.by_status.clone(),
        }),
        RunStatus::Failed => Err(RunError::TooManyFailures {
            failed: counts
                .by_status
                .get(&JobStatus::Failed)
                .copied()
                .unwrap_or(0),
            planned: counts.principals_planned,
            max_failed_percent: deps.config.max_failed_percent,
            summary_url,
        }
        .into()),
        RunStatus::Incomplete => Err(RunError::Incomplete {
            reported: counts.reports_written,
            planned: counts.principals_planned,
            batches_reported: counts.batches_reported,
            batches_planned: counts.batches_planned,
            missing: counts.principals_missing,
            accounts_not_scanned: not_scanned(&summary),
            map_failure: summary.failure.clone(),
            summary_url,
        }
        .into()),
    }
}
