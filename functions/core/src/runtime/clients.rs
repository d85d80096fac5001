//! SDK clients, built once per cold start. Access-advisor calls go through the reader
//! role with a fixed session name: IAM lets only the caller that generated a JobId read it.

use crate::runtime::config::Config;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// The shared SDK configuration. Retries: standard mode (exponential backoff with
/// full jitter) over `IAM_MAX_ATTEMPTS` attempts, 1 s to 20 s apart, so a burst of
/// `Throttling` is ridden out inside the call; what remains surfaces as `Throttled`
/// and Step Functions retries the task.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(config.iam_max_attempts)
        .with_initial_backoff(Duration::from_secs(1))
        .with_max_backoff(Duration::from_secs(20));
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .load()
        .await
}

/// Credentials of `role`, assumed with the configured (fixed) session name.
pub async fn assumed(config: &Config, base: &SdkConfig, role: &str) -> AssumeRoleProvider {
    AssumeRoleProvider::builder(role)
        .session_name(&config.reader_session_name)
        .configure(base)
        .build()
        .await
}

/// An IAM client acting through `provider` (an assumed role's, or one session's fixed
/// credentials).
pub fn iam_client_with(
    base: &SdkConfig,
    provider: impl aws_credential_types::provider::ProvideCredentials + 'static,
) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::config::Builder::from(base)
        .credentials_provider(provider)
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// An IAM client acting as `role`, assumed with the configured (fixed) session name.
pub async fn assumed_iam_client(
    config: &Config,
    base: &SdkConfig,
    role: &str,
) -> aws_sdk_iam::Client {
    iam_client_with(base, assumed(config, base, role).await)
}

pub fn s3_client(config: &Config, base: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(base)
        .force_path_style(config.s3_force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
