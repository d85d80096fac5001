//! Time: RFC 3339 timestamps as IAM writes them, and the one instant a run is judged at.
//!
//! A run's reports are written by batches that may finish hours apart; "days since last
//! use" and "unused for N days" are judged against the run's start (`as_of`), never
//! against each batch's own clock, so the same data gives the same verdict in every report.

use time::OffsetDateTime;

/// RFC 3339 UTC timestamps, second precision, `Z` suffix (IAM's own precision).
pub mod utc {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn format(t: OffsetDateTime) -> String {
        let t = t
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(t);
        t.format(&Rfc3339).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(text, &Rfc3339).ok()
    }
}

/// The instant a run judges its data at: its start (`RunContext::started_at`, which Plan
/// wrote from the execution's start time). Falls back to the present only for a value
/// that does not parse, which Plan never writes.
pub fn as_of(started_at: &str) -> OffsetDateTime {
    utc::parse(started_at).unwrap_or_else(OffsetDateTime::now_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_is_the_runs_start_not_now() {
        let t = as_of("2026-01-02T03:04:05Z");
        assert_eq!(utc::format(t), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn utc_drops_subseconds_and_offsets() {
        let t = utc::parse("2026-01-02T04:04:05.75+01:00").unwrap();
        assert_eq!(utc::format(t), "2026-01-02T03:04:05Z");
    }
}
