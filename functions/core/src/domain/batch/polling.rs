//! Polling a batch's jobs: how long to wait before each poll, and when to give up.
//!
//! The wait doubles from `poll.initial_wait_seconds` up to `poll.max_wait_seconds`; the
//! first wait counts from the batch's first job (Generate subtracts the time it spent).
//! A job still IN_PROGRESS after `poll.max_attempts` polls is reported TIMED_OUT.

use crate::domain::batch::BatchState;
use crate::domain::input::PollOptions;
use crate::domain::job::{JobError, JobStatus};

/// The wait before poll number `attempt` (0-based): doubling from the initial wait, capped.
pub fn next_wait(poll: &PollOptions, attempt: u32) -> u32 {
    let factor = 1u64 << attempt.min(16);
    (poll.initial_wait_seconds as u64 * factor).min(poll.max_wait_seconds as u64) as u32
}

/// After a poll: count it, and at the limit mark every job still running TIMED_OUT.
/// Sets the batch's `pending` count and next wait.
pub fn after_poll(state: &mut BatchState) {
    state.attempt += 1;
    if state.attempt >= state.run.poll.max_attempts {
        let message = format!("job still IN_PROGRESS after {} polls", state.attempt);
        time_out_pending(state, &message);
    }
    state.pending = BatchState::count_pending(&state.jobs);
    state.wait_seconds = next_wait(&state.run.poll, state.attempt);
}

/// Marks every job still running TIMED_OUT, saying why.
pub fn time_out_pending(state: &mut BatchState, message: &str) {
    for job in state
        .jobs
        .iter_mut()
        .filter(|j| j.status == JobStatus::InProgress)
    {
        job.status = JobStatus::TimedOut;
        job.error = Some(JobError {
            code: "TimedOut".into(),
            message: message.to_string(),
        });
    }
    state.pending = BatchState::count_pending(&state.jobs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_doubles_then_caps() {
        let poll = PollOptions {
            initial_wait_seconds: 5,
            max_wait_seconds: 60,
            max_attempts: 10,
        };
        let waits: Vec<u32> = (0..6).map(|a| next_wait(&poll, a)).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(next_wait(&poll, 1000), 60);
        let zero = PollOptions {
            initial_wait_seconds: 0,
            max_wait_seconds: 0,
            max_attempts: 3,
        };
        assert_eq!(next_wait(&zero, 5), 0);
    }
}
