//! The summary's `incremental` (schema 4.1): what an incremental run carried, scanned
//! and sampled, and the accounts whose sample did not hold.

use crate::domain::incremental::OutcomeMark;
use crate::domain::outcome::PrincipalOutcome;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// An incremental run, in counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IncrementalSummary {
    /// Reports carried from the previous run (no IAM job).
    pub carried: u32,
    /// Reports from a fresh IAM job (sampled and fallback ones included).
    pub scanned: u32,
    /// Carriable principals scanned to check the rule.
    pub sampled: u32,
    /// Sampled principals whose fresh answer differed from the carried one.
    pub mismatches: u32,
    /// Accounts scanned in full because their sample did not hold.
    pub fallback_accounts: Vec<String>,
}

/// The fold of [`IncrementalSummary`], one outcome at a time (accounts: at most the run's).
#[derive(Debug, Clone, Default)]
pub struct IncrementalTally {
    summary: IncrementalSummary,
    fallback: BTreeSet<String>,
}

impl IncrementalTally {
    pub fn add(&mut self, o: &PrincipalOutcome) {
        let s = &mut self.summary;
        match o.incremental {
            Some(OutcomeMark::Carried) => s.carried += 1,
            Some(mark) => {
                s.scanned += 1;
                match mark {
                    OutcomeMark::SampleMatched => s.sampled += 1,
                    OutcomeMark::SampleMismatched => {
                        s.sampled += 1;
                        s.mismatches += 1;
                        self.fallback.insert(o.account.clone());
                    }
                    _ => {
                        self.fallback.insert(o.account.clone());
                    }
                }
            }
            None => s.scanned += 1,
        }
    }

    pub fn summary(self) -> IncrementalSummary {
        IncrementalSummary {
            fallback_accounts: self.fallback.into_iter().collect(),
            ..self.summary
        }
    }
}
