//! One way to call a remote model provider (embeddings, transcription,
//! chat): failures are expected and bounded. An attempt that times out, is
//! rate limited (429) or fails server-side (5xx) is retried with exponential
//! backoff and jitter; after `breaker_threshold` calls in a row have failed
//! the circuit opens and calls fail at once for `breaker_cooldown`, then one
//! trial call decides whether it closes again. An answer that says the
//! request itself is wrong (a 4xx other than 429) is neither retried nor
//! counted against the provider.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fairgig_core::breaker::CircuitBreaker;
use rand::Rng;

/// How one attempt ended when it did not succeed.
#[derive(Debug)]
pub enum Attempt {
    /// Another attempt may succeed (timeout, 429, 5xx, unreadable answer).
    Retry(String),
    /// Another attempt would fail the same way.
    Fatal(String),
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{0}")]
    Fatal(String),
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
    #[error("the provider is failing; calls resume in {retry_in_secs} s")]
    CircuitOpen { retry_in_secs: u64 },
}

/// Retry and breaker settings of one provider.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each one after.
    pub backoff_base: Duration,
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
}

/// Calls one provider under a [`RetryPolicy`]; share it for the provider's
/// whole life so the breaker sees every call.
#[derive(Debug)]
pub struct Caller {
    policy: RetryPolicy,
    breaker: Mutex<CircuitBreaker>,
}

impl Caller {
    pub fn new(policy: RetryPolicy) -> Self {
        let breaker = CircuitBreaker::new(policy.breaker_threshold, policy.breaker_cooldown);
        Self { policy, breaker: Mutex::new(breaker) }
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Runs `attempt` until it succeeds, fails fatally or the attempts are
    /// used up; `what` names the call in the log.
    pub async fn call<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, RemoteError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Attempt>>,
    {
        self.admit()?;
        let attempts = self.policy.max_attempts.max(1);
        let mut last_error = String::new();
        for number in 0..attempts {
            if number > 0 {
                tokio::time::sleep(self.backoff(number)).await;
            }
            match attempt().await {
                Ok(value) => {
                    self.record(what, true);
                    return Ok(value);
                }
                Err(Attempt::Fatal(message)) => return Err(RemoteError::Fatal(message)),
                Err(Attempt::Retry(message)) => {
                    tracing::warn!(call = what, attempt = number + 1, error = %message, "remote call failed");
                    last_error = message;
                }
            }
        }
        self.record(what, false);
        Err(RemoteError::GaveUp { attempts, last: last_error })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.policy.backoff_base.saturating_mul(1 << attempt.min(10));
        base.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
    }

    /// Refuses a call while the circuit is open (one trial once the
    /// cooldown has passed).
    fn admit(&self) -> Result<(), RemoteError> {
        let mut breaker = self.breaker.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        breaker
            .admit(Instant::now())
            .map_err(|wait| RemoteError::CircuitOpen { retry_in_secs: wait.as_secs().max(1) })
    }

    /// Records the outcome; a circuit that opens now is counted in
    /// `fairgig_breaker_opened_total` by `what` (a fixed name per provider).
    fn record(&self, what: &str, success: bool) {
        let mut breaker = self.breaker.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if breaker.record(success, Instant::now()) {
            tracing::warn!(
                call = what,
                "circuit opened: calls fail at once until the cooldown ends"
            );
            metrics::counter!("fairgig_breaker_opened_total", "call" => what.to_owned())
                .increment(1);
        }
    }
}

/// One attempt: sends `request` (with `api_key` as a bearer token) to
/// `url` and reads a JSON `T`; a failure says whether another try may work.
pub async fn send_json<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    api_key: Option<&secrecy::SecretString>,
    url: &str,
) -> Result<T, Attempt> {
    let response = send_for_stream(request, api_key, url).await?;
    response.json().await.map_err(|err| Attempt::Retry(format!("{url}: unreadable answer: {err}")))
}

/// One attempt whose answer is read as it arrives: sends `request` and
/// hands back the response once its status says success.
pub async fn send_for_stream(
    request: reqwest::RequestBuilder,
    api_key: Option<&secrecy::SecretString>,
    url: &str,
) -> Result<reqwest::Response, Attempt> {
    use secrecy::ExposeSecret;
    let request = match api_key {
        Some(key) => request.bearer_auth(key.expose_secret()),
        None => request,
    };
    let response = request.send().await.map_err(|err| Attempt::Retry(format!("{url}: {err}")))?;
    let status = response.status();
    if !status.is_success() {
        let detail = response.text().await.unwrap_or_default();
        return Err(classify_status(url, status.as_u16(), &detail)
            .unwrap_or_else(|| Attempt::Fatal(format!("{url} answered {status}"))));
    }
    Ok(response)
}

/// How an HTTP status from a provider is treated: `None` for success.
fn classify_status(url: &str, status: u16, detail: &str) -> Option<Attempt> {
    match status {
        200..=299 => None,
        429 | 500..=599 => Some(Attempt::Retry(format!("{url} answered {status}"))),
        _ => Some(Attempt::Fatal(format!(
            "{url} answered {status}: {}",
            detail.chars().take(300).collect::<String>()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn caller(max_attempts: u32, threshold: u32) -> Caller {
        Caller::new(RetryPolicy {
            max_attempts,
            backoff_base: Duration::from_millis(1),
            breaker_threshold: threshold,
            breaker_cooldown: Duration::from_secs(60),
        })
    }

    #[tokio::test]
    async fn retries_until_success_and_stops_at_a_fatal_answer() {
        let caller = caller(4, 5);
        let tries = AtomicU32::new(0);
        let value = caller
            .call("test", || async {
                if tries.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Attempt::Retry("busy".into()))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(value.ok(), Some(7));
        assert_eq!(tries.load(Ordering::SeqCst), 3);

        let tries = AtomicU32::new(0);
        let fatal: Result<(), _> = caller
            .call("test", || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err(Attempt::Fatal("bad request".into()))
            })
            .await;
        assert!(matches!(fatal, Err(RemoteError::Fatal(_))));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_breaker_opens_after_failed_calls_and_refuses_without_calling() {
        let caller = caller(2, 2);
        let tries = AtomicU32::new(0);
        for _ in 0..2 {
            let failed: Result<(), _> = caller
                .call("test", || async {
                    tries.fetch_add(1, Ordering::SeqCst);
                    Err(Attempt::Retry("down".into()))
                })
                .await;
            assert!(matches!(failed, Err(RemoteError::GaveUp { attempts: 2, .. })));
        }
        assert_eq!(tries.load(Ordering::SeqCst), 4);
        let refused: Result<(), _> = caller
            .call("test", || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(matches!(refused, Err(RemoteError::CircuitOpen { .. })));
        assert_eq!(tries.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn statuses_are_classified() {
        assert!(classify_status("u", 200, "").is_none());
        assert!(matches!(classify_status("u", 429, ""), Some(Attempt::Retry(_))));
        assert!(matches!(classify_status("u", 503, ""), Some(Attempt::Retry(_))));
        assert!(matches!(classify_status("u", 400, "no"), Some(Attempt::Fatal(_))));
    }
}
