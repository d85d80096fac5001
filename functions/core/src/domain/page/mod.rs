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

use crate::domain::clock::utc;
use crate::domain::outcome::{PrincipalOutcome, ServiceCell};
use crate::domain::report::Changes;
use crate::domain::summary::RunSummary;
use crate::domain::usage::Usage;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

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

#[derive(Serialize)]
struct PageData<'a> {
    /// The encoding's version (see the module's doc).
    v: u32,
    enc: Widths,
    run: RunHead<'a>,
    counts: &'a crate::domain::summary::Counts,
    changes: ChangesHead<'a>,
    top_unused: &'a [crate::domain::summary::TopPrincipal],
    missing: &'a [crate::domain::summary::MissingPrincipal],
    services: Vec<ServiceRow<'a>>,
    policies: Vec<&'a str>,
    actions: Vec<&'a str>,
    principals: Vec<Principal<'a>>,
}

/// How many digits each packed number takes.
#[derive(Serialize, Clone, Copy)]
struct Widths {
    /// A cell's key: service index × 3 + class.
    k: usize,
    /// A cell's number within its principal.
    c: usize,
    /// A policy's index.
    p: usize,
}

#[derive(Serialize)]
struct RunHead<'a> {
    run_id: &'a str,
    dt: &'a str,
    started_at: &'a str,
    finished_at: &'a str,
    as_of: &'a str,
    /// `as_of` in seconds since the epoch: what the cells' last uses count back from.
    as_of_epoch: Option<i64>,
    duration_seconds: i64,
    status: &'static str,
    granularity: &'static str,
    unused_days: u32,
    reports_prefix: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a crate::domain::sfn::RunFailure>,
}

/// The summary's `changes`, as they are.
#[derive(Serialize)]
struct ChangesHead<'a> {
    previous_run: &'a Option<crate::domain::run::RunRef>,
    principals_new: u32,
    principals_gone: u32,
    principals_changed: u32,
    principals_unchanged: u32,
    principals_not_compared: u32,
    gone: &'a [String],
    largest: &'a [crate::domain::summary::ChangedPrincipal],
}

/// `[ns, granted, active, stale, never_used]`.
struct ServiceRow<'a> {
    ns: &'a str,
    counts: [u32; 4],
}

impl Serialize for ServiceRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(5))?;
        seq.serialize_element(self.ns)?;
        for n in self.counts {
            seq.serialize_element(&n)?;
        }
        seq.end()
    }
}

/// An action's last use.
enum When<'a> {
    /// Seconds from the last use to `as_of`.
    Ago(i64),
    None,
    /// The last use, as text.
    Text(&'a str),
}

impl Serialize for When<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            When::Ago(n) => s.serialize_i64(*n),
            When::None => s.serialize_none(),
            When::Text(t) => s.serialize_str(t),
        }
    }
}

struct Principal<'a> {
    o: &'a PrincipalOutcome,
    mark: u8,
    cells: String,
    extra: Option<Extra<'a>>,
}

#[derive(Serialize, Default)]
struct Extra<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a crate::domain::job::JobError>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    i: BTreeMap<usize, (Option<i64>, Option<&'a str>)>,
    #[serde(skip_serializing_if = "String::is_empty")]
    p: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    x: BTreeMap<usize, Flat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ch: Option<&'a Changes>,
    /// The principal's recommendations, one line each.
    #[serde(skip_serializing_if = "Option::is_none")]
    r: Option<&'a [String]>,
}

impl Extra<'_> {
    fn is_empty(&self) -> bool {
        self.e.is_none()
            && self.i.is_empty()
            && self.p.is_empty()
            && self.x.is_empty()
            && self.ch.is_none()
            && self.r.is_none()
    }
}

/// `[k, v, k, v, …]`.
struct Flat<'a>(Vec<(u32, When<'a>)>);

