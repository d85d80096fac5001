//! The page's data, built one principal at a time: the services' and names' tables
//! grow as principals come, each principal is packed (`packing`) as it comes, and the
//! page keeps the principals with the most unused services that fit its byte budget.

use super::packing::{
    action_when, class_code, push_digits, push_when, Flat, Names, AGO_DIGITS, POLICIES_PER_ENTRY,
};
use super::{script_safe, PageHead};
use crate::domain::arn::PrincipalArn;
use crate::domain::clock::utc;
use crate::domain::outcome::PrincipalOutcome;
use crate::domain::report::Changes;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::collections::{BTreeMap, BinaryHeap};

/// How many digits each packed number takes: fixed, since principals are packed before
/// the tables are whole. Two digits of cell key hold 1,365 services (AWS has some 450),
/// two of cell number 4,096 services a principal, three of policy index 262,144 names.
#[derive(Serialize, Clone, Copy)]
struct Widths {
    /// A cell's key: service index × 3 + class.
    k: usize,
    /// A cell's number within its principal.
    c: usize,
    /// A policy's index.
    p: usize,
}

const ENC: Widths = Widths { k: 2, c: 2, p: 3 };

/// The largest number `digits` base-64 digits hold.
const fn most(digits: usize) -> u64 {
    (1 << (6 * digits)) - 1
}

/// At most this many entries of `missing` and `changes.gone` on a page (the summary and
/// its files have more).
pub const PAGE_LIST: usize = 500;

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
    /// A re-created principal's new unique id.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    /// The account it was scanned in, when its ARN names another (an AWS-managed
    /// policy's ARN names `aws`); else its ARN's account is its account.
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<&'a str>,
    /// How many recommendations it has (when it has any).
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    /// Its recommendations were withheld, wholly or in part (`r` says why).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    w: bool,
}

