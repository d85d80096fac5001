//! `ila run`: start a run from flags or an input file, follow it, print its summary.

use crate::failure::{AwsError, Exit, Failure, Result};
use crate::format::summary_text;
use crate::progress::{Phase, Progress};
use crate::stack::{AccountCounts, RunState, Stack};
use crate::{print_json, Output};
use clap::builder::TypedValueParser;
use clap::Args;
use last_accessed::domain::input::Granularity;
use last_accessed::domain::run::PlanRecord;
use last_accessed::domain::summary::RunSummary;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

pub const AFTER_HELP: &str = "\
The run input is the file's JSON object (docs/run-input.md), with --arn and
--granularity set on top. The run id is --name, or ila-YYYYMMDD-HHMMSS-mmm.

Examples:
  ila run --input examples/demo.json
  ila run --arn arn:aws:iam::123456789012:role/app --granularity ACTION_LEVEL --name app-audit
  echo '{\"discover\": {\"types\": [\"role\"]}}' | ila run --input - --no-wait";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The run input: a JSON file, or - for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<String>,
    /// A principal to scan (repeatable); replaces the input's "arns".
    #[arg(long = "arn", value_name = "ARN")]
    pub arns: Vec<String>,
    /// IAM's report granularity; replaces the input's "granularity".
    #[arg(long, ignore_case = true, value_parser = granularity())]
    pub granularity: Option<Granularity>,
    /// The run id (the execution's name); must be new.
    #[arg(long)]
    pub name: Option<String>,
    /// Start the run and return; follow it with `ila status`.
    #[arg(long)]
    pub no_wait: bool,
}

/// The run input's granularity, as its words: `--granularity` takes the core's own.
fn granularity() -> impl TypedValueParser<Value = Granularity> {
    let words = [Granularity::ServiceLevel, Granularity::ActionLevel].map(Granularity::as_str);
    clap::builder::PossibleValuesParser::new(words).map(|word| {
        if word.eq_ignore_ascii_case(Granularity::ActionLevel.as_str()) {
            Granularity::ActionLevel
        } else {
            Granularity::ServiceLevel
        }
    })
}

/// What `--output json` prints when the run has ended (or at once with --no-wait).
#[derive(Debug, Serialize)]
struct Outcome {
    #[serde(flatten)]
    state: RunState,
    summary_key: Option<String>,
    summary: Option<RunSummary>,
}

/// The run input file (`-`: stdin), as JSON; a usage error saying why not.
pub fn read_input_file(
    path: &str,
    stdin: impl FnOnce() -> std::io::Result<String>,
) -> Result<Value> {
    let usage = |m: String| Failure::new(Exit::Usage, m);
    let text = if path == "-" {
        stdin().map_err(|e| usage(format!("could not read the run input from stdin: {e}")))?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| usage(format!("could not read the run input {path}: {e}")))?
    };
    serde_json::from_str(&text).map_err(|e| usage(format!("the run input {path} is not JSON: {e}")))
}

/// The run input: the file (or stdin), then the flags on top. Must be a JSON object.
pub fn run_input(args: &RunArgs, stdin: impl FnOnce() -> std::io::Result<String>) -> Result<Value> {
    let usage = |m: String| Failure::new(Exit::Usage, m);
    let mut value = match args.input.as_deref() {
        None => json!({}),
        Some(path) => read_input_file(path, stdin)?,
    };
    let object = value
        .as_object_mut()
        .ok_or_else(|| usage("the run input must be a JSON object".into()))?;
    if !args.arns.is_empty() {
        object.insert("arns".into(), json!(args.arns));
    }
    if let Some(g) = args.granularity {
        object.insert("granularity".into(), json!(g.as_str()));
    }
    Ok(value)
}

fn default_name() -> String {
    name_now("ila")
}

