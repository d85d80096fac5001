//! Summarize's fold: the run read account by account, batch result by batch result, each
//! principal into the index, the summary's fold and the pages as it comes.

use crate::adapters::s3::ReportStore;
use crate::adapters::streams::ArrayUpload;
use crate::domain::account::{AccountRun, AccountState};
use crate::domain::batch::{Batch, BatchFailure};
use crate::domain::keys;
use crate::domain::outcome::BatchResult;
use crate::domain::page::{self, PageBuilder, PageHead};
use crate::domain::run::{PlanRecord, RunRef};
use crate::domain::summary::{in_unread_account, missing_of, unread_accounts, Closing, RunFold};
use crate::error::Error;
use crate::handlers::events::SummarizeEvent;
use crate::handlers::summarize::findings::{Findings, IndexedRow};
use crate::runtime::deps::SummarizeDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Batch results read at once: what Summarize holds of them.
const RESULTS_IN_FLIGHT: usize = 2;

/// Every JSON document under `prefix`, a few reads at a time.
async fn read_all<T: DeserializeOwned>(store: &ReportStore, prefix: &str) -> Result<Vec<T>, Error> {
    let found = store.list_keys(prefix).await?;
    stream::iter(found)
        .map(|key| async move { store.get_json(&key).await.map_err(Error::from) })
        .buffered(16)
        .try_collect()
        .await
}

/// A principal's ARN, hashed: the run's scope in 8 bytes a principal. (Two ARNs of a
/// million collide with odds near 3·10⁻⁸; a collision would leave one gone principal
/// unnamed.)
fn arn_hash(arn: &str) -> u64 {
    let mut h = DefaultHasher::new();
    arn.hash(&mut h);
    h.finish()
}

/// The files streamed beside the summary.
pub(super) struct Outputs<'a> {
    pub(super) index: ArrayUpload<'a>,
    pub(super) missing: ArrayUpload<'a>,
    pub(super) gone: ArrayUpload<'a>,
}

impl Outputs<'_> {
    pub(super) async fn finish(self) -> Result<(), Error> {
        self.index.finish().await?;
        self.missing.finish().await?;
        self.gone.finish().await?;
        Ok(())
    }

    pub(super) async fn abort(self) {
        self.index.abort().await;
        self.missing.abort().await;
        self.gone.abort().await;
    }
}

/// Every batch result folded, account by account; then the principals without a report
/// and those gone since the previous run. Gives back the fold and the run's page (an
/// overview for an Organization run: its services' table only).
pub(super) async fn fold_run(
    deps: &SummarizeDeps,
    event: &SummarizeEvent,
    plan: &PlanRecord,
    accounts: &[AccountRun],
    closing: &Closing,
    out: &mut Outputs<'_>,
    findings: Option<Findings>,
) -> Result<(RunFold, PageBuilder, Option<Findings>), Error> {
    let run = &event.plan.run;
    let store = &deps.store;
    let organization = plan.organization.is_some();
    let results: BTreeMap<u32, String> = store
        .list_keys(&keys::results_prefix(&run.run_id))
        .await?
        .into_iter()
        .filter_map(|k| Some((result_index(&k)?, k)))
        .collect();
    let budget = if organization {
        0
    } else {
        page::PAGE_BUDGET_BYTES
    };
    let mut f = Folding {
        store,
        event,
        plan,
        closing,
        failures: read_all(store, &keys::failures_prefix(&run.run_id)).await?,
        fold: RunFold::default(),
        run_page: PageBuilder::new(&plan.started_at, budget),
        scope: HashSet::new(),
        out,
        findings,
    };
    let mut ranges: Vec<&AccountRun> = accounts.iter().collect();
    ranges.sort_by_key(|a| a.item.first_batch);
    let mut folded: BTreeSet<u32> = BTreeSet::new();
    for a in ranges {
        let planned = a.record.as_ref().map_or(0, |r| r.batches);
        let range = a.item.first_batch..a.item.first_batch + planned;
        let ours: BTreeMap<u32, &String> =
            results.range(range.clone()).map(|(i, k)| (*i, k)).collect();
        folded.extend(ours.keys());
        let unreported = range.filter(|i| !ours.contains_key(i)).count();
        f.account(a, ours, unreported > 0).await?;
    }
    // Results outside every account's batches (none, as Plan numbers them): still folded.
    for (index, key) in &results {
        if !folded.contains(index) {
            let result: BatchResult = store.get_json(key).await?;
            f.result(&result, None, None).await?;
        }
    }
    let mut gone = Gone {
        scope: &f.scope,
        fold: &mut f.fold,
        out: &mut *f.out,
        findings: f.findings.as_mut(),
    };
    fold_gone(store, accounts, &mut gone).await?;
    Ok((f.fold, f.run_page, f.findings))
}

/// What Summarize folds into as it reads the run.
struct Folding<'a, 'o> {
    store: &'a ReportStore,
    event: &'a SummarizeEvent,
    plan: &'a PlanRecord,
    closing: &'a Closing,
    failures: Vec<BatchFailure>,
    fold: RunFold,
    run_page: PageBuilder,
    /// The run's principals (reported or not), hashed.
    scope: HashSet<u64>,
    out: &'a mut Outputs<'o>,
    /// The run's Security Hub findings, when it sends them.
    findings: Option<Findings>,
}

