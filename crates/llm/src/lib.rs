//! The language-model steps' provider. Every answer is structured: the
//! model is asked for JSON against a schema, the answer is parsed into a
//! typed value and checked by the caller (a brief's quotes must occur in
//! the request); an answer that fails is sent back once with the error,
//! and a second failure is the caller's to fall back from. Nothing the
//! model writes is trusted as HTML: values are plain text to the pages
//! that show them.
//!
//! Prompts are files in `prompts/`, named with their version; the version
//! goes into each output's provenance.

pub mod openai;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use openai::{ChatClient, ChatConfig};

/// A versioned prompt.
#[derive(Clone, Copy, Debug)]
pub struct Prompt {
    pub name: &'static str,
    pub version: u32,
    pub system: &'static str,
    /// The JSON Schema every answer must match.
    pub schema: &'static str,
    /// The string fields whose values must be copied from the request
    /// (a local model's decoding is held to that as it writes).
    pub quoted_fields: &'static [&'static str],
    /// The fields a local model writes anew when it improves a draft; the
    /// draft's other values are kept (a small model copies facts badly).
    pub reworded_fields: &'static [&'static str],
    /// Whether the answer may contain digits (an offer's words may not:
    /// its numbers are the rules').
    pub digits: bool,
}

impl Prompt {
    /// `brief@v1`: what outputs record as their prompt.
    pub fn id(&self) -> String {
        format!("{}@v{}", self.name, self.version)
    }

    /// The schema as JSON (the files are checked by this crate's tests).
    pub fn schema(&self) -> serde_json::Value {
        serde_json::from_str(self.schema).unwrap_or(serde_json::Value::Null)
    }
}

/// The brief's prompt.
pub const BRIEF_PROMPT: Prompt = Prompt {
    name: "brief",
    version: 1,
    system: include_str!("../prompts/brief.v1.txt"),
    schema: include_str!("../prompts/brief.v1.schema.json"),
    quoted_fields: &["quote"],
    reworded_fields: &["text", "open_questions", "risks"],
    digits: true,
};

/// The offer's prompt: the words around numbers set by rules.
pub const OFFER_PROMPT: Prompt = Prompt {
    name: "offer",
    version: 2,
    system: include_str!("../prompts/offer.v2.txt"),
    schema: include_str!("../prompts/offer.v2.schema.json"),
    quoted_fields: &[],
    reworded_fields: &["introduction", "essential", "standard", "complete"],
    digits: false,
};

/// Tokens a call used and what they cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// In the configured prices' currency; `None` when no price is set.
    pub cost: Option<f64>,
}

impl Usage {
    /// Tokens read and written.
    pub fn total(&self) -> u32 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cost = match (self.cost, other.cost) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }
}

/// A checked answer with what it cost.
#[derive(Clone, Debug)]
pub struct Answer<T> {
    pub value: T,
    pub usage: Usage,
    /// 1, or 2 when the first answer was sent back with its error.
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The service failed (after its retries) or refused the request.
    #[error("language model: {0}")]
    Remote(#[from] fairgig_remote::RemoteError),
    /// The local model could not answer (too long a request, out of time,
    /// a failure of the runtime).
    #[error("local language model: {0}")]
    Local(String),
    /// Twice an answer that did not parse or did not pass the check.
    #[error("the language model's answer was invalid twice: {error}")]
    Invalid { error: String, usage: Usage },
    /// The run's token budget is spent before (or while) asking.
    #[error("the run's token budget is spent: {} of the {budget} tokens left for this answer used", usage.total())]
    BudgetSpent { budget: u32, usage: Usage },
}

impl LlmError {
    /// The tokens spent before the error, when any were counted.
    pub fn usage(&self) -> Option<&Usage> {
        match self {
            LlmError::Invalid { usage, .. } | LlmError::BudgetSpent { usage, .. } => Some(usage),
            LlmError::Remote(_) | LlmError::Local(_) => None,
        }
    }
}

/// One message of a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: &'static str,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &'static str, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// What one call is about.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    pub prompt: &'a Prompt,
    /// The request the answer's quotes must come from.
    pub source: &'a str,
    /// An answer made by rules that the model is asked to improve.
    pub draft: Option<&'a serde_json::Value>,
    /// Tokens (read and written) this answer may still use: what is left
    /// of its run's budget. Each model writes at most this less what it
    /// reads (a remote one, which counts its reading only as it answers,
    /// at most this).
    pub budget: u32,
}

