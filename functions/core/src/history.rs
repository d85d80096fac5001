//! Runs over time: what changed since the previous completed run, and the last uses IAM
//! has forgotten (its window is 400 days) that an earlier run saw. Pure code: Plan finds
//! the previous run, Write reads the principal's previous report (one S3 read), and this
//! module compares them.

use crate::arn::PrincipalArn;
use crate::input::{Discovery, Granularity, Organization};
use crate::report::{ActionReport, PrincipalReport, ServiceReport, Usage};
use crate::run_summary::RunStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A run, as later runs name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    pub run_id: String,
    pub dt: String,
    pub as_of: String,
    /// Its reports' keys have an `account=` level (summary schema 3.0+).
    #[serde(default)]
    pub account_keys: bool,
}

/// What Plan reads of an earlier run's summary to choose the previous run (any schema).
#[derive(Debug, Clone, Deserialize)]
pub struct RunHead {
    #[serde(default)]
    pub schema_version: Option<String>,
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    /// Schema 1.1+; earlier summaries judged at `started_at`, the same instant.
    #[serde(default)]
    pub as_of: Option<String>,
    /// Schema 1.1+; a 1.0 summary was written only by a run that succeeded.
    #[serde(default)]
    pub status: Option<RunStatus>,
    pub parameters: RunHeadParameters,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunHeadParameters {
    pub granularity: Granularity,
    /// Schema 2.0+: see [`scope_of`].
    #[serde(default)]
    pub scope: Option<String>,
}

/// What a run scans, as a short stable id: FNV-1a (64 bits) of its discovery filter and
/// its sorted explicit ARNs. Runs compare only with runs of the same scope, so a one-off
/// scan of one ARN never becomes the nightly scan's "previous run" (which would make
/// every other principal "gone", then "new").
pub fn scope_of(
    arns: &[PrincipalArn],
    discover: Option<&Discovery>,
    organization: Option<&Organization>,
) -> String {
    let mut sorted: Vec<String> = arns.iter().map(ToString::to_string).collect();
    sorted.sort();
    let mut canonical = serde_json::json!({"arns": sorted, "discover": discover});
    // Which accounts, not how (role, parallelism, access report); a run of the stack's
    // own account keeps the scope it had before organization runs.
    if let Some(o) = organization {
        canonical["organization"] =
            serde_json::json!({"selection": o.selection, "exclude": o.exclude});
    }
    let canonical = canonical.to_string();
    let hash = canonical.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The previous completed run: the latest SUCCEEDED run of the same scope at
/// `granularity` that started before `before` (RFC 3339 UTC, which sorts as text). A run
/// still going has no summary yet, so two overlapping runs both compare against the last
/// one that finished.
pub fn choose_previous(
    heads: &[RunHead],
    granularity: Granularity,
    scope: &str,
    before: &str,
) -> Option<RunRef> {
    latest(heads, granularity, Some(scope), before)
        // After an upgrade: a 1.x run, which recorded no scope.
        .or_else(|| latest(heads, granularity, None, before))
}

fn latest(
    heads: &[RunHead],
    granularity: Granularity,
    scope: Option<&str>,
    before: &str,
) -> Option<RunRef> {
    heads
        .iter()
        .filter(|h| h.status.unwrap_or(RunStatus::Succeeded) == RunStatus::Succeeded)
        .filter(|h| h.parameters.granularity == granularity)
        .filter(|h| h.parameters.scope.as_deref() == scope)
        .map(|h| (h.as_of.as_deref().unwrap_or(&h.started_at), h))
        .filter(|(as_of, _)| *as_of < before)
        .max_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.run_id.cmp(&b.1.run_id)))
        .map(|(as_of, h)| RunRef {
            run_id: h.run_id.clone(),
            dt: h.dt.clone(),
            as_of: as_of.to_string(),
            account_keys: h
                .schema_version
                .as_deref()
                .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
                .is_some_and(|major| major >= 3),
        })
}

