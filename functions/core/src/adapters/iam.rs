//! IAM's access-advisor API: generate a job, poll it, read every page of it.

use crate::adapters::pacing::Pacer;
use crate::adapters::pages::Pages;
use crate::adapters::{classify, principal_outcome, time, Denial};
use crate::domain::arn::PrincipalArn;
use crate::domain::input::Granularity;
use crate::domain::job::{JobError, JobStatus};
use crate::domain::report::{
    ActionAccess, EntityAccess, GrantingPolicy, JobDetails, ServiceAccess,
};
use crate::error::IamError;
use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType, JobStatusType};
use std::sync::Arc;

/// IAM pages hold at most 1000 items; a job never has more than a few pages, so a
/// runaway Marker loop is a bug we stop rather than follow.
pub use crate::adapters::pages::MAX_PAGES;
/// ListPoliciesGrantingServiceAccess takes at most 200 namespaces per call.
pub const MAX_NAMESPACES_PER_CALL: usize = 200;

#[derive(Debug, Clone)]
pub struct AccessAdvisor {
    pub iam: aws_sdk_iam::Client,
    pub pacer: Arc<Pacer>,
    /// MaxItems of GetServiceLastAccessedDetails(WithEntities) pages: 1000 (IAM's
    /// maximum) in production; the tests lower it to walk several pages end to end.
    pub page_size: i32,
}

/// What GenerateServiceLastAccessedDetails gave for one principal.
#[derive(Debug, Clone, PartialEq)]
pub enum Generated {
    Job(String),
    /// The principal does not exist any more (NOT_FOUND) or IAM refused it (FAILED):
    /// recorded with IAM's error, not fatal to the batch.
    Refused {
        status: JobStatus,
        error: JobError,
    },
}

/// What one read of a job found.
#[derive(Debug, Clone, PartialEq)]
pub enum JobRead {
    InProgress,
    /// COMPLETED (every page read) or FAILED (with IAM's error).
    Finished {
        status: JobStatus,
        details: JobDetails,
    },
    /// IAM answered the first read `NoSuchEntity` or `InvalidInput`: the job is gone
    /// (expired), was never this caller's, or IAM refuses it, with IAM's error.
    Gone(JobError),
}

impl JobRead {
    /// A principal's job as its report records it: a gone job is FAILED, with IAM's
    /// error (`None`: still running).
    pub fn finished(self) -> Option<(JobStatus, JobDetails)> {
        match self {
            JobRead::InProgress => None,
            JobRead::Finished { status, details } => Some((status, details)),
            JobRead::Gone(error) => Some((
                JobStatus::Failed,
                JobDetails {
                    error: Some(error),
                    ..JobDetails::default()
                },
            )),
        }
    }
}

fn job_error(e: Option<&aws_sdk_iam::types::ErrorDetails>) -> Option<JobError> {
    e.map(|e| JobError {
        code: e.code.clone(),
        message: e.message.clone(),
    })
}

fn status_of(s: &JobStatusType) -> Result<JobStatus, IamError> {
    match s {
        JobStatusType::InProgress => Ok(JobStatus::InProgress),
        JobStatusType::Completed => Ok(JobStatus::Completed),
        JobStatusType::Failed => Ok(JobStatus::Failed),
        other => Err(IamError::UnknownJobStatus {
            status: other.as_str().to_string(),
        }),
    }
}

impl AccessAdvisor {
    pub fn new(iam: aws_sdk_iam::Client, pacer: Arc<Pacer>) -> Self {
        AccessAdvisor {
            iam,
            pacer,
            page_size: 1000,
        }
    }

    pub fn with_page_size(self, page_size: i32) -> Self {
        AccessAdvisor { page_size, ..self }
    }

    /// The same client and page size, another pace.
    pub fn with_pacer(&self, pacer: Arc<Pacer>) -> Self {
        AccessAdvisor {
            pacer,
            ..self.clone()
        }
    }

    #[tracing::instrument(skip(self), fields(arn = %arn))]
    pub async fn generate(
        &self,
        arn: &PrincipalArn,
        granularity: Granularity,
    ) -> Result<Generated, IamError> {
        self.pacer.acquire().await;
        let level = match granularity {
            Granularity::ServiceLevel => AccessAdvisorUsageGranularityType::ServiceLevel,
            Granularity::ActionLevel => AccessAdvisorUsageGranularityType::ActionLevel,
        };
        match self
            .iam
            .generate_service_last_accessed_details()
            .arn(arn.as_str())
            .granularity(level)
            .send()
            .await
        {
            Ok(out) => Ok(Generated::Job(out.job_id.unwrap_or_default()).validated()?),
            Err(err) => {
                // An AccessDenied here is about this principal (an SCP, a boundary, a
                // resource-scoped Deny): its report says DENIED, the batch goes on.
                let (status, error) = principal_outcome(
                    "GenerateServiceLastAccessedDetails",
                    err,
                    Denial::OfPrincipal,
                )?;
                Ok(Generated::Refused { status, error })
            }
        }
    }