/// A run name unique to the millisecond: `PREFIX-YYYYMMDD-HHMMSS-mmm`.
pub fn name_now(prefix: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{prefix}-{:04}{:02}{:02}-{:02}{:02}{:02}-{:03}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// StartExecution's refusals, told for this command.
pub fn start_failure(name: &str, e: AwsError) -> Failure {
    match e.code() {
        "ExecutionAlreadyExists" => Failure::new(
            Exit::Usage,
            format!(
                "a run named {name:?} already exists ({}). Pick another --name, or leave --name out for a generated one; `ila status {name}` shows the existing run.",
                e.what()
            ),
        ),
        "InvalidName" => Failure::new(
            Exit::Usage,
            format!(
                "{name:?} is not a valid run name ({}). Use 1 to 80 letters, digits, - and _.",
                e.what()
            ),
        ),
        "InvalidExecutionInput" => Failure::new(
            Exit::Usage,
            format!("Step Functions refused the run input ({}). Check --input.", e.what()),
        ),
        _ => e.failure(),
    }
}

pub async fn run(stack: &Stack, args: &RunArgs, output: Output) -> Result<Exit> {
    let machine = stack.state_machine()?;
    if !args.no_wait {
        stack.store()?; // needed to follow the run: fail before starting it
    }
    let input = run_input(args, || std::io::read_to_string(std::io::stdin()))?;
    let name = args.name.clone().unwrap_or_else(default_name);
    let started = stack
        .sfn
        .start_execution()
        .state_machine_arn(machine)
        .name(&name)
        .input(input.to_string())
        .send()
        .await
        .map_err(|e| start_failure(&name, AwsError::from_sdk("StartExecution", &e)))?;
    if args.no_wait {
        match output {
            Output::Json => print_json(&json!({
                "run_id": name,
                "execution_arn": started.execution_arn(),
                "status": "RUNNING",
            })),
            Output::Text => println!(
                "started run {name} ({})\nfollow it with: ila status {name}",
                started.execution_arn()
            ),
        }
        return Ok(Exit::Success);
    }
    if output == Output::Text {
        println!("started run {name} ({})", started.execution_arn());
    }
    let state = follow(stack, &name, output).await?;
    let summary_key = match (state.status.as_str(), state.output.as_deref()) {
        ("SUCCEEDED", Some(out)) => serde_json::from_str::<Value>(out)
            .ok()
            .and_then(|v| v["summary_key"].as_str().map(str::to_string)),
        _ => None,
    };
    // A run that failed after Summarize (IncompleteRun, TooManyFailures) has a summary too.
    let summary_key = match summary_key {
        Some(key) => Some(key),
        None => stack.find_summary(&name).await?.map(|k| k.key),
    };
    let summary = match &summary_key {
        Some(key) => Some(stack.summary(key).await?),
        None => None,
    };
    let exit = state.exit();
    match output {
        Output::Json => print_json(&Outcome {
            state: state.clone(),
            summary_key: summary_key.clone(),
            summary: summary.clone(),
        }),
        Output::Text => {
            if let (Some(s), Some(key)) = (&summary, &summary_key) {
                println!();
                print!("{}", summary_text(s, &stack.store()?.bucket, key));
            }
        }
    }
    if exit != Exit::Success {
        return Err(Failure::new(
            exit,
            format!(
                "run {name} ended {}: {}{}",
                state.status,
                state.error.as_deref().unwrap_or("(no error)"),
                state
                    .cause
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(summary.as_ref().map_or(Exit::Success, Exit::of_summary))
}

/// Polls the run every 2 s until it ends, showing progress; returns its last state.
async fn follow(stack: &Stack, name: &str, output: Output) -> Result<RunState> {
    let mut progress = Progress::new(output);
    let mut plan: Option<PlanRecord> = None;
    let mut accounts = AccountCounts::new();
    loop {
        let state = stack.describe(name, false).await?;
        // Accounts record their principals as they are planned: each new record once.
        plan = stack.plan_counted(name, &mut accounts).await?.or(plan);
        let phase = match &plan {
            None => Phase::Planning,
            Some(p) if p.batches == 0 => Phase::Planned {
                principals: p.principals,
                batches: p.batches,
            },
            Some(p) => Phase::Batches {
                counts: stack.batch_counts(name, p.batches).await?,
                principals: Some(p.principals),
            },
        };
        progress.update(&state.status, &phase);
        if !state.is_running() {
            progress.finish();
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
