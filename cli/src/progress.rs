//! `ila run`: start, follow, report.

use crate::{clients, parse_flags, setting, summary};
use last_accessed::keys;
use last_accessed::records::PlanRecord;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The run input: the file (or stdin), then flags on top. Must be a JSON object.
fn run_input(
    input: Option<&str>,
    arns: &[String],
    granularity: Option<&str>,
) -> Result<Value, String> {
    let mut value = match input {
        None => json!({}),
        Some(path) => {
            let text = if path == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| format!("reading stdin: {e}"))?
            } else {
                std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?
            };
            serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?
        }
    };
    let object = value
        .as_object_mut()
        .ok_or("the run input must be a JSON object")?;
    if !arns.is_empty() {
        object.insert("arns".into(), json!(arns));
    }
    if let Some(g) = granularity {
        object.insert("granularity".into(), json!(g));
    }
    Ok(value)
}

fn default_name() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "ila-{:04}{:02}{:02}-{:02}{:02}{:02}-{:03}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

pub async fn run(args: &[String]) -> Result<bool, String> {
    let flags = parse_flags(args)?;
    let machine = setting(flags.state_machine, "STATE_MACHINE_ARN", "state machine")?;
    let bucket = setting(flags.bucket, "REPORT_BUCKET", "report bucket")?;
    let input = run_input(
        flags.input.as_deref(),
        &flags.arns,
        flags.granularity.as_deref(),
    )?;
    let name = flags.name.unwrap_or_else(default_name);
    let (sfn, store) = clients(bucket).await;
    let started = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name(&name)
        .input(input.to_string())
        .send()
        .await
        .map_err(|e| {
            format!(
                "StartExecution: {}",
                aws_sdk_sfn::error::DisplayErrorContext(&e)
            )
        })?;
    println!("started {}", started.execution_arn);
    if flags.no_wait {
        return Ok(true);
    }
    let clock = Instant::now();
    let mut plan: Option<PlanRecord> = None;
    let mut last_line = String::new();
    loop {
        let d = sfn
            .describe_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "DescribeExecution: {}",
                    aws_sdk_sfn::error::DisplayErrorContext(&e)
                )
            })?;
        let status = d.status.as_str().to_string();
        if plan.is_none() {
            // Not there until Plan has run.
            plan = store.get_json(&keys::plan_key(&name)).await.ok();
        }
        let line = match &plan {
            None => format!("{status}: planning"),
            Some(p) => {
                let prefix = keys::reports_prefix(&p.dt, &name);
                let done = store.list_keys(&prefix).await.map(|k| k.len()).unwrap_or(0);
                format!(
                    "{status}: {done}/{} principals reported in {} batches",
                    p.principals, p.batches
                )
            }
        };
        if line != last_line {
            println!("[{:>5.0} s] {line}", clock.elapsed().as_secs_f64());
            last_line = line;
        }
        match status.as_str() {
            "RUNNING" | "PENDING_REDRIVE" => tokio::time::sleep(Duration::from_secs(2)).await,
            "SUCCEEDED" => {
                let output: Value =
                    serde_json::from_str(d.output.as_deref().unwrap_or("{}")).unwrap_or_default();
                let key = output["summary_key"]
                    .as_str()
                    .ok_or("the execution output has no summary_key")?;
                summary::print(&store, key).await?;
                return Ok(true);
            }
            _ => {
                eprintln!(
                    "run {status}: {}",
                    d.error.as_deref().unwrap_or("(no error)")
                );
                if let Some(cause) = d.cause {
                    eprintln!("cause: {cause}");
                }
                return Ok(false);
            }
        }
    }
}
