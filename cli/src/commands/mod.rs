//! One module per subcommand: its arguments (clap) and what it does.

pub mod diff;
pub mod doctor;
pub mod open;
pub mod recommendations;
pub mod report;
pub mod run;
pub mod runs;
pub mod status;
pub mod stop;
pub mod summary;

use crate::failure::{Exit, Result};
use crate::stack::Stack;
use crate::Cli;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a run, follow it, print its summary.
    #[command(after_help = run::AFTER_HELP)]
    Run(run::RunArgs),
    /// A run's status: started, stopped, batches done, error and cause.
    Status(status::StatusArgs),
    /// Stop a running run: its accounts' and batches' executions stop with it.
    Stop(stop::StopArgs),
    /// A run's summary: counts, the most unused principals, errors.
    Summary(summary::SummaryArgs),
    /// Recent runs, newest first, with their status and principal counts.
    Runs(runs::RunsArgs),
    /// One principal's report: its services, their class (active, stale, never used) and last use.
    Report(report::ReportArgs),
    /// What changed between two runs, principal by principal.
    Diff(diff::DiffArgs),
    /// Download a run's HTML page and print its path.
    Open(open::OpenArgs),
    /// A run's least-privilege recommendations: before/after per policy; --write saves the documents.
    Recommendations(recommendations::RecommendationsArgs),
    /// Check the deployed stack before a scan: a checklist, each line ✓, ✗ (with what to do) or ℹ.
    #[command(after_help = doctor::AFTER_HELP)]
    Doctor(doctor::DoctorArgs),
}

pub async fn execute(cli: Cli) -> Result<Exit> {
    let stack = Stack::new(&cli).await;
    let output = cli.output;
    match &cli.command {
        Command::Run(args) => run::run(&stack, args, output).await,
        Command::Status(args) => status::status(&stack, args, output).await,
        Command::Stop(args) => stop::stop(&stack, args, output).await,
        Command::Summary(args) => summary::summary(&stack, args, output).await,
        Command::Runs(args) => runs::runs(&stack, args, output).await,
        Command::Report(args) => report::report(&stack, args, output).await,
        Command::Diff(args) => diff::run_diff(&stack, args, output).await,
        Command::Open(args) => open::open(&stack, args, output).await,
        Command::Recommendations(args) => {
            recommendations::recommendations(&stack, args, output).await
        }
        Command::Doctor(args) => doctor::doctor(&stack, args, output).await,
    }
}
