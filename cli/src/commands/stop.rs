//! `ila stop RUN`: stops a running run (StopExecution). Step Functions stops the run's Map
//! Runs and their child executions with it, the accounts' and the batches' alike: no
//! function invocation of the run starts after the stop; the ones in flight finish, and
//! Summarize does not run (the run has no summary). The stop's error and cause name who
//! stopped it.

use crate::failure::{AwsError, Exit, Failure, Result};
use crate::format::date;
use crate::stack::{RunState, Stack};
use crate::{print_json, Output};
use clap::Args;
use serde::Serialize;

/// The error StopExecution records (the execution's `error`, the ExecutionAborted event's).
pub const STOP_ERROR: &str = "Stopped";

#[derive(Debug, Args)]
pub struct StopArgs {
    /// The run id (the execution's name).
    pub run: String,
}

/// What `ila stop` did, as `--output json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stopped {
    pub run: String,
    pub execution_arn: String,
    pub status: String,
    pub stopped_at: String,
    pub error: String,
    pub cause: String,
}

pub async fn stop(stack: &Stack, args: &StopArgs, output: Output) -> Result<Exit> {
    let run = &args.run;
    let before = stack.describe(run, false).await?;
    stoppable(&before)?;
    let cause = stop_cause(caller(stack).await.as_deref());
    let answer = stack
        .sfn
        .stop_execution()
        .execution_arn(&before.execution_arn)
        .error(STOP_ERROR)
        .cause(&cause)
        .send()
        .await
        .map_err(|e| stop_failure(run, &AwsError::from_sdk("StopExecution", &e)))?;
    let after = stack.describe(run, false).await?;
    let stopped = Stopped {
        run: run.clone(),
        execution_arn: before.execution_arn,
        status: after.status.clone(),
        stopped_at: after
            .stopped_at
            .clone()
            .unwrap_or_else(|| date(answer.stop_date())),
        error: STOP_ERROR.to_string(),
        cause,
    };
    if after.status != "ABORTED" && !after.is_running() {
        // It ended on its own between DescribeExecution and StopExecution.
        return Err(Failure::new(
            Exit::Failed,
            format!(
                "run {run:?} ended {} at {} before the stop reached it; nothing was stopped. `ila status {run}` shows it.",
                after.status, stopped.stopped_at
            ),
        ));
    }
    match output {
        Output::Json => print_json(&stopped),
        Output::Text => print!("{}", render(&stopped)),
    }
    Ok(Exit::Success)
}

/// Only a running run can be stopped; a finished one is a sentence saying how it ended.
pub fn stoppable(s: &RunState) -> Result<()> {
    if s.is_running() {
        return Ok(());
    }
    let when = s
        .stopped_at
        .as_deref()
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    Err(Failure::new(
        Exit::Failed,
        format!(
            "run {:?} is not running: it ended {}{when}, so there is nothing to stop. `ila status {}` shows it.",
            s.run_id, s.status, s.run_id
        ),
    ))
}

/// The stop's cause: who stopped the run (the caller's ARN, when STS could say).
pub fn stop_cause(caller: Option<&str>) -> String {
    match caller {
        Some(arn) => format!("stopped with `ila stop` by {arn}"),
        None => "stopped with `ila stop` by a caller STS could not name".to_string(),
    }
}

/// StopExecution's refusals, told for this command.
pub fn stop_failure(run: &str, e: &AwsError) -> Failure {
    match e.code() {
        "ExecutionDoesNotExist" => Failure::new(
            Exit::Failed,
            format!(
                "no run named {run:?} to stop ({}). `ila runs` lists the recent runs.",
                e.what()
            ),
        ),
        _ => e.clone().failure(),
    }
}

pub fn render(s: &Stopped) -> String {
    format!(
        "run       {}\nstatus    {}\nstopped   {}\nerror     {}\ncause     {}\n\
         The run's Map Runs and child executions stop with it: no function invocation of it starts \
         after the stop, the ones in flight finish. It has no summary; `ila status {}` shows it.\n",
        s.run, s.status, s.stopped_at, s.error, s.cause, s.run
    )
}

/// The caller's ARN (STS GetCallerIdentity), or `None` when STS does not answer: the stop
/// does not depend on it.
async fn caller(stack: &Stack) -> Option<String> {
    let who = stack.sts.get_caller_identity().send().await.ok()?;
    who.arn().map(str::to_string)
}
