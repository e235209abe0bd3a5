//! Any OpenAI-compatible `POST {base}/chat/completions` (OpenAI, Ollama,
//! vLLM, OpenRouter), asked for `response_format: json_schema` and streamed
//! (server-sent events, the usage in the last one); a server that answers
//! with one JSON body instead is read as well. Retries, backoff and the
//! breaker are [`fairgig_remote`]'s; a stream broken midway is retried
//! whole.

use std::time::Duration;

use async_trait::async_trait;
use fairgig_remote::{send_for_stream, Attempt, Caller, RetryPolicy};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Ask, ChatMessage, ChatModel, LlmError, OnText, Usage};

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

#[derive(Debug, Deserialize)]
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

    /// One request, its answer read as it streams in.
    async fn attempt(
        &self,
        url: &str,
        body: &Value,
        on_text: OnText<'_>,
    ) -> Result<(String, Option<CompletionUsage>), Attempt> {
        let mut response =
            send_for_stream(self.http.post(url).json(body), self.config.api_key.as_ref(), url)
                .await?;
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        let broken =
            |err: reqwest::Error| Attempt::Retry(format!("{url}: the answer broke off: {err}"));
        if !streamed {
            let completion: Completion = response
                .json()
                .await
                .map_err(|err| Attempt::Retry(format!("{url}: unreadable answer: {err}")))?;
            let content = completion
                .choices
                .into_iter()
                .next()
                .and_then(|choice| choice.message.content)
                .unwrap_or_default();
            on_text(&content);
            return Ok((content, completion.usage));
        }
        let mut events = EventStream::default();
        while let Some(chunk) = response.chunk().await.map_err(broken)? {
            if events.push(&chunk).map_err(|err| Attempt::Retry(format!("{url}: {err}")))? {
                on_text(&events.content);
            }
            if events.done {
                break;
            }
        }
        if !events.done {
            return Err(Attempt::Retry(format!("{url}: the answer ended before [DONE]")));
        }
        Ok((events.content, events.usage))
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
        on_text: OnText<'_>,
    ) -> Result<(String, Usage), LlmError> {
        let prompt = ask.prompt;
        let schema = prompt.schema();
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "max_tokens": self.config.max_tokens.min(ask.budget),
            "temperature": 0,
            "stream": true,
            "stream_options": {"include_usage": true},
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": prompt.name, "schema": schema, "strict": true},
            },
        });
        let (content, usage) =
            self.caller.call("chat completion", || self.attempt(&url, &body, on_text)).await?;
        let used = usage.map_or_else(Usage::default, |u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cost: self.cost(u.prompt_tokens, u.completion_tokens),
        });
        Ok((content, used))
    }
}

/// Server-sent events of a streamed chat completion, fed as bytes arrive:
/// `data: {json}` lines whose `choices[0].delta.content` add to the
/// answer, a last one with `usage`, then `data: [DONE]`.
#[derive(Debug, Default)]
struct EventStream {
    pending: Vec<u8>,
    content: String,
    usage: Option<CompletionUsage>,
    done: bool,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<CompletionUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Message>,
}

impl EventStream {
    /// Takes `bytes`; whether the answer grew.
    fn push(&mut self, bytes: &[u8]) -> Result<bool, String> {
        self.pending.extend_from_slice(bytes);
        let mut grew = false;
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data:") else { continue };
            let data = data.trim_start();
            if data == "[DONE]" {
                self.done = true;
                break;
            }
            let chunk: Chunk = serde_json::from_str(data)
                .map_err(|err| format!("an unreadable event in the answer: {err}"))?;
            if let Some(usage) = chunk.usage {
                self.usage = Some(usage);
            }
            let delta = chunk.choices.into_iter().next().and_then(|c| c.delta?.content);
            if let Some(text) = delta.filter(|text| !text.is_empty()) {
                self.content.push_str(&text);
                grew = true;
            }
        }
        Ok(grew)
    }
}

#[cfg(test)]
mod tests {
    use super::EventStream;

    #[test]
    fn events_split_anywhere_add_up_to_the_answer_and_its_usage() {
        let stream = concat!(
            ": keep-alive\n\n",
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"{\\\"goals\\\":\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"[]}\"}}]}\r\n\r\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5}}\n\n",
            "data: [DONE]\n\n",
        );
        for size in [1, 7, stream.len()] {
            let mut events = EventStream::default();
            let mut grew = 0;
            for piece in stream.as_bytes().chunks(size) {
                grew += usize::from(events.push(piece).expect("readable"));
            }
            assert_eq!(events.content, "{\"goals\":[]}", "pieces of {size}");
            // Once per push that added words: both deltas, or the one push.
            assert_eq!(grew, if size == stream.len() { 1 } else { 2 });
            assert!(events.done);
            assert_eq!(events.usage.as_ref().map(|u| u.completion_tokens), Some(5));
        }
        let mut broken = EventStream::default();
        assert!(broken.push(b"data: {not json\n").is_err());
    }
}
