//! `ila runs`: the state machine's recent executions, newest first, with the principal
//! counts of those that have a summary.

use crate::failure::{self, Exit, Result};
use crate::format::{date, duration_between, table};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// How many runs to list, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub max: i32,
}

/// What a run's summary counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryCounts {
    pub status: String,
    pub principals_planned: u32,
    pub reports_written: u32,
    pub services_unused: u64,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub status: String,
    pub started_at: String,
    pub stopped_at: Option<String>,
    pub execution_arn: String,
    /// `None`: no summary (still running, or failed before Summarize).
    pub summary: Option<SummaryCounts>,
}

pub async fn runs(stack: &Stack, args: &RunsArgs, output: Output) -> Result<Exit> {
    let listed = stack
        .sfn
        .list_executions()
        .state_machine_arn(stack.state_machine()?)
        .max_results(args.max)
        .send()
        .await
        .map_err(|e| failure::aws("ListExecutions", e))?;
    let mut executions = listed.executions().to_vec();
    executions.sort_by(|a, b| b.start_date().cmp(a.start_date()));
    executions.truncate(args.max as usize);
    let summaries = stack.summary_keys().await?;
    let mut rows = Vec::new();
    for e in executions {
        let summary = match summaries.iter().find(|k| k.run == e.name()) {
            None => None,
            Some(k) => {
                let s = stack.summary(&k.key).await?;
                Some(SummaryCounts {
                    status: s.status.as_str().to_string(),
                    principals_planned: s.counts.principals_planned,
                    reports_written: s.counts.reports_written,
                    services_unused: s.counts.services_unused,
                    key: k.key.clone(),
                })
            }
        };
        rows.push(RunRow {
            run_id: e.name().to_string(),
            status: e.status().as_str().to_string(),
            started_at: date(e.start_date()),
            stopped_at: e.stop_date().map(date),
            execution_arn: e.execution_arn().to_string(),
            summary,
        });
    }
    match output {
        Output::Json => print_json(&rows),
        Output::Text => print!("{}", render(&rows)),
    }
    Ok(Exit::Success)
}

pub fn render(rows: &[RunRow]) -> String {
    if rows.is_empty() {
        return "no runs yet: start one with `ila run`\n".to_string();
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let took = r
                .stopped_at
                .as_deref()
                .and_then(|s| duration_between(&r.started_at, s))
                .unwrap_or_else(|| "-".into());
            let (reported, summary, unused) = match &r.summary {
                Some(s) => (
                    format!("{}/{}", s.reports_written, s.principals_planned),
                    s.status.clone(),
                    s.services_unused.to_string(),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            vec![
                r.run_id.clone(),
                r.status.clone(),
                r.started_at.clone(),
                took,
                reported,
                unused,
                summary,
            ]
        })
        .collect();
    table(
        &[
            "RUN",
            "STATUS",
            "STARTED",
            "TOOK",
            "REPORTED",
            "UNUSED SERVICES",
            "SUMMARY",
        ],
        &cells,
    )
}
