//! Plan's `Plan` step for a doctor run (`"doctor": true`, `ila doctor`): the checks
//! that need the stack's own roles, made as a scan would make them and recorded in
//! `work/run=…/doctor.json`; nothing else is written (no plan, batch, report or summary,
//! so a doctor run is never a previous run). The state machine then runs the preflight
//! (the reader and the JobId rule, on the stack's account) and ends.

use super::account::reader as plan_account_reader;
use crate::adapters::organizations::OrgError;
use crate::adapters::s3::{BucketEncryption, ReportStore};
use crate::domain::account::{self, AccountItem, OrgAccount, OrgState};
use crate::domain::arn::AccountId;
use crate::domain::doctor::{self, AccountCheck, Check, CheckId, DoctorFindings, MemberRoleSetup};
use crate::domain::input::{Organization, RunInput};
use crate::domain::keys;
use crate::domain::run::RunContext;
use crate::error::Error;
use crate::handlers::events::PlanOutput;
use crate::runtime::config::Config;
use crate::runtime::deps::{Member, PlanDeps};
use futures::stream::{self, StreamExt, TryStreamExt};

/// Member roles assumed at once (STS answers each in well under a second).
const ASSUMED_IN_FLIGHT: usize = 8;

/// The doctor's checks, recorded; the preflight's input.
pub(super) async fn check(
    deps: &PlanDeps,
    run: RunContext,
    input: &RunInput,
    own: &AccountId,
) -> Result<PlanOutput, Error> {
    let described = match deps.organizations.describe().await {
        Ok((_, management)) => Ok(management),
        Err(OrgError::Refused { code, message }) => Err(format!("{code}: {message}")),
        Err(OrgError::Call(e)) => return Err(e.into()),
    };
    let management = described.as_ref().ok().cloned().flatten();
    let mut checks = Vec::new();
    let mut accounts = Vec::new();
    match &input.organization {
        Some(org) => {
            let (check, found) = organization(deps, input, org, own, management.as_deref()).await?;
            checks.extend(check);
            accounts = found;
        }
        None => checks.push(Check::info(
            CheckId::Organizations,
            "not checked: a scan without `organization` reads the stack's own account only (`ila doctor --organization` checks an Organization scan)",
        )),
    }
    let asked = input.organization.as_ref().is_some_and(|o| o.access_report);
    checks.push(access_report(deps, own, described, asked).await?);
    checks.push(encryption(&deps.store).await?);
    checks.push(schedule(&deps.config));
    let findings = DoctorFindings {
        run_id: run.run_id.clone(),
        checks,
        accounts,
    };
    let key = keys::doctor_key(&run.run_id);
    deps.store.put_json(&key, &findings).await?;
    tracing::info!(
        run_id = run.run_id,
        healthy = doctor::healthy(&findings.checks),
        "doctor's checks recorded"
    );
    Ok(PlanOutput {
        run,
        bucket: deps.store.bucket.clone(),
        accounts_key: keys::accounts_key(&findings.run_id),
        accounts: findings.accounts.len() as u32,
        organization: input.organization.is_some(),
        max_accounts_in_parallel: 1,
        access_report: false,
        doctor: true,
        doctor_key: Some(key),
    })
}

/// Organizations readable, and the member role in each account the selection picks
/// (a selection the Organization can't satisfy is the run's `InvalidInput`, as a scan's).
async fn organization(
    deps: &PlanDeps,
    input: &RunInput,
    org: &Organization,
    own: &AccountId,
    management: Option<&str>,
) -> Result<(Vec<Check>, Vec<AccountCheck>), Error> {
    let tree = match deps.organizations.tree().await {
        Ok(tree) => tree,
        Err(OrgError::Refused { code, message }) => {
            let fail = Check::fail(
                CheckId::Organizations,
                format!("not readable from this stack's account {own}: {code}: {message}"),
                "deploy the scanner in the Organization's management account, or make its account a delegated administrator for AWS Organizations (README, \"Scanning an Organization\")",
            );
            let members = Check::fail(
                CheckId::MemberRoles,
                "not checked: the accounts a scan would select are unknown while Organizations can't be read",
                "fix Organizations first",
            );
            return Ok((vec![fail, members], Vec::new()));
        }
        Err(OrgError::Call(e)) => return Err(e.into()),
    };
    let chosen = tree.select(org)?;
    let readable = Check::pass(
        CheckId::Organizations,
        format!(
            "readable: {} accounts, {} selected by the scan",
            tree.accounts.len(),
            chosen.len()
        ),
    );
    let accounts = member_accounts(deps, input, org, own, chosen).await?;
    let region = deps.config.region.as_deref().unwrap_or("us-east-1");
    let setup = MemberRoleSetup {
        role_name: &org.member_role,
        region,
        management,
    };
    Ok((
        vec![readable, doctor::member_roles(&accounts, &setup)],
        accounts,
    ))
}

