//! Small text helpers shared by the commands: dates, durations, tables.

use crate::stack::BatchCounts;
use aws_sdk_sfn::primitives::{DateTime, DateTimeFormat};
use last_accessed::domain::account::AccountStatus;
use last_accessed::domain::summary::RunSummary;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An SDK timestamp as RFC 3339 to the second ("2026-11-25T17:00:59Z").
pub fn date(t: &DateTime) -> String {
    let whole = DateTime::from_secs(t.secs());
    whole
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}

/// "6 s", "3 min 20 s", "2 h 5 min" between two RFC 3339 instants.
pub fn duration_between(from: &str, to: &str) -> Option<String> {
    let from = OffsetDateTime::parse(from, &Rfc3339).ok()?;
    let to = OffsetDateTime::parse(to, &Rfc3339).ok()?;
    Some(seconds((to - from).whole_seconds().max(0)))
}

pub fn seconds(s: i64) -> String {
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Columns padded to their widest cell, two spaces apart; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out += cell;
            } else {
                out += &format!("{cell:<width$}  ", width = widths[i]);
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

/// "3 of 3 succeeded" / "1 of 4 done: 1 succeeded, 2 running, 1 pending".
pub fn render_batches(c: &BatchCounts) -> String {
    if c.done() == c.total && c.failed == 0 {
        return format!("{} of {} succeeded", c.succeeded, c.total);
    }
    let parts: Vec<String> = [
        ("succeeded", c.succeeded),
        ("failed", c.failed),
        ("running", c.running),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| format!("{n} {what}"))
    .collect();
    format!("{} of {} done: {}", c.done(), c.total, parts.join(", "))
}

/// `2 COMPLETED, 1 FAILED`: counts by name, in the names' order.
fn counted<'a>(counts: impl Iterator<Item = (&'a str, &'a u32)>) -> String {
    let mut counts: Vec<_> = counts.collect();
    counts.sort();
    counts
        .into_iter()
        .map(|(what, n)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run summary, for people (`ila summary`, and `ila run` once the run ends).
pub fn summary_text(s: &RunSummary, bucket: &str, key: &str) -> String {
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
        counted(c.by_type.iter().map(|(t, n)| (t.as_str(), n)))
    );
    out += &format!(
        "jobs:       {}\n",
        counted(c.by_status.iter().map(|(s, n)| (s.as_str(), n)))
    );
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
    out += &account_lines(s);
    if !s.top_unused.is_empty() {
        out += "most unused services:\n";
        for t in s.top_unused.iter().take(10) {
            out += &format!(
                "  {:>4} of {:<4} {}\n",
                t.services_unused, t.services_granted, t.arn
            );
        }
    }
    out += &unfinished_lines(s);
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

/// The principals whose job did not complete and those without a report: how many, and
/// the first ten of each.
fn unfinished_lines(s: &RunSummary) -> String {
    let mut out = String::new();
    if !s.errors.is_empty() {
        let total = s
            .lists
            .as_ref()
            .map_or(s.errors.len() as u64, |l| l.errors.total);
        out += &format!("errors:     {total} principals whose job did not complete\n");
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
        // counts.principals_missing: all of them (the summary lists the first 1,000).
        out += &format!(
            "without a report: {} principals\n",
            s.counts.principals_missing.max(s.missing.len() as u32)
        );
        for m in s.missing.iter().take(10) {
            out += &format!("  {} — {}\n", m.arn, m.reason);
        }
    }
    out
}

/// An organization run (or an account not fully scanned): one line per account.
fn account_lines(s: &RunSummary) -> String {
    let mut out = String::new();
    if s.accounts.len() > 1
        || s.accounts
            .iter()
            .any(|a| a.status != AccountStatus::Succeeded)
    {
        out += &format!(
            "accounts:   {}\n",
            counted(s.account_counts.iter().map(|(s, n)| (s.as_str(), n)))
        );
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
    out
}
