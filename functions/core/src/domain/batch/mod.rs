//! A batch: the principals sharing one wait loop, their jobs, and why a batch failed.
//! Only small handles travel between steps, never report bodies: Step Functions
//! payloads are capped at 256 KiB. `sizing` makes the batches, `polling` paces the loop.

pub mod polling;
pub mod sizing;

use crate::domain::arn::PrincipalArn;
use crate::domain::incremental::JobMark;
use crate::domain::job::{JobError, JobStatus};
use crate::domain::run::RunContext;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One item of the Distributed Map: a batch of principals sharing one wait loop.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Batch {
    pub index: u32,
    pub arns: Vec<PrincipalArn>,
    /// IAM's unique id (RoleId, UserId, GroupId, PolicyId) of each principal Plan found
    /// one for, by ARN: what its report's `principal_id` says.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ids: BTreeMap<String, String>,
    /// Each principal's permissions fingerprint, by ARN, when Plan could read them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fingerprints: BTreeMap<String, String>,
    /// An incremental run's batch of carriable principals: carried, unless their
    /// account's sample did not hold (`RunContext::carry`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carry: bool,
    /// The carriable principals of this (scanned) batch drawn for the sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sampled: Vec<String>,
    /// A carry batch's groups and managed policies carried on their witnesses' word (the
    /// users and roles used since their data, scanned before this batch), by ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub witnesses: BTreeMap<String, Vec<String>>,
}

impl Batch {
    /// Takes, from the ids and fingerprints Plan read, those of this batch's principals.
    pub fn name_ids(
        &mut self,
        ids: &BTreeMap<String, String>,
        fingerprints: &BTreeMap<String, String>,
    ) {
        let of = |all: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            self.arns
                .iter()
                .filter_map(|a| Some((a.to_string(), all.get(a.as_str())?.clone())))
                .collect()
        };
        self.ids = of(ids);
        self.fingerprints = of(fingerprints);
    }
}

/// The event of Generate: a batch and its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEvent {
    pub run: RunContext,
    pub batch: Batch,
}

/// One principal's job within a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub arn: PrincipalArn,
    /// IAM's unique id of the principal, as Plan read it (none: not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// The principal's permissions fingerprint, as Plan read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// In an incremental run, what became of a carriable principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<JobMark>,
}

/// The state of a batch between Generate, Check and Write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchState {
    pub run: RunContext,
    pub index: u32,
    pub jobs: Vec<Job>,
    /// How many polls Check has done.
    pub attempt: u32,
    /// Jobs still IN_PROGRESS; the Choice loops while this is above zero.
    pub pending: u32,
    /// The next Wait's length, computed by Check (`SecondsPath`).
    pub wait_seconds: u32,
}

impl BatchState {
    pub fn count_pending(jobs: &[Job]) -> u32 {
        jobs.iter()
            .filter(|j| j.status == JobStatus::InProgress)
            .count() as u32
    }
}

/// A batch that failed beyond its retries, as the child's Catch saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFailure {
    pub index: u32,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}
