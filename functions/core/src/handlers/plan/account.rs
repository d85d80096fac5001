//! Plan's `PlanAccount` step, one account of the accounts Map: its discovery, batches
//! and (with recommendations) holdings, under its reader; the account's record says
//! what was found, or why it can't be read.

use super::incremental::{self, Bulk};
use crate::adapters::deadline::Deadline;
use crate::adapters::directory::authorization::Authorization;
use crate::adapters::directory::credentials::CredentialReport;
use crate::adapters::directory::{Directory, Discovered};
use crate::adapters::s3::ReportStore;
use crate::domain::account::{
    AccountItem, AccountRecord, AccountScope, AccountState, OrgState, MAX_BATCHES,
};
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::batch::{sizing, Batch};
use crate::domain::incremental::fingerprint::fingerprints;
use crate::domain::input::RunInput;
use crate::domain::keys;
use crate::domain::recommend::Slice;
use crate::domain::run::{PlanRecord, RunContext};
use crate::domain::selection::Skipped;
use crate::error::{Error, IamError};
use crate::handlers::events::AccountOutput;
use crate::runtime::deps::{Member, PlanDeps};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// One account's step of the accounts Map: plan it (once: a retried step finds its
/// record), or say it can't be scanned.
pub(super) async fn plan_account_step(
    deps: &PlanDeps,
    run: RunContext,
    account: AccountItem,
    deadline: Deadline,
) -> Result<AccountOutput, Error> {
    let store = &deps.store;
    let plan: PlanRecord = store.get_json(&keys::plan_key(&run.run_id)).await?;
    let record = match store
        .get_json_opt::<AccountRecord>(&keys::account_record_key(&run.run_id, &account.id))
        .await?
    {
        Some(record) => record,
        None => {
            let input: RunInput = store.get_json(&keys::input_key(&run.run_id)).await?;
            plan_account(deps, &run, &input, plan.batch_size, &account, deadline).await?
        }
    };
    Ok(account_output(store, run, &record, plan.max_concurrency))
}

fn account_output(
    store: &ReportStore,
    mut run: RunContext,
    record: &AccountRecord,
    max_concurrency: u32,
) -> AccountOutput {
    run.account = Some(AccountScope {
        id: record.item.id.clone(),
        role_arn: record.item.role_arn.clone(),
        previous_runs: record.item.previous_runs.clone(),
    });
    AccountOutput {
        batches_key: keys::account_batches_key(&run.run_id, &record.item.id),
        run,
        bucket: store.bucket.clone(),
        principals: record.principals,
        batches: record.carry.map_or(record.batches, |c| c.scan_batches),
        max_concurrency,
        scan: record.state == AccountState::Planned && record.batches > 0,
        probe: record.item.probe,
        carry: record.carry.is_some_and(|c| c.carry_batches > 0),
    }
}

