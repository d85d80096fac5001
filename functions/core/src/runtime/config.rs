//! The function's configuration, read once at init from the environment the stack sets.

use crate::error::ConfigError;
use std::env;
use std::sync::Arc;

/// Everything a Lambda of ours reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The report bucket (`REPORT_BUCKET`).
    pub bucket: Option<String>,
    /// The role every IAM call of a run goes through (`READER_ROLE_ARN`); unset: the
    /// function's own credentials (fine locally, and for a single-role deployment).
    pub reader_role_arn: Option<String>,
    /// Fixed, so every function reads the JobIds the others created (`READER_SESSION_NAME`).
    pub reader_session_name: String,
    /// This function's share of IAM's rate, requests per second (`IAM_REQUESTS_PER_SECOND`).
    pub iam_requests_per_second: f64,
    /// Token-bucket burst (`IAM_BURST`, default 1: a new invocation must not add a
    /// burst on top of the others' steady rate).
    pub iam_burst: u32,
    /// Attempts per IAM call, including the first, for throttling and transient errors (`IAM_MAX_ATTEMPTS`).
    pub iam_max_attempts: u32,
    /// Default principals per batch (`BATCH_SIZE`).
    pub batch_size: u32,
    /// Default concurrent batches (`MAX_CONCURRENCY`).
    pub max_concurrency: u32,
    /// The partition the scan reads (`AWS_PARTITION`, default `aws`).
    pub partition: String,
    /// The account the scan reads (`ACCOUNT_ID`); unset: taken from the function's ARN.
    pub account_id: Option<String>,
    /// MaxItems of access-advisor pages (`IAM_PAGE_SIZE`, 1–1000, default 1000).
    pub iam_page_size: i32,
    /// Path-style S3 addressing, for local endpoints (`S3_FORCE_PATH_STYLE`).
    pub s3_force_path_style: bool,
    /// A run with more than this percentage of its principals FAILED fails
    /// (`MAX_FAILED_PERCENT`, 0–100, default 50; Summarize's stack parameter).
    pub max_failed_percent: f64,
    /// The role an organization run assumes in each account (`MEMBER_ROLE_NAME`).
    pub member_role_name: String,
    /// Accounts an organization run scans side by side (`MAX_ACCOUNTS_IN_PARALLEL`).
    pub max_accounts_in_parallel: u32,
    /// Each batch function's reserved concurrency (`RESERVED_CONCURRENCY`; 0: none).
    pub reserved_concurrency: u32,
    /// The functions' Timeout, seconds (`FUNCTION_TIMEOUT_SECONDS`, 1–900, default 900):
    /// the template's Globals give every function the same, and pass it here, since
    /// Lambda tells an invocation its deadline but not its function's Timeout. Each
    /// invocation keeps the earlier of its own deadline and its start plus this; Plan cuts
    /// batches from it.
    pub function_timeout_seconds: u32,
    /// The function's Region (`AWS_REGION`, set by Lambda): where `ila doctor` tells the
    /// member role's StackSet to deploy.
    pub region: Option<String>,
    /// The scheduled scan as the stack deployed it (`SCHEDULE_STATE`, `SCHEDULE_EXPRESSION`,
    /// `SCHEDULE_TIMEZONE`): `ila doctor`'s information line.
    pub schedule: Option<ScheduleSetting>,
    /// The stack's `SecurityHubFindings` (`SECURITY_HUB_FINDINGS`, `true` or `false`):
    /// Plan's default for `report.security_hub`, and whether it may be asked for.
    pub security_hub_findings: bool,
}

/// The stack's schedule, as deployed (its `ScheduleEnabled`, `ScheduleExpression` and
/// `ScheduleTimezone` parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSetting {
    pub state: String,
    pub expression: String,
    pub timezone: String,
}

fn var(name: &str) -> Option<String> {
    env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn number<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match var(name) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|e| ConfigError::NotANumber {
            name,
            source: Arc::new(e),
            text,
        }),
    }
}

/// A check of one variable's value: `Ok` or why not.
fn check(ok: bool, name: &'static str, why: &'static str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange { name, why })
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let config = Config {
            bucket: var("REPORT_BUCKET"),
            reader_role_arn: var("READER_ROLE_ARN"),
            reader_session_name: var("READER_SESSION_NAME")
                .unwrap_or_else(|| "iam-last-accessed".into()),
            iam_requests_per_second: number("IAM_REQUESTS_PER_SECOND", 5.0)?,
            iam_burst: number("IAM_BURST", 1)?,
            iam_max_attempts: number("IAM_MAX_ATTEMPTS", 8)?,
            batch_size: number("BATCH_SIZE", 50)?,
            max_concurrency: number("MAX_CONCURRENCY", 2)?,
            partition: var("AWS_PARTITION").unwrap_or_else(|| "aws".into()),
            account_id: var("ACCOUNT_ID"),
            iam_page_size: number("IAM_PAGE_SIZE", 1000)?,
            s3_force_path_style: var("S3_FORCE_PATH_STYLE")
                .is_some_and(|v| v == "true" || v == "1"),
            max_failed_percent: number("MAX_FAILED_PERCENT", 50.0)?,
            member_role_name: var("MEMBER_ROLE_NAME")
                .unwrap_or_else(|| "iam-last-accessed-member".into()),
            max_accounts_in_parallel: number("MAX_ACCOUNTS_IN_PARALLEL", 5)?,
            reserved_concurrency: number("RESERVED_CONCURRENCY", 0)?,
            function_timeout_seconds: number("FUNCTION_TIMEOUT_SECONDS", 900)?,
            region: var("AWS_REGION"),
            schedule: var("SCHEDULE_STATE").map(|state| ScheduleSetting {
                state,
                expression: var("SCHEDULE_EXPRESSION").unwrap_or_default(),
                timezone: var("SCHEDULE_TIMEZONE").unwrap_or_else(|| "UTC".into()),
            }),
            security_hub_findings: var("SECURITY_HUB_FINDINGS").is_some_and(|v| v == "true"),
        };
        check(
            (0.0..=100.0).contains(&config.max_failed_percent),
            "MAX_FAILED_PERCENT",
            "must be 0 to 100",
        )?;
        let rate = config.iam_requests_per_second;
        check(
            rate > 0.0 && rate.is_finite(),
            "IAM_REQUESTS_PER_SECOND",
            "must be above 0",
        )?;
        check(
            (1..=1000).contains(&config.iam_page_size),
            "IAM_PAGE_SIZE",
            "must be 1 to 1000",
        )?;
        check(
            (1..=900).contains(&config.function_timeout_seconds),
            "FUNCTION_TIMEOUT_SECONDS",
            "must be 1 to 900 (Lambda's range)",
        )?;
        check(
            config.iam_max_attempts > 0,
            "IAM_MAX_ATTEMPTS",
            "must be at least 1",
        )?;
        Ok(config)
    }

    /// The bucket, for the functions that need one.
    pub fn require_bucket(&self) -> Result<String, ConfigError> {
        self.bucket.clone().ok_or(ConfigError::Unset {
            name: "REPORT_BUCKET",
            why: "this function reads and writes the report bucket",
        })
    }
}
