//! A run: its context as every step sees it, its identity and scope (what makes two
//! runs comparable), and the plan Plan recorded.

use crate::domain::account::AccountScope;
use crate::domain::arn::PrincipalArn;
use crate::domain::input::{
    Discovery, Granularity, InputError, Organization, PollOptions, ReportOptions,
};
use crate::domain::job::{JobBinding, Preflight};
use crate::domain::selection::Skipped;
use serde::{Deserialize, Serialize};

/// What every batch step needs to know about its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    /// The execution's name: unique per state machine, so report keys never collide across runs.
    pub run_id: String,
    /// The run's start date (UTC, `YYYY-MM-DD`): the `dt` partition of its reports.
    pub dt: String,
    pub started_at: String,
    pub granularity: Granularity,
    pub poll: PollOptions,
    pub report: ReportOptions,
    /// This run's per-Lambda IAM rate, when the run input set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_requests_per_second: Option<f64>,
    /// The previous completed run of the same scope and granularity (Plan finds it): Write compares
    /// each principal's report with its report there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<crate::domain::run::RunRef>,
    /// The account this part of the run scans (Plan's account step sets it): every IAM
    /// call goes through its reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountScope>,
    /// What the preflight of this part of the run found (the state machine sets it
    /// between the preflight and the batches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<Preflight>,
    /// An incremental run's verdict on this account's sample (VerifySample sets it before
    /// the carried batches): carry them, or scan them in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry: Option<crate::domain::incremental::CarryVerdict>,
}

impl RunContext {
    /// How IAM binds this part of the run's JobIds: the preflight's finding, or
    /// `role_session_name` when nothing was probed (a context from before the probe).
    pub fn job_binding(&self) -> JobBinding {
        self.preflight
            .as_ref()
            .and_then(|p| p.job_binding)
            .unwrap_or(JobBinding::RoleSessionName)
    }

    /// The account this part of the run scans: `arn`'s own when the context names none
    /// (a context from before organization runs).
    pub fn account_of<'a>(&'a self, arn: &'a PrincipalArn) -> &'a str {
        self.account
            .as_ref()
            .map(|a| a.id.as_str())
            .unwrap_or_else(|| arn.account())
    }
}

/// Written by Plan under the run's work prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub granularity: Granularity,
    /// The batch size used: the requested one, or smaller to fit one invocation's budget.
    pub batch_size: u32,
    #[serde(default)]
    pub batch_size_requested: u32,
    pub max_concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_requests_per_second: Option<f64>,
    pub poll: PollOptions,
    pub report: ReportOptions,
    pub explicit_arns: u32,
    pub discover: Option<Discovery>,
    pub principals: u32,
    pub batches: u32,
    /// What the run scans, as an id ([`crate::domain::run::scope_of`]): runs compare only
    /// with runs of the same scope.
    #[serde(default)]
    pub scope: String,
    /// The previous completed run of the same scope and granularity: what reports' `changes` compare
    /// against (absent on the first such run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<RunRef>,
    /// The organization run's selection (absent: the stack's own account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<crate::domain::input::Organization>,
    /// Accounts resolved (1 outside an organization run).
    #[serde(default)]
    pub accounts: u32,
    /// Principals discovery listed but skipped (gone before their tags were read, or an
    /// ARN IAM accepts and this scanner can't parse), each with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// An incremental run's options (absent: a full scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<crate::domain::incremental::IncrementalOptions>,
}

/// A run, as later runs name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    pub run_id: String,
    pub dt: String,
    pub as_of: String,
    /// Its reports' keys have an `account=` level (summary schema 3.0+).
    #[serde(default)]
    pub account_keys: bool,
}

/// What a run scans, as a short stable id: FNV-1a (64 bits) of its discovery filter and
/// its sorted explicit ARNs. Runs compare only with runs of the same scope, so a one-off
/// scan of one ARN never becomes the nightly scan's "previous run" (which would make
/// every other principal "gone", then "new").
pub fn scope_of(
    arns: &[PrincipalArn],
    discover: Option<&Discovery>,
    organization: Option<&Organization>,
) -> String {
    let mut sorted: Vec<String> = arns.iter().map(ToString::to_string).collect();
    sorted.sort();
    let mut canonical = serde_json::json!({"arns": sorted, "discover": discover});
    // Which accounts, not how (role, parallelism, access report); a run of the stack's
    // own account keeps the scope it had before organization runs.
    if let Some(o) = organization {
        canonical["organization"] =
            serde_json::json!({"selection": o.selection, "exclude": o.exclude});
    }
    let canonical = canonical.to_string();
    let hash = canonical.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// A run id (the execution's name) names the run's S3 prefixes: 1-80 of `A-Z a-z 0-9 - _ .`.
pub fn check_run_id(name: &str) -> Result<(), InputError> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(InputError::invalid(
            "execution name",
            format!("{name:?}: use 1-80 of A-Z a-z 0-9 - _ . (it names the run's S3 prefix)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_must_be_key_safe() {
        assert!(check_run_id("daily-2026-11-25_01").is_ok());
        assert!(check_run_id("a/b").is_err());
        assert!(check_run_id("").is_err());
    }
}
