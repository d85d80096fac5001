//! Plan: validate the run input, find the principals, write the batches to S3 and
//! hand the Map only small handles.

use crate::adapters::access_report::{OrgAccessReports, Polled};
use crate::adapters::directory::authorization::Authorization;
use crate::adapters::directory::Discovered;
use crate::adapters::s3::ReportStore;
use crate::domain::access_report;
use crate::domain::access_report::{EntityJob, EntityState};
use crate::domain::account::AccountScope;
use crate::domain::account::{AccountItem, AccountRecord, AccountState};
use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::batch::sizing;
use crate::domain::batch::Batch;
use crate::domain::clock::utc;
use crate::domain::input::{Granularity, InputDefaults, RunInput};
use crate::domain::keys;
use crate::domain::recommend::Slice;
use crate::domain::run;
use crate::domain::run::PlanRecord;
use crate::domain::run::RunContext;
use crate::domain::run::RunRef;
use crate::domain::sfn::RunFailure;
use crate::domain::summary::previous;
use crate::domain::summary::previous::RunHead;
use crate::domain::usage::Usage;
use crate::error::Error;
use crate::error::IamError;
use crate::handlers::decode;
use crate::runtime::deps::PlanDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many batches per run (15,500 principals need 8 per batch).
pub const MAX_BATCHES: usize = 2_000;

/// What the state machine passes to Plan at the start of a run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEvent {
    /// The execution input, as the person, CLI or schedule gave it.
    #[serde(default)]
    pub input: serde_json::Value,
    /// `$$.Execution.Name`: the run id.
    pub execution_name: String,
    /// `$$.Execution.StartTime`.
    pub start_time: String,
}

/// Plan's output at the start of a run: the accounts Map's input, and Summarize's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    pub run: RunContext,
    pub bucket: String,
    /// The accounts Map's item list (`AccountItem`s).
    pub accounts_key: String,
    pub accounts: u32,
    /// An organization run: each account probes its own reader.
    pub organization: bool,
    pub max_accounts_in_parallel: u32,
    /// The run makes IAM's Organizations access report (`organization.access_report`).
    #[serde(default)]
    pub access_report: bool,
}

/// The accounts Map's item: one account of the run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEvent {
    run: RunContext,
    #[allow(dead_code)]
    bucket: String,
    account: AccountItem,
}

/// Plan's output for one account: its batches Map's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountOutput {
    /// The run, scoped to the account.
    pub run: RunContext,
    pub bucket: String,
    pub batches_key: String,
    pub principals: u32,
    pub batches: u32,
    pub max_concurrency: u32,
    /// Anything to scan: false for an unreachable account, or one without principals.
    pub scan: bool,
    /// Probe the account's reader before its batches.
    pub probe: bool,
}

/// The account child's Catch: the state the failed step had, with Step Functions' error.
#[derive(Debug, Deserialize)]
struct AccountFailedEvent {
    account_failed: AccountFailure,
}

#[derive(Debug, Deserialize)]
struct AccountFailure {
    run: RunContext,
    #[serde(default)]
    account: Option<AccountItem>,
    failure: RunFailure,
}

/// The access-report loop's event: the run's handles (Plan's output at its start).
#[derive(Debug, Deserialize)]
struct AccessReportEvent {
    access_report: AccessReportRun,
}

#[derive(Debug, Deserialize)]
struct AccessReportRun {
    run: RunContext,
}

/// One round of the access report: how many entities are left, and the next wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessReportProgress {
    pub entities: u32,
    pub pending: u32,
    pub done: u32,
    pub failed: u32,
    pub wait_seconds: u32,
}

/// What Plan answers, by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // one answer per invocation: size is moot
pub enum PlanAnswer {
    Run(PlanOutput),
    Account(Box<AccountOutput>),
    Recorded { recorded: String },
    AccessReport(AccessReportProgress),
}

/// The account of `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
pub fn account_of_function(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

fn check_run_id(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "execution name",
            format!("{name:?}: use 1-80 of A-Z a-z 0-9 - _ . (it names the run's S3 prefix)"),
        ))
    }
}

