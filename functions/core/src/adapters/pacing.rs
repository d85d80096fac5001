//! A token bucket shared by every IAM call of one Lambda invocation. IAM throttles
//! account-wide and publishes no limit; the total rate of a run is
//! `max_concurrency × IAM_REQUESTS_PER_SECOND`.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Pacer {
    pub fn new(rate_per_second: f64, burst: u32) -> Pacer {
        let burst = f64::from(burst.max(1));
        Pacer {
            rate: rate_per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Reserves one token and returns how long to wait before using it.
    fn reserve(&self) -> Duration {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (tokens, last) = &mut *guard;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        *tokens -= 1.0;
        if *tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-*tokens / self.rate)
        }
    }

    /// Waits for a token; tokens are handed out in call order.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let pacer = Pacer::new(10.0, 3);
        let start = Instant::now();
        for _ in 0..3 {
            pacer.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is free");
        for _ in 0..10 {
            pacer.acquire().await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!(
            (0.99..1.01).contains(&elapsed),
            "10 more tokens at 10/s take 1 s, took {elapsed}"
        );
    }
}
