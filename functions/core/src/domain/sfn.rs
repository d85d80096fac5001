//! Step Functions' `{Error, Cause}` of a failed state, and how we tell it briefly.

use serde::{Deserialize, Serialize};

/// A failed state as Step Functions reports it (`{Error, Cause}`): a batch's or an
/// account's Catch, the Map's error, the access-report loop's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFunctionsError {
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// A Step Functions error and the Lambda's message, short: `Error: message` (the cause's
/// `errorMessage` when it is a Lambda's error document, cut before the SDK's debug dump,
/// at most 600 characters).
pub fn failed_briefly(error: Option<&str>, cause: Option<&str>) -> String {
    let message = cause
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .or_else(|| cause.map(str::to_string))
        .unwrap_or_default();
    let message = message
        .split(" (ServiceError(")
        .next()
        .unwrap_or_default()
        .to_string();
    cut_to(format!("{}: {message}", error.unwrap_or("an error")), 600)
}

/// `text`, cut to at most `max` bytes (on a character boundary) with `…` when longer.
pub fn cut_to(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A Step Functions error and cause, as one phrase: `Error: Cause`.
pub fn what_failed(error: Option<&str>, cause: Option<&str>) -> String {
    format!("{}: {}", error.unwrap_or("an error"), cause.unwrap_or(""))
}