/// Each selected account as a scan would reach it: its member role assumed with the
/// scanner's own roles (the only ones it trusts), or the stack's account read through
/// its reader; not ACTIVE, or refused by STS, is unreachable with why.
async fn member_accounts(
    deps: &PlanDeps,
    input: &RunInput,
    org: &Organization,
    own: &AccountId,
    chosen: Vec<OrgAccount>,
) -> Result<Vec<AccountCheck>, Error> {
    let partition = &deps.config.partition;
    stream::iter(chosen)
        .map(|a| async move {
            let item = AccountItem {
                role_arn: (a.id != *own)
                    .then(|| account::member_role_arn(partition, &a.id, &org.member_role)),
                first_batch: 0,
                probe: true,
                previous_runs: Vec::new(),
                id: a.id,
                name: a.name,
                status: a.status,
                ou_path: a.ou_path,
            };
            let why = match plan_account_reader(deps, input, &item).await? {
                Member::Directory(_) => None,
                Member::Refused(why) => Some(why),
            };
            Ok::<_, Error>(AccountCheck {
                reachable: why.is_none(),
                why,
                inactive: item.status != OrgState::Active,
                id: item.id.to_string(),
                name: item.name,
                ou_path: item.ou_path,
            })
        })
        .buffered(ASSUMED_IN_FLIGHT)
        .try_collect()
        .await
}

/// IAM's Organizations access report: from the management account only, with SCPs
/// enabled on the root. A fault only when the selection asks for it (`access_report`).
async fn access_report(
    deps: &PlanDeps,
    own: &AccountId,
    described: Result<Option<String>, String>,
    asked: bool,
) -> Result<Check, Error> {
    let not_possible = |summary: String, fix: &str| match asked {
        true => Check::fail(CheckId::AccessReport, summary, fix),
        false => Check::info(CheckId::AccessReport, summary),
    };
    let management = match described {
        Err(why) => {
            return Ok(not_possible(
                format!("not possible: Organizations answers this account {own} {why}"),
                "the access report needs an Organization and the scanner in its management account: leave organization.access_report off",
            ))
        }
        Ok(management) => management,
    };
    if let Some(m) = management.filter(|m| *own != m.as_str()) {
        return Ok(not_possible(
            format!("not possible here: IAM answers it to the management account {m} only; this stack is in {own}"),
            "deploy the scanner in the management account for the access report, or leave organization.access_report off",
        ));
    }
    let without = match deps.organizations.roots_without_scps().await {
        Ok(without) => without,
        Err(OrgError::Refused { code, message }) => {
            return Ok(not_possible(
                format!("not checked: ListRoots refused: {code}: {message}"),
                "the Plan role needs organizations:ListRoots (infra/template.yaml grants it)",
            ))
        }
        Err(OrgError::Call(e)) => return Err(e.into()),
    };
    if !without.is_empty() {
        return Ok(not_possible(
            format!("not possible: service control policies are not enabled on the root {}", without.join(", ")),
            "aws organizations enable-policy-type --root-id ROOT --policy-type SERVICE_CONTROL_POLICY, or leave organization.access_report off",
        ));
    }
    let summary =
        "possible: this stack is in the management account and SCPs are enabled on the root";
    Ok(match asked {
        true => Check::pass(CheckId::AccessReport, summary),
        false => Check::info(
            CheckId::AccessReport,
            format!("{summary} (organization.access_report asks for it)"),
        ),
    })
}

/// The report bucket's default encryption, as the Plan role reads it.
async fn encryption(store: &ReportStore) -> Result<Check, Error> {
    let bucket = &store.bucket;
    Ok(match store.default_encryption().await? {
        BucketEncryption::Rules(rules) => {
            let said: Vec<String> = rules
                .iter()
                .map(|(algorithm, key)| match key {
                    Some(key) => format!("{algorithm} with {key}"),
                    None => algorithm.clone(),
                })
                .collect();
            Check::pass(CheckId::BucketEncryption, format!("{bucket}: {}", said.join(", ")))
        }
        BucketEncryption::Unset => Check::fail(
            CheckId::BucketEncryption,
            format!("{bucket} has no default encryption"),
            "the template sets SSE-S3 (or KmsKeyArn's key): redeploy the stack, or aws s3api put-bucket-encryption",
        ),
        BucketEncryption::Refused(why) => Check::fail(
            CheckId::BucketEncryption,
            format!("the Plan role may not read {bucket}'s encryption: {why}"),
            "the template grants the Plan role s3:GetEncryptionConfiguration on the bucket: redeploy it",
        ),
    })
}

/// The scheduled scan, as the stack deployed it (information only).
fn schedule(config: &Config) -> Check {
    match &config.schedule {
        Some(s) => Check::info(
            CheckId::Schedule,
            format!(
                "{} as deployed (ScheduleEnabled), {} {} (a change made outside CloudFormation is not seen here)",
                s.state, s.expression, s.timezone
            ),
        ),
        None => Check::info(
            CheckId::Schedule,
            "unknown: the Plan function has no SCHEDULE_STATE (a stack deployed before `ila doctor`)",
        ),
    }
}
