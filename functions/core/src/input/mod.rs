//! The run input: what a person, the CLI or the schedule asks for. `options` holds
//! what a run can ask for and its defaults; `validate` parses it strictly (unknown fields
//! rejected) and checks it field by field, every error naming its field.

mod options;
mod validate;

pub use options::{Discovery, EntityType, Exclude, Granularity, PollOptions, ReportOptions};
pub use validate::{InputDefaults, RunInput, MAX_ARNS, MAX_BATCH_SIZE};

#[cfg(test)]
mod tests;
