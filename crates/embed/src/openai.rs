//! Embeddings from any OpenAI-compatible `POST {base}/embeddings` service.
//!
//! Failures are expected and bounded: a request that times out, is rate
//! limited (429) or fails server-side (5xx) is retried with exponential
//! backoff and jitter; after `breaker_threshold` calls in a row have failed
//! the circuit opens and calls fail at once for `breaker_cooldown`, then one
//! trial call decides whether it closes again. A 4xx other than 429 is the
//! caller's fault and is neither retried nor counted.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fairgig_core::breaker::CircuitBreaker;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{l2_normalise, EmbedError};

#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    /// e.g. `https://api.openai.com/v1`; `/embeddings` is appended.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Vector width the service returns (sent as `dimensions` when set).
    pub dimensions: usize,
    pub send_dimensions: bool,
    pub timeout: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
}

#[derive(Debug)]
pub struct OpenAiClient {
    config: OpenAiConfig,
    http: reqwest::Client,
    breaker: Mutex<CircuitBreaker>,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

/// Why one attempt failed, and whether another may succeed.
enum Attempt {
    Retry(String),
    Fatal(String),
}

impl OpenAiClient {
    pub fn new(config: OpenAiConfig) -> Result<Self, EmbedError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| EmbedError::Remote(e.to_string()))?;
        let breaker = CircuitBreaker::new(config.breaker_threshold, config.breaker_cooldown);
        Ok(Self { config, http, breaker: Mutex::new(breaker) })
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        self.admit()?;
        let mut last_error = String::new();
        for attempt in 0..self.config.max_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(self.backoff(attempt)).await;
            }
            match self.attempt(texts).await {
                Ok(vectors) => {
                    self.record(true);
                    return Ok(vectors);
                }
                Err(Attempt::Fatal(message)) => return Err(EmbedError::Remote(message)),
                Err(Attempt::Retry(message)) => {
                    tracing::warn!(attempt = attempt + 1, error = %message, "embedding request failed");
                    last_error = message;
                }
            }
        }
        self.record(false);
        Err(EmbedError::Remote(format!(
            "gave up after {} attempts: {last_error}",
            self.config.max_attempts.max(1)
        )))
    }

    async fn attempt(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Attempt> {
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let mut body = serde_json::json!({ "model": self.config.model, "input": texts });
        if self.config.send_dimensions {
            body["dimensions"] = self.config.dimensions.into();
        }
        let mut request = self.http.post(&url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().await.map_err(|e| Attempt::Retry(format!("{url}: {e}")))?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(Attempt::Retry(format!("{url} answered {status}")));
        }
        if !status.is_success() {
            let detail: String =
                response.text().await.unwrap_or_default().chars().take(300).collect();
            return Err(Attempt::Fatal(format!("{url} answered {status}: {detail}")));
        }
        let parsed: Response = response
            .json()
            .await
            .map_err(|e| Attempt::Retry(format!("{url}: unreadable answer: {e}")))?;
        self.assemble(parsed, texts.len()).map_err(Attempt::Fatal)
    }

    /// Puts the answer back in input order and checks it is whole.
    fn assemble(&self, parsed: Response, expected: usize) -> Result<Vec<Vec<f32>>, String> {
        let mut out: Vec<Option<Vec<f32>>> = vec![None; expected];
        for item in parsed.data {
            if item.embedding.len() != self.config.dimensions {
                return Err(format!(
                    "service returned {} dimensions, configured {}",
                    item.embedding.len(),
                    self.config.dimensions
                ));
            }
            let slot = out
                .get_mut(item.index)
                .ok_or_else(|| format!("service returned index {}", item.index))?;
            let mut v = item.embedding;
            l2_normalise(&mut v);
            *slot = Some(v);
        }
        out.into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| format!("service returned no vector for input {i}")))
            .collect()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.backoff_base.saturating_mul(1 << attempt.min(10));
        let jitter = rand::thread_rng().gen_range(0.5..1.0);
        base.mul_f64(jitter)
    }

    /// Refuses a call while the circuit is open (one trial once the
    /// cooldown has passed).
    fn admit(&self) -> Result<(), EmbedError> {
        let mut breaker = self.breaker.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        breaker
            .admit(Instant::now())
            .map_err(|wait| EmbedError::CircuitOpen { retry_in_secs: wait.as_secs().max(1) })
    }

    fn record(&self, success: bool) {
        let mut breaker = self.breaker.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        breaker.record(success, Instant::now());
    }
}