/// Discovery, batches and (with recommendations) holdings of one account, under its
/// reader, within the invocation's `deadline`; the account's record says what was
/// found, or why it can't be read.
pub(super) async fn plan_account(
    deps: &PlanDeps,
    run: &RunContext,
    input: &RunInput,
    batch_size: u32,
    account: &AccountItem,
    deadline: Deadline,
) -> Result<AccountRecord, Error> {
    let store = &deps.store;
    let record_key = keys::account_record_key(&run.run_id, &account.id);
    let directory = match reader(deps, input, account).await? {
        Member::Directory(directory) => directory,
        Member::Refused(why) => {
            let record = AccountRecord::unreachable(account.clone(), why, batch_size);
            store.put_json(&record_key, &record).await?;
            return Ok(record);
        }
    };
    let (principals, ids, skipped) =
        principals_of(deps, input, account, &directory, deadline).await?;
    let count = principals.len() as u32;
    let (authorization, credentials) = bulk_reads(input, &principals, &directory, deadline).await?;
    let fingerprints = authorization
        .as_ref()
        .map(|a| fingerprints(&a.principals, &a.policies))
        .unwrap_or_default();
    let bulk = Bulk {
        run,
        ids: &ids,
        fingerprints: &fingerprints,
        authorization: authorization.as_ref(),
        credentials: credentials.as_ref(),
    };
    let planned = incremental::batches(
        store,
        account,
        principals,
        batch_size,
        input.incremental.as_ref(),
        &bulk,
    )
    .await?;
    let mut batches = planned.scan;
    let mut carry = planned.carry;
    check_batches(count, account, batch_size, batches.len() + carry.len())?;
    for b in batches.iter_mut().chain(carry.iter_mut()) {
        b.index += account.first_batch;
        b.name_ids(&ids, &fingerprints);
    }
    if let (true, Some(all)) = (input.report.recommendations, authorization) {
        let all = with_credentials(all, credentials, &batches, &carry);
        write_holdings(store, &run.run_id, &batches, &all).await?;
        write_holdings(store, &run.run_id, &carry, &all).await?;
    }
    store
        .put_json(
            &keys::account_batches_key(&run.run_id, &account.id),
            &batches,
        )
        .await?;
    if !carry.is_empty() {
        let key = keys::account_carry_batches_key(&run.run_id, &account.id);
        store.put_json(&key, &carry).await?;
    }
    let record = AccountRecord {
        item: account.clone(),
        state: AccountState::Planned,
        error: None,
        principals: count,
        batches: (batches.len() + carry.len()) as u32,
        batch_size,
        skipped,
        carry: planned.info,
    };
    store.put_json(&record_key, &record).await?;
    tracing::info!(
        run_id = run.run_id,
        account = %account.id,
        principals = count,
        batches = batches.len(),
        "account planned"
    );
    Ok(record)
}

/// The account's directory, through its reader; refused, and why, when the account
/// can't be read (not ACTIVE, or STS refuses its member role).
pub(super) async fn reader(
    deps: &PlanDeps,
    input: &RunInput,
    account: &AccountItem,
) -> Result<Member, Error> {
    if account.status != OrgState::Active {
        let why = format!("the account is {} in the Organization", account.status);
        return Ok(Member::Refused(why));
    }
    let Some(role) = &account.role_arn else {
        return Ok(Member::Directory(
            deps.directory(input.iam_requests_per_second),
        ));
    };
    match deps
        .member_directory(role, input.iam_requests_per_second)
        .await?
    {
        Member::Refused(why) => {
            tracing::warn!(account = %account.id, why, "member role not assumable");
            Ok(Member::Refused(format!("cannot assume {role}: {why}")))
        }
        readable => Ok(readable),
    }
}

/// The account's principals (discovered, then the explicit ARNs of the account), their
/// unique ids, and what discovery skipped.
async fn principals_of(
    deps: &PlanDeps,
    input: &RunInput,
    account: &AccountItem,
    directory: &Directory,
    deadline: Deadline,
) -> Result<(Vec<PrincipalArn>, BTreeMap<String, String>, Vec<Skipped>), Error> {
    let rate = input
        .iam_requests_per_second
        .unwrap_or(deps.config.iam_requests_per_second);
    let Discovered {
        principals: discovered,
        skipped,
        mut ids,
    } = match &input.discover {
        Some(filter) => {
            // What is left of this invocation's budget: the tag reads must fit it.
            let max_tag_calls = deadline.calls_left(rate);
            directory.discover(filter, max_tag_calls).await?
        }
        None => Discovered::default(),
    };
    let named: Vec<PrincipalArn> = input
        .arns
        .iter()
        .filter(|a| a.kind() == PrincipalType::AwsManagedPolicy || account.id == a.account())
        .cloned()
        .collect();
    // The explicit ARNs' unique ids: from the lists when discovery listed them, else
    // read (at most a Get call each).
    let named_ids = directory.ids_of(&named, &ids).await?;
    ids.extend(named_ids);
    let principals = sizing::merge(&named, discovered);
    if principals.is_empty() && input.organization.is_none() {
        // An empty scan would be a silent empty report: say why instead.
        return Err(Error::invalid(
            "discover",
            "no principal in the account matches the discovery filters, and no arns were given",
        ));
    }
    Ok((principals, ids, skipped))
}

