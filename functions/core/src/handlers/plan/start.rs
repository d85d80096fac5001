//! Plan's `Plan` step, at the run's start: the input validated against the stack's
//! defaults, the accounts resolved, the previous run found, the run's work files
//! written; the stack's own account is planned here too (a bad scope is the run's
//! `InvalidInput` at once, nothing written).

use super::access_report::not_organization;
use super::account::plan_account;
use crate::adapters::deadline::Deadline;
use crate::adapters::s3::ReportStore;
use crate::domain::account::{self, AccountItem};
use crate::domain::arn::{AccountId, PrincipalType};
use crate::domain::batch::sizing;
use crate::domain::clock::utc;
use crate::domain::input::{Granularity, InputDefaults, RunInput};
use crate::domain::run::{self, PlanRecord, RunContext};
use crate::domain::summary::previous::{self, PreviousRuns, RunHead, MAX_SUMMARY_DAYS};
use crate::domain::{access_report, keys};
use crate::error::{ConfigError, Error};
use crate::handlers::events::{PlanOutput, StartEvent};
use crate::runtime::deps::PlanDeps;
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// The run's start.
pub(super) async fn plan_run(
    deps: &PlanDeps,
    event: StartEvent,
    function_arn: Option<&str>,
    deadline: Deadline,
) -> Result<PlanOutput, Error> {
    run::check_run_id(&event.execution_name)?;
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
        .or_else(|| function_arn.and_then(account::account_of_function));
    let input = RunInput::parse(&event.input, &defaults(deps, own_account.clone()))?;
    let rate = input
        .iam_requests_per_second
        .unwrap_or(config.iam_requests_per_second);
    // Every invocation must fit its timeout: batches shrink to what one invocation of the
    // batch functions can do at the run's rate, and work that can't fit one principal is
    // refused here. Their Timeout is the one the template passes, or this invocation's
    // own length if shorter: every function has the Globals' Timeout, so a copy of the
    // template that changed it alone is still cut right.
    let own = u32::try_from(deadline.length().as_secs_f64().ceil() as u64).unwrap_or(u32::MAX);
    let timeout = config.function_timeout_seconds.min(own).max(1);
    let batch_size = sizing::fitted_batch_size(input.batch_size, rate, &input.report, timeout)?;
    let own_account =
        match own_account.as_deref() {
            Some(text) => AccountId::parse(text).ok_or(ConfigError::OutOfRange {
                name: "ACCOUNT_ID",
                why: "must be an AWS account id (12 digits)",
            })?,
            None => return Err(ConfigError::Unset {
                name: "ACCOUNT_ID",
                why: "Plan must know the stack's own account (set ACCOUNT_ID, or run as a Lambda)",
            }
            .into()),
        };
    let started_at = utc::format(started);
    if input.doctor {
        let run = doctor_run(&event.execution_name, started_at);
        return super::doctor::check(deps, run, &input, &own_account).await;
    }
    let mut accounts = resolve_accounts(deps, &input, &own_account).await?;
    let (run, record) = begin(
        deps,
        &event.execution_name,
        started_at,
        &input,
        &mut accounts,
    )
    .await?;
    let record = PlanRecord {
        batch_size,
        accounts: accounts.len() as u32,
        ..record
    };
    if input.organization.is_none() {
        plan_account(deps, &run, &input, batch_size, &accounts[0], deadline).await?;
    }
    write_run(deps, &run, &input, &own_account, &accounts, &record).await
}

/// A doctor run's context: the preflight's input (it scans nothing, so no previous run).
fn doctor_run(run_id: &str, started_at: String) -> RunContext {
    RunContext {
        run_id: run_id.to_string(),
        dt: started_at[..10].to_string(),
        started_at,
        granularity: Granularity::ServiceLevel,
        poll: Default::default(),
        report: Default::default(),
        iam_requests_per_second: None,
        previous_run: None,
        account: None,
        preflight: None,
        carry: None,
    }
}

