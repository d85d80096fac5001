//! Plan: validate the run input, find the principals, write the batches to S3 and
//! hand the Map only small handles.

use super::{decode, PlanDeps};
use crate::adapters::directory::authorization::Authorization;
use crate::adapters::directory::Discovered;
use crate::adapters::s3::ReportStore;
use crate::batching;
use crate::clock::utc;
use crate::error::Error;
use crate::history::{self, RunHead, RunRef};
use crate::input::Granularity;
use crate::input::{InputDefaults, RunInput};
use crate::keys;
use crate::model::Batch;
use crate::model::RunContext;
use crate::recommend::Slice;
use crate::records::PlanRecord;
use crate::report::Usage;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many batches per run (15,500 principals need 8 per batch).
pub const MAX_BATCHES: usize = 2_000;

/// What the state machine passes to Plan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEvent {
    /// The execution input, as the person, CLI or schedule gave it.
    #[serde(default)]
    pub input: serde_json::Value,
    /// `$$.Execution.Name`: the run id.
    pub execution_name: String,
    /// `$$.Execution.StartTime`.
    pub start_time: String,
}

/// Plan's output: the Map's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    pub run: RunContext,
    pub bucket: String,
    pub batches_key: String,
    pub principals: u32,
    pub batches: u32,
    pub max_concurrency: u32,
}

/// The account of `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
pub fn account_of_function(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

fn check_run_id(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "execution name",
            format!("{name:?}: use 1-80 of A-Z a-z 0-9 - _ . (it names the run's S3 prefix)"),
        ))
    }
}

