//! The Generic Cell Rate Algorithm, as a pure function.
//!
//! Each key stores one number, its *theoretical arrival time* (TAT). With
//! emission interval `T = period / limit` and burst tolerance
//! `τ = T · (burst − 1)`, a request of cost `c` at time `now` is allowed iff
//!
//! ```text
//! now ≥ max(TAT, now) + c·T − τ − T
//! ```
//!
//! and then `TAT ← max(TAT, now) + c·T`. Remaining capacity is
//! `⌊(now + τ + T − TAT) / T⌋`. The same arithmetic runs inside Redis as a Lua
//! script (see `redis_store.rs`) so that both stores answer alike.

use std::time::Duration;

/// `limit` requests per `period` sustained, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
    pub burst: u32,
}

impl Quota {
    pub fn per_minute(limit: u32, burst: u32) -> Self {
        Self { limit, period: Duration::from_secs(60), burst }
    }

    /// `T` in microseconds (at least 1).
    pub fn emission_us(&self) -> i64 {
        let period = i64::try_from(self.period.as_micros()).unwrap_or(i64::MAX);
        (period / i64::from(self.limit.max(1))).max(1)
    }

    /// `τ` in microseconds.
    pub fn tolerance_us(&self) -> i64 {
        self.emission_us().saturating_mul(i64::from(self.burst.max(1) - 1))
    }
}

/// The answer for one key, with what the `RateLimit-*` headers report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The capacity (`burst`).
    pub limit: u32,
    pub remaining: u32,
    /// Until the key is back at full capacity.
    pub reset_after: Duration,
    /// When denied: how long until the request would be allowed.
    pub retry_after: Option<Duration>,
}

/// Decides a request of `cost` against the stored `tat` (µs; `None` if the key
/// is new). Returns the decision and the TAT to store (`None`: leave as is).
pub fn decide(tat: Option<i64>, now: i64, quota: &Quota, cost: u32) -> (Decision, Option<i64>) {
    let emission = quota.emission_us();
    let tolerance = quota.tolerance_us();
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(emission.saturating_mul(i64::from(cost)));
    let allow_at = new_tat - tolerance - emission;
    let micros = |us: i64| Duration::from_micros(u64::try_from(us.max(0)).unwrap_or(0));
    if now < allow_at {
        let decision = Decision {
            allowed: false,
            limit: quota.burst,
            remaining: 0,
            reset_after: micros(tat - now),
            retry_after: Some(micros(allow_at - now)),
        };
        return (decision, None);
    }
    let remaining =
        ((now + tolerance + emission - new_tat) / emission).clamp(0, i64::from(quota.burst));
    let decision = Decision {
        allowed: true,
        limit: quota.burst,
        remaining: u32::try_from(remaining).unwrap_or(0),
        reset_after: micros(new_tat - now),
        retry_after: None,
    };
    (decision, (cost > 0).then_some(new_tat))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000;

    /// Runs requests at the given times (s) and returns which were allowed.
    fn run(quota: Quota, times: &[f64]) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|t| {
                let now = (t * SECOND as f64) as i64;
                let (decision, new_tat) = decide(tat, now, &quota, 1);
                if new_tat.is_some() {
                    tat = new_tat;
                }
                decision.allowed
            })
            .collect()
    }

    #[test]
    fn a_burst_is_allowed_then_the_sustained_rate() {
        // 60/min = one per second, bursts of 3.
        let quota = Quota::per_minute(60, 3);
        let cases: [(&[f64], &[bool], &str); 3] = [
            (&[0.0, 0.0, 0.0, 0.0], &[true, true, true, false], "burst of 3 then denied"),
            (&[0.0, 0.0, 0.0, 1.0], &[true, true, true, true], "one cell back after T"),
            (
                &[0.0, 0.0, 0.0, 0.5, 3.0, 3.0, 3.0],
                &[true, true, true, false, true, true, true],
                "full again after 3T",
            ),
        ];
        for (times, expected, why) in cases {
            assert_eq!(run(quota, times), expected, "{why}");
        }
    }

    #[test]
    fn denied_requests_say_when_to_retry_and_do_not_consume() {
        let quota = Quota::per_minute(60, 1);
        let (first, tat) = decide(None, 0, &quota, 1);
        assert!(first.allowed);
        assert_eq!(first.remaining, 0);
        let (second, unchanged) = decide(tat, SECOND / 4, &quota, 1);
        assert!(!second.allowed);
        assert_eq!(unchanged, None);
        assert_eq!(second.retry_after, Some(Duration::from_millis(750)));
    }

    #[test]
    fn a_zero_cost_peek_reports_without_consuming() {
        let quota = Quota::per_minute(60, 2);
        let (peek, stored) = decide(None, 0, &quota, 0);
        assert!(peek.allowed);
        assert_eq!(stored, None);
        assert_eq!(peek.remaining, 2);
    }

    #[test]
    fn remaining_counts_down() {
        let quota = Quota::per_minute(600, 5);
        let mut tat = None;
        let remaining: Vec<u32> = (0..5)
            .map(|_| {
                let (decision, new_tat) = decide(tat, 0, &quota, 1);
                tat = new_tat;
                decision.remaining
            })
            .collect();
        assert_eq!(remaining, vec![4, 3, 2, 1, 0]);
    }
}
