//! How a service (or action) was used within the run's window: the run's core
//! vocabulary, shared by reports, history, recommendations and the page.

use crate::domain::clock::utc;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The one vocabulary of the report, the summary, the CLI and the page: each service (and
/// tracked action) of a principal is exactly one of these, judged at the run's `as_of`.
/// Schema 2.0 renamed 1.x's `used`/`unused` (which read as overlapping); the old names
/// are still read, so a 1.x report can be a 2.0 report's previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// Used within the last `unused_days`.
    #[serde(alias = "used")]
    Active,
    /// Used, but `unused_days` or more ago (IAM's date, or one an earlier run saw).
    #[serde(alias = "unused")]
    Stale,
    /// No use in IAM's tracking window (400 days) and none an earlier run saw.
    NeverUsed,
}

impl Usage {
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Active => "active",
            Usage::Stale => "stale",
            Usage::NeverUsed => "never used",
        }
    }

    /// The class of a last use `last` (RFC 3339), judged at `as_of`, and its age in days.
    pub fn of(last: Option<&str>, as_of: OffsetDateTime, unused_days: u32) -> (Usage, Option<i64>) {
        match last.and_then(utc::parse) {
            None => (Usage::NeverUsed, None),
            Some(t) => {
                let days = (as_of - t).whole_days().max(0);
                let class = if days >= i64::from(unused_days) {
                    Usage::Stale
                } else {
                    Usage::Active
                };
                (class, Some(days))
            }
        }
    }
}
