//! The pure core: rules and data, no I/O. Nothing here names the AWS SDK, tokio, the
//! Lambda runtime, or the layers above (`crate::{error, adapters, runtime, handlers}`);
//! `tests/architecture.rs` checks it. Leaves first: each module imports only modules
//! listed above it (a module's own folder aside).

pub mod access_report;
pub mod account;
pub mod arn;
pub mod batch;
pub mod clock;
pub mod doctor;
pub mod incremental;
pub mod input;
pub mod job;
pub mod keys;
pub mod outcome;
pub mod page;
pub mod policy;
pub mod recommend;
pub mod report;
pub mod run;
pub mod scan_finished;
pub mod security_hub;
pub mod selection;
pub mod sfn;
pub mod summary;
pub mod usage;
