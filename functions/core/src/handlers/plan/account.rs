//! Plan's `PlanAccount` step, one account of the accounts Map: its discovery, batches
//! and (with recommendations) holdings, under its reader; the account's record says
//! what was found, or why it can't be read.

use crate::adapters::deadline::Deadline;
use crate::adapters::directory::authorization::Authorization;
use crate::adapters::directory::{Directory, Discovered};
use crate::adapters::s3::ReportStore;
use crate::domain::account::{
    AccountItem, AccountRecord, AccountScope, AccountState, OrgState, MAX_BATCHES,
};
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::batch::{sizing, Batch};
use crate::domain::input::RunInput;
use crate::domain::keys;
use crate::domain::recommend::Slice;
use crate::domain::run::{PlanRecord, RunContext};
use crate::error::Error;
use crate::handlers::events::AccountOutput;
use crate::runtime::deps::{Member, PlanDeps};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeSet;

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
        batches: record.batches,
        max_concurrency,
        scan: record.state == AccountState::Planned && record.batches > 0,
        probe: record.item.probe,
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
    let (batches, count, skipped) =
        batches_of(deps, input, batch_size, account, &directory, deadline).await?;
    if input.report.recommendations && !batches.is_empty() {
        let all = holdings(&directory, &batches, deadline).await?;
        write_holdings(store, &run.run_id, &batches, &all).await?;
    }
    store
        .put_json(
            &keys::account_batches_key(&run.run_id, &account.id),
            &batches,
        )
        .await?;
    let record = AccountRecord {
        item: account.clone(),
        state: AccountState::Planned,
        error: None,
        principals: count,
        batches: batches.len() as u32,
        batch_size,
        skipped,
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

/// The account's principals in batches numbered from its first batch (each with its
/// principals' unique ids), how many, and what discovery skipped.
async fn batches_of(
    deps: &PlanDeps,
    input: &RunInput,
    batch_size: u32,
    account: &AccountItem,
    directory: &Directory,
    deadline: Deadline,
) -> Result<(Vec<Batch>, u32, Vec<crate::domain::selection::Skipped>), Error> {
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
    let count = principals.len() as u32;
    let mut batches = sizing::batches(principals, batch_size);
    if batches.len() > MAX_BATCHES {
        // The Map gathers every child's (small) output: keep it far below 256 KiB.
        return Err(Error::invalid(
            "batch_size",
            format!("{count} principals of account {} in batches of up to {batch_size} make {} batches; at most {MAX_BATCHES}: raise batch_size or iam_requests_per_second", account.id, batches.len()),
        ));
    }
    for b in &mut batches {
        b.index += account.first_batch;
        b.name_ids(&ids);
    }
    Ok((batches, count, skipped))
}

/// What the batches' principals hold (GetAccountAuthorizationDetails), with the
/// credential report's row of each of the batches' users. What the report says is
/// unused is re-read fresh in the user's batch (Write), paced and within that
/// invocation's budget: Plan's invocation stays bounded however many users look dormant.
async fn holdings(
    directory: &Directory,
    batches: &[Batch],
    deadline: Deadline,
) -> Result<Authorization, Error> {
    let mut all = directory.authorization().await?;
    let in_scope: BTreeSet<String> = batches
        .iter()
        .flat_map(|b| b.arns.iter().map(ToString::to_string))
        .collect();
    for (arn, credentials) in directory.credential_report(deadline.budget_end()).await? {
        if !in_scope.contains(&arn) {
            continue;
        }
        if let Some(h) = all.principals.get_mut(&arn) {
            h.credentials = Some(credentials);
        }
    }
    Ok(all)
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
