//! `incremental`, `full_refresh_days` and `incremental_sample_percent`, checked.

use crate::domain::incremental::{
    IncrementalOptions, DEFAULT_FULL_REFRESH_DAYS, DEFAULT_SAMPLE_PERCENT,
};
use crate::domain::input::InputError;

/// `incremental` and its two knobs, which mean nothing without it.
pub(super) fn check_incremental(
    on: bool,
    full_refresh_days: Option<u32>,
    sample_percent: Option<f64>,
) -> Result<Option<IncrementalOptions>, InputError> {
    if !on {
        let knob = full_refresh_days
            .map(|_| "full_refresh_days")
            .or(sample_percent.map(|_| "incremental_sample_percent"));
        return match knob {
            Some(field) => Err(InputError::invalid(
                field,
                "applies to incremental runs only: add \"incremental\": true, or leave it out",
            )),
            None => Ok(None),
        };
    }
    let days = full_refresh_days.unwrap_or(DEFAULT_FULL_REFRESH_DAYS);
    if !(1..=30).contains(&days) {
        return Err(InputError::invalid(
            "full_refresh_days",
            format!("{days} is out of range 1..=30"),
        ));
    }
    let percent = sample_percent.unwrap_or(DEFAULT_SAMPLE_PERCENT);
    if !(0.0..=100.0).contains(&percent) {
        return Err(InputError::invalid(
            "incremental_sample_percent",
            format!("{percent} is out of range 0..=100"),
        ));
    }
    Ok(Some(IncrementalOptions {
        full_refresh_days: days,
        sample_percent: percent,
    }))
}
