//! `ila summary RUN` (or `--key KEY`): the run summary Summarize wrote, for people.

use crate::failure::{Exit, Result};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use last_accessed::run_summary::{AccountStatus, RunStatus, RunSummary};

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The run id (the execution's name); its summary is found under reports/runs/.
    #[arg(required_unless_present = "key")]
    pub run: Option<String>,
    /// The summary's S3 key instead of a run id.
    #[arg(long, value_name = "KEY", conflicts_with = "run")]
    pub key: Option<String>,
}

pub async fn summary(stack: &Stack, args: &SummaryArgs, output: Output) -> Result<Exit> {
    let (key, s) = match (&args.key, &args.run) {
        (Some(key), _) => (key.clone(), stack.summary(key).await?),
        (None, Some(run)) => {
            let (key, s) = stack.summary_of(run).await?;
            (key.key, s)
        }
        (None, None) => unreachable!("clap requires RUN or --key"),
    };
    match output {
        Output::Json => print_json(&s),
        Output::Text => print!("{}", render(&s, &stack.store()?.bucket, &key)),
    }
    Ok(exit(&s))
}

pub fn exit(s: &RunSummary) -> Exit {
    if s.status == RunStatus::Succeeded {
        Exit::Success
    } else {
        Exit::Failed
    }
}

fn counted<'a>(counts: impl Iterator<Item = (&'a String, &'a u32)>) -> String {
    counts
        .map(|(what, n)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(s: &RunSummary, bucket: &str, key: &str) -> String {
    let c = &s.counts;
    let mut out = format!(
        "run {} — {} in {} s ({})\n",
        s.run_id,
        s.status.as_str(),
        s.duration_seconds,
        s.parameters.granularity.as_str()
    );
    out += &format!(
        "principals: {} planned, {} reported ({})\n",
        c.principals_planned,
        c.reports_written,
        counted(c.by_type.iter())
    );
    out += &format!("jobs:       {}\n", counted(c.by_status.iter()));
    out += &format!(
        "services:   {} granted: {} active, {} stale ({}+ days), {} never used\n",
        c.services_granted,
        c.services_active,
        c.services_stale,
        s.parameters.report.unused_days,
        c.services_never_used
    );
    let ch = &s.changes;
    match &ch.previous_run {
        Some(p) => {
            out += &format!(
                "changes:    since {} ({}): {} new, {} gone, {} changed, {} unchanged\n",
                p.run_id,
                p.as_of,
                ch.principals_new,
                ch.principals_gone,
                ch.principals_changed,
                ch.principals_unchanged
            );
        }
        None => out += "changes:    first run at this granularity: every principal is new\n",
    }
    // An organization run (or an account not fully scanned): one line per account.
    if s.accounts.len() > 1
        || s.accounts
            .iter()
            .any(|a| a.status != AccountStatus::Succeeded)
    {
        out += &format!("accounts:   {}\n", counted(s.account_counts.iter()));
        out += &format!(
            "  {:<12}  {:<11}  {:>10}  {:>8}  {:>6}  {:>6}  {:<20}  {}\n",
            "account",
            "status",
            "principals",
            "granted",
            "used",
            "unused",
            "name",
            "OU path / error"
        );
        for a in &s.accounts {
            let tail = a.error.as_deref().unwrap_or(&a.ou_path);
            out += &format!(
                "  {:<12}  {:<11}  {:>10}  {:>8}  {:>6}  {:>6}  {:<20}  {}\n",
                a.id,
                a.status.as_str(),
                a.principals,
                a.services_granted,
                a.services_used,
                a.services_unused,
                a.name,
                tail
            );
        }
    }
    if !s.top_unused.is_empty() {
        out += "most unused services:\n";
        for t in s.top_unused.iter().take(10) {
            out += &format!(
                "  {:>4} of {:<4} {}\n",
                t.services_unused, t.services_granted, t.arn
            );
        }
    }
    if !s.errors.is_empty() {
        out += "errors:\n";
    }
    for e in s.errors.iter().take(10) {
        let why = e
            .error
            .as_ref()
            .map(|e| format!(" {}: {}", e.code, e.message))
            .unwrap_or_default();
        out += &format!("  {} {}{why}\n", e.status.as_str(), e.arn);
    }
    if !s.missing.is_empty() {
        out += &format!("without a report: {} principals\n", s.missing.len());
        for m in s.missing.iter().take(10) {
            out += &format!("  {} — {}\n", m.arn, m.reason);
        }
    }
    if let Some(f) = &s.failure {
        out += &format!(
            "map failed: {}: {}\n",
            f.error.as_deref().unwrap_or("(no error)"),
            f.cause.as_deref().unwrap_or("(no cause)")
        );
    }
    out += &format!("reports:    s3://{bucket}/{}\n", s.reports_prefix);
    out += &format!("summary:    s3://{bucket}/{key}\n");
    out
}
