//! What a batch produced for each of its principals (`work/run=…/results/`), compact:
//! written by Write, read back by Summarize for the run's index, summary and page.

use crate::domain::arn::PrincipalType;
use crate::domain::incremental::{CarryRow, OutcomeMark};
use crate::domain::job::{JobError, JobStatus};
use crate::domain::recommend::{Action, Recommendation};
use crate::domain::report::{Changes, PrincipalReport, ServiceReport};
use crate::domain::usage::Usage;
use serde::{Deserialize, Serialize};

/// One principal's outcome, as Write saw it: its report's counts and, compact, each
/// granted service's class. Summarize folds these into the summary, the run's page and
/// the run's index (`principals.json`, which `ila diff` and the next run read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalOutcome {
    pub arn: String,
    #[serde(rename = "type")]
    pub principal_type: PrincipalType,
    /// IAM's unique id, as its report says (schema 3.1; absent when not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    pub status: JobStatus,
    pub report_key: String,
    /// The account it was scanned in (schema 3.0; empty in an older index).
    #[serde(default)]
    pub account: String,
    pub services_granted: u32,
    pub services_active: u32,
    pub services_stale: u32,
    pub services_never_used: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    #[serde(default)]
    pub services: Vec<ServiceCell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// With `report.recommendations`: what they add up to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended: Option<Recommended>,
    /// Its permissions fingerprint, as its report says (index schema of summary 4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// When the IAM job behind its report was created (a carried report: its first job's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_as_of: Option<String>,
    /// The run asked for entities (groups and policies): its report has them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entities: bool,
    /// In an incremental run, what became of it: carried, sampled, or scanned in its
    /// account's fallback; absent: scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<OutcomeMark>,
}

/// A report's recommendations, counted for the summary.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Recommended {
    pub recommendations: u32,
    /// Distinct services the recommendations take away.
    pub services_removable: u32,
    pub policies_to_detach: u32,
    /// Roles to delete, passwords to remove, access keys to deactivate.
    pub unused_credentials: u32,
    /// Set when nothing was judged (fail closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// One line per recommendation, for the run's page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
}

/// `UPDATE_POLICY inline policy "x": removes ec2, sns`, and the like.
fn line(rec: &Recommendation) -> String {
    let action = serde_json::to_value(rec.action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let what = match (&rec.policy, &rec.access_key_id) {
        (Some(p), _) => format!(" {:?} ({})", p.name, p.arn.as_deref().unwrap_or("inline")),
        (None, Some(key)) => format!(" {key}"),
        (None, None) => String::new(),
    };
    let removes = if rec.removes.services.is_empty() {
        String::new()
    } else {
        format!(": removes {}", rec.removes.services.join(", "))
    };
    format!("{action}{what}{removes}")
}

impl Recommended {
    fn of(report: &PrincipalReport) -> Option<Recommended> {
        let recs = report.recommendations.as_ref()?;
        let mut services = std::collections::BTreeSet::new();
        let mut r = Recommended {
            recommendations: recs.len() as u32,
            withheld: report.recommendations_withheld.clone(),
            ..Recommended::default()
        };
        for rec in recs {
            services.extend(rec.removes.services.iter().cloned());
            match rec.action {
                Action::DetachPolicy => r.policies_to_detach += 1,
                Action::DeletePrincipal
                | Action::DeactivateAccessKey
                | Action::RemoveConsolePassword => r.unused_credentials += 1,
                _ => {}
            }
        }
        r.services_removable = services.len() as u32;
        r.lines = recs.iter().map(line).collect();
        if let Some(why) = &r.withheld {
            let what = if recs.is_empty() {
                "no recommendation"
            } else {
                "withheld"
            };
            r.lines.push(format!("{what}: {why}"));
        }
        Some(r)
    }
}

impl PrincipalOutcome {
    /// Stale or never used: the services worth cutting.
    pub fn services_unused(&self) -> u32 {
        self.services_stale + self.services_never_used
    }

    /// The outcome of a stored report.
    pub fn of(report: &PrincipalReport, report_key: String) -> PrincipalOutcome {
        let f = &report.findings;
        PrincipalOutcome {
            arn: report.arn.clone(),
            principal_type: report.principal_type,
            principal_id: report.principal_id.clone(),
            status: report.job.status,
            report_key,
            account: report.scanned_account.clone(),
            services_granted: f.services_granted,
            services_active: f.services_active,
            services_stale: f.services_stale,
            services_never_used: f.services_never_used,
            error: report.job.error.clone(),
            services: report.services.iter().map(ServiceCell::of).collect(),
            changes: report.changes.clone(),
            recommended: Recommended::of(report),
            fingerprint: report.fingerprint.clone(),
            data_as_of: report.job.created.clone(),
            entities: false,
            incremental: None,
        }
    }

    /// What the next incremental run needs of it.
    pub fn carry_row(&self) -> CarryRow {
        CarryRow {
            arn: self.arn.clone(),
            principal_id: self.principal_id.clone(),
            status: self.status,
            fingerprint: self.fingerprint.clone(),
            data_as_of: self.data_as_of.clone(),
            entities: self.entities,
        }
    }
}

/// One granted service of a principal, as the page and `ila diff` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCell {
    pub ns: String,
    pub class: Usage,
    /// Days since the last use (IAM's, or the one history kept); `None`: never used.
    pub days: Option<i64>,
    /// The last use: IAM's, or `last_authenticated_ever`'s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// The policies granting it, as `name (TYPE)`, when the run asked for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// ACTION_LEVEL: its tracked actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionCell {
    pub action: String,
    pub class: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

impl ServiceCell {
    fn of(s: &ServiceReport) -> ServiceCell {
        ServiceCell {
            ns: s.namespace.clone(),
            class: s.usage,
            days: s.days_since_last_authenticated,
            last: s
                .last_authenticated
                .clone()
                .or_else(|| s.last_authenticated_ever.as_ref().map(|e| e.time.clone())),
            policies: s
                .granting_policies
                .iter()
                .flatten()
                .map(|p| format!("{} ({})", p.policy_name, p.policy_type))
                .collect(),
            actions: s
                .tracked_actions
                .iter()
                .flatten()
                .map(|a| ActionCell {
                    action: a.action.clone(),
                    class: a.usage,
                    last: a
                        .last_accessed_time
                        .clone()
                        .or_else(|| a.last_accessed_ever.as_ref().map(|e| e.time.clone())),
                })
                .collect(),
        }
    }
}

/// Written by Write for each batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    pub index: u32,
    pub principals: Vec<PrincipalOutcome>,
    /// How IAM bound the batch's JobIds, as its account's preflight found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_binding: Option<crate::domain::job::JobBinding>,
}