impl Folding<'_, '_> {
    /// One account's results (`results`, by batch), then its principals without a
    /// report when some batch has none; an Organization run's account read gets its page.
    async fn account(
        &mut self,
        a: &AccountRun,
        results: BTreeMap<u32, &String>,
        unreported: bool,
    ) -> Result<(), Error> {
        let run = &self.event.plan.run;
        let store = self.store;
        let organization = self.plan.organization.is_some();
        let mut own = organization.then(|| {
            (
                RunFold::default(),
                PageBuilder::new(&self.plan.started_at, page::PAGE_BUDGET_BYTES),
            )
        });
        // What the next incremental run needs of the account's principals.
        let mut carry = ArrayUpload::new(store.upload(
            &keys::carry_key(&run.dt, &run.run_id, &a.item.id),
            "application/json",
        ));
        let mut reads = stream::iter(results.values())
            .map(|key| async move { store.get_json::<BatchResult>(key).await })
            .buffered(RESULTS_IN_FLIGHT);
        while let Some(result) = reads.next().await {
            let folded = match result {
                Ok(result) => self.result(&result, own.as_mut(), Some(&mut carry)).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = folded {
                carry.abort().await;
                return Err(e);
            }
        }
        carry.finish().await?;
        if unreported {
            let mut batches: Vec<Batch> = store
                .get_json(&keys::account_batches_key(&run.run_id, &a.item.id))
                .await?;
            if a.record
                .as_ref()
                .and_then(|r| r.carry)
                .is_some_and(|c| c.carry_batches > 0)
            {
                let key = keys::account_carry_batches_key(&run.run_id, &a.item.id);
                batches.extend(store.get_json::<Vec<Batch>>(&key).await?);
            }
            let unreported = batches
                .into_iter()
                .filter(|b| !results.contains_key(&b.index));
            for batch in unreported {
                for m in missing_of(batch, &self.failures, self.event.error.as_ref()) {
                    self.scope.insert(arn_hash(&m.arn));
                    self.out.missing.push(&m).await?;
                    if let Some((fold, _)) = own.as_mut() {
                        fold.add_missing(m.clone());
                    }
                    self.fold.add_missing(m);
                }
            }
        }
        let read = a
            .record
            .as_ref()
            .is_some_and(|r| r.state != AccountState::Unreachable);
        let Some((fold, account_page)) = own.filter(|_| read) else {
            return Ok(());
        };
        let Some(line) = fold.account_line(a.clone()) else {
            return Ok(());
        };
        let key = keys::account_page_key(&run.dt, &run.run_id, line.id.as_str());
        let index = keys::index_key(&run.dt, &run.run_id);
        let batches = a.record.as_ref().map_or(0, |r| r.batches);
        let head = PageHead::of_account(self.plan, self.closing, &fold, (line, batches), index);
        let html = page::render_page(&head, account_page);
        store
            .put_bytes(&key, html.into_bytes(), "text/html; charset=utf-8")
            .await?;
        Ok(())
    }

    /// One batch's result: into the index, the run's fold and page, and its account's
    /// (with its carry rows).
    async fn result(
        &mut self,
        result: &BatchResult,
        mut account: Option<&mut (RunFold, PageBuilder)>,
        mut carry: Option<&mut ArrayUpload<'_>>,
    ) -> Result<(), Error> {
        for o in &result.principals {
            let hash = arn_hash(&o.arn);
            self.scope.insert(hash);
            if let Some(findings) = self.findings.as_mut() {
                findings.principal(o, hash).await;
            }
            self.out.index.push(o).await?;
            if let Some(carry) = carry.as_mut() {
                carry.push(&o.carry_row()).await?;
            }
            self.run_page.add(o);
            if let Some((_, page)) = account.as_mut() {
                page.add(o);
            }
        }
        self.fold.add_batch(result);
        if let Some((fold, _)) = account {
            fold.add_batch(result);
        }
        Ok(())
    }
}

/// A result's batch index, from its key (`…/results/000123.json`).
fn result_index(key: &str) -> Option<u32> {
    key.rsplit('/').next()?.strip_suffix(".json")?.parse().ok()
}

/// What the previous indexes are folded into: the gone principals, and the findings to
/// archive.
struct Gone<'a, 'o> {
    scope: &'a HashSet<u64>,
    fold: &'a mut RunFold,
    out: &'a mut Outputs<'o>,
    findings: Option<&'a mut Findings>,
}

/// Gone principals: each account's principals in the index of the latest earlier run
/// that scanned it (each index read once, as it streams), not in this run's scope; none
/// of an account this run could not read.
async fn fold_gone(
    store: &ReportStore,
    accounts: &[AccountRun],
    g: &mut Gone<'_, '_>,
) -> Result<(), Error> {
    let mut by_run: BTreeMap<&str, (&RunRef, BTreeSet<&str>)> = BTreeMap::new();
    for a in accounts {
        if let Some(prev) = a.item.previous_runs.first() {
            let entry = by_run
                .entry(prev.run_id.as_str())
                .or_insert_with(|| (prev, BTreeSet::new()));
            entry.1.insert(a.item.id.as_str());
        }
    }
    let unread = unread_accounts(accounts);
    for (prev, ids) in by_run.into_values() {
        let key = keys::index_key(&prev.dt, &prev.run_id);
        let Some(mut rows) = store.read_array::<IndexedRow>(&key).await? else {
            continue;
        };
        while let Some(row) = rows.next().await? {
            let in_accounts = if row.account.is_empty() {
                crate::domain::arn::PrincipalArn::parse(&row.arn)
                    .is_ok_and(|a| ids.contains(a.account()))
            } else {
                ids.contains(row.account.as_str())
            };
            if !in_accounts || in_unread_account(&row.arn, &unread) {
                continue;
            }
            let hash = arn_hash(&row.arn);
            let in_scope = g.scope.contains(&hash);
            if let Some(findings) = g.findings.as_mut() {
                findings.previous(&row, hash, in_scope).await;
            }
            if !in_scope {
                g.out.gone.push(&row.arn).await?;
                g.fold.add_gone(row.arn);
            }
        }
    }
    Ok(())
}
