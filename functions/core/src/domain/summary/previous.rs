//! Which earlier runs a run looks back to: the summaries' heads, matched by scope and
//! granularity, chosen for the run and for each of its accounts.

use crate::domain::account::AccountStatus;
use crate::domain::input::Granularity;
use crate::domain::run::RunRef;
use crate::domain::summary::RunStatus;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What Plan reads of an earlier run's summary to choose the previous run (any schema).
#[derive(Debug, Clone, Deserialize)]
pub struct RunHead {
    #[serde(default)]
    pub schema_version: Option<String>,
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    /// Schema 1.1+; earlier summaries judged at `started_at`, the same instant.
    #[serde(default)]
    pub as_of: Option<String>,
    /// Schema 1.1+; a 1.0 summary was written only by a run that succeeded.
    #[serde(default)]
    pub status: Option<RunStatus>,
    pub parameters: RunHeadParameters,
    /// Schema 3.0+: how each account of the run ended.
    #[serde(default)]
    pub accounts: Vec<AccountHead>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunHeadParameters {
    pub granularity: Granularity,
    /// Schema 2.0+: see [`crate::domain::run::scope_of`].
    #[serde(default)]
    pub scope: Option<String>,
}

/// An account's line in an earlier run's summary (schema 3.0+).
#[derive(Debug, Clone, Deserialize)]
pub struct AccountHead {
    pub id: String,
    pub status: AccountStatus,
}

/// At most this many earlier runs are candidates for one account's previous reports.
pub const MAX_PREVIOUS_RUNS: usize = 3;

/// Plan reads the summaries of at most this many days (that have any) looking for an
/// account's earlier runs: an account no run scanned in that many days starts afresh.
pub const MAX_SUMMARY_DAYS: usize = 35;

/// A run's previous runs: its own, and each account's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviousRuns {
    /// The latest earlier run of the scope at the granularity that has a summary,
    /// whatever its status (the summary's `changes.previous_run`).
    pub run: Option<RunRef>,
    /// Each account's earlier runs that scanned it (its line SUCCEEDED or INCOMPLETE),
    /// newest first, up to the first that scanned it fully (SUCCEEDED), at most
    /// [`MAX_PREVIOUS_RUNS`]. A principal's previous report is its report in the first
    /// of them that has one. An account no earlier run scanned has none.
    pub accounts: BTreeMap<String, Vec<RunRef>>,
    /// Reading older summaries can change nothing: the run's own previous run is
    /// found, and every account's runs reach one that scanned it fully (or the cap).
    pub settled: bool,
}

/// The previous runs of a run of `scope` at `granularity` that started at `before`
/// (RFC 3339 UTC, which sorts as text), for its `accounts`. A run still going has no
/// summary yet, so two overlapping runs both look back to the last one that finished.
/// After an upgrade, a 1.x run (which recorded no scope) stands in when no run of the
/// scope does.
pub fn choose_previous(
    heads: &[RunHead],
    granularity: Granularity,
    scope: &str,
    before: &str,
    accounts: &[&str],
) -> PreviousRuns {
    let mut earlier = candidates(heads, granularity, Some(scope), before);
    if earlier.is_empty() {
        earlier = candidates(heads, granularity, None, before);
    }
    let mut settled = !earlier.is_empty();
    let mut found = BTreeMap::new();
    for id in accounts {
        let mut runs = Vec::new();
        let mut done = false;
        for head in &earlier {
            let Some(full) = scanned(head, id) else {
                continue;
            };
            runs.push(run_ref(head));
            done = full || runs.len() == MAX_PREVIOUS_RUNS;
            if done {
                break;
            }
        }
        settled &= done;
        if !runs.is_empty() {
            found.insert(id.to_string(), runs);
        }
    }
    PreviousRuns {
        run: earlier.first().map(|h| run_ref(h)),
        accounts: found,
        settled,
    }
}

/// Whether `head`'s run scanned `account`: `Some(true)` fully (SUCCEEDED), `Some(false)`
/// in part (INCOMPLETE: the principals it reported), `None` not at all (UNREACHABLE, or
/// not in the run). A summary before schema 3.0 has no account lines: its run scanned
/// the stack's own account, fully when it SUCCEEDED (a 1.0 summary has no status: it
/// was written only by a run that succeeded).
fn scanned(head: &RunHead, account: &str) -> Option<bool> {
    if head.accounts.is_empty() {
        return Some(head.status.is_none_or(|s| s == RunStatus::Succeeded));
    }
    match head.accounts.iter().find(|a| a.id == account)?.status {
        AccountStatus::Succeeded => Some(true),
        AccountStatus::Incomplete => Some(false),
        AccountStatus::Unreachable => None,
    }
}

/// The earlier runs of the scope at the granularity, newest first.
fn candidates<'a>(
    heads: &'a [RunHead],
    granularity: Granularity,
    scope: Option<&str>,
    before: &str,
) -> Vec<&'a RunHead> {
    let mut earlier: Vec<&RunHead> = heads
        .iter()
        .filter(|h| h.parameters.granularity == granularity)
        .filter(|h| h.parameters.scope.as_deref() == scope)
        .filter(|h| as_of(h) < before)
        .collect();
    earlier.sort_by(|a, b| as_of(b).cmp(as_of(a)).then_with(|| b.run_id.cmp(&a.run_id)));
    earlier
}

fn as_of(head: &RunHead) -> &str {
    head.as_of.as_deref().unwrap_or(&head.started_at)
}

fn run_ref(head: &RunHead) -> RunRef {
    RunRef {
        run_id: head.run_id.clone(),
        dt: head.dt.clone(),
        as_of: as_of(head).to_string(),
        account_keys: head
            .schema_version
            .as_deref()
            .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
            .is_some_and(|major| major >= 3),
    }
}
