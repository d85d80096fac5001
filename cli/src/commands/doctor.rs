//! `ila doctor`: checks a deployed stack before its first scan, through the stack
//! itself. It starts a doctor run (`{"doctor": true}`): Plan checks, with the stack's
//! own roles, what a scan would meet (the member role in each account, Organizations,
//! the access report's prerequisites, the bucket's encryption, the schedule) and
//! records it; the preflight proves the reader and the JobId rule on the account. The
//! CLI adds what it sees itself (the stack's outputs, the caller's read rights) and
//! prints the checklist. Exit 0 when nothing is ✗, 1 otherwise.

use crate::failure::{self, AwsError, Exit, Failure, Result};
use crate::stack::{RunState, Stack};
use crate::{print_json, Output};
use clap::Args;
use last_accessed::domain::doctor::{self, AccountCheck, Check, CheckId, DoctorFindings};
use last_accessed::domain::keys;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

pub const AFTER_HELP: &str = "\
Each line is ✓ (passed), ✗ (failed, with what to do) or ℹ (information, never a fault).
The checks run in a doctor run of the state machine, with the stack's own roles (the
only ones the reader and member roles trust): you need only what `ila run` needs. A
doctor run writes work/run=RUN/doctor.json and no report or summary.

Exit codes: 0 nothing is ✗; 1 something is ✗; 2 usage error; 3 AWS error.

Examples:
  ila doctor
  ila doctor --organization
  ila doctor --organization --input examples/organization.json
  ila --output json doctor | jq '.checks[] | select(.mark == \"fail\")'";

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check an Organization scan: Organizations, and the member role in every account
    /// the scan would select (every ACTIVE account, or --input's `organization`).
    #[arg(long)]
    pub organization: bool,
    /// A run input (a JSON file, or - for stdin) whose `organization` selection to check
    /// (the schedule's DefaultRunInput, say); its scan fields are not the doctor's.
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<String>,
    /// The doctor run's id (the execution's name); must be new.
    #[arg(long)]
    pub name: Option<String>,
}

/// What `--output json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub run_id: String,
    pub execution_arn: Option<String>,
    /// Nothing is ✗.
    pub healthy: bool,
    /// How IAM binds a JobId on the stack's account, as the preflight found it.
    pub job_binding: Option<String>,
    pub checks: Vec<Check>,
    /// The accounts a scan would select (with --organization).
    pub accounts: Vec<AccountCheck>,
}

/// The doctor run's input: `{"doctor": true}`, with the selection to check.
pub fn doctor_input(
    args: &DoctorArgs,
    stdin: impl FnOnce() -> std::io::Result<String>,
) -> Result<Value> {
    let usage = |m: String| Failure::new(Exit::Usage, m);
    let organization = match args.input.as_deref() {
        None => None,
        Some(path) => {
            let value = super::run::read_input_file(path, stdin)?;
            let object = value
                .as_object()
                .ok_or_else(|| usage(format!("the run input {path} must be a JSON object")))?;
            match object.get("organization") {
                Some(o) => Some(o.clone()),
                None if args.organization => None,
                None => return Err(usage(format!("the run input {path} has no `organization`: without one the scan reads the stack's own account, which `ila doctor` alone checks"))),
            }
        }
    };
    let organization = organization.or_else(|| args.organization.then(|| json!({"all": true})));
    Ok(match organization {
        Some(o) => json!({"doctor": true, "organization": o}),
        None => json!({"doctor": true}),
    })
}

