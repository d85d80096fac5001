//! An incremental run's part of Plan: which of an account's principals are carried
//! (the rule in `domain::incremental::rule`, from IAM's bulk reads and the previous
//! run's carry rows), the sample among them, the batches of each kind; and, after the
//! scanned batches, the verdict on the sample (`VerifySample`).

use crate::adapters::directory::authorization::Authorization;
use crate::adapters::directory::credentials::CredentialReport;
use crate::adapters::s3::ReportStore;
use crate::domain::account::{AccountCarry, AccountItem};
use crate::domain::arn::PrincipalArn;
use crate::domain::batch::{sizing, Batch};
use crate::domain::clock::{self, utc};
use crate::domain::incremental::rule::{self, Activity, Candidate, Carry};
use crate::domain::incremental::{CarryRow, CarryVerdict, IncrementalOptions, OutcomeMark};
use crate::domain::keys;
use crate::domain::outcome::BatchResult;
use crate::domain::run::RunContext;
use crate::error::Error;
use crate::handlers::events::AccountOutput;
use std::collections::{BTreeMap, BTreeSet};

/// An account's batches: scanned ones (the sample among them), then carry ones.
pub(super) struct Batches {
    pub scan: Vec<Batch>,
    pub carry: Vec<Batch>,
    pub info: Option<AccountCarry>,
}

/// The carry rows of the account in its first previous run, for `wanted` only (read as
/// they stream). None: that run wrote none (a full run before incremental scans, or the
/// account had no report there).
async fn previous_rows(
    store: &ReportStore,
    account: &AccountItem,
    wanted: &BTreeSet<&str>,
) -> Result<BTreeMap<String, CarryRow>, Error> {
    let mut out = BTreeMap::new();
    let Some(prev) = account.previous_runs.first() else {
        return Ok(out);
    };
    let key = keys::carry_key(&prev.dt, &prev.run_id, &account.id);
    let Some(mut rows) = store.read_array::<CarryRow>(&key).await? else {
        return Ok(out);
    };
    while let Some(row) = rows.next().await? {
        if wanted.contains(row.arn.as_str()) {
            out.insert(row.arn.clone(), row);
        }
    }
    Ok(out)
}

/// What Plan read in bulk for one account, and the run it plans.
pub(super) struct Bulk<'a> {
    pub run: &'a RunContext,
    pub ids: &'a BTreeMap<String, String>,
    pub fingerprints: &'a BTreeMap<String, String>,
    pub authorization: Option<&'a Authorization>,
    pub credentials: Option<&'a CredentialReport>,
}

/// The account's principals in batches: without `incremental`, all scanned; with it,
/// the carriable ones (less the sample) in carry batches after the scanned ones.
pub(super) async fn batches(
    store: &ReportStore,
    account: &AccountItem,
    principals: Vec<PrincipalArn>,
    batch_size: u32,
    incremental: Option<&IncrementalOptions>,
    bulk: &Bulk<'_>,
) -> Result<Batches, Error> {
    let Some((options, authorization)) = incremental.zip(bulk.authorization) else {
        return Ok(Batches {
            scan: sizing::batches(principals, batch_size),
            carry: Vec::new(),
            info: None,
        });
    };
    let wanted: BTreeSet<&str> = principals.iter().map(PrincipalArn::as_str).collect();
    let rows = previous_rows(store, account, &wanted).await?;
    let Carriable {
        quiet: carriable,
        mut witnessed,
    } = carriable(&principals, &rows, options, authorization, bulk);
    let refs: Vec<&str> = carriable.iter().map(String::as_str).collect();
    let sampled: BTreeSet<String> = rule::sample(&refs, options.sample_percent, &bulk.run.run_id)
        .into_iter()
        .map(str::to_string)
        .collect();
    let count = carriable.len();
    let carry_set: BTreeSet<String> = carriable
        .into_iter()
        .filter(|a| !sampled.contains(a))
        .chain(witnessed.keys().cloned())
        .collect();
    tracing::info!(account = %account.id, carriable = count, witnessed = witnessed.len(), sampled = sampled.len(), "incremental: carried or scanned");
    let (carry, scan): (Vec<PrincipalArn>, Vec<PrincipalArn>) = principals
        .into_iter()
        .partition(|a| carry_set.contains(a.as_str()));
    let mut scan = sizing::batches(scan, batch_size);
    for b in &mut scan {
        b.sampled = b
            .arns
            .iter()
            .map(ToString::to_string)
            .filter(|a| sampled.contains(a))
            .collect();
    }
    let mut carry = sizing::batches(carry, batch_size);
    let offset = scan.len() as u32;
    for b in &mut carry {
        b.index += offset;
        b.carry = true;
        b.witnesses = b
            .arns
            .iter()
            .filter_map(|a| Some((a.to_string(), witnessed.remove(a.as_str())?)))
            .collect();
    }
    let info = AccountCarry {
        scan_batches: scan.len() as u32,
        carry_batches: carry.len() as u32,
        carriable: carry_set.len() as u32,
        sampled: sampled.len() as u32,
    };
    Ok(Batches {
        scan,
        carry,
        info: Some(info),
    })
}

