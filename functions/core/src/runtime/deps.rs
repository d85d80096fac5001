//! The handlers' dependencies, built once per cold start from the function's
//! environment: each handler gets its own, so what it may touch is what it was given.

use crate::adapters::directory::Directory;
use crate::adapters::iam::AccessAdvisor;
use crate::adapters::organizations::Organizations;
use crate::adapters::pacing::Pacer;
use crate::adapters::s3::ReportStore;
use crate::adapters::sts::{self, AssumeError};
use crate::domain::arn::PrincipalArn;
use crate::domain::run::RunContext;
use crate::error::{ConfigError, Error, IamError};
use crate::runtime::clients;
use crate::runtime::config::Config;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// A handler's dependencies, built once per cold start from the function's environment.
/// Each handler has its own: what it may touch is what it was given. Building them can
/// only fail on the environment: a [`ConfigError`].
pub trait Dependencies: Sized + Send + Sync + 'static {
    fn from_env() -> impl Future<Output = Result<Self, ConfigError>> + Send;
    /// The function's configuration.
    fn config(&self) -> &Config;
}

/// A pacer for one invocation: the run input's rate if it set one, else the function's.
fn pacer_for(config: &Config, rate: Option<f64>) -> Arc<Pacer> {
    Arc::new(Pacer::new(
        rate.unwrap_or(config.iam_requests_per_second),
        config.iam_burst,
    ))
}

/// The readers of a run's accounts: Generate, Check and Write read IAM through them,
/// each with one fixed session name (IAM lets only the caller that created a JobId read
/// it). The stack's own account goes through the stack's reader role; another account
/// of an organization run through its member role, assumed on first use and kept for
/// the life of the Lambda's container.
#[derive(Debug, Clone)]
pub struct Readers {
    config: Config,
    base: aws_config::SdkConfig,
    own: (PrincipalArn, AccessAdvisor),
    members: Arc<Mutex<HashMap<String, (PrincipalArn, AccessAdvisor)>>>,
    /// Readers of tests: `own`'s adapter answers every call, sessions included.
    fixed: bool,
}

impl Readers {
    async fn from_env(
        config: &Config,
        base: &aws_config::SdkConfig,
    ) -> Result<Readers, ConfigError> {
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
        Ok(Readers {
            config: config.clone(),
            base: base.clone(),
            own: (arn, advisor),
            members: Arc::default(),
            fixed: false,
        })
    }

    /// Readers of the stack's own account only, through `own`'s adapter (tests).
    pub fn fixed(config: Config, arn: PrincipalArn, advisor: AccessAdvisor) -> Readers {
        Readers {
            config,
            base: aws_config::SdkConfig::builder().build(),
            own: (arn, advisor),
            members: Arc::default(),
            fixed: true,
        }
    }

    /// The reader of the run's account (its role's ARN and its IAM adapter), paced for
    /// this invocation of the run.
    pub async fn for_run(&self, run: &RunContext) -> Result<(PrincipalArn, AccessAdvisor), Error> {
        let (arn, advisor) = match run.account.as_ref().and_then(|a| a.role_arn.as_deref()) {
            None => self.own.clone(),
            Some(role) => {
                let known = self.members.lock().ok().and_then(|m| m.get(role).cloned());
                match known {
                    Some(found) => found,
                    None => {
                        let arn = PrincipalArn::parse(role)
                            .map_err(|e| Error::invalid("run.account.role_arn", e))?;
                        let iam = clients::assumed_iam_client(&self.config, &self.base, role).await;
                        let advisor = AccessAdvisor::new(iam, pacer_for(&self.config, None))
                            .with_page_size(self.config.iam_page_size);
                        if let Ok(mut m) = self.members.lock() {
                            m.insert(role.to_string(), (arn.clone(), advisor.clone()));
                        }
                        (arn, advisor)
                    }
                }
            }
        };
        let paced = advisor.with_pacer(pacer_for(&self.config, run.iam_requests_per_second));
        Ok((arn, paced))
    }

    /// The reader of the run's account in an STS session of this invocation's own: its
    /// credentials are asked of STS once, here, and never refreshed, so every call the
    /// invocation makes is made in that one session (the `session` JobId binding; a
    /// cached client renews its credentials when they near their end, which may fall
    /// between a job's creation and its read).
    pub async fn session_for_run(
        &self,
        run: &RunContext,
    ) -> Result<(PrincipalArn, AccessAdvisor), Error> {
        if self.fixed {
            return self.for_run(run).await;
        }
        let role = match run.account.as_ref().and_then(|a| a.role_arn.as_deref()) {
            Some(role) => role,
            None => self.own.0.as_str(),
        };
        let arn =
            PrincipalArn::parse(role).map_err(|e| Error::invalid("run.account.role_arn", e))?;
        let provider = clients::assumed(&self.config, &self.base, role).await;
        let credentials =
            aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider)
                .await
                .map_err(|e| IamError::AssumeRole {
                    role: role.to_string(),
                    why: aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
                })?;
        let iam = clients::iam_client_with(&self.base, credentials);
        let advisor = AccessAdvisor::new(iam, pacer_for(&self.config, run.iam_requests_per_second))
            .with_page_size(self.config.iam_page_size);
        Ok((arn, advisor))
    }
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

