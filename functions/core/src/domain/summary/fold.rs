//! The run summary folded one principal at a time, in bounded memory: counts, the top
//! lists, and the first [`LIST_CAP`] entries of each growing list with its total. What
//! a list does not hold is in the file its [`ListRef`] names.

use crate::domain::access_report::AccessReportSummary;
use crate::domain::account::{AccountRun, AccountSummary};
use crate::domain::job::{JobBinding, JobStatus};
use crate::domain::keys;
use crate::domain::outcome::{BatchResult, PrincipalOutcome};
use crate::domain::run::PlanRecord;
use crate::domain::sfn::StepFunctionsError;
use crate::domain::summary::build::{account_lines, run_job_binding, run_status};
use crate::domain::summary::incremental::IncrementalTally;
use crate::domain::summary::{
    ChangedPrincipal, Closing, Counts, MissingPrincipal, PrincipalError, RecommendationCounts,
    RunChanges, RunSummary, TopPrincipal, SUMMARY_SCHEMA_VERSION,
};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// At most this many principals in `top_unused` and `changes.largest`.
pub const TOP_PRINCIPALS: usize = 20;

/// A growing list of the summary (`report_keys`, `errors`, `missing`, `changes.gone`,
/// `parameters.skipped`) holds at most this many entries (schema 4.0).
pub const LIST_CAP: usize = 1000;

/// Where a capped list is whole, and how long it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRef {
    pub total: u64,
    /// The S3 key of the whole list: `principals.json` (every principal's report key,
    /// status and error), `missing.json`, `gone.json`.
    pub key: String,
}

/// The summary's capped lists (schema 4.0): each holds its first [`LIST_CAP`] entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryLists {
    pub cap: u32,
    pub report_keys: ListRef,
    pub errors: ListRef,
    pub missing: ListRef,
    pub gone: ListRef,
    /// `parameters.skipped` (its whole list is in no file: the accounts' work files say
    /// it, and they expire).
    pub skipped: u64,
}

/// The first [`LIST_CAP`] entries, and how many there were.
#[derive(Debug, Clone)]
pub struct Capped<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Capped {
            items: Vec::new(),
            total: 0,
        }
    }
}

impl<T> Capped<T> {
    pub fn push(&mut self, item: T) {
        self.total += 1;
        if self.items.len() < LIST_CAP {
            self.items.push(item);
        }
    }
}

/// The first `n` in an order, kept in at most `2n` entries.
#[derive(Debug, Clone)]
pub struct Top<T> {
    items: Vec<T>,
    order: fn(&T, &T) -> Ordering,
}

impl<T> Top<T> {
    pub fn new(order: fn(&T, &T) -> Ordering) -> Self {
        Top {
            items: Vec::new(),
            order,
        }
    }

    pub fn push(&mut self, item: T) {
        self.items.push(item);
        if self.items.len() >= 2 * TOP_PRINCIPALS {
            self.cut();
        }
    }

    fn cut(&mut self) {
        self.items.sort_by(self.order);
        self.items.truncate(TOP_PRINCIPALS);
    }

    pub fn into_sorted(mut self) -> Vec<T> {
        self.cut();
        self.items
    }
}

fn most_unused(a: &TopPrincipal, b: &TopPrincipal) -> Ordering {
    b.services_unused
        .cmp(&a.services_unused)
        .then_with(|| a.arn.cmp(&b.arn))
}

fn largest_change(a: &ChangedPrincipal, b: &ChangedPrincipal) -> Ordering {
    b.size.cmp(&a.size).then_with(|| a.arn.cmp(&b.arn))
}

/// What one account's reports add up to.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountTally {
    pub written: u32,
    pub granted: u64,
    pub used: u64,
    pub unused: u64,
}

