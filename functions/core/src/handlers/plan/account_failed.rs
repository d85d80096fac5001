//! Plan's `RecordAccountFailure` step.

use crate::domain::keys;
use crate::error::Error;
use crate::handlers::events::{AccountFailure, PlanAnswer};
use crate::runtime::deps::PlanDeps;

/// An account whose plan, preflight or batches Map failed: recorded for Summarize, which
/// calls it UNREACHABLE when its plan failed (nothing of it was read, no record), else
/// INCOMPLETE.
pub(super) async fn record(deps: &PlanDeps, failed: AccountFailure) -> Result<PlanAnswer, Error> {
    let id = failed
        .run
        .account
        .as_ref()
        .map(|a| a.id.clone())
        .or_else(|| failed.account.as_ref().map(|a| a.id.clone()))
        .ok_or_else(|| Error::invalid("account_failed", "names no account"))?;
    let key = keys::account_failure_key(&failed.run.run_id, &id);
    deps.store.put_json(&key, &failed.failure).await?;
    tracing::warn!(account = %id, error = ?failed.failure.error, "account failed");
    Ok(PlanAnswer::Recorded { recorded: key })
}
