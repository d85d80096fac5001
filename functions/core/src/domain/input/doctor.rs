//! A doctor run's input (`"doctor": true`, `ila doctor`): which fields it takes.

use crate::domain::input::InputError;

/// The fields a doctor run (`"doctor": true`) reads: it checks the deployment and scans
/// nothing, so any other field would be ignored, and is refused instead.
pub const DOCTOR_FIELDS: [&str; 2] = ["doctor", "organization"];

/// A doctor run takes `organization` (the accounts to check) and nothing else a scan
/// would read: a field it would ignore is `InvalidInput` naming it.
pub(super) fn check_doctor_fields(input: &serde_json::Value) -> Result<(), InputError> {
    let Some(object) = input.as_object() else {
        return Ok(());
    };
    match object.keys().find(|k| !DOCTOR_FIELDS.contains(&k.as_str())) {
        Some(field) => Err(InputError::invalid(
            field,
            "a doctor run (\"doctor\": true) checks the deployment and scans nothing: it reads only `organization` (the accounts a scan would select); leave this field out",
        )),
        None => Ok(()),
    }
}
