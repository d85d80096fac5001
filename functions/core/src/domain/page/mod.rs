//! The run's HTML page (`reports/runs/dt=…/run=…/index.html`): one self-contained file.
//!
//! No external scripts, fonts, styles or images (a Content-Security-Policy says so too):
//! it opens from a downloaded file or a presigned URL. The template, the CSS and the
//! script are `page.html`, `page.css` and `page.js` next to this file; the run's data is
//! embedded once, as JSON, in `<script type="application/json" id="ila-data">`, with
//! `<`, `>` and `&` written `\u003c`, `\u003e`, `\u0026` so no string can close the
//! script. The script renders only what is on screen (a page of principals).
//!
//! The data is compact, to keep a run of 15,500 principals loadable: the summary's
//! totals and changes as they are (without `report_keys`), then name tables and one
//! array per principal whose services are packed in a string. `page.js` documents the
//! encoding it reads; in short (digits: base64url, `A`=0 … `_`=63, most significant
//! first; `enc` gives the widths):
//!
//! ```text
//! enc:        {"k": digits of a cell key, "c": of a cell number, "p": of a policy index}
//! services:   [[ns, granted, active, stale, never_used], …]  most granted first
//! policies:   ["name (TYPE)", …]        actions: ["svc:Action", …]
//! principals: [[arn, type, status, granted, active, stale, never_used, mark, cells, extra?], …]
//!   mark:  0 not compared, 1 new, 2 changed, 3 unchanged
//!   cells: one entry per granted service, in the report's order: its key
//!          (service index × 3 + class: 0 active, 1 stale, 2 never used; enc.k digits),
//!          then its last use: 5 digits, the seconds from it to as_of (days = those
//!          seconds / 86400, rounded down), or `.` (none, no days), or `~` (not that
//!          regular: extra.i[cell] = [days, last])
//!   extra: {"e": error, "i": {cell: [days, last]},
//!           "p": policies, entries of cell (enc.c digits), count (1 digit), then
//!                that many policy indexes (enc.p digits each),
//!           "x": {cell: [k, v, …]} tracked actions, k = action index × 3 + class, v
//!                the seconds from the last use to as_of, null, or the last use as text,
//!           "ch": changes (only when something changed),
//!           "r": recommendations, one line each (and why any were withheld),
//!           "n": how many recommendations (when any), "w": true when withheld,
//!           "id": a re-created principal's new unique id,
//!           "a": its account, when its ARN does not name it (an AWS-managed policy's)}
//! ```
//!
//! A principal's account is its ARN's unless `extra.a` says it; the accounts' names and
//! OU paths are in `account` (an account's page) or `accounts` (an Organization run's
//! overview: one line per account, so the page stays bounded at any number of them).
//! `run.recommendations` says whether the run asked for recommendations (a principal
//! without `n` then has none).

mod data;
mod packing;

pub use data::{PageBuilder, PAGE_LIST};

use crate::domain::account::AccountSummary;
use crate::domain::outcome::PrincipalOutcome;
use crate::domain::run::PlanRecord;
use crate::domain::sfn::StepFunctionsError;
use crate::domain::summary::{
    Closing, Counts, MissingPrincipal, RunChanges, RunFold, RunSummary, TopPrincipal,
};
use serde::Serialize;

const TEMPLATE: &str = include_str!("page.html");
const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// A page keeps at most this many bytes of principals and names: with the template, the
/// head and the services' table, a page stays under 10 MB whatever its run's size.
pub const PAGE_BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// What a page says besides its principals: the run's (or an account's) heads.
#[derive(Debug, Clone, Serialize)]
pub struct PageHead {
    pub run: RunHead,
    pub counts: Counts,
    /// `gone` cut to [`PAGE_LIST`]; none on an account's page (the overview has them).
    pub changes: RunChanges,
    pub top_unused: Vec<TopPrincipal>,
    /// The first [`PAGE_LIST`] planned principals without a report.
    pub missing: Vec<MissingPrincipal>,
    /// An account's page: its line of the summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountSummary>,
    /// An Organization run's overview: every account's line (each has its own page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<AccountSummary>>,
    /// Where every principal's outcome is (`principals.json`).
    #[serde(skip)]
    pub index_key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunHead {
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub finished_at: String,
    pub as_of: String,
    /// `as_of` in seconds since the epoch: what the cells' last uses count back from.
    pub as_of_epoch: Option<i64>,
    pub duration_seconds: i64,
    /// The run's status; an account's on its page.
    pub status: String,
    pub granularity: &'static str,
    pub unused_days: u32,
    pub reports_prefix: String,
    /// Whether the run asked for recommendations (`report.recommendations`).
    pub recommendations: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<StepFunctionsError>,
}

/// The summary's `changes`, `gone` cut to [`PAGE_LIST`].
fn changes_head(ch: &RunChanges) -> RunChanges {
    RunChanges {
        gone: ch.gone.iter().take(PAGE_LIST).cloned().collect(),
        ..ch.clone()
    }
}

impl RunHead {
    /// The head of a page of the run `plan` planned, ending `status`.
    fn of(
        plan: &PlanRecord,
        closing: &Closing,
        status: &str,
        failure: Option<StepFunctionsError>,
    ) -> RunHead {
        RunHead {
            run_id: plan.run_id.clone(),
            dt: plan.dt.clone(),
            started_at: plan.started_at.clone(),
            finished_at: closing.finished_at.clone(),
            as_of: plan.started_at.clone(),
            as_of_epoch: crate::domain::clock::utc::parse(&plan.started_at)
                .map(|t| t.unix_timestamp()),
            duration_seconds: closing.duration_seconds,
            status: status.to_string(),
            granularity: plan.granularity.as_str(),
            unused_days: plan.report.unused_days,
            reports_prefix: closing.reports_prefix.clone(),
            recommendations: plan.report.recommendations,
            failure,
        }
    }
}

impl PageHead {
    /// The run's page (or an Organization run's overview, with `accounts`).
    pub fn of_run(summary: &RunSummary, index_key: String, overview: bool) -> PageHead {
        let closing = Closing {
            finished_at: summary.finished_at.clone(),
            duration_seconds: summary.duration_seconds,
            reports_prefix: summary.reports_prefix.clone(),
            max_failed_percent: 0.0,
        };
        let status = summary.status.as_str();
        let mut run = RunHead::of(
            &summary.parameters,
            &closing,
            status,
            summary.failure.clone(),
        );
        // The summary's own say (they are the plan's in every summary Summarize writes).
        run.run_id.clone_from(&summary.run_id);
        run.dt.clone_from(&summary.dt);
        run.started_at.clone_from(&summary.started_at);
        run.as_of.clone_from(&summary.as_of);
        run.as_of_epoch =
            crate::domain::clock::utc::parse(&summary.as_of).map(|t| t.unix_timestamp());
        PageHead {
            run,
            counts: summary.counts.clone(),
            changes: changes_head(&summary.changes),
            top_unused: summary.top_unused.clone(),
            missing: summary.missing.iter().take(PAGE_LIST).cloned().collect(),
            account: None,
            accounts: overview.then(|| summary.accounts.clone()),
            index_key,
        }
    }

