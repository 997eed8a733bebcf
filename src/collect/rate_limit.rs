//! A client-side rate limit for AWS APIs that share one request budget (IAM Identity Center:
//! sso-admin and identitystore together, about 20 calls a second). Calls are spaced evenly,
//! so a burst never starts the throttling that adaptive retry would then have to absorb.
//! Retries of a call are the SDK's business and are not spaced here.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// At most `per_second` calls a second (at least one).
    pub fn per_second(per_second: u32) -> RateLimit {
        RateLimit { interval: Duration::from_secs(1) / per_second.max(1), next: Mutex::new(None) }
    }

    /// Waits for this call's turn.
    pub async fn turn(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_spaced_by_the_rate() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let limit = RateLimit::per_second(20);
        let elapsed = runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..5 {
                limit.turn().await;
            }
            started.elapsed()
        });
        // The first call goes at once, the fifth 4 × 50 ms later.
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    }
}