/// What each batch's principals hold (recommendations), one slice per batch under
/// `work/run=…/holdings/`: Write reads its batch's slice, once.
async fn write_holdings(
    store: &ReportStore,
    run_id: &str,
    batches: &[Batch],
    all: Authorization,
) -> Result<(), Error> {
    let slices: Vec<(u32, Slice)> = batches
        .iter()
        .map(|b| {
            let mut slice = Slice::default();
            for arn in &b.arns {
                let key = arn.to_string();
                if let Some(h) = all.principals.get(&key) {
                    for p in &h.attached {
                        if let Some(policy) = all.policies.get(p) {
                            slice.policies.insert(p.clone(), policy.clone());
                        }
                    }
                    slice.principals.insert(key.clone(), h.clone());
                }
                if let Some(policy) = all.policies.get(&key) {
                    slice.policies.insert(key, policy.clone());
                }
            }
            (b.index, slice)
        })
        .collect();
    stream::iter(slices)
        .map(|(index, slice)| async move {
            store
                .put_json(&keys::holdings_key(run_id, index), &slice)
                .await
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The previous completed run of this scope at `granularity` (see [`history::choose_previous`]): the
/// run summaries are listed, and read newest day first until a day has one.
async fn previous_run(
    store: &ReportStore,
    run_id: &str,
    dt: &str,
    started_at: &str,
    granularity: Granularity,
    scope: &str,
) -> Result<Option<RunRef>, Error> {
    let keys = store.list_keys(keys::RUNS_PREFIX).await?;
    let mut by_day: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for key in &keys {
        if let Some((day, run)) = keys::parse_summary_key(key) {
            if day <= dt && run != run_id {
                by_day.entry(day).or_default().push(key);
            }
        }
    }
    for (_, day_keys) in by_day.into_iter().rev() {
        let heads: Vec<RunHead> = stream::iter(day_keys)
            .map(|key| store.get_json::<RunHead>(key))
            .buffered(8)
            .try_collect()
            .await?;
        if let Some(found) = history::choose_previous(&heads, granularity, scope, started_at) {
            tracing::info!(previous = found.run_id, "changes compare against this run");
            return Ok(Some(found));
        }
    }
    Ok(None)
}

#[tracing::instrument(skip(deps, event))]
pub async fn handle(
    deps: &PlanDeps,
    event: serde_json::Value,
    function_arn: Option<&str>,
) -> Result<PlanOutput, Error> {
    let event: PlanEvent = decode("event", event)?;
    check_run_id(&event.execution_name)?;
    let started = utc::parse(&event.start_time).ok_or_else(|| {
        Error::invalid(
            "start_time",
            format!("{:?} is not RFC 3339", event.start_time),
        )
    })?;
    let config = &deps.config;
    let defaults = InputDefaults {
        batch_size: config.batch_size,
        max_concurrency: config.max_concurrency,
        partition: config.partition.clone(),
        account: config
            .account_id
            .clone()
            .or_else(|| function_arn.and_then(account_of_function)),
    };
    let input = RunInput::parse(&event.input, &defaults)?;
    // Every invocation must fit its timeout: batches shrink to what one invocation can do
    // at the run's rate, and work that can't fit one principal is refused here.
    let rate = input
        .iam_requests_per_second
        .unwrap_or(config.iam_requests_per_second);
    let batch_size = batching::fitted_batch_size(input.batch_size, rate, &input.report)?;
    let Discovered {
        principals: discovered,
        skipped,
    } = match &input.discover {
        Some(filter) => {
            let directory = deps.directory(input.iam_requests_per_second);
            let max_tag_calls = (batching::INVOCATION_BUDGET_SECONDS * rate) as u64;
            directory.discover(filter, max_tag_calls).await?
        }
        None => Discovered::default(),
    };
    let principals = batching::merge(&input.arns, discovered);
    if principals.is_empty() {
        // An empty scan would be a silent empty report: say why instead.
        return Err(Error::invalid(
            "discover",
            "no principal in the account matches the discovery filters, and no arns were given",
        ));
    }
    let count = principals.len() as u32;
    let batches = batching::batches(principals, batch_size);
    if batches.len() > MAX_BATCHES {
        // The Map gathers every child's (small) output: keep it far below 256 KiB.
        return Err(Error::invalid(
            "batch_size",
            format!("{count} principals in batches of up to {batch_size} make {} batches; at most {MAX_BATCHES}: raise batch_size or iam_requests_per_second", batches.len()),
        ));
    }
    let run_id = event.execution_name;
    let started_at = utc::format(started);
    let dt = started_at[..10].to_string();
    let store = &deps.store;
    let scope = history::scope_of(&input.arns, input.discover.as_ref());
    let previous_run =
        previous_run(store, &run_id, &dt, &started_at, input.granularity, &scope).await?;
    let record = PlanRecord {
        run_id: run_id.clone(),
        dt: dt.clone(),
        started_at: started_at.clone(),
        granularity: input.granularity,
        batch_size,
        batch_size_requested: input.batch_size,
        max_concurrency: input.max_concurrency,
        iam_requests_per_second: input.iam_requests_per_second,
        poll: input.poll,
        report: input.report.clone(),
        explicit_arns: input.arns.len() as u32,
        discover: input.discover.clone(),
        principals: count,
        batches: batches.len() as u32,
        skipped,
        scope,
        previous_run: previous_run.clone(),
    };
    if input.report.recommendations {
        let directory = deps.directory(input.iam_requests_per_second);
        let mut all = directory.authorization().await?;
        let report = &input.report;
        let as_of = started;
        let stale =
            |last: Option<&str>| Usage::of(last, as_of, report.unused_days).0 != Usage::Active;
        let in_scope: std::collections::BTreeSet<String> = batches
            .iter()
            .flat_map(|b| b.arns.iter().map(ToString::to_string))
            .collect();
        for (arn, credentials) in directory.credential_report().await? {
            if !in_scope.contains(&arn) {
                continue;
            }
            let confirmed = directory
                .confirm_credentials(&arn, credentials, stale)
                .await?;
            if let Some(h) = all.principals.get_mut(&arn) {
                h.credentials = confirmed;
            }
        }
        write_holdings(store, &run_id, &batches, all).await?;
    }
    let batches_key = keys::batches_key(&run_id);
    store.put_json(&batches_key, &batches).await?;
    store.put_json(&keys::plan_key(&run_id), &record).await?;
    tracing::info!(
        run_id,
        principals = count,
        batches = batches.len(),
        "planned"
    );
    Ok(PlanOutput {
        run: RunContext {
            run_id,
            dt,
            started_at,
            granularity: input.granularity,
            poll: input.poll,
            report: input.report,
            iam_requests_per_second: input.iam_requests_per_second,
            previous_run,
        },
        bucket: store.bucket.clone(),
        batches_key,
        principals: count,
        batches: batches.len() as u32,
        max_concurrency: input.max_concurrency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_the_function_arn() {
        assert_eq!(
            account_of_function("arn:aws:lambda:eu-west-1:123456789012:function:plan").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of_function("nonsense"), None);
    }

    #[test]
    fn run_ids_must_be_key_safe() {
        assert!(check_run_id("daily-2026-11-25_01").is_ok());
        assert!(check_run_id("a/b").is_err());
        assert!(check_run_id("").is_err());
    }
}
