//! Any OpenAI-compatible `POST {base}/chat/completions` (OpenAI, Ollama,
//! vLLM, OpenRouter), asked for `response_format: json_schema`. Retries,
//! backoff and the breaker are [`fairgig_remote`]'s.

use std::time::Duration;

use async_trait::async_trait;
use fairgig_remote::{send_json, Attempt, Caller, RetryPolicy};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Ask, ChatMessage, ChatModel, LlmError, Usage};

#[derive(Clone, Debug)]
pub struct ChatConfig {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The most tokens one answer may have (the run's budget for the step).
    pub max_tokens: u32,
    /// Prices per 1,000 tokens, for the cost recorded with each answer.
    pub input_price_per_1k: Option<f64>,
    pub output_price_per_1k: Option<f64>,
}

#[derive(Debug)]
pub struct ChatClient {
    config: ChatConfig,
    http: reqwest::Client,
    caller: Caller,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<CompletionUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct CompletionUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

impl ChatClient {
    pub fn new(config: ChatConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        let caller = Caller::new(config.retry);
        Ok(Self { config, http, caller })
    }

    fn cost(&self, prompt: u32, completion: u32) -> Option<f64> {
        match (self.config.input_price_per_1k, self.config.output_price_per_1k) {
            (None, None) => None,
            (input, output) => Some(
                f64::from(prompt) / 1000.0 * input.unwrap_or(0.0)
                    + f64::from(completion) / 1000.0 * output.unwrap_or(0.0),
            ),
        }
    }

    async fn attempt(&self, url: &str, body: &Value) -> Result<Completion, Attempt> {
        send_json(self.http.post(url).json(body), self.config.api_key.as_ref(), url).await
    }
}

#[async_trait]
impl ChatModel for ChatClient {
    fn model_id(&self) -> String {
        format!("openai:{}", self.config.model)
    }

    async fn complete(
        &self,
        ask: Ask<'_>,
        messages: &[ChatMessage],
    ) -> Result<(String, Usage), LlmError> {
        let prompt = ask.prompt;
        let schema = prompt.schema();
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "max_tokens": self.config.max_tokens,
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": prompt.name, "schema": schema, "strict": true},
            },
        });
        let completion: Completion =
            self.caller.call("chat completion", || self.attempt(&url, &body)).await?;
        let used = completion.usage.map_or_else(Usage::default, |u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cost: self.cost(u.prompt_tokens, u.completion_tokens),
        });
        let content = completion
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .unwrap_or_default();
        Ok((content, used))
    }
}