pub async fn doctor(stack: &Stack, args: &DoctorArgs, output: Output) -> Result<Exit> {
    let input = doctor_input(args, || std::io::read_to_string(std::io::stdin()))?;
    let name = args.name.clone().unwrap_or_else(default_name);
    let mut report = Report {
        run_id: name.clone(),
        execution_arn: None,
        healthy: false,
        job_binding: None,
        checks: Vec::new(),
        accounts: Vec::new(),
    };
    let unfinished = match start(stack, &name, &input).await? {
        Err(check) => {
            report.checks.push(check);
            None
        }
        Ok(arn) => {
            report.execution_arn = Some(arn);
            report.checks.push(outputs_found(stack));
            let state = wait(stack, &name).await?;
            let findings = read_back(stack, &name, &mut report.checks).await?;
            preflight(&state, findings.is_some(), &mut report);
            let plan_failed = findings.is_none() && state.status != "SUCCEEDED";
            if let Some(f) = findings {
                report.checks.extend(f.checks);
                report.accounts = f.accounts;
            }
            plan_failed.then_some(state)
        }
    };
    report.checks.sort_by_key(|c| c.check);
    report.healthy = doctor::healthy(&report.checks) && unfinished.is_none();
    match output {
        Output::Json => print_json(&report),
        Output::Text => print!("{}", render(&report.checks)),
    }
    if let Some(state) = unfinished {
        return Err(plan_failure(&name, &state));
    }
    Ok(exit_of(&report.checks))
}

/// 0 when nothing is ✗ (information never fails), 1 otherwise.
pub fn exit_of(checks: &[Check]) -> Exit {
    if doctor::healthy(checks) {
        Exit::Success
    } else {
        Exit::Failed
    }
}

fn default_name() -> String {
    super::run::name_now("doctor")
}

/// Starts the doctor run: its execution ARN, or the stack-outputs line that failed
/// (a setting missing, or a state machine that isn't there).
async fn start(
    stack: &Stack,
    name: &str,
    input: &Value,
) -> Result<std::result::Result<String, Check>> {
    let fix = "set STATE_MACHINE_ARN and REPORT_BUCKET (or --state-machine, --bucket) to the stack's outputs StateMachineArn and ReportBucketName (`source .local/env` for the local stack)";
    let (machine, _) = match (stack.state_machine(), stack.store()) {
        (Ok(machine), Ok(store)) => (machine, store),
        (Err(e), _) | (_, Err(e)) => {
            return Ok(Err(Check::fail(CheckId::StackOutputs, e.message, fix)))
        }
    };
    let started = stack
        .sfn
        .start_execution()
        .state_machine_arn(machine)
        .name(name)
        .input(input.to_string())
        .send()
        .await;
    match started {
        Ok(out) => Ok(Ok(out.execution_arn)),
        Err(e) => {
            let e = AwsError::from_sdk("StartExecution", &e);
            match e.code() {
                "StateMachineDoesNotExist" | "InvalidArn" => {
                    Ok(Err(Check::fail(CheckId::StackOutputs, e.what(), fix)))
                }
                "ExecutionAlreadyExists" | "InvalidName" => Err(Failure::new(
                    Exit::Usage,
                    format!("--name {name:?}: {}. Pick another, or leave --name out for a generated one", e.what()),
                )),
                _ => Err(e.failure()),
            }
        }
    }
}

fn outputs_found(stack: &Stack) -> Check {
    Check::pass(
        CheckId::StackOutputs,
        format!(
            "state machine {}, bucket {} (a doctor run started)",
            stack.state_machine.as_deref().unwrap_or_default(),
            stack
                .store
                .as_ref()
                .map(|s| s.bucket.as_str())
                .unwrap_or_default()
        ),
    )
}