/// The run input's defaults: the stack's parameters.
fn defaults(deps: &PlanDeps, own_account: Option<String>) -> InputDefaults {
    let config = &deps.config;
    InputDefaults {
        batch_size: config.batch_size,
        max_concurrency: config.max_concurrency,
        iam_requests_per_second: config.iam_requests_per_second,
        partition: config.partition.clone(),
        account: own_account,
        member_role: config.member_role_name.clone(),
        max_accounts_in_parallel: config.max_accounts_in_parallel,
        reserved_concurrency: config.reserved_concurrency,
        security_hub_findings: config.security_hub_findings,
    }
}

/// The run's context and its record (its accounts and batch size still to set), with
/// the previous run of its scope; each account gets its own previous runs.
async fn begin(
    deps: &PlanDeps,
    run_id: &str,
    started_at: String,
    input: &RunInput,
    accounts: &mut [AccountItem],
) -> Result<(RunContext, PlanRecord), Error> {
    let dt = started_at[..10].to_string();
    let scope = run::scope_of(
        &input.arns,
        input.discover.as_ref(),
        input.organization.as_ref(),
    );
    let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    let looking = Looking {
        run_id,
        dt: &dt,
        started_at: &started_at,
        granularity: input.granularity,
        scope: &scope,
    };
    let mut previous = previous_runs(&deps.store, &looking, &ids).await?;
    for a in accounts.iter_mut() {
        a.previous_runs = previous.accounts.remove(a.id.as_str()).unwrap_or_default();
    }
    let previous_run = previous.run;
    let run = RunContext {
        run_id: run_id.to_string(),
        dt: dt.clone(),
        started_at: started_at.clone(),
        granularity: input.granularity,
        poll: input.poll,
        report: input.report.clone(),
        iam_requests_per_second: input.iam_requests_per_second,
        previous_run: previous_run.clone(),
        account: None,
        preflight: None,
        carry: None,
    };
    let record = PlanRecord {
        run_id: run_id.to_string(),
        dt,
        started_at,
        granularity: input.granularity,
        batch_size: input.batch_size,
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
        accounts: 0,
        incremental: input.incremental,
    };
    Ok((run, record))
}

/// The run's work files: its input, the access report's entities (when asked), the
/// accounts Map's items and the plan; then the Map's input.
async fn write_run(
    deps: &PlanDeps,
    run: &RunContext,
    input: &RunInput,
    own_account: &AccountId,
    accounts: &[AccountItem],
    record: &PlanRecord,
) -> Result<PlanOutput, Error> {
    let store = &deps.store;
    let run_id = &run.run_id;
    let access_report = input.organization.as_ref().is_some_and(|o| o.access_report);
    // Checked before anything is written: a refusal is the run's InvalidInput.
    let entities = match access_report {
        true => Some(access_report_entities(deps, own_account, accounts).await?),
        false => None,
    };
    store.put_json(&keys::input_key(run_id), input).await?;
    if let Some(entities) = entities {
        store
            .put_json(&keys::access_state_key(run_id), &entities)
            .await?;
    }
    let accounts_key = keys::accounts_key(run_id);
    store.put_json(&accounts_key, &accounts).await?;
    store.put_json(&keys::plan_key(run_id), record).await?;
    tracing::info!(run_id, accounts = accounts.len(), "planned");
    Ok(PlanOutput {
        run: run.clone(),
        bucket: store.bucket.clone(),
        accounts_key,
        accounts: accounts.len() as u32,
        organization: input.organization.is_some(),
        max_accounts_in_parallel: input
            .organization
            .as_ref()
            .map_or(1, |o| o.max_accounts_in_parallel),
        access_report,
        doctor: false,
        doctor_key: None,
    })
}