    /// An Organization run's page of one account, from what was folded of it
    /// (`batches_planned`: Plan's record of it says them).
    pub fn of_account(
        plan: &PlanRecord,
        closing: &Closing,
        fold: &RunFold,
        (line, batches_planned): (AccountSummary, u32),
        index_key: String,
    ) -> PageHead {
        let (counts, top_unused, mut changes, mut missing) = fold.heads();
        // Gone principals are the run's to say (its overview): they are not folded yet.
        changes.gone.clear();
        changes.previous_run = line.previous_run.clone();
        missing.truncate(PAGE_LIST);
        PageHead {
            run: RunHead::of(plan, closing, line.status.as_str(), None),
            counts: Counts {
                principals_planned: line.principals,
                batches_planned,
                ..counts
            },
            changes,
            top_unused,
            missing,
            account: Some(line),
            accounts: None,
            index_key,
        }
    }
}

/// The page of a run: its summary and every principal's outcome (in memory: for tests
/// and benchmarks; Summarize streams them through a [`PageBuilder`]).
pub fn render(summary: &RunSummary, outcomes: &[PrincipalOutcome]) -> String {
    let mut page = PageBuilder::new(&summary.as_of, PAGE_BUDGET_BYTES);
    for o in outcomes {
        page.add(o);
    }
    let index = crate::domain::keys::index_key(&summary.dt, &summary.run_id);
    render_page(&PageHead::of_run(summary, index, false), page)
}

/// A page: the template filled with the head and the principals the builder kept.
pub fn render_page(head: &PageHead, page: PageBuilder) -> String {
    let title = match &head.account {
        Some(a) => format!(
            "iam-last-accessed: run {}, account {}",
            head.run.run_id, a.id
        ),
        None => format!("iam-last-accessed: run {}", head.run.run_id),
    };
    let mut out = String::with_capacity(TEMPLATE.len() + CSS.len() + JS.len() + page.data_bytes());
    let mut page = Some(page);
    let mut rest = TEMPLATE;
    // Markers are filled in order, each once: what is inserted is never searched again.
    for marker in ["{{TITLE}}", "{{CSS}}", "{{DATA}}", "{{JS}}"] {
        let (before, after) = rest
            .split_once(marker)
            .expect("page.html carries every marker, in order");
        out.push_str(before);
        match marker {
            "{{TITLE}}" => out.push_str(&html_escape(&title)),
            "{{CSS}}" => out.push_str(CSS),
            "{{JS}}" => out.push_str(JS),
            _ => {
                if let Some(page) = page.take() {
                    page.write_data(head, &mut out);
                }
            }
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// JSON that no string can break out of a `<script>` with: `<`, `>`, `&` (and the two
/// line separators JavaScript once disliked) as `\uXXXX` escapes, valid JSON still.
pub(crate) fn script_safe(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + 64);
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // (the escape, how many bytes it replaces); U+2028/U+2029 are E2 80 A8/A9.
        let (escape, len) = match (b, bytes.get(i + 1..i + 3)) {
            (b'<', _) => ("\\u003c", 1),
            (b'>', _) => ("\\u003e", 1),
            (b'&', _) => ("\\u0026", 1),
            (0xE2, Some([0x80, 0xA8])) => ("\\u2028", 3),
            (0xE2, Some([0x80, 0xA9])) => ("\\u2029", 3),
            _ => continue,
        };
        out.push_str(&json[copied..i]);
        out.push_str(escape);
        copied = i + len;
    }
    out.push_str(&json[copied..]);
    out
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
