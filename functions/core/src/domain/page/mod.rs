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
//!           "r": recommendations: shown by page.js when present; outcomes carry none yet}
//! ```

mod data;
mod packing;

use crate::domain::outcome::PrincipalOutcome;
use crate::domain::summary::RunSummary;
use data::PageData;

const TEMPLATE: &str = include_str!("page.html");
const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// The page of a run: its summary and every principal's outcome.
pub fn render(summary: &RunSummary, outcomes: &[PrincipalOutcome]) -> String {
    let data = data_json(summary, outcomes);
    let title = format!("iam-last-accessed: run {}", summary.run_id);
    let mut out = String::with_capacity(TEMPLATE.len() + CSS.len() + JS.len() + data.len());
    let mut rest = TEMPLATE;
    // Markers are filled in order, each once: what is inserted is never searched again.
    for (marker, value) in [
        ("{{TITLE}}", html_escape(&title)),
        ("{{CSS}}", CSS.to_string()),
        ("{{DATA}}", data),
        ("{{JS}}", JS.to_string()),
    ] {
        let (before, after) = rest
            .split_once(marker)
            .expect("page.html carries every marker, in order");
        out.push_str(before);
        out.push_str(&value);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The embedded data: serialized once, then made safe inside a `<script>` element.
fn data_json(summary: &RunSummary, outcomes: &[PrincipalOutcome]) -> String {
    let data = PageData::of(summary, outcomes);
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_string());
    script_safe(&json)
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
