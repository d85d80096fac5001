//! A principal's report (`reports/principals/…/NAME.json`): its types here; `iam` is
//! what IAM returned, `build` makes the report of it, `history` compares it with the
//! previous run's. Pure code, no I/O.

mod build;
pub mod history;
mod iam;

pub use build::{build_report, unused_namespaces, ReportContext};
pub use iam::{ActionAccess, EntityAccess, GrantingPolicy, JobDetails, ServiceAccess};

use crate::domain::arn::PrincipalType;
use crate::domain::input::Granularity;
use crate::domain::job::{JobError, JobStatus};
use crate::domain::policy::{AdvisorView, ServiceUse};
use crate::domain::recommend::{Credentials, Recommendation};
use crate::domain::run::RunRef;
use crate::domain::usage::Usage;
use serde::{Deserialize, Serialize};

pub const REPORT_SCHEMA_VERSION: &str = "3.3.0";

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    pub action: String,
    pub usage: Usage,
    pub last_accessed_time: Option<String>,
    pub last_accessed_entity: Option<String>,
    pub last_accessed_region: Option<String>,
    /// A last use IAM no longer reports (older than its window) that an earlier run saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_accessed_ever: Option<PastUse>,
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
    /// A last use IAM no longer reports (older than its window) that an earlier run saw;
    /// `usage` and `days_since_last_authenticated` are then judged from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_authenticated_ever: Option<PastUse>,
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

/// A 1.x report's findings (other names) read as empty: only `services` are compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Findings {
    pub unused_days: u32,
    /// `services_active + services_stale + services_never_used`: the three are disjoint.
    pub services_granted: u32,
    pub services_active: u32,
    pub services_stale: u32,
    pub services_never_used: u32,
    /// Namespaces last used `unused_days` or more ago (stale).
    pub stale_services: Vec<String>,
    /// Namespaces never used in the tracking window.
    pub never_used_services: Vec<String>,
    /// ACTION_LEVEL: `service:Action` last used `unused_days` or more ago (stale).
    pub stale_actions: Vec<String>,
    /// ACTION_LEVEL: `service:Action` never used in the tracking window.
    pub never_used_actions: Vec<String>,
    /// ACTION_LEVEL: granted services whose actions IAM does not track.
    pub services_without_action_tracking: Vec<String>,
    /// With `report.recommendations`: `role`, `password`, `access_key:ID` unused for
    /// `unused_days` (schema 2.1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_credentials: Vec<String>,
}

/// The JSON document stored for one principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalReport {
    pub schema_version: String,
    pub arn: String,
    #[serde(rename = "type")]
    pub principal_type: PrincipalType,
    /// IAM's unique id of the principal (RoleId, UserId, GroupId, PolicyId; schema 3.1):
    /// a principal deleted and re-created under its name has a new one. Null when Plan
    /// could not read it (an explicit ARN IAM does not know), and in older reports.
    #[serde(default)]
    pub principal_id: Option<String>,
    pub name: String,
    pub path: String,
    pub account: String,
    /// The account the principal was scanned in (schema 3.0): the `account=` level of
    /// the report's key. `account` unless the principal is an AWS-managed policy, which
    /// is judged in each account scanned.
    #[serde(default)]
    pub scanned_account: String,
    pub partition: String,
    pub run_id: String,
    /// When the report was written.
    pub generated_at: String,
    /// The instant "days since last use" and "unused" are judged at: the run's start,
    /// the same for every report of the run (schema 1.1; empty when read from a 1.0 one).
    #[serde(default)]
    pub as_of: String,
    pub job: JobSection,
    pub services: Vec<ServiceReport>,
    pub findings: Findings,
    /// Against the same principal's report of the previous completed run at the same
    /// granularity; absent when there is nothing to compare (this job or that one not
    /// COMPLETED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// With `report.recommendations`: what to change, least privilege (schema 2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendations: Option<Vec<Recommendation>>,
    /// Why no recommendation was made at all (fail closed), when that is so; or, for a
    /// vital role, why it gets no DELETE_PRINCIPAL (its policy recommendations stand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendations_withheld: Option<String>,
    /// Policies left alone, and why (a document that can't be valid or fit IAM's quotas).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recommendation_notes: Vec<String>,
    /// A job that did not complete: the last uses the previous report knew, kept so the
    /// next run's history goes on (schema 2.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried_history: Vec<CarriedUse>,
    /// With `report.recommendations`, a user's password and active access keys and their
    /// last use (the credential report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// The principal's permissions as access advisor reads them, when Plan could read
    /// them (schema 3.3; `domain::incremental::fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// An incremental run's carried report: the previous report's data, re-judged at
    /// this run's `as_of` (schema 3.3); its `job` is that report's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<CarriedFrom>,
}

/// Whence a carried report's data came (`carried_from`, report schema 3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedFrom {
    pub run_id: String,
    pub as_of: String,
    /// When IAM's job behind the data was created.
    pub data_as_of: String,
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
    /// Seen for the first time: the previous run had no report of this principal (or
    /// one of another principal of the same ARN: `recreated`).
    pub new: bool,
    /// The previous report's `principal_id` differs: the principal was deleted and
    /// re-created under its name, and inherits nothing from it (schema 3.1).
    #[serde(default)]
    pub recreated: bool,
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

/// The policy rewrite's view of a report's services (`report.services` of a COMPLETED
/// job): used means active within `unused_days`.
impl From<&[ServiceReport]> for AdvisorView {
    fn from(services: &[ServiceReport]) -> Self {
        let services = services
            .iter()
            .map(|s| ServiceUse {
                namespace: s.namespace.clone(),
                used: s.usage == Usage::Active,
                tracked_actions: s.tracked_actions.as_ref().map(|actions| {
                    actions
                        .iter()
                        .map(|a| {
                            let name = a.action.split_once(':').map_or(&*a.action, |(_, n)| n);
                            (name.to_string(), a.usage == Usage::Active)
                        })
                        .filter(|(name, _)| !name.is_empty())
                        .collect()
                }),
            })
            .collect();
        AdvisorView { services }
    }
}

#[cfg(test)]
pub(crate) mod tests;
