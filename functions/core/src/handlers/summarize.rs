//! Summarize: fold the batch results into the run summary, written last.

use crate::domain::access_report::{AccessReportSummary, EntityJob};
use crate::domain::account::{AccountItem, AccountRecord, AccountRun};
use crate::domain::arn::PrincipalArn;
use crate::domain::batch::{Batch, BatchFailure};
use crate::domain::clock::utc;
use crate::domain::outcome::BatchResult;
use crate::domain::run::{PlanRecord, RunContext, RunRef};
use crate::domain::sfn::{failed_briefly, StepFunctionsError};
use crate::domain::summary::{summarize, Closing, RunError, RunRecords};
use crate::domain::{keys, page};
use crate::error::Error;
use crate::handlers::decode;
use crate::handlers::events::{SummarizeEvent, SummarizeOutput};
use crate::runtime::deps::SummarizeDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// What `gone` needs of a previous run's index: each principal and its account.
#[derive(Debug, Deserialize)]
struct IndexedArn {
    arn: String,
    /// Empty in an index before schema 3.0: the ARN's account then.
    #[serde(default)]
    account: String,
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
    let event: SummarizeEvent = decode("event", event)?;
    let run = &event.plan.run;
    let (plan, records) = gather(deps, &event).await?;
    let now = OffsetDateTime::now_utc();
    let duration = utc::parse(&run.started_at)
        .map(|s| (now - s).whole_seconds())
        .unwrap_or(0);
    let closing = Closing {
        finished_at: utc::format(now),
        duration_seconds: duration,
        reports_prefix: keys::reports_prefix(&run.dt, &run.run_id),
        max_failed_percent: deps.config.max_failed_percent,
    };
    let (summary, outcomes) = summarize(plan, records, closing);
    let store = &deps.store;
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
    if let Some(e) = RunError::of(&summary, summary_url, deps.config.max_failed_percent) {
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
    })
}

/// What the run's work files say: the plan with its accounts' sums, and the records
/// the summary folds.
async fn gather(
    deps: &SummarizeDeps,
    event: &SummarizeEvent,
) -> Result<(PlanRecord, RunRecords), Error> {
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
    let results: Vec<BatchResult> = read_all(deps, &keys::results_prefix(&run.run_id)).await?;
    let failures: Vec<BatchFailure> = read_all(deps, &keys::failures_prefix(&run.run_id)).await?;
    let unreported = unreported(deps, run, &accounts, &results).await?;
    let previous_arns = previous_arns(deps, &accounts).await?;
    let records = RunRecords {
        results,
        failures,
        unreported,
        map_failure: event.error.clone(),
        previous_arns,
        accounts,
        access_report,
    };
    Ok((plan, records))
}

/// Gone principals: each account's principals in the index of the latest earlier run
/// that scanned it (read once per run). `None` when no account has an earlier run.
async fn previous_arns(
    deps: &SummarizeDeps,
    accounts: &[AccountRun],
) -> Result<Option<Vec<String>>, Error> {
    let mut by_run: BTreeMap<&str, (&RunRef, BTreeSet<&str>)> = BTreeMap::new();
    for a in accounts {
        if let Some(prev) = a.item.previous_runs.first() {
            let entry = by_run
                .entry(prev.run_id.as_str())
                .or_insert_with(|| (prev, BTreeSet::new()));
            entry.1.insert(a.item.id.as_str());
        }
    }
    if by_run.is_empty() {
        return Ok(None);
    }
    let mut arns = Vec::new();
    for (prev, ids) in by_run.into_values() {
        let key = keys::index_key(&prev.dt, &prev.run_id);
        let Some(rows) = deps.store.get_json_opt::<Vec<IndexedArn>>(&key).await? else {
            continue;
        };
        arns.extend(rows.into_iter().filter_map(|r| {
            let account = if r.account.is_empty() {
                PrincipalArn::parse(&r.arn).ok()?.account().to_string()
            } else {
                r.account
            };
            ids.contains(account.as_str()).then_some(r.arn)
        }));
    }
    Ok(Some(arns))
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

/// The planned batches without a result. An account's batch list is read only when
/// some batch of it has none: to name its principals.
async fn unreported(
    deps: &SummarizeDeps,
    run: &RunContext,
    accounts: &[AccountRun],
    results: &[BatchResult],
) -> Result<Vec<Batch>, Error> {
    let reported: BTreeSet<u32> = results.iter().map(|r| r.index).collect();
    let mut unreported = Vec::new();
    for a in accounts {
        let Some(record) = a.record.as_ref().filter(|r| r.batches > 0) else {
            continue;
        };
        let first = a.item.first_batch;
        let done = reported.range(first..first + record.batches).count() as u32;
        if done < record.batches {
            let batches: Vec<Batch> = deps
                .store
                .get_json(&keys::account_batches_key(&run.run_id, &a.item.id))
                .await?;
            unreported.extend(batches.into_iter().filter(|b| !reported.contains(&b.index)));
        }
    }
    Ok(unreported)
}