/// The previous run and this principal's report in it (`None`: not in that run).
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub run: &'a RunRef,
    pub report: Option<&'a PrincipalReport>,
}

/// A last use that IAM no longer reports, as the run that saw it recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastUse {
    pub time: String,
    pub entity: Option<String>,
    pub region: Option<String>,
    /// The run whose report first carried this last use from IAM.
    pub run_id: String,
}

/// How one list of classes (services, or tracked actions) moved between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClassChanges {
    /// Active now, and not active before (stale, never used, or not granted).
    pub newly_used: Vec<String>,
    /// Stale now, active before.
    pub newly_stale: Vec<String>,
    /// Never used now, used (active or stale) before.
    pub newly_never_used: Vec<String>,
    pub granted_added: Vec<String>,
    pub granted_removed: Vec<String>,
}

impl ClassChanges {
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// How many services (or actions) changed: the size of the change.
    pub fn size(&self) -> usize {
        self.newly_used.len()
            + self.newly_stale.len()
            + self.newly_never_used.len()
            + self.granted_added.len()
            + self.granted_removed.len()
    }
}

/// A report's `changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// The run compared against; `None` on the first run at this granularity.
    pub previous_run: Option<RunRef>,
    /// Seen for the first time: the previous run had no report of this principal.
    pub new: bool,
    #[serde(flatten)]
    pub services: ClassChanges,
    /// ACTION_LEVEL: the same, for tracked actions (`service:Action`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<ClassChanges>,
}

impl Changes {
    /// Not new, and something moved.
    pub fn changed(&self) -> bool {
        let nothing_moved =
            self.services.is_empty() && self.actions.as_ref().is_none_or(ClassChanges::is_empty);
        !(self.new || nothing_moved)
    }

    pub fn size(&self) -> usize {
        self.services.size() + self.actions.as_ref().map_or(0, ClassChanges::size)
    }
}

/// Compares two maps of name → class.
pub fn diff(before: &BTreeMap<String, Usage>, now: &BTreeMap<String, Usage>) -> ClassChanges {
    let mut c = ClassChanges::default();
    for (name, &class) in now {
        let was = before.get(name).copied();
        if was.is_none() {
            c.granted_added.push(name.clone());
        }
        match (class, was) {
            (Usage::Active, w) if w != Some(Usage::Active) => c.newly_used.push(name.clone()),
            (Usage::Stale, Some(Usage::Active)) => c.newly_stale.push(name.clone()),
            (Usage::NeverUsed, Some(Usage::Active | Usage::Stale)) => {
                c.newly_never_used.push(name.clone())
            }
            _ => {}
        }
    }
    c.granted_removed = before
        .keys()
        .filter(|k| !now.contains_key(*k))
        .cloned()
        .collect();
    c
}

fn service_classes(services: &[ServiceReport]) -> BTreeMap<String, Usage> {
    services
        .iter()
        .map(|s| (s.namespace.clone(), s.usage))
        .collect()
}

fn action_classes(services: &[ServiceReport]) -> BTreeMap<String, Usage> {
    services
        .iter()
        .flat_map(|s| s.tracked_actions.iter().flatten())
        .map(|a| (a.action.clone(), a.usage))
        .collect()
}

/// A report's `changes`: `None` when there is nothing to compare (this job or the
/// previous report's not COMPLETED).
pub fn changes(
    previous: Option<Previous<'_>>,
    completed: bool,
    services: &[ServiceReport],
    action_level: bool,
) -> Option<Changes> {
    if !completed {
        return None;
    }
    let Some(previous) = previous else {
        return Some(Changes {
            previous_run: None,
            new: true,
            services: ClassChanges::default(),
            actions: None,
        });
    };
    let run = Some(previous.run.clone());
    let Some(before) = previous.report else {
        return Some(Changes {
            previous_run: run,
            new: true,
            services: ClassChanges::default(),
            actions: None,
        });
    };
    if !before.job.status.is_completed() {
        return None;
    }
    Some(Changes {
        previous_run: run,
        new: false,
        services: diff(
            &service_classes(&before.services),
            &service_classes(services),
        ),
        actions: action_level
            .then(|| diff(&action_classes(&before.services), &action_classes(services))),
    })
}

