//! What IAM returned for one job (GetServiceLastAccessedDetails, and WithEntities and
//! ListPoliciesGrantingServiceAccess on request), as Check stores it.

use crate::domain::job::JobError;
use serde::{Deserialize, Serialize};

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
