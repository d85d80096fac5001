//! Building a principal's report from what IAM returned: pure code, no I/O.

use crate::arn::{PrincipalArn, PrincipalType};
use crate::input::{Granularity, ReportOptions};
use crate::model::{JobError, JobStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub const REPORT_SCHEMA_VERSION: &str = "1.1.0";

use crate::clock::utc;

/// One service as IAM reported it (GetServiceLastAccessedDetails), times as RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccess {
    pub name: String,
    pub namespace: String,
    pub last_authenticated: Option<String>,
    pub last_authenticated_entity: Option<String>,
    pub last_authenticated_region: Option<String>,
    pub total_authenticated_entities: Option<i32>,
    /// `None`: IAM has no action-level tracking for this service (or SERVICE_LEVEL).
    pub tracked_actions: Option<Vec<ActionAccess>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionAccess {
    pub action_name: Option<String>,
    pub last_accessed_time: Option<String>,
    pub last_accessed_entity: Option<String>,
    pub last_accessed_region: Option<String>,
}

/// A user or role behind a group's or policy's use of a service (…WithEntities).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityAccess {
    pub arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: String,
    pub path: Option<String>,
    pub last_authenticated: Option<String>,
}

/// A policy that grants a service (ListPoliciesGrantingServiceAccess).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantingPolicy {
    pub policy_name: String,
    pub policy_type: String,
    pub policy_arn: Option<String>,
    pub entity_type: Option<String>,
    pub entity_name: Option<String>,
}

/// Everything IAM said about one finished job.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobDetails {
    pub job_type: Option<String>,
    pub created: Option<String>,
    pub completed: Option<String>,
    pub error: Option<JobError>,
    pub services: Vec<ServiceAccess>,
    /// namespace → entities, for the services that were asked about.
    pub entities: Vec<(String, Vec<EntityAccess>)>,
    /// namespace → granting policies, for the services that were asked about.
    pub granting_policies: Vec<(String, Vec<GrantingPolicy>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSection {
    pub id: Option<String>,
    pub granularity: Granularity,
    pub status: JobStatus,
    pub job_type: Option<String>,
    pub created: Option<String>,
    pub completed: Option<String>,
    pub error: Option<JobError>,
}

/// How a service was used, judged against the run's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// Used within the last `unused_days`.
    Used,
    /// Last used `unused_days` or more ago.
    Unused,
    /// No use in IAM's tracking window (400 days).
    NeverUsed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    pub action: String,
    pub usage: Usage,
    pub last_accessed_time: Option<String>,
    pub last_accessed_entity: Option<String>,
    pub last_accessed_region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceReport {
    pub namespace: String,
    pub name: String,
    pub usage: Usage,
    pub days_since_last_authenticated: Option<i64>,
    pub last_authenticated: Option<String>,
    pub last_authenticated_entity: Option<String>,
    pub last_authenticated_region: Option<String>,
    pub total_authenticated_entities: Option<i32>,
    /// ACTION_LEVEL only: whether IAM tracks this service's actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_tracking: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracked_actions: Option<Vec<ActionReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<Vec<EntityAccess>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granting_policies: Option<Vec<GrantingPolicy>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Findings {
    pub unused_days: u32,
    pub services_granted: u32,
    pub services_used: u32,
    /// Namespaces last used `unused_days` or more ago.
    pub unused_services: Vec<String>,
    /// Namespaces never used in the tracking window.
    pub never_used_services: Vec<String>,
    /// ACTION_LEVEL: `service:Action` last used `unused_days` or more ago.
    pub unused_actions: Vec<String>,
    /// ACTION_LEVEL: `service:Action` never used in the tracking window.
    pub never_used_actions: Vec<String>,
    /// ACTION_LEVEL: granted services whose actions IAM does not track.
    pub services_without_action_tracking: Vec<String>,
}

impl Findings {
    /// Services worth cutting: unused for the threshold or never used.
    pub fn cut_candidates(&self) -> u32 {
        (self.unused_services.len() + self.never_used_services.len()) as u32
    }
}

/// The JSON document stored for one principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalReport {
    pub schema_version: String,
    pub arn: String,
    #[serde(rename = "type")]
    pub principal_type: PrincipalType,
    pub name: String,
    pub path: String,
    pub account: String,
    pub partition: String,
    pub run_id: String,
    /// When the report was written.
    pub generated_at: String,
    /// The instant "days since last use" and "unused" are judged at: the run's start,
    /// the same for every report of the run (schema 1.1).
    pub as_of: String,
    pub job: JobSection,
    pub services: Vec<ServiceReport>,
    pub findings: Findings,
}