impl Serialize for Flat<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len() * 2))?;
        for (k, v) in &self.0 {
            seq.serialize_element(k)?;
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

/// The digits of packed numbers: base64url, `A` is 0, `_` is 63. None of them needs
/// escaping in JSON or HTML.
const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// A last use is at most 64⁵ − 1 seconds (34 years) before `as_of`, in 5 digits.
const AGO_DIGITS: usize = 5;
const AGO_MAX: i64 = (1 << (6 * AGO_DIGITS)) - 1;
/// At most this many policies in one entry of `extra.p` (one digit); more take several.
const POLICIES_PER_ENTRY: usize = 63;

/// How many digits numbers up to `max` take (at least one).
fn width(max: usize) -> usize {
    let mut w = 1;
    while w < 11 && (max as u64) >> (6 * w) != 0 {
        w += 1;
    }
    w
}

fn push_digits(out: &mut String, n: u64, width: usize) {
    for i in (0..width).rev() {
        out.push(DIGITS[((n >> (6 * i)) & 63) as usize] as char);
    }
}

impl Serialize for Principal<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.o;
        let len = if self.extra.is_some() { 10 } else { 9 };
        let mut seq = s.serialize_seq(Some(len))?;
        seq.serialize_element(&o.arn)?;
        seq.serialize_element(o.principal_type.as_str())?;
        seq.serialize_element(o.status.as_str())?;
        seq.serialize_element(&o.services_granted)?;
        seq.serialize_element(&o.services_active)?;
        seq.serialize_element(&o.services_stale)?;
        seq.serialize_element(&o.services_never_used)?;
        seq.serialize_element(&self.mark)?;
        seq.serialize_element(&self.cells)?;
        if let Some(extra) = &self.extra {
            seq.serialize_element(extra)?;
        }
        seq.end()
    }
}

fn class_code(u: Usage) -> u32 {
    match u {
        Usage::Active => 0,
        Usage::Stale => 1,
        Usage::NeverUsed => 2,
    }
}

/// Seconds from `last` to `as_of`, when `last` is exactly what `as_of − seconds` gives
/// back (IAM's second-precision UTC form) and not after `as_of`.
fn seconds_ago(last: &str, as_of: Option<i64>) -> Option<i64> {
    let as_of = as_of?;
    let t = utc::parse(last)?;
    if !(1970..=9999).contains(&t.year()) || utc::format(t) != last {
        return None;
    }
    let ago = as_of - t.unix_timestamp();
    (ago >= 0).then_some(ago)
}

/// A cell's last use packed: 5 digits of seconds before `as_of`, `.` for none, or `~`
/// when it is not that regular (then `irregular` gets it as the report has it).
fn push_when<'a>(
    out: &mut String,
    c: &'a ServiceCell,
    as_of: Option<i64>,
    irregular: &mut Option<(Option<i64>, Option<&'a str>)>,
) {
    match (c.days, c.last.as_deref()) {
        (None, None) => out.push('.'),
        (days, last) => match last.and_then(|l| seconds_ago(l, as_of)) {
            Some(ago) if ago <= AGO_MAX && days == Some(ago / 86_400) => {
                push_digits(out, ago as u64, AGO_DIGITS)
            }
            _ => {
                out.push('~');
                *irregular = Some((days, last));
            }
        },
    }
}

fn action_when(last: Option<&str>, as_of: Option<i64>) -> When<'_> {
    match last {
        None => When::None,
        Some(last) => match seconds_ago(last, as_of) {
            Some(ago) => When::Ago(ago),
            None => When::Text(last),
        },
    }
}

/// Interns names into a table, in first-seen order.
#[derive(Default)]
struct Names<'a> {
    index: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Names<'a> {
    fn id(&mut self, name: &'a str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(name, i);
        self.names.push(name);
        i
    }
}

