//! `ila status RUN`: the execution's status, start and stop, its batches' counts (from the
//! run's work files), error and cause.

use crate::failure::{AwsError, Exit, Failure, Result};
use crate::format::{date, duration_between};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The run id (the execution's name).
    pub run: String,
}

/// The run's batches, as its work files count them (a result or a failure per batch done).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatchCounts {
    pub total: i64,
    pub pending: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub timed_out: i64,
    pub aborted: i64,
}

impl BatchCounts {
    pub fn done(&self) -> i64 {
        self.succeeded + self.failed + self.timed_out + self.aborted
    }

    pub fn not_succeeded(&self) -> i64 {
        self.failed + self.timed_out + self.aborted
    }
}

/// A run as DescribeExecution (and the run's work files) tell it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunState {
    pub run_id: String,
    pub execution_arn: String,
    pub status: String,
    pub started_at: String,
    pub stopped_at: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// `None` before Plan recorded the run (or where the bucket can't be read).
    pub batches: Option<BatchCounts>,
    /// The execution's output (SUCCEEDED only).
    #[serde(skip)]
    pub output: Option<String>,
}

impl RunState {
    pub fn is_running(&self) -> bool {
        matches!(self.status.as_str(), "RUNNING" | "PENDING_REDRIVE")
    }

    /// 0 while running or after success, 1 once it failed, timed out or was aborted.
    pub fn exit(&self) -> Exit {
        if self.is_running() || self.status == "SUCCEEDED" {
            Exit::Success
        } else {
            Exit::Failed
        }
    }
}

/// The run's state now; `batches` only when `with_batches`.
pub async fn describe(stack: &Stack, run: &str, with_batches: bool) -> Result<RunState> {
    let execution_arn = stack.execution_arn(run)?;
    let d = stack
        .sfn
        .describe_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .map_err(|e| {
            let e = AwsError::from_sdk("DescribeExecution", &e);
            if e.code() == "ExecutionDoesNotExist" {
                Failure::new(
                    Exit::Failed,
                    format!(
                        "no run named {run:?} in the state machine {} ({}). `ila runs` lists the recent runs.",
                        stack.state_machine.as_deref().unwrap_or_default(),
                        e.what()
                    ),
                )
            } else {
                e.failure()
            }
        })?;
    let batches = if with_batches {
        // The counts are extra: where the bucket can't be read, the status still stands.
        match stack.plan(run).await {
            Ok(Some(plan)) => stack.batch_counts(run, plan.batches).await.ok(),
            _ => None,
        }
    } else {
        None
    };
    Ok(RunState {
        run_id: run.to_string(),
        execution_arn,
        status: d.status().as_str().to_string(),
        started_at: date(d.start_date()),
        stopped_at: d.stop_date().map(date),
        error: d.error().map(str::to_string),
        cause: d.cause().map(str::to_string),
        batches,
        output: d.output().map(str::to_string),
    })
}

pub async fn status(stack: &Stack, args: &StatusArgs, output: Output) -> Result<Exit> {
    let state = describe(stack, &args.run, true).await?;
    match output {
        Output::Json => print_json(&state),
        Output::Text => print!("{}", render(&state)),
    }
    Ok(state.exit())
}

/// "3 of 3 succeeded" / "1 of 4 done: 1 succeeded, 2 running, 1 pending".
pub fn render_batches(c: &BatchCounts) -> String {
    if c.done() == c.total && c.not_succeeded() == 0 {
        return format!("{} of {} succeeded", c.succeeded, c.total);
    }
    let parts: Vec<String> = [
        ("succeeded", c.succeeded),
        ("failed", c.failed),
        ("timed out", c.timed_out),
        ("aborted", c.aborted),
        ("running", c.running),
        ("pending", c.pending),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| format!("{n} {what}"))
    .collect();
    format!("{} of {} done: {}", c.done(), c.total, parts.join(", "))
}

pub fn render(s: &RunState) -> String {
    let mut out = format!(
        "run       {}\nstatus    {}\nstarted   {}\n",
        s.run_id, s.status, s.started_at
    );
    if let Some(stopped) = &s.stopped_at {
        let took = duration_between(&s.started_at, stopped)
            .map(|d| format!(" (after {d})"))
            .unwrap_or_default();
        out += &format!("stopped   {stopped}{took}\n");
    }
    if let Some(b) = &s.batches {
        out += &format!("batches   {}\n", render_batches(b));
    }
    if let Some(error) = &s.error {
        out += &format!("error     {error}\n");
    }
    if let Some(cause) = &s.cause {
        out += &format!("cause     {cause}\n");
    }
    if !s.is_running() {
        out += &format!("summary   ila summary {}\n", s.run_id);
    }
    out
}
