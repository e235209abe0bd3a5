//! A circuit breaker for calls to one remote provider: after `threshold`
//! failures in a row the circuit opens and calls are refused for
//! `cooldown`; then one trial call is let through (half-open) and the
//! others wait another cooldown. A success closes it.
//!
//! Pure: callers pass the clock in, so it is tested without sleeping.

use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    consecutive_failures: u32,
    open_until: Option<Instant>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        CircuitBreaker {
            threshold: threshold.max(1),
            cooldown,
            consecutive_failures: 0,
            open_until: None,
        }
    }

    /// `Ok` when a call may go ahead at `now`; `Err(wait)` while the circuit is open.
    pub fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(until) = self.open_until {
            if now < until {
                return Err(until - now);
            }
            // Half-open: this call is the trial; others wait a cooldown more.
            self.open_until = Some(now + self.cooldown);
        }
        Ok(())
    }

    /// Records how an admitted call ended; true when this failure opened
    /// a closed circuit (a failed half-open trial only keeps it open), so
    /// a caller can count outages rather than refused calls.
    pub fn record(&mut self, success: bool, now: Instant) -> bool {
        if success {
            self.consecutive_failures = 0;
            self.open_until = None;
            return false;
        }
        self.consecutive_failures += 1;
        if self.consecutive_failures >= self.threshold {
            self.open_until = Some(now + self.cooldown);
        }
        self.consecutive_failures == self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_half_opens_after_the_cooldown_and_closes_on_success() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut breaker = CircuitBreaker::new(3, 10 * second);
        for _ in 0..2 {
            assert!(breaker.admit(start).is_ok());
            assert!(!breaker.record(false, start), "not open yet");
        }
        assert!(breaker.admit(start).is_ok(), "two failures: still closed");
        assert!(breaker.record(false, start), "the third opens it");
        assert_eq!(breaker.admit(start + second), Err(9 * second), "open");
        // Half-open: one trial, the next caller waits.
        assert!(breaker.admit(start + 10 * second).is_ok());
        assert!(breaker.admit(start + 11 * second).is_err());
        assert!(!breaker.record(false, start + 11 * second), "the same outage");
        assert!(breaker.admit(start + 12 * second).is_err(), "the trial failed: open again");
        assert!(breaker.admit(start + 21 * second).is_ok());
        breaker.record(true, start + 21 * second);
        assert!(breaker.admit(start + 21 * second).is_ok(), "closed");
        breaker.record(false, start + 21 * second);
        assert!(breaker.admit(start + 21 * second).is_ok(), "the count restarted");
    }
}
