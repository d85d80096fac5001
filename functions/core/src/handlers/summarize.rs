//! Summarize: fold the batch results into the run summary, written last.

use super::plan::PlanOutput;
use super::{decode, Deps};
use crate::error::Error;
use crate::keys;
use crate::report::utc;
use crate::summary::{summarize, BatchResult, PlanRecord, RunFailure};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummarizeOutput {
    pub run_id: String,
    pub status: String,
    pub bucket: String,
    pub summary_key: String,
    pub principals: u32,
    pub reports_written: u32,
    pub by_status: BTreeMap<String, u32>,
}

/// Summarize's event: Plan's output, and the Map's error when a batch failed.
#[derive(Debug, Deserialize)]
struct SummarizeEvent {
    #[serde(flatten)]
    plan: PlanOutput,
    #[serde(default)]
    error: Option<RunFailure>,
}

#[tracing::instrument(skip(deps, event))]
pub async fn handle(deps: &Deps, event: serde_json::Value) -> Result<SummarizeOutput, Error> {
    let SummarizeEvent {
        plan: plan_output,
        error: failure,
    } = decode("event", event)?;
    let run = &plan_output.run;
    let store = deps.store()?;
    let plan: PlanRecord = store.get_json(&keys::plan_key(&run.run_id)).await?;
    let keys_found = store.list_keys(&keys::results_prefix(&run.run_id)).await?;
    let results: Vec<BatchResult> = stream::iter(keys_found)
        .map(|key| async move { store.get_json(&key).await })
        .buffered(16)
        .try_collect()
        .await?;
    let now = OffsetDateTime::now_utc();
    let duration = utc::parse(&run.started_at)
        .map(|s| (now - s).whole_seconds())
        .unwrap_or(0);
    let summary = summarize(
        plan,
        results,
        utc::format(now),
        duration,
        keys::reports_prefix(&run.dt, &run.run_id),
        failure,
    );
    let summary_key = keys::summary_key(&run.dt, &run.run_id);
    store.put_json(&summary_key, &summary).await?;
    tracing::info!(
        run_id = run.run_id,
        status = summary.status,
        reports = summary.counts.reports_written,
        "summarized"
    );
    if summary.status != "SUCCEEDED" || summary.failure.is_some() {
        let why = summary
            .failure
            .as_ref()
            .map(|f| {
                format!(
                    " after {}: {}",
                    f.error.as_deref().unwrap_or("an error"),
                    f.cause.as_deref().unwrap_or("")
                )
            })
            .unwrap_or_default();
        return Err(Error::Incomplete(format!(
            "{} of {} principals reported ({} of {} batches){why}; see s3://{}/{summary_key}",
            summary.counts.reports_written,
            summary.counts.principals_planned,
            summary.counts.batches_reported,
            summary.counts.batches_planned,
            store.bucket
        )));
    }
    Ok(SummarizeOutput {
        run_id: summary.run_id,
        status: summary.status,
        bucket: store.bucket.clone(),
        summary_key,
        principals: summary.counts.principals_planned,
        reports_written: summary.counts.reports_written,
        by_status: summary.counts.by_status,
    })
}
