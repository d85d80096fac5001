//! Printing a run summary for people.

use crate::{clients, parse_flags, setting};
use last_accessed::adapters::s3::ReportStore;
use last_accessed::run_summary::{RunStatus, RunSummary};

pub async fn show(args: &[String]) -> Result<bool, String> {
    let flags = parse_flags(args)?;
    let bucket = setting(flags.bucket, "REPORT_BUCKET", "report bucket")?;
    let key = flags
        .key
        .ok_or("--key KEY (the summary's S3 key) is required")?;
    let (_, store) = clients(bucket).await;
    let summary = print(&store, &key).await?;
    Ok(summary.status == RunStatus::Succeeded)
}

pub async fn print(store: &ReportStore, key: &str) -> Result<RunSummary, String> {
    let s: RunSummary = store.get_json(key).await.map_err(|e| e.to_string())?;
    let bucket = &store.bucket;
    let c = &s.counts;
    println!();
    println!(
        "run {} — {} in {} s ({})",
        s.run_id,
        s.status.as_str(),
        s.duration_seconds,
        s.parameters.granularity.as_str()
    );
    let by_type: Vec<String> = c.by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
    let by_status: Vec<String> = c
        .by_status
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    println!(
        "principals: {} planned, {} reported ({})",
        c.principals_planned,
        c.reports_written,
        by_type.join(", ")
    );
    println!("jobs:       {}", by_status.join(", "));
    println!(
        "services:   {} granted, {} used in IAM's tracking window, {} not used for {}+ days or never",
        c.services_granted, c.services_used, c.services_unused, s.parameters.report.unused_days
    );
    if !s.top_unused.is_empty() {
        println!("most unused services:");
        for t in s.top_unused.iter().take(10) {
            println!(
                "  {:>4} of {:<4} {}",
                t.services_unused, t.services_granted, t.arn
            );
        }
    }
    for e in s.errors.iter().take(10) {
        let why = e
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.code, e.message))
            .unwrap_or_default();
        println!("  {} {} {}", e.status.as_str(), e.arn, why);
    }
    if !s.missing.is_empty() {
        println!("without a report: {} principals", s.missing.len());
        for m in s.missing.iter().take(10) {
            println!("  {} — {}", m.arn, m.reason);
        }
    }
    println!("reports:    s3://{bucket}/{}", s.reports_prefix);
    println!("summary:    s3://{bucket}/{key}");
    Ok(s)
}
