//! `ila`: start an iam-last-accessed run and follow it, and read what runs left behind
//! (their status, summaries and principals' reports). One module per subcommand under
//! `commands/`; every failure is a [`failure::Failure`]: a sentence and an exit code.

#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

mod commands;
mod failure;
mod format;
mod iac;
mod progress;
mod stack;

use clap::{Parser, ValueEnum};
use failure::Failure;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Settings come from the flags or the environment: STATE_MACHINE_ARN, REPORT_BUCKET (the
stack's outputs; `source .local/env` for the local stack, which also sets
AWS_ENDPOINT_URL and S3_FORCE_PATH_STYLE=true). Credentials and region: the AWS SDK's
usual chain (AWS_PROFILE, AWS_REGION, ...).

Exit codes:
  0  success (for `status`: the run succeeded or is still running)
  1  the run failed or is incomplete, or what was asked about does not exist
  2  usage error: a bad flag or argument, or a run name (--name) already taken
  3  configuration or AWS error: a missing setting, credentials, permissions, an
     unreachable endpoint, any other AWS error";

/// Start iam-last-accessed runs, follow them, and read their summaries and reports.
#[derive(Debug, Parser)]
#[command(name = "ila", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Text for people, or JSON on stdout for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// The state machine's ARN (the stack output StateMachineArn).
    #[arg(
        long,
        global = true,
        env = "STATE_MACHINE_ARN",
        hide_env_values = true,
        value_name = "ARN"
    )]
    pub state_machine: Option<String>,
    /// The report bucket (the stack output ReportBucketName).
    #[arg(
        long,
        global = true,
        env = "REPORT_BUCKET",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub bucket: Option<String>,
    #[command(subcommand)]
    pub command: commands::Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and exit 0; a usage error prints clap's message and exits 2.
        Err(e) => e.exit(),
    };
    match commands::execute(cli).await {
        Ok(code) => ExitCode::from(code as u8),
        Err(Failure { exit, message }) => {
            eprintln!("error: {message}");
            ExitCode::from(exit as u8)
        }
    }
}

/// Prints `value` as pretty JSON on stdout (`--output json`).
pub fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON of plain data")
    );
}

#[cfg(test)]
mod tests;