/// Plan: the run input's defaults, its own IAM client for discovery in the stack's
/// account (lists only: it never assumes the reader role), the member role for another
/// account of an organization run, Organizations, and the bucket.
#[derive(Debug, Clone)]
pub struct PlanDeps {
    pub config: Config,
    pub base: aws_config::SdkConfig,
    pub iam: aws_sdk_iam::Client,
    pub organizations: Organizations,
    pub store: ReportStore,
}

impl PlanDeps {
    /// Discovery paced for this run, in the stack's own account.
    pub fn directory(&self, rate: Option<f64>) -> Directory {
        Directory::new(self.iam.clone(), pacer_for(&self.config, rate))
    }

    /// Discovery in the account `role` belongs to (its member role), or why STS refused
    /// that role; any other failure to assume it is an error to retry.
    pub async fn member_directory(&self, role: &str, rate: Option<f64>) -> Result<Member, Error> {
        let provider = clients::assumed(&self.config, &self.base, role).await;
        match sts::assume(&provider).await {
            Ok(()) => Ok(Member::Directory(Directory::new(
                clients::iam_client_with(&self.base, provider),
                pacer_for(&self.config, rate),
            ))),
            Err(AssumeError::Refused { code, message }) => {
                Ok(Member::Refused(format!("{code}: {message}")))
            }
            // Not a refusal (throttled, the network): the step's retry tries again.
            Err(AssumeError::Failed(why)) => Err(IamError::AssumeRole {
                role: role.to_string(),
                why,
            }
            .into()),
        }
    }
}

/// A member account as Plan finds it: readable, or refused by STS (why, in brief).
#[derive(Debug)]
pub enum Member {
    Directory(Directory),
    Refused(String),
}

impl Dependencies for PlanDeps {
    fn config(&self) -> &Config {
        &self.config
    }

    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        Ok(PlanDeps {
            iam: aws_sdk_iam::Client::new(&base),
            organizations: Organizations::new(aws_sdk_organizations::Client::new(&base)),
            store: bucket(&config, &base)?,
            base,
            config,
        })
    }
}

/// Generate: the readers, and the bucket (under the `session` JobId binding it stores
/// the jobs it read; it reads nothing there).
#[derive(Debug, Clone)]
pub struct GenerateDeps {
    pub config: Config,
    pub readers: Readers,
    pub store: ReportStore,
}

impl Dependencies for GenerateDeps {
    fn config(&self) -> &Config {
        &self.config
    }

    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        let readers = Readers::from_env(&config, &base).await?;
        Ok(GenerateDeps {
            store: bucket(&config, &base)?,
            config,
            readers,
        })
    }
}

/// Check and Write: the readers, and the bucket (finished jobs, reports, results).
#[derive(Debug, Clone)]
pub struct JobDeps {
    pub config: Config,
    pub readers: Readers,
    pub store: ReportStore,
}

impl Dependencies for JobDeps {
    fn config(&self) -> &Config {
        &self.config
    }

    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        let readers = Readers::from_env(&config, &base).await?;
        Ok(JobDeps {
            store: bucket(&config, &base)?,
            config,
            readers,
        })
    }
}

/// Summarize: the bucket, and Security Hub when the stack imports findings; it makes no
/// IAM call.
#[derive(Debug, Clone)]
pub struct SummarizeDeps {
    pub config: Config,
    pub store: ReportStore,
    /// Set when the stack's `SecurityHubFindings` is on (`SECURITY_HUB_FINDINGS`).
    pub security_hub: Option<SecurityHub>,
}

/// Security Hub in the scanner's account and Region: where the run's findings go.
#[derive(Debug, Clone)]
pub struct SecurityHub {
    pub client: aws_sdk_securityhub::Client,
    /// The function's Region (`AWS_REGION`): the product ARN's and the findings'.
    pub region: String,
    /// The scanner's account (`ACCOUNT_ID`): the findings' `AwsAccountId`.
    pub account: String,
}

impl SecurityHub {
    fn from_env(config: &Config, base: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let region = base
            .region()
            .map(ToString::to_string)
            .ok_or(ConfigError::Unset {
                name: "AWS_REGION",
                why: "Security Hub findings are imported in the function's Region",
            })?;
        let account = config.account_id.clone().ok_or(ConfigError::Unset {
            name: "ACCOUNT_ID",
            why: "Security Hub findings name the scanner's account (AwsAccountId)",
        })?;
        Ok(SecurityHub {
            client: aws_sdk_securityhub::Client::new(base),
            region,
            account,
        })
    }
}

impl Dependencies for SummarizeDeps {
    fn config(&self) -> &Config {
        &self.config
    }

    async fn from_env() -> Result<Self, ConfigError> {
        let (config, base) = environment().await?;
        let security_hub = if config.security_hub_findings {
            Some(SecurityHub::from_env(&config, &base)?)
        } else {
            None
        };
        Ok(SummarizeDeps {
            store: bucket(&config, &base)?,
            security_hub,
            config,
        })
    }
}
