//! The packed encoding of the page's data (the module doc of `page` says it): base64url
//! digits, the cells' last uses, and the tables of names.

use crate::domain::clock::utc;
use crate::domain::outcome::ServiceCell;
use crate::domain::usage::Usage;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::collections::HashMap;

/// An action's last use.
pub(super) enum When<'a> {
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

/// `[k, v, k, v, …]`.
pub(super) struct Flat<'a>(pub(super) Vec<(u32, When<'a>)>);

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
pub(super) const DIGITS: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A last use is at most 64⁵ − 1 seconds (34 years) before `as_of`, in 5 digits.
pub(super) const AGO_DIGITS: usize = 5;

pub(super) const AGO_MAX: i64 = (1 << (6 * AGO_DIGITS)) - 1;

/// At most this many policies in one entry of `extra.p` (one digit); more take several.
pub(super) const POLICIES_PER_ENTRY: usize = 63;

pub(super) fn push_digits(out: &mut String, n: u64, width: usize) {
    for i in (0..width).rev() {
        out.push(DIGITS[((n >> (6 * i)) & 63) as usize] as char);
    }
}

pub(super) fn class_code(u: Usage) -> u32 {
    match u {
        Usage::Active => 0,
        Usage::Stale => 1,
        Usage::NeverUsed => 2,
    }
}

/// Seconds from `last` to `as_of`, when `last` is exactly what `as_of − seconds` gives
/// back (IAM's second-precision UTC form) and not after `as_of`.
pub(super) fn seconds_ago(last: &str, as_of: Option<i64>) -> Option<i64> {
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
pub(super) fn push_when<'a>(
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

pub(super) fn action_when(last: Option<&str>, as_of: Option<i64>) -> When<'_> {
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
pub(super) struct Names {
    index: HashMap<String, u32>,
    pub(super) names: Vec<String>,
    /// What the table takes as JSON, near enough: each name, its quotes and a comma.
    pub(super) bytes: usize,
}

impl Names {
    pub(super) fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(name.to_string(), i);
        self.names.push(name.to_string());
        self.bytes += name.len() + 3;
        i
    }
}
