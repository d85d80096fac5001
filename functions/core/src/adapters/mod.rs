//! Thin adapters over the SDK clients: they make the calls and translate to domain types.
//! The S3 adapter (and the pagination cursor) are always built; the IAM, Organizations
//! and STS ones with the `lambda` feature.

#[cfg(feature = "lambda")]
pub mod access_report;
#[cfg(feature = "lambda")]
mod calls;
#[cfg(feature = "lambda")]
pub mod deadline;
#[cfg(feature = "lambda")]
pub mod directory;
#[cfg(feature = "lambda")]
pub mod iam;
pub mod json_array;
#[cfg(feature = "lambda")]
pub mod organizations;
#[cfg(feature = "lambda")]
pub mod pacing;
pub mod pages;
pub mod s3;
#[cfg(feature = "lambda")]
pub mod security_hub;
pub mod streams;
#[cfg(feature = "lambda")]
pub mod sts;

#[cfg(feature = "lambda")]
pub(crate) use calls::{classify, principal_outcome, time, Denial};

#[cfg(test)]
mod tests;