/// The summary, folded so far.
#[derive(Debug, Clone)]
pub struct RunFold {
    counts: Counts,
    batches_reported: u32,
    top: Top<TopPrincipal>,
    errors: Capped<PrincipalError>,
    report_keys: Capped<String>,
    changes: RunChanges,
    largest: Top<ChangedPrincipal>,
    missing: Capped<MissingPrincipal>,
    gone: Capped<String>,
    accounts: HashMap<String, AccountTally>,
    bindings: BTreeMap<String, JobBinding>,
    incremental: IncrementalTally,
}

impl Default for RunFold {
    fn default() -> Self {
        RunFold {
            incremental: IncrementalTally::default(),
            counts: Counts::default(),
            batches_reported: 0,
            top: Top::new(most_unused),
            errors: Capped::default(),
            report_keys: Capped::default(),
            changes: RunChanges::default(),
            largest: Top::new(largest_change),
            missing: Capped::default(),
            gone: Capped::default(),
            accounts: HashMap::new(),
            bindings: BTreeMap::new(),
        }
    }
}

impl RunFold {
    /// A batch's result: its JobId binding (its account's preflight's) and every outcome.
    pub fn add_batch(&mut self, result: &BatchResult) {
        self.batches_reported += 1;
        if let (Some(first), Some(binding)) = (result.principals.first(), result.job_binding) {
            self.bindings.insert(first.account.clone(), binding);
        }
        for o in &result.principals {
            self.add(o);
        }
    }

    /// One report.
    pub fn add(&mut self, o: &PrincipalOutcome) {
        self.counts.add(o);
        self.incremental.add(o);
        if o.status != JobStatus::Completed {
            self.errors.push(PrincipalError {
                arn: o.arn.clone(),
                status: o.status,
                error: o.error.clone(),
            });
        }
        if o.services_unused() > 0 {
            self.top.push(TopPrincipal {
                arn: o.arn.clone(),
                services_unused: o.services_unused(),
                services_granted: o.services_granted,
                report_key: o.report_key.clone(),
            });
        }
        self.report_keys.push(o.report_key.clone());
        let tally = self.accounts.entry(o.account.clone()).or_default();
        tally.written += 1;
        tally.granted += u64::from(o.services_granted);
        tally.used += u64::from(o.services_active);
        tally.unused += u64::from(o.services_unused());
        let c = &mut self.changes;
        match &o.changes {
            None => c.principals_not_compared += 1,
            Some(ch) if ch.new => {
                c.principals_new += 1;
                c.principals_recreated += u32::from(ch.recreated);
            }
            Some(ch) if ch.changed() => {
                c.principals_changed += 1;
                self.largest.push(ChangedPrincipal {
                    arn: o.arn.clone(),
                    report_key: o.report_key.clone(),
                    size: ch.size() as u32,
                    services: ch.services.clone(),
                    actions: ch.actions.clone(),
                });
            }
            Some(_) => c.principals_unchanged += 1,
        }
    }

    /// A planned principal without a report.
    pub fn add_missing(&mut self, m: MissingPrincipal) {
        self.missing.push(m);
    }

    /// A principal of the previous run this run has not in its scope.
    pub fn add_gone(&mut self, arn: String) {
        self.gone.push(arn);
    }

    /// Reports folded so far.
    pub fn reports(&self) -> u32 {
        self.counts.reports_written
    }

    /// The counts, the top lists and the changes so far, for a page of part of the run.
    pub fn heads(&self) -> (Counts, Vec<TopPrincipal>, RunChanges, Vec<MissingPrincipal>) {
        let mut changes = self.changes.clone();
        changes.largest = self.largest.clone().into_sorted();
        changes.gone = self.gone.items.clone();
        changes.principals_gone = self.gone.total as u32;
        (
            Counts {
                principals_missing: self.missing.total as u32,
                batches_reported: self.batches_reported,
                ..self.counts.clone()
            },
            self.top.clone().into_sorted(),
            changes,
            self.missing.items.clone(),
        )
    }

    /// An account's line of the summary, from what was folded of it.
    pub fn account_line(&self, account: AccountRun) -> Option<AccountSummary> {
        account_lines(vec![account], &self.accounts, &self.bindings).pop()
    }