/// Polls the doctor run every second until it ends (a few Tasks: seconds).
async fn wait(stack: &Stack, name: &str) -> Result<RunState> {
    loop {
        let state = stack.describe(name, false).await?;
        if !state.is_running() {
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Plan's findings, read with the caller's own rights, and the caller's read-rights
/// line: the run summaries listed and the run's work file read (what `ila` reads).
async fn read_back(
    stack: &Stack,
    name: &str,
    checks: &mut Vec<Check>,
) -> Result<Option<DoctorFindings>> {
    let store = stack.store()?;
    let fix = "`ila` reads the bucket with your credentials: allow s3:ListBucket on it and s3:GetObject on reports/* and work/* (not work/run=*/jobs/ nor holdings/, which the bucket policy keeps to the stack's roles)";
    if let Err(e) = store.list_keys(keys::RUNS_PREFIX).await {
        checks.push(Check::fail(
            CheckId::CallerReads,
            failure::store(e).message,
            fix,
        ));
        return Ok(None);
    }
    let key = keys::doctor_key(name);
    match store.get_json_opt::<DoctorFindings>(&key).await {
        Ok(found) => {
            checks.push(Check::pass(
                CheckId::CallerReads,
                format!(
                    "you may list s3://{}/{} and read the run's work files",
                    store.bucket,
                    keys::RUNS_PREFIX
                ),
            ));
            Ok(found)
        }
        Err(e) => {
            checks.push(Check::fail(
                CheckId::CallerReads,
                failure::store(e).message,
                fix,
            ));
            Ok(None)
        }
    }
}

/// The reader and JobId-rule lines, from how the doctor run ended: the preflight's
/// output on success, its error when it failed after Plan (`planned`).
pub fn preflight(state: &RunState, planned: bool, report: &mut Report) {
    if state.status == "SUCCEEDED" {
        let output: Value = state
            .output
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null);
        let binding = output["run"]["preflight"]["job_binding"]
            .as_str()
            .map(str::to_string);
        report.checks.push(Check::pass(
            CheckId::Reader,
            "the stack's reader role started an access-advisor job on itself and read it (Preflight)",
        ));
        report.checks.push(job_id_rule(binding.as_deref()));
        report.job_binding = binding;
    } else if planned {
        let error = state.error.as_deref().unwrap_or("(no error)");
        let cause = state.cause.as_deref().unwrap_or_default();
        let fix = match error {
            "AccessDenied" => "allow the reader role (stack output ReaderRoleArn) iam:GenerateServiceLastAccessedDetails on the account's principals and iam:GetServiceLastAccessedDetails; or lift the SCP or permissions boundary that denies them",
            _ => "see the error; `ila status RUN` shows the doctor run",
        };
        report.checks.push(Check::fail(
            CheckId::Reader,
            format!("the preflight ended {}: {error}: {cause}", state.status),
            fix.replace("RUN", &state.run_id),
        ));
        report.checks.push(Check::fail(
            CheckId::JobIdRule,
            "not proven: the reader's preflight did not pass",
            "fix the reader role first",
        ));
    }
}

/// The JobId line: ✓ under either binding (the scanner adapts), naming the one found.
pub fn job_id_rule(binding: Option<&str>) -> Check {
    match binding {
        Some("role_session_name") => Check::pass(
            CheckId::JobIdRule,
            "binding role_session_name: a separate STS session of the reader (Check's) read the preflight's job, so Check polls the batches' jobs and Write reads them",
        ),
        Some("session") => Check::pass(
            CheckId::JobIdRule,
            "binding session: a separate STS session of the reader (Check's) was refused the preflight's job, so each batch's Generate reads its own jobs in full in its session; scans work under it",
        ),
        other => Check::fail(
            CheckId::JobIdRule,
            format!("the preflight named no binding ({other:?})"),
            "the state machine's PreflightSecondSession must pass job_binding on: redeploy the stack",
        ),
    }
}

fn plan_failure(name: &str, state: &RunState) -> Failure {
    let error = state.error.as_deref().unwrap_or("(no error)");
    let cause = state.cause.as_deref().unwrap_or_default();
    let exit = if error == "InvalidInput" {
        Exit::Usage
    } else {
        Exit::Failed
    };
    Failure::new(
        exit,
        format!(
            "the doctor run {name} ended {} before recording its checks: {error}: {cause}",
            state.status
        ),
    )
}

/// The checklist: a line per check (its mark, name and finding), its details and what
/// to do indented under it, and a count.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        out += &format!("{} {}: {}\n", c.mark.symbol(), c.check.title(), c.summary);
        for d in &c.details {
            out += &format!("    {d}\n");
        }
        if let Some(fix) = &c.fix {
            let mut lines = fix.lines();
            if let Some(first) = lines.next() {
                out += &format!("    → {first}\n");
            }
            for line in lines {
                out += &format!("      {line}\n");
            }
        }
    }
    let count = |m: doctor::Mark| checks.iter().filter(|c| c.mark == m).count();
    out += &format!(
        "{} passed, {} failed, {} information\n",
        count(doctor::Mark::Pass),
        count(doctor::Mark::Fail),
        count(doctor::Mark::Info)
    );
    out
}

#[cfg(test)]
mod tests;
