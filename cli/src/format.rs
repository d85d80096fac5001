//! Small text helpers shared by the commands: dates, durations, tables.

use aws_sdk_sfn::primitives::{DateTime, DateTimeFormat};
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
