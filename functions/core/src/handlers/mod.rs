//! The five Lambda handlers: orchestration only. Each takes its dependencies (built
//! once at init, `runtime::deps`) and the raw event; the event is decoded here so a
//! malformed one is `InvalidInput`, never a runtime's serde error.

mod carrying;
pub mod check;
pub mod events;
pub mod generate;
pub mod plan;
mod reading;
pub mod summarize;
pub mod write;

use crate::domain::input::InputError;
use crate::error::Error;
use serde::de::DeserializeOwned;

/// How many principals of a batch a Lambda works on at once; the pacer still bounds
/// the IAM request rate, this only hides call latency.
pub const PRINCIPALS_IN_FLIGHT: usize = 8;

/// Decodes an event, naming the offending field.
pub fn decode<T: DeserializeOwned>(what: &str, event: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(event)
        .map_err(|e| InputError::malformed(what, &format!("{what}."), e).into())
}
