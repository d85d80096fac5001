//! The function's configuration, read once at init from the environment the stack sets.

use crate::error::Error;
use std::env;

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
}

fn var(name: &str) -> Option<String> {
    env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Error> {
    match var(name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| Error::Config(format!("{name}={text:?} is not a valid number"))),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, Error> {
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
        };
        if !(0.0..=100.0).contains(&config.max_failed_percent) {
            return Err(Error::Config("MAX_FAILED_PERCENT must be 0 to 100".into()));
        }
        if !(config.iam_requests_per_second > 0.0 && config.iam_requests_per_second.is_finite()) {
            return Err(Error::Config(
                "IAM_REQUESTS_PER_SECOND must be above 0".into(),
            ));
        }
        if !(1..=1000).contains(&config.iam_page_size) {
            return Err(Error::Config("IAM_PAGE_SIZE must be 1 to 1000".into()));
        }
        if config.iam_max_attempts == 0 {
            return Err(Error::Config("IAM_MAX_ATTEMPTS must be at least 1".into()));
        }
        Ok(config)
    }

    /// The bucket, for the functions that need one.
    pub fn require_bucket(&self) -> Result<String, Error> {
        self.bucket
            .clone()
            .ok_or_else(|| Error::Config("REPORT_BUCKET is not set".into()))
    }
}
