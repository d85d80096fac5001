//! The run input: what a person, the CLI or the schedule asks for. `options` holds
//! what a run can ask for and its defaults; `validate` parses it strictly (unknown fields
//! rejected) and checks it field by field, every error naming its field.

mod doctor;
mod error;
mod incremental;
mod options;
mod scope;
mod validate;

pub use doctor::DOCTOR_FIELDS;
pub use error::InputError;
pub use options::{
    AccountSelection, Discovery, EntityType, Exclude, Granularity, Organization,
    OrganizationOptions, PollOptions, ReportOptions,
};
pub use scope::check_account_id;
pub use validate::{InputDefaults, RunInput, MAX_ARNS, MAX_BATCH_SIZE};

#[cfg(test)]
mod tests;