impl<'a> PageData<'a> {
    fn of(summary: &'a RunSummary, outcomes: &'a [PrincipalOutcome]) -> PageData<'a> {
        let as_of_epoch = utc::parse(&summary.as_of).map(|t| t.unix_timestamp());
        // Services, most granted first: their index is their place in that order.
        let mut per_service: HashMap<&str, [u32; 4]> = HashMap::new();
        for o in outcomes {
            for c in &o.services {
                let n = per_service.entry(c.ns.as_str()).or_default();
                n[0] += 1;
                n[1 + class_code(c.class) as usize] += 1;
            }
        }
        let mut services: Vec<ServiceRow> = per_service
            .into_iter()
            .map(|(ns, counts)| ServiceRow { ns, counts })
            .collect();
        services.sort_by(|a, b| b.counts[0].cmp(&a.counts[0]).then(a.ns.cmp(b.ns)));
        let service_id: HashMap<&str, u32> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.ns, i as u32))
            .collect();
        // The policies' table, and the widths of the packed numbers.
        let mut policies = Names::default();
        let mut most_cells = 0;
        for o in outcomes {
            most_cells = most_cells.max(o.services.len());
            for c in &o.services {
                for p in &c.policies {
                    policies.id(p);
                }
            }
        }
        let enc = Widths {
            k: width((services.len() * 3).saturating_sub(1)),
            c: width(most_cells.saturating_sub(1)),
            p: width(policies.names.len().saturating_sub(1)),
        };
        let mut actions = Names::default();
        let principals = outcomes
            .iter()
            .map(|o| {
                let mut extra = Extra {
                    e: o.error.as_ref(),
                    r: o.recommended
                        .as_ref()
                        .map(|r| r.lines.as_slice())
                        .filter(|l| !l.is_empty()),
                    ..Extra::default()
                };
                let mut cells = String::with_capacity(o.services.len() * (enc.k + AGO_DIGITS));
                for (i, c) in o.services.iter().enumerate() {
                    let k = service_id[c.ns.as_str()] * 3 + class_code(c.class);
                    push_digits(&mut cells, u64::from(k), enc.k);
                    let mut irregular = None;
                    push_when(&mut cells, c, as_of_epoch, &mut irregular);
                    if let Some(v) = irregular {
                        extra.i.insert(i, v);
                    }
                    for chunk in c.policies.chunks(POLICIES_PER_ENTRY) {
                        push_digits(&mut extra.p, i as u64, enc.c);
                        push_digits(&mut extra.p, chunk.len() as u64, 1);
                        for p in chunk {
                            push_digits(&mut extra.p, u64::from(policies.id(p)), enc.p);
                        }
                    }
                    if !c.actions.is_empty() {
                        let flat = c
                            .actions
                            .iter()
                            .map(|a| {
                                (
                                    actions.id(&a.action) * 3 + class_code(a.class),
                                    action_when(a.last.as_deref(), as_of_epoch),
                                )
                            })
                            .collect();
                        extra.x.insert(i, Flat(flat));
                    }
                }
                let mark = match &o.changes {
                    None => 0,
                    Some(ch) if ch.new => 1,
                    Some(ch) if ch.changed() => {
                        extra.ch = Some(ch);
                        2
                    }
                    Some(_) => 3,
                };
                Principal {
                    o,
                    mark,
                    cells,
                    extra: (!extra.is_empty()).then_some(extra),
                }
            })
            .collect();
        let ch = &summary.changes;
        PageData {
            v: 2,
            enc,
            run: RunHead {
                run_id: &summary.run_id,
                dt: &summary.dt,
                started_at: &summary.started_at,
                finished_at: &summary.finished_at,
                as_of: &summary.as_of,
                as_of_epoch,
                duration_seconds: summary.duration_seconds,
                status: summary.status.as_str(),
                granularity: summary.parameters.granularity.as_str(),
                unused_days: summary.parameters.report.unused_days,
                reports_prefix: &summary.reports_prefix,
                failure: summary.failure.as_ref(),
            },
            counts: &summary.counts,
            changes: ChangesHead {
                previous_run: &ch.previous_run,
                principals_new: ch.principals_new,
                principals_gone: ch.principals_gone,
                principals_changed: ch.principals_changed,
                principals_unchanged: ch.principals_unchanged,
                principals_not_compared: ch.principals_not_compared,
                gone: &ch.gone,
                largest: &ch.largest,
            },
            top_unused: &summary.top_unused,
            missing: &summary.missing,
            services,
            policies: policies.names,
            actions: actions.names,
            principals,
        }
    }
}

#[cfg(test)]
mod tests;
