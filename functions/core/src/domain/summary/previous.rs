//! Which earlier run is a run's previous run: the summaries' heads, matched by scope.

use crate::domain::input::Granularity;
use crate::domain::run::RunRef;
use crate::domain::summary::RunStatus;
use serde::Deserialize;

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
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunHeadParameters {
    pub granularity: Granularity,
    /// Schema 2.0+: see [`scope_of`].
    #[serde(default)]
    pub scope: Option<String>,
}

/// The previous completed run: the latest SUCCEEDED run of the same scope at
/// `granularity` that started before `before` (RFC 3339 UTC, which sorts as text). A run
/// still going has no summary yet, so two overlapping runs both compare against the last
/// one that finished.
pub fn choose_previous(
    heads: &[RunHead],
    granularity: Granularity,
    scope: &str,
    before: &str,
) -> Option<RunRef> {
    latest(heads, granularity, Some(scope), before)
        // After an upgrade: a 1.x run, which recorded no scope.
        .or_else(|| latest(heads, granularity, None, before))
}

fn latest(
    heads: &[RunHead],
    granularity: Granularity,
    scope: Option<&str>,
    before: &str,
) -> Option<RunRef> {
    heads
        .iter()
        .filter(|h| h.status.unwrap_or(RunStatus::Succeeded) == RunStatus::Succeeded)
        .filter(|h| h.parameters.granularity == granularity)
        .filter(|h| h.parameters.scope.as_deref() == scope)
        .map(|h| (h.as_of.as_deref().unwrap_or(&h.started_at), h))
        .filter(|(as_of, _)| *as_of < before)
        .max_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.run_id.cmp(&b.1.run_id)))
        .map(|(as_of, h)| RunRef {
            run_id: h.run_id.clone(),
            dt: h.dt.clone(),
            as_of: as_of.to_string(),
            account_keys: h
                .schema_version
                .as_deref()
                .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
                .is_some_and(|major| major >= 3),
        })
}
