//! A carried report's data: what IAM said in the previous report, as IAM would say it
//! again (`details_of`), to be built and judged at this run's `as_of` like a fresh job;
//! and a sampled principal's fresh report against its carried one (`differences`); a
//! group's or policy's previous report against its witnesses' fresh ones
//! (`witnessed_unchanged`).

use crate::domain::clock::utc;
use crate::domain::incremental::ADVISOR_LAG_HOURS;
use crate::domain::report::{
    ActionAccess, CarriedFrom, JobDetails, PrincipalReport, ServiceAccess,
};
use std::collections::BTreeMap;

/// The previous report's IAM data, as the job that made it returned it: its services
/// with IAM's own last uses (the ones history kept are inherited again from the report
/// itself, as the previous report), its entities and granting policies, its job's dates.
pub fn details_of(report: &PrincipalReport) -> JobDetails {
    let mut entities = Vec::new();
    let mut granting = Vec::new();
    let services = report
        .services
        .iter()
        .map(|s| {
            if let Some(e) = &s.entities {
                entities.push((s.namespace.clone(), e.clone()));
            }
            if let Some(g) = &s.granting_policies {
                granting.push((s.namespace.clone(), g.clone()));
            }
            ServiceAccess {
                name: s.name.clone(),
                namespace: s.namespace.clone(),
                last_authenticated: s.last_authenticated.clone(),
                last_authenticated_entity: s.last_authenticated_entity.clone(),
                last_authenticated_region: s.last_authenticated_region.clone(),
                total_authenticated_entities: s.total_authenticated_entities,
                tracked_actions: s.tracked_actions.as_ref().map(|actions| {
                    actions
                        .iter()
                        .map(|a| ActionAccess {
                            action_name: Some(
                                a.action
                                    .split_once(':')
                                    .map_or(a.action.as_str(), |(_, n)| n)
                                    .to_string(),
                            ),
                            last_accessed_time: a.last_accessed_time.clone(),
                            last_accessed_entity: a.last_accessed_entity.clone(),
                            last_accessed_region: a.last_accessed_region.clone(),
                        })
                        .collect()
                }),
            }
        })
        .collect();
    JobDetails {
        job_type: report.job.job_type.clone(),
        created: report.job.created.clone(),
        completed: report.job.completed.clone(),
        error: None,
        services,
        entities,
        granting_policies: granting,
    }
}

/// Whence a report carried from `previous` comes: that report's run, and the time of
/// the IAM data it holds (its job's creation; a carried report keeps its first job's).
pub fn carried_from(previous: &PrincipalReport) -> Option<CarriedFrom> {
    Some(CarriedFrom {
        run_id: previous.run_id.clone(),
        as_of: previous.as_of.clone(),
        data_as_of: previous.job.created.clone()?,
    })
}

/// The same instant, or both none.
fn same_time(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            x == y
                || utc::parse(x)
                    .zip(utc::parse(y))
                    .is_some_and(|(x, y)| x == y)
        }
        _ => false,
    }
}

/// A service as a user reads it: its class, its last use, its tracked actions' (each
/// action, its class, its last use), sorted.
type Reading = (
    String,
    Option<String>,
    Vec<(String, String, Option<String>)>,
);

/// Where a fresh report and the carried one differ in what a user reads: the services
/// granted, each one's class and last use, each tracked action's. Empty: they agree.
pub fn differences(fresh: &PrincipalReport, carried: &PrincipalReport) -> Vec<String> {
    let by_ns = |r: &PrincipalReport| -> BTreeMap<String, Reading> {
        r.services
            .iter()
            .map(|s| {
                let last = s
                    .last_authenticated
                    .clone()
                    .or_else(|| s.last_authenticated_ever.as_ref().map(|e| e.time.clone()));
                let actions = s
                    .tracked_actions
                    .iter()
                    .flatten()
                    .map(|a| {
                        let last = a
                            .last_accessed_time
                            .clone()
                            .or_else(|| a.last_accessed_ever.as_ref().map(|e| e.time.clone()));
                        (a.action.clone(), a.usage.as_str().to_string(), last)
                    })
                    .collect::<Vec<_>>();
                let mut actions = actions;
                actions.sort();
                (
                    s.namespace.clone(),
                    (s.usage.as_str().to_string(), last, actions),
                )
            })
            .collect()
    };
    let (now, then) = (by_ns(fresh), by_ns(carried));
    let mut out = Vec::new();
    for ns in now.keys().filter(|ns| !then.contains_key(*ns)) {
        out.push(format!("{ns}: granted now, not in the carried report"));
    }
    for ns in then.keys().filter(|ns| !now.contains_key(*ns)) {
        out.push(format!("{ns}: in the carried report, not granted now"));
    }
    for (ns, (class, last, actions)) in &now {
        let Some((c_class, c_last, c_actions)) = then.get(ns) else {
            continue;
        };
        if class != c_class || !same_time(last.as_deref(), c_last.as_deref()) {
            out.push(format!(
                "{ns}: {class} (last use {}) now, {c_class} (last use {}) carried",
                last.as_deref().unwrap_or("none"),
                c_last.as_deref().unwrap_or("none")
            ));
        }
        let same_actions = actions.len() == c_actions.len()
            && actions.iter().zip(c_actions).all(|(a, b)| {
                a.0 == b.0 && a.1 == b.1 && same_time(a.2.as_deref(), b.2.as_deref())
            });
        if !same_actions {
            out.push(format!("{ns}: tracked actions differ"));
        }
    }
    out
}

/// Whether a group's or managed policy's `previous` report still holds, by the fresh
/// reports (this run's) of the users and roles used since its data (`witnesses`, by
/// ARN; `None`: no fresh report). A use through it is a use by one of them, which
/// their own report records (every service their policies grant, its last use), so
/// it holds when each witness's report is COMPLETED and shows each of its services
/// last used, if ever, before its data less IAM's four hours (a use that old was
/// already in it). A service missing from a witness's report (a boundary, or a
/// grant IAM reads otherwise) is not known unused: it does not hold. `Err`: why not.
pub fn witnessed_unchanged(
    previous: &PrincipalReport,
    witnesses: &[(&str, Option<&PrincipalReport>)],
) -> Result<(), String> {
    let data = previous
        .job
        .created
        .as_deref()
        .and_then(utc::parse)
        .ok_or("the previous report has no job time")?;
    let horizon = data - time::Duration::hours(ADVISOR_LAG_HOURS);
    for (arn, fresh) in witnesses {
        let fresh = fresh
            .filter(|r| r.job.status.is_completed() && r.carried_from.is_none())
            .ok_or_else(|| format!("{arn}: no fresh COMPLETED report this run"))?;
        let last: BTreeMap<&str, Option<&str>> = fresh
            .services
            .iter()
            .map(|s| (s.namespace.as_str(), s.last_authenticated.as_deref()))
            .collect();
        for s in &previous.services {
            match last.get(s.namespace.as_str()) {
                None => return Err(format!("{arn}: {} not in its report", s.namespace)),
                Some(Some(t)) if utc::parse(t).is_none_or(|t| t >= horizon) => {
                    return Err(format!("{arn}: used {} at {t}", s.namespace))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}