/// The principals the rule carries: quiet ones, and groups and policies with their
/// witnesses (each one scanned this run).
struct Carriable {
    quiet: Vec<String>,
    witnessed: BTreeMap<String, Vec<String>>,
}

/// The principals the rule carries, given what the previous run said of each (`rows`)
/// and what IAM's bulk reads say now; why the others are scanned, logged in counts.
fn carriable(
    principals: &[PrincipalArn],
    rows: &BTreeMap<String, CarryRow>,
    options: &IncrementalOptions,
    authorization: &Authorization,
    bulk: &Bulk<'_>,
) -> Carriable {
    let empty = BTreeMap::new();
    let credentials = bulk.credentials;
    let activity = Activity::new(
        &authorization.principals,
        credentials.map_or(&empty, |c| &c.latest_uses),
        credentials.and_then(|c| c.generated.as_deref().and_then(utc::parse)),
        clock::as_of(&bulk.run.started_at),
    );
    let scanned: BTreeSet<&str> = principals.iter().map(PrincipalArn::as_str).collect();
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
    let mut out = Carriable {
        quiet: Vec::new(),
        witnessed: BTreeMap::new(),
    };
    for arn in principals.iter().map(PrincipalArn::as_str) {
        let candidate = Candidate {
            arn,
            principal_id: bulk.ids.get(arn).map(String::as_str),
            fingerprint: bulk.fingerprints.get(arn).map(String::as_str),
            previous: rows.get(arn),
        };
        match rule::decide(
            &candidate,
            &activity,
            options.full_refresh_days,
            bulk.run.report.entities,
        ) {
            Ok(Carry::Quiet) => out.quiet.push(arn.to_string()),
            // Each witness is scanned this run (not carried: it was used), if selected.
            Ok(Carry::Witnessed(w)) if w.iter().all(|w| scanned.contains(w.as_str())) => {
                out.witnessed.insert(arn.to_string(), w);
            }
            Ok(Carry::Witnessed(_)) => {
                *reasons.entry("WitnessNotScanned".into()).or_default() += 1;
            }
            Err(why) => *reasons.entry(format!("{why:?}")).or_default() += 1,
        }
    }
    tracing::info!(
        carriable = out.quiet.len(),
        witnessed = out.witnessed.len(),
        ?reasons,
        "incremental: the rule"
    );
    out
}

/// VerifySample: the account's scanned batches are done; judge its sample from their
/// results, and hand the batches Map the carry batches with the verdict in the run.
pub(super) async fn verify_sample(
    store: &ReportStore,
    mut output: AccountOutput,
) -> Result<AccountOutput, Error> {
    let account = output
        .run
        .account
        .as_ref()
        .map(|a| a.id.clone())
        .ok_or_else(|| Error::invalid("run.account", "VerifySample runs for one account"))?;
    let run_id = output.run.run_id.clone();
    let record: crate::domain::account::AccountRecord = store
        .get_json(&keys::account_record_key(&run_id, &account))
        .await?;
    let info = record.carry.unwrap_or_default();
    let (mut matched, mut mismatches) = (0, 0);
    let first = record.item.first_batch;
    for index in first..first + info.scan_batches {
        let key = keys::result_key(&run_id, index);
        let Some(result) = store.get_json_opt::<BatchResult>(&key).await? else {
            continue;
        };
        for o in &result.principals {
            match o.incremental {
                Some(OutcomeMark::SampleMatched) => matched += 1,
                Some(OutcomeMark::SampleMismatched) => mismatches += 1,
                _ => {}
            }
        }
    }
    let verdict = CarryVerdict::of(info.sampled, matched, mismatches);
    tracing::info!(account = %account, ?verdict, "incremental: the sample judged");
    output.run.carry = Some(verdict);
    output.batches_key = keys::account_carry_batches_key(&run_id, &account);
    output.batches = info.carry_batches;
    output.scan = info.carry_batches > 0;
    output.carry = false;
    Ok(output)
}