/// Hears an answer as it is written: the whole text so far, each time it
/// grows (a second attempt starts again from nothing).
pub type OnText<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// A model that answers a chat with JSON text matching the prompt's schema
/// (the OpenAI-compatible client, the local model), streamed to `on_text`.
#[async_trait]
pub trait ChatModel: Debug + Send + Sync {
    /// `openai:<model>` or `local:<model>`, for provenance.
    fn model_id(&self) -> String;

    /// One answer to `messages`: JSON text meant to match `ask.prompt`'s
    /// schema, and the tokens it took.
    async fn complete(
        &self,
        ask: Ask<'_>,
        messages: &[ChatMessage],
        on_text: OnText<'_>,
    ) -> Result<(String, Usage), LlmError>;
}

/// The configured language model, shared by the steps that use it, with
/// the token budget each run's calls share.
#[derive(Clone, Debug)]
pub struct LanguageModel {
    model: Arc<dyn ChatModel>,
    run_budget: u32,
}

impl LanguageModel {
    pub fn new(model: impl ChatModel + 'static, run_budget: u32) -> Self {
        Self { model: Arc::new(model), run_budget }
    }

    pub fn model_id(&self) -> String {
        self.model.model_id()
    }

    /// Tokens (read and written) one run's calls may use together.
    pub fn run_budget(&self) -> u32 {
        self.run_budget
    }

    /// Asks `prompt` about `input` for a `T` matching its schema, which
    /// `check` must accept; one more try with the error when it does not.
    /// `ask` names the request its quotes must come from, and the draft;
    /// `on_text` hears each answer as it is written.
    pub async fn structured<T, F>(
        &self,
        ask: Ask<'_>,
        input: &str,
        on_text: OnText<'_>,
        check: F,
    ) -> Result<Answer<T>, LlmError>
    where
        T: DeserializeOwned,
        F: Fn(&T) -> Result<(), String>,
    {
        let prompt = ask.prompt;
        let mut messages =
            vec![ChatMessage::new("system", prompt.system), ChatMessage::new("user", input)];
        let mut usage = Usage::default();
        let mut last_error = String::new();
        for attempt in 1..=2 {
            let left = ask.budget.saturating_sub(usage.total());
            if left == 0 {
                return Err(LlmError::BudgetSpent { budget: ask.budget, usage });
            }
            let (content, used) =
                self.model.complete(Ask { budget: left, ..ask }, &messages, on_text).await?;
            usage.add(&used);
            match serde_json::from_str::<T>(&content)
                .map_err(|err| format!("not JSON of the schema: {err}"))
                .and_then(|value| check(&value).map(|()| value))
            {
                Ok(value) => return Ok(Answer { value, usage, attempts: attempt }),
                Err(error) => {
                    messages.push(ChatMessage::new("assistant", content));
                    messages.push(ChatMessage::new(
                        "user",
                        format!(
                            "That answer is not valid: {error}. Answer again with one JSON \
                             object that matches the schema and fixes this."
                        ),
                    ));
                    last_error = error;
                }
            }
        }
        Err(LlmError::Invalid { error: last_error, usage })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_prompt_has_a_schema_that_parses() {
        for prompt in [super::BRIEF_PROMPT, super::OFFER_PROMPT] {
            assert_eq!(prompt.schema()["type"], "object", "{}", prompt.id());
            assert!(!prompt.system.trim().is_empty());
        }
        assert_eq!(super::BRIEF_PROMPT.id(), "brief@v1");
    }
}
