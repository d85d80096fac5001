//! The five Lambda handlers. Each takes its dependencies (built once at init) and the
//! raw event; the event is decoded here so a malformed one is `InvalidInput`, never a
//! runtime's serde error.

pub mod check;
pub mod generate;
pub mod plan;
pub mod summarize;
pub mod write;

use crate::adapters::iam::AccessAdvisor;
use crate::adapters::s3::ReportStore;
use crate::clients;
use crate::config::Config;
use crate::error::Error;
use crate::pacing::Pacer;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// How many principals of a batch a Lambda works on at once; the pacer still bounds
/// the IAM request rate, this only hides call latency.
pub const PRINCIPALS_IN_FLIGHT: usize = 8;

/// What the handlers need, built once per cold start.
#[derive(Debug, Clone)]
pub struct Deps {
    pub config: Config,
    pub advisor: AccessAdvisor,
    pub store: Option<ReportStore>,
}

impl Deps {
    /// Reads the environment and builds the clients. `needs_bucket`: Plan, Write and
    /// Summarize store things; Generate and Check only talk to IAM.
    pub async fn from_env(needs_bucket: bool) -> Result<Deps, Error> {
        let config = Config::from_env()?;
        let base = clients::sdk_config(&config).await;
        let pacer = Arc::new(Pacer::new(config.iam_requests_per_second, config.iam_burst));
        let advisor = AccessAdvisor::new(clients::iam_client(&config, &base).await, pacer)
            .with_page_size(config.iam_page_size);
        let store = if needs_bucket {
            Some(ReportStore::new(
                clients::s3_client(&config, &base),
                config.require_bucket()?,
            ))
        } else {
            None
        };
        Ok(Deps {
            config,
            advisor,
            store,
        })
    }

    /// The IAM adapter paced for this run: the run input's rate if it set one (a fresh
    /// bucket for this invocation), else the function's configured one.
    pub fn advisor_at(&self, rate: Option<f64>) -> AccessAdvisor {
        match rate {
            Some(rate) => self
                .advisor
                .with_pacer(Arc::new(Pacer::new(rate, self.config.iam_burst))),
            None => self.advisor.clone(),
        }
    }

    pub fn advisor_for(&self, run: &crate::model::RunContext) -> AccessAdvisor {
        self.advisor_at(run.iam_requests_per_second)
    }

    pub fn store(&self) -> Result<&ReportStore, Error> {
        self.store
            .as_ref()
            .ok_or_else(|| Error::Config("REPORT_BUCKET is not set".into()))
    }
}

/// Decodes an event, naming the offending field.
pub fn decode<T: DeserializeOwned>(what: &str, event: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(event).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            what.to_string()
        } else {
            format!("{what}.{path}")
        };
        Error::invalid(&field, e.into_inner())
    })
}
