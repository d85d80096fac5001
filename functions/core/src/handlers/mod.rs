//! The five Lambda handlers. Each takes its dependencies (built once at init) and the
//! raw event; the event is decoded here so a malformed one is `InvalidInput`, never a
//! runtime's serde error.

pub mod check;
pub mod generate;
pub mod plan;
pub mod summarize;
pub mod write;

use crate::adapters::directory::Directory;
use crate::adapters::iam::AccessAdvisor;
use crate::adapters::s3::ReportStore;
use crate::arn::PrincipalArn;
use crate::clients;
use crate::config::Config;
use crate::error::{ConfigError, Error, InputError};
use crate::model::RunContext;
use crate::pacing::Pacer;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;

/// How many principals of a batch a Lambda works on at once; the pacer still bounds
/// the IAM request rate, this only hides call latency.
pub const PRINCIPALS_IN_FLIGHT: usize = 8;

/// A handler's dependencies, built once per cold start from the function's environment.
/// Each handler has its own: what it may touch is what it was given. Building them can
/// only fail on the environment: a [`ConfigError`].
pub trait Dependencies: Sized + Send + Sync + 'static {
    fn from_env() -> impl Future<Output = Result<Self, ConfigError>> + Send;
}

/// A pacer for one invocation: the run input's rate if it set one, else the function's.
fn pacer_for(config: &Config, rate: Option<f64>) -> Arc<Pacer> {
    Arc::new(Pacer::new(
        rate.unwrap_or(config.iam_requests_per_second),
        config.iam_burst,
    ))
}

/// The reader role's IAM client: Generate, Check and Write read IAM through it, with
/// one fixed session name (IAM lets only the caller that created a JobId read it).
async fn reader(
    config: &Config,
    base: &aws_config::SdkConfig,
) -> Result<(PrincipalArn, AccessAdvisor), ConfigError> {
    const NAME: &str = "READER_ROLE_ARN";
    let role = config
        .reader_role_arn
        .as_deref()
        .ok_or(ConfigError::Unset {
            name: NAME,
            why: "this function reads IAM through the reader role",
        })?;
    let arn = PrincipalArn::parse(role).map_err(|source| ConfigError::Arn {
        name: NAME,
        text: role.to_string(),
        source,
    })?;
    let iam = clients::assumed_iam_client(config, base, role).await;
    let advisor =
        AccessAdvisor::new(iam, pacer_for(config, None)).with_page_size(config.iam_page_size);
    Ok((arn, advisor))
}

/// The function's configuration and the SDK's, read once at init.
async fn environment() -> Result<(Config, aws_config::SdkConfig), ConfigError> {
    let config = Config::from_env()?;
    let base = clients::sdk_config(&config).await;
    Ok((config, base))
}

/// The report bucket (`REPORT_BUCKET`), for the functions that read or write it.
fn bucket(config: &Config, base: &aws_config::SdkConfig) -> Result<ReportStore, ConfigError> {
    Ok(ReportStore::new(
        clients::s3_client(config, base),
        config.require_bucket()?,
    ))
}

/// Plan: the run input's defaults, its own IAM client for discovery (lists only: it never
/// assumes the reader role), and the bucket for the batch list.
#[derive(Debug, Clone)]
pub struct PlanDeps {
    pub config: Config,
    pub iam: aws_sdk_iam::Client,
    pub store: ReportStore,
}

impl PlanDeps {
    /// Discovery paced for this run.
    pub fn directory(&self, rate: Option<f64>) -> Directory {
        Directory::new(self.iam.clone(), pacer_for(&self.config, rate))
    }
}

impl Dependencies for PlanDeps {
    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        Ok(PlanDeps {
            iam: aws_sdk_iam::Client::new(&base),
            store: bucket(&config, &base)?,
            config,
        })
    }
}

/// Generate: the reader role, and its ARN for the run's preflight. No bucket.
#[derive(Debug, Clone)]
pub struct GenerateDeps {
    pub config: Config,
    pub reader: PrincipalArn,
    pub advisor: AccessAdvisor,
}

impl Dependencies for GenerateDeps {
    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        let (reader, advisor) = reader(&config, &base).await?;
        Ok(GenerateDeps {
            config,
            reader,
            advisor,
        })
    }
}

/// Check and Write: the reader role, and the bucket (finished jobs, reports, results).
#[derive(Debug, Clone)]
pub struct JobDeps {
    pub config: Config,
    pub advisor: AccessAdvisor,
    pub store: ReportStore,
}

impl Dependencies for JobDeps {
    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        let (_, advisor) = reader(&config, &base).await?;
        Ok(JobDeps {
            store: bucket(&config, &base)?,
            config,
            advisor,
        })
    }
}

/// Summarize: the bucket only; it makes no IAM call.
#[derive(Debug, Clone)]
pub struct SummarizeDeps {
    pub config: Config,
    pub store: ReportStore,
}

impl Dependencies for SummarizeDeps {
    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        Ok(SummarizeDeps {
            store: bucket(&config, &base)?,
            config,
        })
    }
}

/// The reader's IAM adapter paced for this run: one bucket for the whole invocation.
pub fn paced(config: &Config, advisor: &AccessAdvisor, run: &RunContext) -> AccessAdvisor {
    advisor.with_pacer(pacer_for(config, run.iam_requests_per_second))
}

/// Decodes an event, naming the offending field.
pub fn decode<T: DeserializeOwned>(what: &str, event: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(event)
        .map_err(|e| InputError::malformed(what, &format!("{what}."), e).into())
}
