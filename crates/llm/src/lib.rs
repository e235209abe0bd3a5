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
};

/// The offer's prompt: the words around numbers set by rules.
pub const OFFER_PROMPT: Prompt = Prompt {
    name: "offer",
    version: 1,
    system: include_str!("../prompts/offer.v1.txt"),
    schema: include_str!("../prompts/offer.v1.schema.json"),
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
    /// Twice an answer that did not parse or did not pass the check.
    #[error("the language model's answer was invalid twice: {error}")]
    Invalid { error: String, usage: Usage },
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
