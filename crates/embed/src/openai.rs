//! Embeddings from any OpenAI-compatible `POST {base}/embeddings` service.
//!
//! Retries, backoff and the circuit breaker are [`fairgig_remote`]'s.

use std::time::Duration;

use fairgig_remote::{send_json, Attempt, Caller, RemoteError, RetryPolicy};
use secrecy::SecretString;
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
    caller: Caller,
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

impl OpenAiClient {
    pub fn new(config: OpenAiConfig) -> Result<Self, EmbedError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| EmbedError::Remote(e.to_string()))?;
        let caller = Caller::new(RetryPolicy {
            max_attempts: config.max_attempts,
            backoff_base: config.backoff_base,
            breaker_threshold: config.breaker_threshold,
            breaker_cooldown: config.breaker_cooldown,
        });
        Ok(Self { config, http, caller })
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        self.caller.call("embeddings", || self.attempt(texts)).await.map_err(|err| match err {
            RemoteError::CircuitOpen { retry_in_secs } => EmbedError::CircuitOpen { retry_in_secs },
            other => EmbedError::Remote(other.to_string()),
        })
    }

    async fn attempt(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Attempt> {
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let mut body = serde_json::json!({ "model": self.config.model, "input": texts });
        if self.config.send_dimensions {
            body["dimensions"] = self.config.dimensions.into();
        }
        let parsed: Response =
            send_json(self.http.post(&url).json(&body), self.config.api_key.as_ref(), &url).await?;
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
}
