//! Incremental scans (run input `incremental`): a principal whose access-advisor answer
//! cannot have changed since the previous run's is *carried* — its previous report
//! re-judged at this run's `as_of`, no IAM job — and a small sample of those is scanned
//! anyway, to check the rule holds in its account (docs/design.md, "Incremental scans").
//!
//! `fingerprint` says what access advisor reads of a principal's permissions, `rule`
//! decides carried or scanned from IAM's bulk reads and the previous run's carry rows,
//! `carried` rebuilds a previous report's data and compares a sample's fresh answer with
//! it. Pure code, no I/O.

pub mod carried;
pub mod fingerprint;
pub mod rule;

use serde::{Deserialize, Serialize};

/// IAM: "Recent activity usually appears within four hours"
/// (GenerateServiceLastAccessedDetails, IAM API Reference).
pub const ADVISOR_LAG_HOURS: i64 = 4;
/// A role's session outlives the AssumeRole that RoleLastUsed records: at most its
/// MaxSessionDuration, 12 hours (CreateRole, IAM API Reference).
pub const ROLE_SESSION_HOURS: i64 = 12;
/// A user's access key can mint session credentials that outlive its last use: up to
/// 36 hours (GetSessionToken, GetFederationToken, STS API Reference); a console
/// session lasts at most 12.
pub const USER_SESSION_HOURS: i64 = 36;

/// The run input's `incremental`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncrementalOptions {
    /// A carried report's IAM data is younger than this (1–30 days, default 7).
    pub full_refresh_days: u32,
    /// The share of the carriable principals scanned anyway (0–100, default 2; at least
    /// one per account).
    pub sample_percent: f64,
}

pub const DEFAULT_FULL_REFRESH_DAYS: u32 = 7;
pub const DEFAULT_SAMPLE_PERCENT: f64 = 2.0;

/// What an incremental run did with one principal's job (`Job.incremental`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobMark {
    /// No job: the previous report, re-judged.
    Carried,
    /// Carriable, and scanned to check the rule.
    Sampled,
    /// Carriable, and scanned because the account's sample did not hold.
    Fallback,
}

/// What an incremental run did with one principal, as its outcome (the run's index and
/// the summary's `incremental`) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeMark {
    Carried,
    /// Sampled, and IAM's fresh answer equals the carried one.
    SampleMatched,
    /// Sampled, and IAM's fresh answer differs from the carried one: the rule does not
    /// hold in its account, which is then scanned in full.
    SampleMismatched,
    Fallback,
}

/// What the next incremental run needs of one principal of this run
/// (`reports/runs/…/carry/ACCOUNT.json`, one row per report, written by Summarize).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarryRow {
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    pub status: crate::domain::job::JobStatus,
    /// Its permissions as access advisor reads them, when the run could read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// When the IAM job behind the report was created (a carried report: its original
    /// job's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_as_of: Option<String>,
    /// The report holds entities (WithEntities), for a run that asks for them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entities: bool,
}

/// An account's sample, judged (VerifySample) before its carried batches run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CarryVerdict {
    pub sampled: u32,
    pub matched: u32,
    pub mismatches: u32,
    /// The carried principals are scanned in full: a mismatch, or no sampled principal
    /// whose answer could be compared.
    pub fallback: bool,
}

impl CarryVerdict {
    /// The verdict on an account's sample: carry only on evidence (one match at least)
    /// and no contrary evidence.
    pub fn of(sampled: u32, matched: u32, mismatches: u32) -> CarryVerdict {
        CarryVerdict {
            sampled,
            matched,
            mismatches,
            fallback: mismatches > 0 || matched == 0,
        }
    }
}

#[cfg(test)]
mod tests;