/// What the report is about and when it is made.
pub struct ReportContext<'a> {
    pub arn: &'a PrincipalArn,
    pub run_id: &'a str,
    pub granularity: Granularity,
    pub options: &'a ReportOptions,
    /// The run's `as_of` (its start): every judgement of the report is made at it.
    pub as_of: OffsetDateTime,
    /// When the report is written.
    pub written_at: OffsetDateTime,
}

fn usage_of(last: Option<&str>, now: OffsetDateTime, unused_days: u32) -> (Usage, Option<i64>) {
    match last.and_then(utc::parse) {
        None => (Usage::NeverUsed, None),
        Some(t) => {
            let days = (now - t).whole_days().max(0);
            (
                if days >= unused_days as i64 {
                    Usage::Unused
                } else {
                    Usage::Used
                },
                Some(days),
            )
        }
    }
}

/// Builds the report of a principal whose job ended with `status`.
pub fn build_report(
    ctx: &ReportContext<'_>,
    job_id: Option<&str>,
    status: JobStatus,
    details: JobDetails,
) -> PrincipalReport {
    let unused_days = ctx.options.unused_days;
    let action_level = ctx.granularity == Granularity::ActionLevel;
    let mut findings = Findings {
        unused_days,
        ..Findings::default()
    };
    let mut entities = details.entities;
    let mut granting = details.granting_policies;
    let mut services: Vec<ServiceReport> = Vec::with_capacity(details.services.len());
    for s in details.services {
        let (usage, days) = usage_of(s.last_authenticated.as_deref(), ctx.as_of, unused_days);
        match usage {
            Usage::Used => findings.services_used += 1,
            Usage::Unused => {
                findings.services_used += 1;
                findings.unused_services.push(s.namespace.clone());
            }
            Usage::NeverUsed => findings.never_used_services.push(s.namespace.clone()),
        }
        let tracked_actions = s.tracked_actions.map(|actions| {
            actions
                .into_iter()
                .map(|a| {
                    let (usage, _) =
                        usage_of(a.last_accessed_time.as_deref(), ctx.as_of, unused_days);
                    let action = format!("{}:{}", s.namespace, a.action_name.unwrap_or_default());
                    match usage {
                        Usage::Unused => findings.unused_actions.push(action.clone()),
                        Usage::NeverUsed => findings.never_used_actions.push(action.clone()),
                        Usage::Used => {}
                    }
                    ActionReport {
                        action,
                        usage,
                        last_accessed_time: a.last_accessed_time,
                        last_accessed_entity: a.last_accessed_entity,
                        last_accessed_region: a.last_accessed_region,
                    }
                })
                .collect::<Vec<_>>()
        });
        if action_level && tracked_actions.is_none() {
            findings
                .services_without_action_tracking
                .push(s.namespace.clone());
        }
        services.push(ServiceReport {
            entities: take_for(&mut entities, &s.namespace),
            granting_policies: take_for(&mut granting, &s.namespace),
            action_tracking: action_level.then_some(tracked_actions.is_some()),
            tracked_actions,
            namespace: s.namespace,
            name: s.name,
            usage,
            days_since_last_authenticated: days,
            last_authenticated: s.last_authenticated,
            last_authenticated_entity: s.last_authenticated_entity,
            last_authenticated_region: s.last_authenticated_region,
            total_authenticated_entities: s.total_authenticated_entities,
        });
    }
    findings.services_granted = services.len() as u32;
    let arn = ctx.arn;
    PrincipalReport {
        schema_version: REPORT_SCHEMA_VERSION.to_string(),
        arn: arn.to_string(),
        principal_type: arn.kind(),
        name: arn.name().to_string(),
        path: arn.path().to_string(),
        account: arn.account().to_string(),
        partition: arn.partition().to_string(),
        run_id: ctx.run_id.to_string(),
        generated_at: utc::format(ctx.written_at),
        as_of: utc::format(ctx.as_of),
        job: JobSection {
            id: job_id.map(str::to_string),
            granularity: ctx.granularity,
            status,
            job_type: details.job_type,
            created: details.created,
            completed: details.completed,
            error: details.error,
        },
        services,
        findings,
    }
}

fn take_for<T>(list: &mut Vec<(String, Vec<T>)>, namespace: &str) -> Option<Vec<T>> {
    list.iter()
        .position(|(ns, _)| ns == namespace)
        .map(|i| list.swap_remove(i).1)
}

/// Namespaces of a report's services that were not used within the threshold
/// (the ones whose granting policies are worth naming).
pub fn unused_namespaces(
    services: &[ServiceAccess],
    now: OffsetDateTime,
    unused_days: u32,
) -> Vec<String> {
    services
        .iter()
        .filter(|s| usage_of(s.last_authenticated.as_deref(), now, unused_days).0 != Usage::Used)
        .map(|s| s.namespace.clone())
        .collect()
}

#[cfg(test)]
mod tests;
