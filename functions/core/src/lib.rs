//! iam-last-accessed: which AWS services (and actions) each IAM principal really used.
//!
//! All logic lives here; the Lambda crates under `functions/` are glue. The layers,
//! from the bottom (`docs/design.md` §5; `tests/architecture.rs` checks them):
//!
//! - [`domain`]: pure rules and data, no I/O;
//! - [`error`]: the named errors the state machine sees;
//! - [`adapters`]: the AWS SDK in, domain types out;
//! - [`runtime`]: configuration, clients, each handler's dependencies, `serve`;
//! - [`handlers`]: one step of the state machine each, orchestration only.

#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod adapters;
pub mod domain;
pub mod error;
#[cfg(feature = "lambda")]
pub mod handlers;
#[cfg(feature = "lambda")]
pub mod runtime;

pub use error::Error;
