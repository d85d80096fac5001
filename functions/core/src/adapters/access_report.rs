//! IAM's Organizations access report: the SDK in, the domain's entity jobs out.

use crate::adapters::pages::{Pages, MAX_PAGES};
use crate::adapters::{classify, time};
use crate::domain::access_report::{
    AccessUsage, AccessedService, EntityJob, EntityReport, JobHead,
};
use crate::error::IamError;

/// What one poll of a job found.
#[derive(Debug)]
pub enum Polled {
    InProgress,
    Failed(String),
    Done(Box<EntityReport>),
}

/// IAM's Organizations access-report calls, through the management account's client.
#[derive(Debug, Clone)]
pub struct OrgAccessReports {
    iam: aws_sdk_iam::Client,
}

impl OrgAccessReports {
    pub fn new(iam: aws_sdk_iam::Client) -> Self {
        OrgAccessReports { iam }
    }

    /// A JobId, or `None` when IAM says too many reports are pending (try later).
    pub async fn generate(&self, entity_path: &str) -> Result<Option<String>, IamError> {
        const OP: &str = "GenerateOrganizationsAccessReport";
        match self
            .iam
            .generate_organizations_access_report()
            .entity_path(entity_path)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.job_id.ok_or(IamError::EmptyJobId)?)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_report_generation_limit_exceeded_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(OP, e)),
        }
    }

    /// Polls a job; once COMPLETED, reads every page into the entity's report.
    pub async fn poll(
        &self,
        run_id: &str,
        job: &EntityJob,
        job_id: &str,
    ) -> Result<Polled, IamError> {
        const OP: &str = "GetOrganizationsAccessReport";
        let mut services = Vec::new();
        let mut head = None;
        let mut pages = Pages::iam(OP, MAX_PAGES);
        while let Some(page) = pages.next()? {
            let out = self
                .iam
                .get_organizations_access_report()
                .job_id(job_id)
                .max_items(1000)
                .set_marker(page.marker)
                .send()
                .await
                .map_err(|e| classify(OP, e))?;
            match out.job_status.as_str() {
                "IN_PROGRESS" => return Ok(Polled::InProgress),
                "FAILED" => {
                    let why = out
                        .error_details
                        .map(|e| format!("{}: {}", e.code, e.message))
                        .unwrap_or_else(|| "FAILED".into());
                    return Ok(Polled::Failed(why));
                }
                "COMPLETED" => {}
                other => {
                    return Err(IamError::UnknownJobStatus {
                        status: other.to_string(),
                    })
                }
            }
            for d in out.access_details.unwrap_or_default() {
                let last = d.last_authenticated_time.as_ref().and_then(time);
                services.push(AccessedService {
                    usage: AccessUsage::of(last.as_deref()),
                    namespace: d.service_namespace,
                    name: d.service_name,
                    last_authenticated: last,
                    region: d.region,
                    last_authenticated_entity_path: d.entity_path,
                    total_authenticated_entities: d.total_authenticated_entities.unwrap_or(0),
                });
            }
            head.get_or_insert_with(|| JobHead {
                created: time(&out.job_creation_date),
                completed: out.job_completion_date.as_ref().and_then(time),
                services_accessible: out.number_of_services_accessible,
                services_not_accessed: out.number_of_services_not_accessed,
            });
            pages.turn(out.is_truncated, out.marker)?;
        }
        let report = EntityReport::new(run_id, job, job_id, head.unwrap_or_default(), services);
        Ok(Polled::Done(Box::new(report)))
    }
}
