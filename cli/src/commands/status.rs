//! `ila status RUN`: the execution's status, start and stop, its batches' counts (from the
//! run's work files), error and cause.

use crate::failure::{Exit, Result};
use crate::format::{duration_between, render_batches};
use crate::stack::{RunState, Stack};
use crate::{print_json, Output};
use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The run id (the execution's name).
    pub run: String,
}

pub async fn status(stack: &Stack, args: &StatusArgs, output: Output) -> Result<Exit> {
    let state = stack.describe(&args.run, true).await?;
    match output {
        Output::Json => print_json(&state),
        Output::Text => print!("{}", render(&state)),
    }
    Ok(state.exit())
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
    // A stopped run never reached Summarize.
    if !s.is_running() && s.status != "ABORTED" {
        out += &format!("summary   ila summary {}\n", s.run_id);
    }
    out
}