impl Extra<'_> {
    fn is_empty(&self) -> bool {
        self.e.is_none()
            && self.i.is_empty()
            && self.p.is_empty()
            && self.x.is_empty()
            && self.ch.is_none()
            && self.r.is_none()
            && self.id.is_none()
            && self.a.is_none()
            && self.n.is_none()
            && !self.w
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

/// A principal kept on the page: its packed JSON, script-safe already.
#[derive(PartialEq, Eq)]
struct Kept {
    unused: u32,
    arn: String,
    seq: u64,
    json: String,
}

/// The heap's top is the principal to drop first: fewest unused services, then the
/// last ARN.
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .unused
            .cmp(&self.unused)
            .then_with(|| self.arn.cmp(&other.arn))
            .then_with(|| self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One page's data, folded principal by principal. Its memory is its byte budget, the
/// tables of names, and one principal being packed.
pub struct PageBuilder {
    as_of_epoch: Option<i64>,
    budget: usize,
    services: Names,
    service_counts: Vec<[u32; 4]>,
    policies: Names,
    actions: Names,
    kept: BinaryHeap<Kept>,
    kept_bytes: usize,
    /// Principals folded.
    principals: u64,
}

impl PageBuilder {
    /// A page judged at `as_of` that keeps at most `budget` bytes of principals and
    /// tables (0: none, as an overview).
    pub fn new(as_of: &str, budget: usize) -> PageBuilder {
        PageBuilder {
            as_of_epoch: utc::parse(as_of).map(|t| t.unix_timestamp()),
            budget,
            services: Names::default(),
            service_counts: Vec::new(),
            policies: Names::default(),
            actions: Names::default(),
            kept: BinaryHeap::new(),
            kept_bytes: 0,
            principals: 0,
        }
    }

    /// One principal: counted in the services' table, and kept if it fits.
    pub fn add(&mut self, o: &PrincipalOutcome) {
        self.principals += 1;
        for c in &o.services {
            let i = self.services.id(&c.ns) as usize;
            if i == self.service_counts.len() {
                self.service_counts.push([0; 4]);
            }
            let n = &mut self.service_counts[i];
            n[0] += 1;
            n[1 + class_code(c.class) as usize] += 1;
        }
        if self.budget == 0 {
            return;
        }
        let worst = self.kept.peek();
        let full = self.kept_bytes + self.tables_bytes() >= self.budget;
        if full && worst.is_some_and(|w| o.services_unused() < w.unused) {
            return; // it would be the first to go
        }
        let Some(principal) = self.pack(o) else {
            return;
        };
        let json = serde_json::to_string(&principal).unwrap_or_default();
        let kept = Kept {
            unused: o.services_unused(),
            arn: o.arn.clone(),
            seq: self.principals,
            json: script_safe(&json),
        };
        self.kept_bytes += kept.json.len() + 1;
        self.kept.push(kept);
        while self.kept_bytes + self.tables_bytes() > self.budget {
            match self.kept.pop() {
                Some(k) => self.kept_bytes -= k.json.len() + 1,
                None => break,
            }
        }
    }

    /// What the names' tables take on the page.
    fn tables_bytes(&self) -> usize {
        self.services.bytes + self.policies.bytes + self.actions.bytes
    }

    /// The principal packed against the tables; `None` when a number would not fit its
    /// digits (more services or policies than [`Widths`] holds).
    fn pack<'o>(&mut self, o: &'o PrincipalOutcome) -> Option<Principal<'o>> {
        let recommended = o.recommended.as_ref();
        let mut extra = Extra {
            e: o.error.as_ref(),
            r: recommended
                .map(|r| r.lines.as_slice())
                .filter(|l| !l.is_empty()),
            a: account_unless_the_arns(o),
            n: recommended.map(|r| r.recommendations).filter(|&n| n > 0),
            w: recommended.is_some_and(|r| r.withheld.is_some()),
            ..Extra::default()
        };
        if o.services.len() as u64 > most(ENC.c) + 1 {
            return None;
        }
        let mut cells = String::with_capacity(o.services.len() * (ENC.k + AGO_DIGITS));
        for (i, c) in o.services.iter().enumerate() {
            let k = u64::from(self.services.id(&c.ns) * 3 + class_code(c.class));
            if k > most(ENC.k) {
                return None;
            }
            push_digits(&mut cells, k, ENC.k);
            let mut irregular = None;
            push_when(&mut cells, c, self.as_of_epoch, &mut irregular);
            if let Some(v) = irregular {
                extra.i.insert(i, v);
            }
            for chunk in c.policies.chunks(POLICIES_PER_ENTRY) {
                push_digits(&mut extra.p, i as u64, ENC.c);
                push_digits(&mut extra.p, chunk.len() as u64, 1);
                for p in chunk {
                    let id = u64::from(self.policies.id(p));
                    if id > most(ENC.p) {
                        return None;
                    }
                    push_digits(&mut extra.p, id, ENC.p);
                }
            }
            if !c.actions.is_empty() {
                let flat = c
                    .actions
                    .iter()
                    .map(|a| {
                        (
                            self.actions.id(&a.action) * 3 + class_code(a.class),
                            action_when(a.last.as_deref(), self.as_of_epoch),
                        )
                    })
                    .collect();
                extra.x.insert(i, Flat(flat));
            }
        }
        let mark = match &o.changes {
            None => 0,
            Some(ch) if ch.recreated => {
                extra.id = o.principal_id.as_deref();
                4
            }
            Some(ch) if ch.new => 1,
            Some(ch) if ch.changed() => {
                extra.ch = Some(ch);
                2
            }
            Some(_) => 3,
        };
        Some(Principal {
            o,
            mark,
            cells,
            extra: (!extra.is_empty()).then_some(extra),
        })
    }

    /// About how many bytes the page's data takes (what is kept, its tables, a margin
    /// for the head).
    pub fn data_bytes(&self) -> usize {
        self.kept_bytes + self.tables_bytes() + 64 * 1024
    }

    /// Appends the page's data as script-safe JSON to `out`: the head, the tables, and
    /// the principals kept, in the order they came (each dropped once written: the
    /// page is held about once).
    pub fn write_data(self, head: &PageHead, out: &mut String) {
        let mut kept = self.kept.into_vec();
        kept.sort_unstable_by_key(|k| k.seq);
        let services: Vec<ServiceRow> = self
            .services
            .names
            .iter()
            .zip(&self.service_counts)
            .map(|(ns, counts)| ServiceRow {
                ns,
                counts: *counts,
            })
            .collect();
        let shown = Shown {
            principals: kept.len() as u64,
            of: self.principals,
            index_key: &head.index_key,
        };
        let fields = Fields {
            v: 2,
            enc: ENC,
            head,
            shown,
            services,
            policies: &self.policies.names,
            actions: &self.actions.names,
        };
        let json = serde_json::to_string(&fields).unwrap_or_else(|_| "{}".to_string());
        out.push_str(&script_safe(json.strip_suffix('}').unwrap_or(&json)));
        out.push_str(",\"principals\":[");
        for (i, k) in kept.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&k.json);
        }
        out.push_str("]}");
    }
}

/// The account a principal was scanned in, when its ARN does not say it: an AWS-managed
/// policy's ARN names `aws` (or an ARN that does not parse names nothing).
fn account_unless_the_arns(o: &PrincipalOutcome) -> Option<&str> {
    let arn = PrincipalArn::parse(&o.arn);
    let said = arn.as_ref().map(PrincipalArn::account).ok();
    (!o.account.is_empty() && said != Some(o.account.as_str())).then_some(o.account.as_str())
}

/// How many of the page's principals it shows, and where all of them are.
#[derive(Serialize)]
struct Shown<'a> {
    principals: u64,
    of: u64,
    index_key: &'a str,
}

/// The page's data but its principals (written after, by hand, already packed).
#[derive(Serialize)]
struct Fields<'a> {
    v: u32,
    enc: Widths,
    #[serde(flatten)]
    head: &'a PageHead,
    shown: Shown<'a>,
    services: Vec<ServiceRow<'a>>,
    policies: &'a [String],
    actions: &'a [String],
}