    /// The summary.
    pub fn finish(
        self,
        mut plan: PlanRecord,
        accounts: Vec<AccountRun>,
        access_report: Option<AccessReportSummary>,
        map_failure: Option<StepFunctionsError>,
        closing: Closing,
    ) -> RunSummary {
        let (dt, run_id) = (plan.dt.clone(), plan.run_id.clone());
        let incremental = plan.incremental;
        let index = keys::index_key(&dt, &run_id);
        let skipped = plan.skipped.len() as u64;
        plan.skipped.truncate(LIST_CAP);
        let counts = Counts {
            principals_planned: plan.principals,
            principals_skipped: skipped as u32,
            principals_missing: self.missing.total as u32,
            batches_planned: plan.batches,
            batches_reported: self.batches_reported,
            ..self.counts
        };
        let mut changes = self.changes;
        changes.previous_run = plan.previous_run.clone();
        changes.largest = self.largest.into_sorted();
        changes.principals_gone = self.gone.total as u32;
        changes.gone = self.gone.items;
        changes.gone.sort();
        let lists = SummaryLists {
            cap: LIST_CAP as u32,
            report_keys: ListRef {
                total: self.report_keys.total,
                key: index.clone(),
            },
            errors: ListRef {
                total: self.errors.total,
                key: index,
            },
            missing: ListRef {
                total: self.missing.total,
                key: keys::missing_key(&dt, &run_id),
            },
            gone: ListRef {
                total: self.gone.total,
                key: keys::gone_key(&dt, &run_id),
            },
            skipped,
        };
        let account_lines = account_lines(accounts, &self.accounts, &self.bindings);
        let mut account_counts = BTreeMap::new();
        for a in &account_lines {
            *account_counts.entry(a.status).or_insert(0) += 1;
        }
        let status = run_status(
            &plan,
            &counts,
            &account_lines,
            access_report.as_ref(),
            closing.max_failed_percent,
        );
        RunSummary {
            schema_version: SUMMARY_SCHEMA_VERSION.to_string(),
            run_id: plan.run_id.clone(),
            dt: plan.dt.clone(),
            started_at: plan.started_at.clone(),
            finished_at: closing.finished_at,
            as_of: plan.started_at.clone(),
            duration_seconds: closing.duration_seconds,
            status,
            parameters: plan,
            counts,
            accounts: account_lines,
            account_counts,
            access_report,
            job_binding: run_job_binding(&self.bindings),
            top_unused: self.top.into_sorted(),
            errors: self.errors.items,
            missing: self.missing.items,
            changes,
            failure: map_failure,
            reports_prefix: closing.reports_prefix,
            report_keys: self.report_keys.items,
            lists: Some(lists),
            incremental: incremental.map(|_| self.incremental.summary()),
            security_hub: None,
        }
    }
}

impl Counts {
    /// One report counted.
    fn add(&mut self, outcome: &PrincipalOutcome) {
        self.reports_written += 1;
        *self.by_status.entry(outcome.status).or_default() += 1;
        *self.by_type.entry(outcome.principal_type).or_default() += 1;
        self.services_granted += u64::from(outcome.services_granted);
        self.services_active += u64::from(outcome.services_active);
        self.services_stale += u64::from(outcome.services_stale);
        self.services_never_used += u64::from(outcome.services_never_used);
        self.services_unused += u64::from(outcome.services_unused());
        if let Some(r) = &outcome.recommended {
            let c = self
                .recommendations
                .get_or_insert_with(RecommendationCounts::default);
            c.principals_with_recommendations += u32::from(r.recommendations > 0);
            c.recommendations += u64::from(r.recommendations);
            c.services_removable += u64::from(r.services_removable);
            c.policies_to_detach += u64::from(r.policies_to_detach);
            c.unused_credentials += u64::from(r.unused_credentials);
            c.principals_withheld += u32::from(r.withheld.is_some());
        }
    }
}
