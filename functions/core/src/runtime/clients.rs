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

/// An IAM client acting through `provider`.
pub fn iam_client_with(base: &SdkConfig, provider: AssumeRoleProvider) -> aws_sdk_iam::Client {
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

/// Whether `provider` can assume its role now. `Ok(Err(why))`: STS refused (a member
/// role that is missing or whose trust refuses us, an account suspended or closed), in
/// brief; `Err`: anything else (throttling, the network), for the caller to retry.
pub async fn can_assume(provider: &AssumeRoleProvider) -> Result<Result<(), String>, String> {
    use aws_credential_types::provider::ProvideCredentials;
    let Err(e) = provider.provide_credentials().await else {
        return Ok(Ok(()));
    };
    let mut parts = vec![e.to_string()];
    let mut message = None;
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        // The SDK's last links are debug dumps of the response: STS's message is in them.
        if text.contains("Error {") {
            message = message.or_else(|| quoted_message(&text));
        } else if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    let full = parts.join(": ");
    // The member account's answers; a bad token is the scanner's own credentials (retried).
    let refusal = ["AccessDenied", "RegionDisabled"]
        .into_iter()
        .find(|code| full.contains(code) || message.as_deref().is_some_and(|m| m.contains(code)));
    match (refusal, message) {
        // A refusal in brief: `AccessDenied: User: … is not authorized to perform: …`.
        (Some(code), Some(message)) => Ok(Err(format!("{code}: {message}"))),
        (Some(_), None) => Ok(Err(full)),
        (None, Some(message)) => Err(format!("{full}: {message}")),
        (None, None) => Err(full),
    }
}

/// `…` of `message: "…"` in an SDK error's debug text.
fn quoted_message(debug: &str) -> Option<String> {
    let start = debug.find("message: \"")? + "message: \"".len();
    let rest = &debug[start..];
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

pub fn s3_client(config: &Config, base: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(base)
        .force_path_style(config.s3_force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
