//! Runs over time: what changed since the previous completed run, and the last uses IAM
//! has forgotten (its window is 400 days) that an earlier run saw. Pure code: Plan finds
//! the previous run, Write reads the principal's previous report (one S3 read), and this
//! module compares them.
//!
//! History follows IAM's unique id, not the ARN: a previous report whose `principal_id`
//! differs from this principal's is another principal's ([`same_principal`]). A report
//! without one (schema before 3.1, or an id Plan could not read) is matched by ARN.

use crate::domain::report::{
    ActionReport, CarriedUse, Changes, ClassChanges, PastUse, Previous, ServiceReport,
};
use crate::domain::run::RunRef;
use crate::domain::usage::Usage;
use std::collections::BTreeMap;

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

/// The previous report as this principal's own: a report of the same ARN whose
/// `principal_id` differs is of a principal since deleted (the ARN was re-created),
/// which this one inherits nothing from. Returns the previous run with that report
/// left out, and whether it was so (`changes.recreated`). Either id unknown: the ARN
/// decides, as before schema 3.1.
pub fn same_principal<'a>(
    previous: Option<Previous<'a>>,
    principal_id: Option<&str>,
) -> (Option<Previous<'a>>, bool) {
    let Some(p) = previous else {
        return (None, false);
    };
    let before = p.report.and_then(|r| r.principal_id.as_deref());
    match (before, principal_id) {
        (Some(before), Some(now)) if before != now => (
            Some(Previous {
                run: p.run,
                report: None,
            }),
            true,
        ),
        _ => (Some(p), false),
    }
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
            recreated: false,
            services: ClassChanges::default(),
            actions: None,
        });
    };
    let run = Some(previous.run.clone());
    let Some(before) = previous.report else {
        return Some(Changes {
            previous_run: run,
            new: true,
            recreated: false,
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
        recreated: false,
        services: diff(
            &service_classes(&before.services),
            &service_classes(services),
        ),
        actions: action_level
            .then(|| diff(&action_classes(&before.services), &action_classes(services))),
    })
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
