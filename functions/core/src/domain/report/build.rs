//! A principal's report from what IAM returned, judged at the run's `as_of`.

use crate::domain::arn::PrincipalArn;
use crate::domain::clock::utc;
use crate::domain::input::{Granularity, ReportOptions};
use crate::domain::job::JobStatus;
use crate::domain::recommend::{Judgement, Slice};
use crate::domain::report::history;
use crate::domain::report::{
    ActionAccess, ActionReport, Findings, JobDetails, JobSection, Previous, PrincipalReport,
    ServiceAccess, ServiceReport, REPORT_SCHEMA_VERSION,
};
use crate::domain::usage::Usage;
use time::OffsetDateTime;

/// What the report is about and when it is made.
pub struct ReportContext<'a> {
    pub arn: &'a PrincipalArn,
    /// IAM's unique id of the principal, when Plan read it.
    pub principal_id: Option<&'a str>,
    pub run_id: &'a str,
    pub granularity: Granularity,
    pub options: &'a ReportOptions,
    /// The run's `as_of` (its start): every judgement of the report is made at it.
    pub as_of: OffsetDateTime,
    /// When the report is written.
    pub written_at: OffsetDateTime,
    /// The previous run of the principal's account (same scope and granularity), and
    /// the report of its ARN in it; of another principal when the ids differ.
    pub previous: Option<Previous<'a>>,
}

/// Builds the report of a principal whose job ended with `status`.
pub fn build_report(
    ctx: &ReportContext<'_>,
    job_id: Option<&str>,
    status: JobStatus,
    details: JobDetails,
) -> PrincipalReport {
    let (previous, recreated) = history::same_principal(ctx.previous, ctx.principal_id);
    let ctx = &ReportContext { previous, ..*ctx };
    let unused_days = ctx.options.unused_days;
    let action_level = ctx.granularity == Granularity::ActionLevel;
    let mut entities = details.entities;
    let mut granting = details.granting_policies;
    let services: Vec<ServiceReport> = details
        .services
        .into_iter()
        .map(|s| {
            let mut report = service_report(ctx, s);
            report.entities = take_for(&mut entities, &report.namespace);
            report.granting_policies = take_for(&mut granting, &report.namespace);
            report
        })
        .collect();
    let findings = Findings::of(&services, unused_days, action_level);
    let mut changes =
        history::changes(ctx.previous, status.is_completed(), &services, action_level);
    if let Some(c) = &mut changes {
        c.recreated = recreated;
    }
    let arn = ctx.arn;
    PrincipalReport {
        schema_version: REPORT_SCHEMA_VERSION.to_string(),
        arn: arn.to_string(),
        principal_type: arn.kind(),
        principal_id: ctx.principal_id.map(str::to_string),
        name: arn.name().to_string(),
        path: arn.path().to_string(),
        account: arn.account().to_string(),
        scanned_account: arn.account().to_string(),
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
        changes,
        recommendations: None,
        recommendations_withheld: None,
        recommendation_notes: Vec::new(),
        carried_history: if status.is_completed() {
            Vec::new()
        } else {
            history::carry(ctx.previous)
        },
        credentials: None,
        fingerprint: None,
        carried_from: None,
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
        .filter(|s| Usage::of(s.last_authenticated.as_deref(), now, unused_days).0 != Usage::Active)
        .map(|s| s.namespace.clone())
        .collect()
}
impl Findings {
    /// The findings of a report's services: each counted in exactly one class.
    pub fn of(services: &[ServiceReport], unused_days: u32, action_level: bool) -> Findings {
        let mut f = Findings {
            unused_days,
            services_granted: services.len() as u32,
            ..Findings::default()
        };
        for s in services {
            match s.usage {
                Usage::Active => f.services_active += 1,
                Usage::Stale => {
                    f.services_stale += 1;
                    f.stale_services.push(s.namespace.clone());
                }
                Usage::NeverUsed => {
                    f.services_never_used += 1;
                    f.never_used_services.push(s.namespace.clone());
                }
            }
            for a in s.tracked_actions.iter().flatten() {
                match a.usage {
                    Usage::Stale => f.stale_actions.push(a.action.clone()),
                    Usage::NeverUsed => f.never_used_actions.push(a.action.clone()),
                    Usage::Active => {}
                }
            }
            if action_level && s.tracked_actions.is_none() {
                f.services_without_action_tracking.push(s.namespace.clone());
            }
        }
        f
    }
}

/// One service of the report, judged (with the last use history kept where IAM has none).
fn service_report(ctx: &ReportContext<'_>, s: ServiceAccess) -> ServiceReport {
    let action_level = ctx.granularity == Granularity::ActionLevel;
    let ever = match s.last_authenticated {
        None => history::past_use(ctx.previous, &s.namespace),
        Some(_) => None,
    };
    let (usage, days) = Usage::of(
        s.last_authenticated
            .as_deref()
            .or(ever.as_ref().map(|e| e.time.as_str())),
        ctx.as_of,
        ctx.options.unused_days,
    );
    let tracked_actions = s.tracked_actions.map(|actions| {
        actions
            .into_iter()
            .map(|a| action_report(ctx, &s.namespace, a))
            .collect::<Vec<_>>()
    });
    ServiceReport {
        entities: None,
        granting_policies: None,
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
        last_authenticated_ever: ever,
    }
}

/// One tracked action of a service, judged as its service is.
fn action_report(ctx: &ReportContext<'_>, namespace: &str, a: ActionAccess) -> ActionReport {
    let action = format!("{namespace}:{}", a.action_name.unwrap_or_default());
    let ever = match a.last_accessed_time {
        None => history::past_action_use(ctx.previous, namespace, &action),
        Some(_) => None,
    };
    let (usage, _) = Usage::of(
        a.last_accessed_time
            .as_deref()
            .or(ever.as_ref().map(|e| e.time.as_str())),
        ctx.as_of,
        ctx.options.unused_days,
    );
    ActionReport {
        action,
        usage,
        last_accessed_time: a.last_accessed_time,
        last_accessed_entity: a.last_accessed_entity,
        last_accessed_region: a.last_accessed_region,
        last_accessed_ever: ever,
    }
}

impl PrincipalReport {
    /// The recommendations judged for this principal, and the credentials its slice holds.
    pub fn apply(&mut self, judged: Judgement, slice: &Slice) {
        self.recommendations = Some(judged.recommendations);
        self.findings.unused_credentials = judged.unused_credentials;
        self.credentials = slice
            .principals
            .get(&self.arn)
            .and_then(|h| h.credentials.clone());
        self.recommendations_withheld = judged.withheld;
        self.recommendation_notes = judged.notes;
    }
}
