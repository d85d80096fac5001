//! The page's data: the summary's heads, the services' and names' tables, and each
//! principal packed (`packing`).

use super::packing::{
    action_when, class_code, push_digits, push_when, width, Flat, Names, AGO_DIGITS,
    POLICIES_PER_ENTRY,
};
use crate::domain::clock::utc;
use crate::domain::outcome::PrincipalOutcome;
use crate::domain::report::Changes;
use crate::domain::summary::RunSummary;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Serialize)]
pub(super) struct PageData<'a> {
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
    failure: Option<&'a crate::domain::sfn::StepFunctionsError>,
}

/// The summary's `changes`, as they are.
#[derive(Serialize)]
struct ChangesHead<'a> {
    previous_run: &'a Option<crate::domain::run::RunRef>,
    principals_new: u32,
    principals_recreated: u32,
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

impl<'a> PageData<'a> {
    pub(super) fn of(summary: &'a RunSummary, outcomes: &'a [PrincipalOutcome]) -> PageData<'a> {
        let as_of_epoch = utc::parse(&summary.as_of).map(|t| t.unix_timestamp());
        let services = service_rows(outcomes);
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
            for p in o.services.iter().flat_map(|c| &c.policies) {
                policies.id(p);
            }
        }
        let enc = Widths {
            k: width((services.len() * 3).saturating_sub(1)),
            c: width(most_cells.saturating_sub(1)),
            p: width(policies.names.len().saturating_sub(1)),
        };
        let mut packer = Packer {
            enc,
            as_of_epoch,
            service_id,
            policies,
            actions: Names::default(),
        };
        let principals = outcomes.iter().map(|o| packer.principal(o)).collect();
        PageData {
            v: 2,
            enc,
            run: RunHead::of(summary, as_of_epoch),
            counts: &summary.counts,
            changes: ChangesHead::of(summary),
            top_unused: &summary.top_unused,
            missing: &summary.missing,
            services,
            policies: packer.policies.names,
            actions: packer.actions.names,
            principals,
        }
    }
}

/// Services, most granted first: their index is their place in that order.
fn service_rows(outcomes: &[PrincipalOutcome]) -> Vec<ServiceRow<'_>> {
    let mut per_service: HashMap<&str, [u32; 4]> = HashMap::new();
    for c in outcomes.iter().flat_map(|o| &o.services) {
        let n = per_service.entry(c.ns.as_str()).or_default();
        n[0] += 1;
        n[1 + class_code(c.class) as usize] += 1;
    }
    let mut services: Vec<ServiceRow> = per_service
        .into_iter()
        .map(|(ns, counts)| ServiceRow { ns, counts })
        .collect();
    services.sort_by(|a, b| b.counts[0].cmp(&a.counts[0]).then(a.ns.cmp(b.ns)));
    services
}

/// Packs each principal against the run's tables (the actions' table grows as it goes).
struct Packer<'a> {
    enc: Widths,
    as_of_epoch: Option<i64>,
    service_id: HashMap<&'a str, u32>,
    policies: Names<'a>,
    actions: Names<'a>,
}

impl<'a> Packer<'a> {
    fn principal(&mut self, o: &'a PrincipalOutcome) -> Principal<'a> {
        let enc = self.enc;
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
            let k = self.service_id[c.ns.as_str()] * 3 + class_code(c.class);
            push_digits(&mut cells, u64::from(k), enc.k);
            let mut irregular = None;
            push_when(&mut cells, c, self.as_of_epoch, &mut irregular);
            if let Some(v) = irregular {
                extra.i.insert(i, v);
            }
            for chunk in c.policies.chunks(POLICIES_PER_ENTRY) {
                push_digits(&mut extra.p, i as u64, enc.c);
                push_digits(&mut extra.p, chunk.len() as u64, 1);
                for p in chunk {
                    push_digits(&mut extra.p, u64::from(self.policies.id(p)), enc.p);
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
        Principal {
            o,
            mark,
            cells,
            extra: (!extra.is_empty()).then_some(extra),
        }
    }
}

impl<'a> RunHead<'a> {
    fn of(summary: &'a RunSummary, as_of_epoch: Option<i64>) -> Self {
        RunHead {
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
        }
    }
}

impl<'a> ChangesHead<'a> {
    fn of(summary: &'a RunSummary) -> Self {
        let ch = &summary.changes;
        ChangesHead {
            previous_run: &ch.previous_run,
            principals_new: ch.principals_new,
            principals_recreated: ch.principals_recreated,
            principals_gone: ch.principals_gone,
            principals_changed: ch.principals_changed,
            principals_unchanged: ch.principals_unchanged,
            principals_not_compared: ch.principals_not_compared,
            gone: &ch.gone,
            largest: &ch.largest,
        }
    }
}
