//! The provider's send rate limit: sends are spaced evenly, shared by every worker of the process.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    #[must_use]
    pub fn per_second(rate: u32) -> Self {
        Self { interval: Duration::from_secs(1) / rate.max(1), next: Mutex::new(Instant::now()) }
    }

    /// Waits for this send's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_sends_at_the_configured_rate() {
        let pacer = Pacer::per_second(10);
        let started = Instant::now();
        for _ in 0..11 {
            pacer.wait().await;
        }
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }
}