    /// Polls a job by reading it: one GetServiceLastAccessedDetails call with
    /// MaxItems=1000 (the page size) costs IAM the same as a MaxItems=1 poll, and a job has ~400
    /// services at most, so the poll that finds it COMPLETED usually is its whole read.
    /// Completion is decided on JobStatus only (the SDK fills the required
    /// JobCompletionDate with 1970-01-01 while a job runs).
    #[tracing::instrument(skip(self))]
    pub async fn read(&self, job_id: &str) -> Result<JobRead, IamError> {
        const OPERATION: &str = "GetServiceLastAccessedDetails";
        let mut details = JobDetails::default();
        let mut status = JobStatus::InProgress;
        let mut pages = Pages::iam(format!("{OPERATION} (job {job_id})"), MAX_PAGES);
        while let Some(page) = pages.next()? {
            self.pacer.acquire().await;
            let sent = self
                .iam
                .get_service_last_accessed_details()
                .job_id(job_id)
                .max_items(self.page_size)
                .set_marker(page.marker)
                .send()
                .await;
            let out = match sent {
                Ok(out) => out,
                // The job is gone (expired, or never ours) or refused: the caller says
                // what that means (a principal's FAILED report; in the preflight, the
                // JobId rule). The reader may read the jobs it creates, so an
                // AccessDenied here is the scan's problem.
                Err(err) if page.index == 0 => {
                    let (_, error) = principal_outcome(OPERATION, err, Denial::OfScan)?;
                    return Ok(JobRead::Gone(error));
                }
                Err(err) => return Err(classify(OPERATION, err)),
            };
            status = status_of(out.job_status())?;
            if page.index == 0 {
                if status == JobStatus::InProgress {
                    return Ok(JobRead::InProgress);
                }
                details.job_type = out.job_type().map(|t| t.as_str().to_string());
                details.created = time(out.job_creation_date());
                details.completed = time(out.job_completion_date());
                details.error = job_error(out.error());
            }
            details
                .services
                .extend(out.services_last_accessed.into_iter().map(service_access));
            pages.turn(out.is_truncated, out.marker)?;
        }
        Ok(JobRead::Finished { status, details })
    }

    /// Which users and roles used `namespace` through a group or policy (every page).
    #[tracing::instrument(skip(self))]
    pub async fn entities(
        &self,
        job_id: &str,
        namespace: &str,
    ) -> Result<Vec<EntityAccess>, IamError> {
        const OPERATION: &str = "GetServiceLastAccessedDetailsWithEntities";
        let mut all = Vec::new();
        let mut pages = Pages::iam(OPERATION, MAX_PAGES);
        while let Some(page) = pages.next()? {
            self.pacer.acquire().await;
            let out = self
                .iam
                .get_service_last_accessed_details_with_entities()
                .job_id(job_id)
                .service_namespace(namespace)
                .max_items(self.page_size)
                .set_marker(page.marker)
                .send()
                .await
                .map_err(|e| classify(OPERATION, e))?;
            all.extend(out.entity_details_list.into_iter().filter_map(|d| {
                let info = d.entity_info?;
                Some(EntityAccess {
                    arn: info.arn,
                    name: info.name,
                    entity_type: info.r#type.as_str().to_string(),
                    id: info.id,
                    path: info.path,
                    last_authenticated: d.last_authenticated.as_ref().and_then(time),
                })
            }));
            pages.turn(out.is_truncated, out.marker)?;
        }
        Ok(all)
    }

    /// The policies granting each namespace, at most 200 namespaces per call.
    #[tracing::instrument(skip(self, namespaces), fields(arn = %arn, namespaces = namespaces.len()))]
    pub async fn granting_policies(
        &self,
        arn: &PrincipalArn,
        namespaces: &[String],
    ) -> Result<Vec<(String, Vec<GrantingPolicy>)>, IamError> {
        const OPERATION: &str = "ListPoliciesGrantingServiceAccess";
        let mut all = Vec::new();
        for chunk in namespaces.chunks(MAX_NAMESPACES_PER_CALL) {
            let mut pages = Pages::iam(OPERATION, MAX_PAGES);
            while let Some(page) = pages.next()? {
                self.pacer.acquire().await;
                let out = self
                    .iam
                    .list_policies_granting_service_access()
                    .arn(arn.as_str())
                    .set_service_namespaces(Some(chunk.to_vec()))
                    .set_marker(page.marker)
                    .send()
                    .await
                    .map_err(|e| classify(OPERATION, e))?;
                for entry in out.policies_granting_service_access {
                    let ns = entry.service_namespace.unwrap_or_default();
                    let policies =
                        entry
                            .policies
                            .unwrap_or_default()
                            .into_iter()
                            .map(|p| GrantingPolicy {
                                policy_name: p.policy_name,
                                policy_type: p.policy_type.as_str().to_string(),
                                policy_arn: p.policy_arn,
                                entity_type: p.entity_type.map(|t| t.as_str().to_string()),
                                entity_name: p.entity_name,
                            });
                    match all
                        .iter_mut()
                        .find(|(n, _): &&mut (String, Vec<GrantingPolicy>)| *n == ns)
                    {
                        Some((_, list)) => list.extend(policies),
                        None => all.push((ns, policies.collect())),
                    }
                }
                pages.turn(out.is_truncated, out.marker)?;
            }
        }
        Ok(all)
    }
}

impl Generated {
    fn validated(self) -> Result<Self, IamError> {
        match &self {
            Generated::Job(id) if id.is_empty() => Err(IamError::EmptyJobId),
            _ => Ok(self),
        }
    }
}

fn service_access(s: aws_sdk_iam::types::ServiceLastAccessed) -> ServiceAccess {
    ServiceAccess {
        last_authenticated: s.last_authenticated.as_ref().and_then(time),
        name: s.service_name,
        namespace: s.service_namespace,
        last_authenticated_entity: s.last_authenticated_entity,
        last_authenticated_region: s.last_authenticated_region,
        total_authenticated_entities: s.total_authenticated_entities,
        tracked_actions: s.tracked_actions_last_accessed.map(|actions| {
            actions
                .into_iter()
                .map(|a| ActionAccess {
                    last_accessed_time: a.last_accessed_time.as_ref().and_then(time),
                    action_name: a.action_name,
                    last_accessed_entity: a.last_accessed_entity,
                    last_accessed_region: a.last_accessed_region,
                })
                .collect()
        }),
    }
}