/// The access report's entities (the root, the OUs above the accounts, the accounts).
/// IAM answers the report to the Organization's management account only, and
/// Organizations describes the Organization to any member account: a stack elsewhere is
/// refused here, naming both accounts, not entity by entity later; so is a root without
/// SCPs enabled (the report's documented precondition).
async fn access_report_entities(
    deps: &PlanDeps,
    own_account: &AccountId,
    accounts: &[AccountItem],
) -> Result<Vec<access_report::EntityJob>, Error> {
    let (org_id, management) = deps
        .organizations
        .describe()
        .await
        .map_err(not_organization)?;
    if let Some(management) = management.filter(|m| *own_account != m.as_str()) {
        return Err(Error::invalid(
            "organization.access_report",
            format!("IAM answers the Organizations access report to the management account only: this stack is in account {own_account}, the Organization's management account is {management}. Deploy the scanner there for the report, or leave access_report off"),
        ));
    }
    let without = deps
        .organizations
        .roots_without_scps()
        .await
        .map_err(not_organization)?;
    if !without.is_empty() {
        return Err(Error::invalid(
            "organization.access_report",
            format!("service control policies are not enabled on the root {}: IAM makes the Organizations access report only where they are. Enable them (organizations enable-policy-type --policy-type SERVICE_CONTROL_POLICY), or leave access_report off", without.join(", ")),
        ));
    }
    let scope: Vec<(String, String)> = accounts
        .iter()
        .map(|a| (a.id.to_string(), a.ou_path.clone()))
        .collect();
    Ok(access_report::entities(&org_id, &scope))
}

/// The run's accounts: the stack's own, or those `organization` selects (Organizations
/// is asked once). Explicit ARNs must be in one of them; without discovery, an account
/// no ARN names has nothing to scan and is left out.
async fn resolve_accounts(
    deps: &PlanDeps,
    input: &RunInput,
    own_account: &AccountId,
) -> Result<Vec<AccountItem>, Error> {
    let Some(org) = &input.organization else {
        return Ok(vec![AccountItem::own(own_account.clone())]);
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
        chosen.retain(|a| named.contains(a.id.as_str()));
    }
    let partition = &deps.config.partition;
    Ok(chosen
        .into_iter()
        .enumerate()
        .map(|(i, a)| AccountItem {
            role_arn: (a.id != *own_account)
                .then(|| account::member_role_arn(partition, &a.id, &org.member_role)),
            first_batch: account::first_batch(i),
            probe: true,
            previous_runs: Vec::new(),
            id: a.id,
            name: a.name,
            status: a.status,
            ou_path: a.ou_path,
        })
        .collect())
}

/// What a run looks back from: itself, when it started, its scope and granularity.
struct Looking<'a> {
    run_id: &'a str,
    dt: &'a str,
    started_at: &'a str,
    granularity: Granularity,
    scope: &'a str,
}

/// The earlier runs a run looks back to (see [`previous::choose_previous`]): the run
/// summaries are listed and read newest day first, until the run's own previous run is
/// found and every account has its runs, or [`MAX_SUMMARY_DAYS`] days were read.
async fn previous_runs(
    store: &ReportStore,
    run: &Looking<'_>,
    accounts: &[&str],
) -> Result<PreviousRuns, Error> {
    let keys = store.list_keys(keys::RUNS_PREFIX).await?;
    let mut by_day: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for key in &keys {
        if let Some((day, run_id)) = keys::parse_summary_key(key) {
            if day <= run.dt && run_id != run.run_id {
                by_day.entry(day).or_default().push(key);
            }
        }
    }
    let mut heads: Vec<RunHead> = Vec::new();
    let mut found = PreviousRuns::default();
    for (_, day_keys) in by_day.into_iter().rev().take(MAX_SUMMARY_DAYS) {
        let day: Vec<RunHead> = stream::iter(day_keys)
            .map(|key| store.get_json::<RunHead>(key))
            .buffered(8)
            .try_collect()
            .await?;
        heads.extend(day);
        found =
            previous::choose_previous(&heads, run.granularity, run.scope, run.started_at, accounts);
        if found.settled {
            break;
        }
    }
    tracing::info!(
        previous = found.run.as_ref().map(|r| r.run_id.as_str()),
        accounts_with_history = found.accounts.len(),
        "earlier runs to compare with"
    );
    Ok(found)
}
