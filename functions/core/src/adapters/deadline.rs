//! One invocation's deadline, on the clock: the earlier of what Lambda tells the
//! invocation (its context's deadline, `Lambda-Runtime-Deadline-Ms`: the invocation's
//! start plus the function's Timeout) and the invocation's start plus the Timeout the
//! template gives the function (`FUNCTION_TIMEOUT_SECONDS`). Its paced work must end by
//! [`Deadline::budget_end`], [`sizing::PACED_SHARE`] of the invocation's time; the rest
//! is the margin, for the SDK's retry backoff and S3.
//!
//! tokio's clock: the same as std's in a Lambda, and a test's paused clock drives it.

use crate::domain::batch::sizing;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// An invocation's start and its end, as this invocation must keep them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    start: Instant,
    end: Instant,
}

impl Deadline {
    /// The deadline of an invocation starting now: Lambda's (`deadline_ms`, milliseconds
    /// since the Unix epoch, as the runtime API gives it) or `timeout` from now,
    /// whichever comes first. A "deadline" already past as the invocation starts is none
    /// Lambda gives (its deadline is the start plus a Timeout of at least 1 s): a local
    /// runtime's placeholder (`cargo lambda watch` sends 600000, in 1970), so `timeout`
    /// alone counts, said in the log.
    pub fn of_invocation(deadline_ms: u64, timeout: Duration) -> Deadline {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let left = u128::from(deadline_ms).saturating_sub(now_ms);
        if left == 0 {
            tracing::warn!(
                deadline_ms,
                "the runtime's deadline is already past: budgeting against the Timeout alone"
            );
            return Deadline::after(timeout);
        }
        let left = Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
        Deadline::after(left.min(timeout))
    }

    /// An invocation starting now that may last `length` (tests, and a handler run
    /// outside Lambda).
    pub fn after(length: Duration) -> Deadline {
        let start = Instant::now();
        Deadline {
            start,
            end: start + length,
        }
    }

    /// The invocation's whole time, start to end.
    pub fn length(&self) -> Duration {
        self.end - self.start
    }

    /// When the invocation's paced work must be done: [`sizing::PACED_SHARE`] of its
    /// time from its start.
    pub fn budget_end(&self) -> Instant {
        self.start + self.length().mul_f64(sizing::PACED_SHARE)
    }

    /// What is left of the paced-work budget now (zero once it is spent).
    pub fn budget_left(&self) -> Duration {
        self.budget_end().saturating_duration_since(Instant::now())
    }

    /// How many IAM calls still fit the budget at `rate` requests a second.
    pub fn calls_left(&self, rate: f64) -> u64 {
        (self.budget_left().as_secs_f64() * rate).floor() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_earlier_of_lambdas_deadline_and_the_timeout() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        // Lambda says 60 s, the template 900 s: 60 s.
        let d = Deadline::of_invocation(now_ms + 60_000, Duration::from_secs(900));
        assert!(d.length() <= Duration::from_secs(60), "{:?}", d.length());
        assert!(d.length() > Duration::from_secs(59), "{:?}", d.length());
        // The template says 60 s, Lambda 900 s: 60 s.
        let d = Deadline::of_invocation(now_ms + 900_000, Duration::from_secs(60));
        assert_eq!(d.length(), Duration::from_secs(60));
        // A deadline already past at the start (cargo lambda's constant 600000, 1970) is
        // no Lambda deadline: the Timeout alone.
        let d = Deadline::of_invocation(600_000, Duration::from_secs(900));
        assert_eq!(d.length(), Duration::from_secs(900));
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_is_two_thirds_of_the_invocation_and_runs_down() {
        let d = Deadline::after(Duration::from_secs(900));
        assert_eq!(d.budget_left(), Duration::from_secs(600));
        assert_eq!(d.calls_left(5.0), 3000);
        tokio::time::advance(Duration::from_secs(590)).await;
        assert_eq!(d.calls_left(5.0), 50);
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(d.budget_left(), Duration::ZERO);
        assert_eq!(d.calls_left(5.0), 0);
    }
}
