//! Limits that protect the service and its users, in-process by default or
//! shared through Redis when `REDIS_URL` is set: request quotas (GCRA),
//! sign-in lockouts, and a few expensive requests per caller at once.
//!
//! - [`gcra`]: the algorithm, pure.
//! - [`redis_store`]: the same algorithm as a Redis script.
//! - [`expensive`]: a few expensive requests per caller at once.
//! - this module: the limiter (one enum over both stores) and the quotas
//!   from configuration. The HTTP middleware that applies them lives in the
//!   server.

pub mod expensive;
pub mod gcra;
pub mod redis_store;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use fairgig_core::config::RateLimitSettings;

pub use gcra::{Decision, Quota};
use redis_store::RedisStore;

/// The quotas in force, from configuration.
#[derive(Clone, Copy, Debug)]
pub struct Quotas {
    pub enabled: bool,
    pub per_ip: Quota,
    pub per_user: Quota,
    pub per_api_key: Quota,
    pub login_failures: Quota,
}

impl Quotas {
    pub fn from_settings(settings: &RateLimitSettings) -> Self {
        let failures = settings.login_failures_per_15_minutes.max(1);
        Self {
            enabled: settings.enabled,
            per_ip: Quota::per_minute(settings.per_ip_per_minute.max(1), settings.burst.max(1)),
            per_user: Quota::per_minute(settings.per_user_per_minute.max(1), settings.burst.max(1)),
            per_api_key: Quota::per_minute(
                settings.per_api_key_per_minute.max(1),
                settings.burst.max(1),
            ),
            login_failures: Quota {
                limit: failures,
                period: Duration::from_secs(15 * 60),
                burst: failures,
            },
        }
    }
}

/// Where GCRA state lives.
#[derive(Clone, Debug)]
pub enum RateLimiter {
    Local(LocalStore),
    Redis(RedisStore),
}

impl RateLimiter {
    /// Decides a request of `cost` (0 = look without consuming). A Redis
    /// outage lets requests through (logged): an unavailable limiter must not
    /// take the whole API down with it.
    pub async fn decide(&self, key: &str, quota: &Quota, cost: u32) -> Decision {
        match self {
            RateLimiter::Local(store) => store.decide(key, quota, cost),
            RateLimiter::Redis(store) => match store.decide(key, quota, cost).await {
                Ok(decision) => decision,
                Err(err) => {
                    tracing::warn!(error.message = %err, "rate limiter unavailable; allowing request");
                    Decision {
                        allowed: true,
                        limit: quota.burst,
                        remaining: quota.burst,
                        reset_after: Duration::ZERO,
                        retry_after: None,
                    }
                }
            },
        }
    }
}

/// In-process GCRA state: key → TAT (µs since the store was created).
#[derive(Clone, Debug)]
pub struct LocalStore {
    started: std::time::Instant,
    tats: Arc<Mutex<HashMap<String, i64>>>,
}

impl Default for LocalStore {
    fn default() -> Self {
        Self { started: std::time::Instant::now(), tats: Arc::default() }
    }
}

impl LocalStore {
    const PRUNE_AT: usize = 100_000;

    fn decide(&self, key: &str, quota: &Quota, cost: u32) -> Decision {
        let now = i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
        let mut tats = self.tats.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if tats.len() >= Self::PRUNE_AT {
            // Keys whose TAT has passed are at full capacity: forgetting them changes nothing.
            tats.retain(|_, tat| *tat > now);
        }
        let (decision, new_tat) = gcra::decide(tats.get(key).copied(), now, quota, cost);
        if let Some(new_tat) = new_tat {
            tats.insert(key.to_owned(), new_tat);
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_store_keeps_keys_apart() {
        let limiter = RateLimiter::Local(LocalStore::default());
        let quota = Quota::per_minute(1, 1);
        assert!(limiter.decide("a", &quota, 1).await.allowed);
        assert!(!limiter.decide("a", &quota, 1).await.allowed);
        assert!(limiter.decide("b", &quota, 1).await.allowed);
    }
}
