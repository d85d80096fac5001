//! The cold start: the function's configuration, the SDK clients, each handler's
//! dependencies, and the runtime loop (`serve`). Imports adapters, errors and the domain.

pub mod clients;
pub mod config;
pub mod deps;
mod serve;

pub use serve::{serve, serve_within_deadline};