/// The Map gathers every child's (small) output: keep it far below 256 KiB.
fn check_batches(
    count: u32,
    account: &AccountItem,
    batch_size: u32,
    batches: usize,
) -> Result<(), Error> {
    if batches > MAX_BATCHES {
        return Err(Error::invalid(
            "batch_size",
            format!("{count} principals of account {} in batches of up to {batch_size} make {batches} batches; at most {MAX_BATCHES}: raise batch_size or iam_requests_per_second", account.id),
        ));
    }
    Ok(())
}

/// What Plan reads in bulk, once for the account: GetAccountAuthorizationDetails (every
/// principal's permissions: their fingerprints, and what recommendations judge), and the
/// credential report when recommendations or an incremental run's users need it. A
/// reader refused GetAccountAuthorizationDetails (a member role deployed before it was
/// granted) leaves the fingerprints out, unless recommendations need it.
async fn bulk_reads(
    input: &RunInput,
    principals: &[PrincipalArn],
    directory: &Directory,
    deadline: Deadline,
) -> Result<(Option<Authorization>, Option<CredentialReport>), Error> {
    if principals.is_empty() {
        return Ok((None, None));
    }
    let recommendations = input.report.recommendations;
    let authorization = match directory.authorization().await {
        Ok(all) => Some(all),
        Err(IamError::AccessDenied(call)) if !recommendations => {
            tracing::warn!(%call, "GetAccountAuthorizationDetails refused: no fingerprints, nothing carried");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let users = principals.iter().any(|a| a.kind() != PrincipalType::Role);
    let wanted = input.incremental.is_some() && users && authorization.is_some();
    let credentials = if recommendations {
        Some(directory.credential_report(deadline.budget_end()).await?)
    } else if wanted {
        // Only to carry users: without it (a member role deployed before it was granted,
        // a report IAM did not finish in time) they are scanned.
        match directory.credential_report(deadline.budget_end()).await {
            Ok(report) => Some(report),
            Err(e @ (IamError::AccessDenied(_) | IamError::ReportNotReady { .. })) => {
                tracing::warn!(error = %e, "no credential report: users are scanned, not carried");
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    Ok((authorization, credentials))
}

/// What the batches' principals hold (GetAccountAuthorizationDetails), with the
/// credential report's row of each of the batches' users. What the report says is
/// unused is re-read fresh in the user's batch (Write), paced and within that
/// invocation's budget: Plan's invocation stays bounded however many users look dormant.
fn with_credentials(
    mut all: Authorization,
    report: Option<CredentialReport>,
    scan: &[Batch],
    carry: &[Batch],
) -> Authorization {
    let in_scope: BTreeSet<String> = scan
        .iter()
        .chain(carry)
        .flat_map(|b| b.arns.iter().map(ToString::to_string))
        .collect();
    for (arn, credentials) in report.map(|r| r.users).unwrap_or_default() {
        if !in_scope.contains(&arn) {
            continue;
        }
        if let Some(h) = all.principals.get_mut(&arn) {
            h.credentials = Some(credentials);
        }
    }
    all
}

/// What each batch's principals hold (recommendations), one slice per batch under
/// `work/run=…/holdings/`: Write reads its batch's slice, once.
async fn write_holdings(
    store: &ReportStore,
    run_id: &str,
    batches: &[Batch],
    all: &Authorization,
) -> Result<(), Error> {
    stream::iter(batches)
        .map(|b| async move {
            let slice = Slice::of_batch(&b.arns, &all.principals, &all.policies);
            store
                .put_json(&keys::holdings_key(run_id, b.index), &slice)
                .await
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}