/// A last use a report keeps though its job did not complete, so that one failed job
/// does not erase what earlier runs saw (`carried_history`, schema 2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedUse {
    pub namespace: String,
    pub last_authenticated_ever: Option<PastUse>,
    /// Tracked actions: `service:Action` and its last use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<(String, PastUse)>,
}

/// What a report whose job did not complete carries: every last use its previous report
/// knew (its own services' dates, or what it carried in turn).
pub fn carry(previous: Option<Previous<'_>>) -> Vec<CarriedUse> {
    let Some((run, before)) = previous.and_then(|p| p.report.map(|r| (p.run, r))) else {
        return Vec::new();
    };
    if !before.job.status.is_completed() {
        return before.carried_history.clone();
    }
    before
        .services
        .iter()
        .map(|s| CarriedUse {
            namespace: s.namespace.clone(),
            last_authenticated_ever: service_ever(s, run),
            actions: s
                .tracked_actions
                .iter()
                .flatten()
                .filter_map(|a| Some((a.action.clone(), action_ever(a, run)?)))
                .collect(),
        })
        .filter(|c| c.last_authenticated_ever.is_some() || !c.actions.is_empty())
        .collect()
}

/// What earlier runs saw of a service: from the previous report's services when its job
/// completed, else from what it carried.
pub fn past_use(previous: Option<Previous<'_>>, namespace: &str) -> Option<PastUse> {
    let p = previous?;
    let before = p.report?;
    if before.job.status.is_completed() {
        let s = before.services.iter().find(|s| s.namespace == namespace)?;
        service_ever(s, p.run)
    } else {
        before
            .carried_history
            .iter()
            .find(|c| c.namespace == namespace)?
            .last_authenticated_ever
            .clone()
    }
}

/// The same, for a tracked action (`service:Action`).
pub fn past_action_use(
    previous: Option<Previous<'_>>,
    namespace: &str,
    action: &str,
) -> Option<PastUse> {
    let p = previous?;
    let before = p.report?;
    if before.job.status.is_completed() {
        let a = before
            .services
            .iter()
            .find(|s| s.namespace == namespace)?
            .tracked_actions
            .as_ref()?
            .iter()
            .find(|a| a.action == action)?;
        action_ever(a, p.run)
    } else {
        before
            .carried_history
            .iter()
            .find(|c| c.namespace == namespace)?
            .actions
            .iter()
            .find(|(name, _)| name == action)
            .map(|(_, used)| used.clone())
    }
}

/// What an earlier run saw of a service IAM now reports as never used: the previous
/// report's own IAM date (that run is its source), or what that report carried.
pub fn service_ever(before: &ServiceReport, run: &RunRef) -> Option<PastUse> {
    match &before.last_authenticated {
        Some(time) => Some(PastUse {
            time: time.clone(),
            entity: before.last_authenticated_entity.clone(),
            region: before.last_authenticated_region.clone(),
            run_id: run.run_id.clone(),
        }),
        None => before.last_authenticated_ever.clone(),
    }
}

/// The same, for a tracked action.
pub fn action_ever(before: &ActionReport, run: &RunRef) -> Option<PastUse> {
    match &before.last_accessed_time {
        Some(time) => Some(PastUse {
            time: time.clone(),
            entity: before.last_accessed_entity.clone(),
            region: before.last_accessed_region.clone(),
            run_id: run.run_id.clone(),
        }),
        None => before.last_accessed_ever.clone(),
    }
}

#[cfg(test)]
mod tests;