/// What each batch's principals hold (recommendations), one slice per batch under
/// `work/run=…/holdings/`: Write reads its batch's slice, once.
async fn write_holdings(
    store: &ReportStore,
    run_id: &str,
    batches: &[Batch],
    all: Authorization,
) -> Result<(), Error> {
    let slices: Vec<(u32, Slice)> = batches
        .iter()
        .map(|b| {
            let mut slice = Slice::default();
            for arn in &b.arns {
                let key = arn.to_string();
                if let Some(h) = all.principals.get(&key) {
                    for p in &h.attached {
                        if let Some(policy) = all.policies.get(p) {
                            slice.policies.insert(p.clone(), policy.clone());
                        }
                    }
                    slice.principals.insert(key.clone(), h.clone());
                }
                if let Some(policy) = all.policies.get(&key) {
                    slice.policies.insert(key, policy.clone());
                }
            }
            (b.index, slice)
        })
        .collect();
    stream::iter(slices)
        .map(|(index, slice)| async move {
            store
                .put_json(&keys::holdings_key(run_id, index), &slice)
                .await
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The previous completed run of this scope at `granularity` (see [`previous::choose_previous`]): the
/// run summaries are listed, and read newest day first until a day has one.
async fn previous_run(
    store: &ReportStore,
    run_id: &str,
    dt: &str,
    started_at: &str,
    granularity: Granularity,
    scope: &str,
) -> Result<Option<RunRef>, Error> {
    let keys = store.list_keys(keys::RUNS_PREFIX).await?;
    let mut by_day: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for key in &keys {
        if let Some((day, run)) = keys::parse_summary_key(key) {
            if day <= dt && run != run_id {
                by_day.entry(day).or_default().push(key);
            }
        }
    }
    for (_, day_keys) in by_day.into_iter().rev() {
        let heads: Vec<RunHead> = stream::iter(day_keys)
            .map(|key| store.get_json::<RunHead>(key))
            .buffered(8)
            .try_collect()
            .await?;
        if let Some(found) = previous::choose_previous(&heads, granularity, scope, started_at) {
            tracing::info!(previous = found.run_id, "changes compare against this run");
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Plan's three steps, told apart by the event: the run's start (validate the input,
/// resolve the accounts), one account (its discovery and batches), or an account's
/// failure to record.
#[tracing::instrument(skip(deps, event))]
pub async fn handle(
    deps: &PlanDeps,
    event: serde_json::Value,
    function_arn: Option<&str>,
) -> Result<PlanAnswer, Error> {
    if event.get("account_failed").is_some() {
        let AccountFailedEvent { account_failed } = decode("event", event)?;
        return record_account_failure(deps, account_failed).await;
    }
    if event.get("access_report").is_some_and(|v| v.is_object()) {
        let AccessReportEvent { access_report } = decode("event", event)?;
        return access_report_round(deps, &access_report.run)
            .await
            .map(PlanAnswer::AccessReport);
    }
    if event.get("account").is_some() {
        let AccountEvent { run, account, .. } = decode("event", event)?;
        return plan_account_step(deps, run, account)
            .await
            .map(|out| PlanAnswer::Account(Box::new(out)));
    }
    plan_run(deps, event, function_arn)
        .await
        .map(PlanAnswer::Run)
}

async fn plan_run(
    deps: &PlanDeps,
    event: serde_json::Value,
    function_arn: Option<&str>,
) -> Result<PlanOutput, Error> {
    let event: PlanEvent = decode("event", event)?;
    check_run_id(&event.execution_name)?;
    let started = utc::parse(&event.start_time).ok_or_else(|| {
        Error::invalid(
            "start_time",
            format!("{:?} is not RFC 3339", event.start_time),
        )
    })?;
    let config = &deps.config;
    let own_account = config
        .account_id
        .clone()
        .or_else(|| function_arn.and_then(account_of_function));
    let defaults = InputDefaults {
        batch_size: config.batch_size,
        max_concurrency: config.max_concurrency,
        partition: config.partition.clone(),
        account: own_account.clone(),
        member_role: config.member_role_name.clone(),
        max_accounts_in_parallel: config.max_accounts_in_parallel,
    };
    let input = RunInput::parse(&event.input, &defaults)?;
    let rate = input
        .iam_requests_per_second
        .unwrap_or(config.iam_requests_per_second);
    // Every invocation must fit its timeout: batches shrink to what one invocation can do
    // at the run's rate, and work that can't fit one principal is refused here.
    let batch_size = sizing::fitted_batch_size(input.batch_size, rate, &input.report)?;
    let own_account = own_account.ok_or_else(|| {
        Error::from(crate::error::ConfigError::Unset {
            name: "ACCOUNT_ID",
            why: "Plan must know the stack's own account (set ACCOUNT_ID, or run as a Lambda)",
        })
    })?;
    let accounts = resolve_accounts(deps, &input, &own_account).await?;
    let run_id = event.execution_name;
    let started_at = utc::format(started);
    let dt = started_at[..10].to_string();
    let store = &deps.store;
    let scope = run::scope_of(
        &input.arns,
        input.discover.as_ref(),
        input.organization.as_ref(),
    );
    let previous_run =
        previous_run(store, &run_id, &dt, &started_at, input.granularity, &scope).await?;
    let run = RunContext {
        run_id: run_id.clone(),
        dt: dt.clone(),
        started_at: started_at.clone(),
        granularity: input.granularity,
        poll: input.poll,
        report: input.report.clone(),
        iam_requests_per_second: input.iam_requests_per_second,
        previous_run: previous_run.clone(),
        account: None,
    };
    let record = PlanRecord {
        run_id: run_id.clone(),
        dt,
        started_at,
        granularity: input.granularity,
        batch_size,
        batch_size_requested: input.batch_size,
        max_concurrency: input.max_concurrency,
        iam_requests_per_second: input.iam_requests_per_second,
        poll: input.poll,
        report: input.report.clone(),
        explicit_arns: input.arns.len() as u32,
        discover: input.discover.clone(),
        // Summed over the accounts by Summarize.
        principals: 0,
        batches: 0,
        skipped: Vec::new(),
        scope,
        previous_run,
        organization: input.organization.clone(),
        accounts: accounts.len() as u32,
    };
    if input.organization.is_none() {
        // The stack's own account is planned here, so a bad scope is the run's
        // InvalidInput at once (nothing written), as before organization runs.
        plan_account(deps, &run, &input, batch_size, &accounts[0]).await?;
    }
    store.put_json(&keys::input_key(&run_id), &input).await?;
    let access_report = input.organization.as_ref().is_some_and(|o| o.access_report);
    if access_report {
        // IAM answers it to the management account only: a refusal is the run's error.
        let org_id = deps.organizations.id().await.map_err(not_organization)?;
        let scope: Vec<(String, String)> = accounts
            .iter()
            .map(|a| (a.id.clone(), a.ou_path.clone()))
            .collect();
        let entities = access_report::entities(&org_id, &scope);
        store
            .put_json(&keys::access_state_key(&run_id), &entities)
            .await?;
    }
    let accounts_key = keys::accounts_key(&run_id);
    store.put_json(&accounts_key, &accounts).await?;
    store.put_json(&keys::plan_key(&run_id), &record).await?;
    tracing::info!(run_id, accounts = accounts.len(), "planned");
    Ok(PlanOutput {
        run,
        bucket: store.bucket.clone(),
        accounts_key,
        accounts: accounts.len() as u32,
        organization: input.organization.is_some(),
        max_accounts_in_parallel: input
            .organization
            .as_ref()
            .map_or(1, |o| o.max_accounts_in_parallel),
        access_report,
    })
}

/// One round of the Organizations access report: poll the pending jobs (a finished one
/// is written to `reports/access/`), start waiting ones until IAM says too many are
/// pending, and say how many are left. The state lives in `work/run=…/access-report.json`,
/// so each round's payload stays small however large the Organization.
async fn access_report_round(
    deps: &PlanDeps,
    run: &RunContext,
) -> Result<AccessReportProgress, Error> {
    let store = &deps.store;
    let key = keys::access_state_key(&run.run_id);
    let mut entities: Vec<EntityJob> = store.get_json(&key).await?;
    let reports = OrgAccessReports::new(deps.iam.clone());
    let mut changed = false;
    // A failure to store a finished report: the state is saved first (the job stays
    // pending, with its JobId), then the round fails and is retried.
    let mut stored: Result<(), Error> = Ok(());
    for job in entities
        .iter_mut()
        .filter(|j| j.state == EntityState::Pending)
    {
        let Some(job_id) = job.job_id.clone() else {
            continue;
        };
        match reports.poll(&run.run_id, job, &job_id).await {
            Ok(Polled::InProgress) => {}
            Ok(Polled::Failed(why)) => {
                job.state = EntityState::Failed;
                job.error = Some(why);
                changed = true;
            }
            Ok(Polled::Done(report)) => {
                let report_key = keys::access_report_key(&run.dt, &run.run_id, job.entity_id());
                if let Err(e) = store.put_json(&report_key, &report).await {
                    stored = Err(e.into());
                    break;
                }
                job.services_used = (report.services.len() - report.never_used.len()) as u32;
                job.services_never_used = report.never_used.len() as u32;
                job.report_key = Some(report_key);
                job.state = EntityState::Done;
                changed = true;
            }
            // IAM's pace: the next round polls again.
            Err(IamError::Throttled(_)) => break,
            Err(e) => {
                job.state = EntityState::Failed;
                job.error = Some(e.to_string());
                changed = true;
            }
        }
    }
    if stored.is_ok() {
        for job in entities
            .iter_mut()
            .filter(|j| j.state == EntityState::Waiting)
        {
            match reports.generate(&job.entity_path).await {
                Ok(Some(job_id)) => {
                    job.job_id = Some(job_id);
                    job.state = EntityState::Pending;
                    changed = true;
                }
                // Too many pending, or IAM's pace: the next round starts more.
                Ok(None) | Err(IamError::Throttled(_)) => break,
                Err(e) => {
                    job.state = EntityState::Failed;
                    job.error = Some(e.to_string());
                    changed = true;
                }
            }
        }
    }
    // Saved before any error leaves: no JobId IAM gave is ever lost.
    store.put_json(&key, &entities).await?;
    stored?;
    let count = |s: EntityState| entities.iter().filter(|j| j.state == s).count() as u32;
    let progress = AccessReportProgress {
        entities: entities.len() as u32,
        pending: count(EntityState::Pending) + count(EntityState::Waiting),
        done: count(EntityState::Done),
        failed: count(EntityState::Failed),
        // Quick while reports come and go; slower while IAM is still working, so a long
        // report keeps the parent's history small (a round is ~9 events).
        wait_seconds: if changed { 5 } else { 30 },
    };
    tracing::info!(run_id = run.run_id, ?progress, "access report round");
    Ok(progress)
}

/// Organizations refusing this account (not the management account or a delegated
/// administrator, or no Organization at all) is the input's mistake, said so.
fn not_organization(e: IamError) -> Error {
    let text = e.to_string();
    let refused = matches!(e, IamError::AccessDenied(_))
        || text.contains("AWSOrganizationsNotInUse")
        || text.contains("AccessDenied");
    if !refused {
        return e.into();
    }
    let brief = text.split(" (ServiceError(").next().unwrap_or_default();
    Error::invalid(
        "organization",
        format!("Organizations refused this stack's account: {brief}. Deploy the scanner in the Organization's management account or in a delegated administrator for AWS Organizations"),
    )
}

/// The run's accounts: the stack's own, or those `organization` selects (Organizations
/// is asked once). Explicit ARNs must be in one of them; without discovery, an account
/// no ARN names has nothing to scan and is left out.
async fn resolve_accounts(
    deps: &PlanDeps,
    input: &RunInput,
    own_account: &str,
) -> Result<Vec<AccountItem>, Error> {
    let Some(org) = &input.organization else {
        return Ok(vec![AccountItem {
            id: own_account.to_string(),
            name: String::new(),
            status: "ACTIVE".into(),
            ou_path: String::new(),
            role_arn: None,
            first_batch: 0,
            probe: false,
        }]);
    };
    let tree = deps.organizations.tree().await.map_err(not_organization)?;
    let mut chosen = tree.select(org)?;
    let ids: BTreeSet<&str> = chosen.iter().map(|a| a.id.as_str()).collect();
    let mut named: BTreeSet<String> = BTreeSet::new();
    let mut aws_managed = false;
    for (i, arn) in input.arns.iter().enumerate() {
        if arn.kind() == PrincipalType::AwsManagedPolicy {
            aws_managed = true;
            continue;
        }
        if !ids.contains(arn.account()) {
            return Err(Error::invalid(
                &format!("arns[{i}]"),
                format!(
                    "{arn} is in account {}, which `organization` does not select",
                    arn.account()
                ),
            ));
        }
        named.insert(arn.account().to_string());
    }
    if input.discover.is_none() && !aws_managed {
        chosen.retain(|a| named.contains(&a.id));
    }
    let partition = &deps.config.partition;
    Ok(chosen
        .into_iter()
        .enumerate()
        .map(|(i, a)| AccountItem {
            role_arn: (a.id != own_account)
                .then(|| format!("arn:{partition}:iam::{}:role/{}", a.id, org.member_role)),
            first_batch: (i * MAX_BATCHES) as u32,
            probe: true,
            id: a.id,
            name: a.name,
            status: a.status,
            ou_path: a.ou_path,
        })
        .collect())
}

/// One account's step of the accounts Map: plan it (once: a retried step finds its
/// record), or say it can't be scanned.
async fn plan_account_step(
    deps: &PlanDeps,
    run: RunContext,
    account: AccountItem,
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
            plan_account(deps, &run, &input, plan.batch_size, &account).await?
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
/// reader; the account's record says what was found, or why it can't be read.
async fn plan_account(
    deps: &PlanDeps,
    run: &RunContext,
    input: &RunInput,
    batch_size: u32,
    account: &AccountItem,
) -> Result<AccountRecord, Error> {
    let store = &deps.store;
    let unreachable = |why: String| AccountRecord {
        item: account.clone(),
        state: AccountState::Unreachable,
        error: Some(why),
        principals: 0,
        batches: 0,
        batch_size,
        skipped: Vec::new(),
    };
    let rate = input
        .iam_requests_per_second
        .unwrap_or(deps.config.iam_requests_per_second);
    let record_key = keys::account_record_key(&run.run_id, &account.id);
    if account.status != "ACTIVE" {
        let record = unreachable(format!(
            "the account is {} in the Organization",
            account.status
        ));
        store.put_json(&record_key, &record).await?;
        return Ok(record);
    }
    let directory = match &account.role_arn {
        None => deps.directory(input.iam_requests_per_second),
        Some(role) => match deps
            .member_directory(role, input.iam_requests_per_second)
            .await?
        {
            Ok(d) => d,
            Err(why) => {
                tracing::warn!(account = account.id, why, "member role not assumable");
                let record = unreachable(format!("cannot assume {role}: {why}"));
                store.put_json(&record_key, &record).await?;
                return Ok(record);
            }
        },
    };
    let Discovered {
        principals: discovered,
        skipped,
    } = match &input.discover {
        Some(filter) => {
            let max_tag_calls = (sizing::INVOCATION_BUDGET_SECONDS * rate) as u64;
            directory.discover(filter, max_tag_calls).await?
        }
        None => Discovered::default(),
    };
    let named: Vec<PrincipalArn> = input
        .arns
        .iter()
        .filter(|a| a.kind() == PrincipalType::AwsManagedPolicy || a.account() == account.id)
        .cloned()
        .collect();
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
    }
    if input.report.recommendations && !batches.is_empty() {
        let mut all = directory.authorization().await?;
        let report = &input.report;
        let as_of = utc::parse(&run.started_at).unwrap_or_else(time::OffsetDateTime::now_utc);
        let stale =
            |last: Option<&str>| Usage::of(last, as_of, report.unused_days).0 != Usage::Active;
        let in_scope: BTreeSet<String> = batches
            .iter()
            .flat_map(|b| b.arns.iter().map(ToString::to_string))
            .collect();
        for (arn, credentials) in directory.credential_report().await? {
            if !in_scope.contains(&arn) {
                continue;
            }
            let confirmed = directory
                .confirm_credentials(&arn, credentials, stale)
                .await?;
            if let Some(h) = all.principals.get_mut(&arn) {
                h.credentials = confirmed;
            }
        }
        write_holdings(store, &run.run_id, &batches, all).await?;
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
        account = account.id,
        principals = count,
        batches = batches.len(),
        "account planned"
    );
    Ok(record)
}

/// An account whose plan, preflight or batches Map failed: recorded for Summarize, which
/// calls it UNREACHABLE when its plan failed (nothing of it was read, no record), else
/// INCOMPLETE.
async fn record_account_failure(
    deps: &PlanDeps,
    failed: AccountFailure,
) -> Result<PlanAnswer, Error> {
    let id = failed
        .run
        .account
        .as_ref()
        .map(|a| a.id.clone())
        .or_else(|| failed.account.as_ref().map(|a| a.id.clone()))
        .ok_or_else(|| Error::invalid("account_failed", "names no account"))?;
    let key = keys::account_failure_key(&failed.run.run_id, &id);
    deps.store.put_json(&key, &failed.failure).await?;
    tracing::warn!(account = id, error = ?failed.failure.error, "account failed");
    Ok(PlanAnswer::Recorded { recorded: key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_the_function_arn() {
        assert_eq!(
            account_of_function("arn:aws:lambda:eu-west-1:123456789012:function:plan").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of_function("nonsense"), None);
    }

    #[test]
    fn run_ids_must_be_key_safe() {
        assert!(check_run_id("daily-2026-11-25_01").is_ok());
        assert!(check_run_id("a/b").is_err());
        assert!(check_run_id("").is_err());
    }
}
