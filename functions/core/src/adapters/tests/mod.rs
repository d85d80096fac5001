//! Adapter tests: the real SDK clients, their HTTP answered by aws-smithy-mocks.
//! Split by concern: the access advisor, the directory (discovery), Organizations and
//! its access report, the report store.

mod advisor;
mod directory;
mod organizations;
mod security_hub;
mod store;

use crate::adapters::iam::AccessAdvisor;
use crate::adapters::pacing::Pacer;
use crate::domain::arn::PrincipalArn;
use crate::error::Error;
use aws_smithy_mocks::{mock_client, Rule, RuleMode};
use std::sync::Arc;
use std::time::Duration;

/// The error of a call that must fail, as the Lambda would report it (with its name).
pub(super) fn failure<T: std::fmt::Debug>(result: Result<T, impl Into<Error>>) -> Error {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(e) => e.into(),
    }
}

/// An IAM error body as IAM's query protocol sends it.
pub(super) fn iam_error(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
    )
}

pub(super) fn throttled() -> String {
    iam_error("Throttling", "Rate exceeded")
}

pub(super) fn denied() -> String {
    iam_error(
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/reader/x is not authorized to perform: iam:GenerateServiceLastAccessedDetails with an explicit deny in a service control policy",
    )
}

/// A pacer that never waits in these tests (thousands of calls in a burst).
pub(super) fn free_pacer() -> Arc<Pacer> {
    Arc::new(Pacer::new(1_000_000.0, 1_000_000))
}

pub(super) fn iam_client(mode: RuleMode, rules: &[&Rule], attempts: u32) -> aws_sdk_iam::Client {
    mock_client!(aws_sdk_iam, mode, rules, |c| c.retry_config(
        aws_sdk_iam::config::retry::RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(2))
    ))
}

pub(super) fn advisor(rules: &[&Rule], attempts: u32) -> AccessAdvisor {
    AccessAdvisor::new(
        iam_client(RuleMode::Sequential, rules, attempts),
        free_pacer(),
    )
}

/// Like [`advisor`], rules matched by request rather than in order.
pub(super) fn advisor_any(rules: &[&Rule]) -> AccessAdvisor {
    AccessAdvisor::new(iam_client(RuleMode::MatchAny, rules, 1), free_pacer())
}

pub(super) fn role() -> PrincipalArn {
    PrincipalArn::parse("arn:aws:iam::123456789012:role/app").unwrap()
}

/// The page a walk asks for with `marker`: markers are `p1`, `p2`, … and the first page
/// has none.
pub(super) fn page_of(marker: Option<&str>) -> usize {
    marker
        .and_then(|m| m.strip_prefix('p'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The marker of the page after `page`, if `page` is not the last of `pages` (`None`:
/// endless).
pub(super) fn marker_after(page: usize, pages: Option<usize>) -> Option<String> {
    match pages {
        Some(n) if page + 1 >= n => None,
        _ => Some(format!("p{}", page + 1)),
    }
}
