//! The local language model: SmolLM2-135M-Instruct (Apache-2.0), a
//! Q4_1 GGUF from PyPI, run in process by candle's quantized Llama. A model
//! this small rarely writes valid JSON on its own, so its answers are
//! written under the prompt's schema ([`guided`]): it parses every time,
//! and quotes can only copy the request.
//!
//! Each answer runs on a blocking thread with its own attention cache,
//! within the configured time and token budget.

mod guided;
mod llama;
mod vocab;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use candle_core::quantized::gguf_file;
use fairgig_llm::{Ask, ChatMessage, ChatModel, LlmError, OnText, Prompt, Usage};

use guided::Scorer;
use llama::{Cache, Llama, MAX_CONTEXT};
use vocab::Vocab;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot read the model file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the model runtime failed: {0}")]
    Runtime(#[from] candle_core::Error),
    #[error("the model's tokenizer: {0}")]
    Tokenizer(String),
    #[error("not supported by the local model: {0}")]
    Unsupported(String),
    #[error("the request and its answer would not fit the model's {0} tokens")]
    TooLong(usize),
    #[error("the answer did not finish in time")]
    OutOfTime,
    #[error("the answer would take more than its budget of {0} tokens")]
    OverBudget(u32),
    #[error("the run's token budget leaves no room for this answer ({read} tokens to read, {left} left)")]
    RunBudgetSpent { read: usize, left: u32 },
}

#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// The GGUF file `make models` fetched.
    pub model_path: PathBuf,
    /// The most tokens one answer may take, structure included.
    pub max_tokens: u32,
    /// The longest one answer may take.
    pub timeout: Duration,
}

/// The loaded model, shared by every step that asks it.
pub struct LocalModel {
    config: LocalConfig,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel").field("path", &self.config.model_path).finish()
    }
}

struct Runtime {
    model: Llama,
    vocab: Vocab,
}

/// One answer's pass over the model: what it has read so far.
struct Session<'a> {
    model: &'a Llama,
    cache: Cache,
}

impl Scorer for Session<'_> {
    fn feed(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LocalError> {
        self.model.forward(tokens, &mut self.cache)
    }
}

impl LocalModel {
    /// Loads the model file (about 0.3 s for SmolLM2-135M).
    pub fn load(config: LocalConfig) -> Result<Self, LocalError> {
        let path = &config.model_path;
        let read = |source| LocalError::Read { path: path.clone(), source };
        let mut file = std::fs::File::open(path).map_err(read)?;
        let content = gguf_file::Content::read(&mut file).map_err(|err| match err {
            candle_core::Error::Io(source) => read(source),
            other => LocalError::Runtime(other),
        })?;
        let vocab = Vocab::from_gguf(&content)?;
        let model = Llama::from_gguf(&content, &mut file)?;
        Ok(Self { config, runtime: Arc::new(Runtime { model, vocab }) })
    }

    /// Writes an answer to `messages` under `prompt`'s schema and rules,
    /// quotes from `source`, at least the items of `draft`; blocks.
    pub fn answer(
        &self,
        messages: &[ChatMessage],
        prompt: &Prompt,
        source: &str,
        draft: Option<&serde_json::Value>,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<(String, Usage), LocalError> {
        self.answer_within(messages, prompt, source, draft, u32::MAX, on_text)
    }

    /// [`Self::answer`] reading and writing at most `budget` tokens
    /// together (what is left of a run's budget): the answer may write
    /// what reading the chat leaves, at most `max_tokens`.
    pub fn answer_within(
        &self,
        messages: &[ChatMessage],
        prompt: &Prompt,
        source: &str,
        draft: Option<&serde_json::Value>,
        budget: u32,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<(String, Usage), LocalError> {
        let schema = &prompt.schema();
        let deadline = Instant::now() + self.config.timeout;
        let Runtime { model, vocab } = &*self.runtime;
        let read = chat_tokens(vocab, messages)?;
        let left = budget.saturating_sub(u32::try_from(read.len()).unwrap_or(u32::MAX));
        let write = self.config.max_tokens.min(left);
        if write == 0 {
            return Err(LocalError::RunBudgetSpent { read: read.len(), left: budget });
        }
        if read.len() + write as usize >= MAX_CONTEXT {
            return Err(LocalError::TooLong(MAX_CONTEXT));
        }
        let mut session = Session { model, cache: Cache::default() };
        let logits = session.feed(&read)?;
        let numbers = prompt.digits.then(|| {
            let mut text = source.to_owned();
            if let Some(draft) = draft {
                text.push_str(&draft.to_string());
            }
            guided::numbers_in(&text)
        });
        let rules = guided::Rules {
            quoted_fields: prompt.quoted_fields,
            reworded_fields: prompt.reworded_fields,
            source,
            numbers: numbers.as_deref(),
            budget: write,
            deadline,
        };
        let answer =
            guided::generate(&mut session, vocab, schema, rules, draft, logits, &mut |bytes| {
                // Up to a character the next token may still be completing.
                let whole = match std::str::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(err) => {
                        std::str::from_utf8(&bytes[..err.valid_up_to()]).unwrap_or_default()
                    }
                };
                on_text(whole);
            })?;
        let usage = Usage {
            prompt_tokens: read.len() as u32,
            completion_tokens: answer.tokens,
            cost: None,
        };
        Ok((answer.json, usage))
    }

    /// Tokens of `text`, for measuring.
    pub fn count_tokens(&self, text: &str) -> Result<usize, LocalError> {
        Ok(self.runtime.vocab.encode(text)?.len())
    }
}

/// The chat in SmolLM2's ChatML form, ready for the assistant's answer.
/// Markers are tokens placed here, never parsed from the messages' text.
fn chat_tokens(vocab: &Vocab, messages: &[ChatMessage]) -> Result<Vec<u32>, LocalError> {
    let mut tokens = Vec::new();
    for message in messages {
        tokens.push(vocab.im_start);
        tokens.extend(vocab.encode(&format!("{}\n{}", message.role, message.content))?);
        tokens.push(vocab.im_end);
        tokens.extend(vocab.encode("\n")?);
    }
    tokens.push(vocab.im_start);
    tokens.extend(vocab.encode("assistant\n")?);
    Ok(tokens)
}

/// The local model as the steps' [`ChatModel`]: loaded on its first
/// answer (start-up stays fast, and a server that never writes a brief
/// never holds the weights), one answer at a time (two on two cores would
/// each take twice as long and hold a step's lease twice as long).
#[derive(Debug)]
pub struct LocalChat {
    config: LocalConfig,
    model: tokio::sync::OnceCell<Arc<LocalModel>>,
    turn: tokio::sync::Semaphore,
}

impl LocalChat {
    pub fn new(config: LocalConfig) -> Self {
        Self { config, model: tokio::sync::OnceCell::new(), turn: tokio::sync::Semaphore::new(1) }
    }

    async fn model(&self) -> Result<Arc<LocalModel>, LlmError> {
        let config = self.config.clone();
        self.model
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || LocalModel::load(config))
                    .await
                    .map_err(|err| LlmError::Local(format!("loading the model failed: {err}")))?
                    .map(Arc::new)
                    .map_err(|err| LlmError::Local(err.to_string()))
            })
            .await
            .cloned()
    }
}

#[async_trait]
impl ChatModel for LocalChat {
    fn model_id(&self) -> String {
        let name = self.config.model_path.file_name().map_or_else(
            || "model".to_owned(),
            |file| file.to_string_lossy().trim_end_matches(".gguf").to_owned(),
        );
        format!("local:{name}")
    }

    async fn complete(
        &self,
        ask: Ask<'_>,
        messages: &[ChatMessage],
        on_text: OnText<'_>,
    ) -> Result<(String, Usage), LlmError> {
        let model = self.model().await?;
        let _turn =
            self.turn.acquire().await.map_err(|_| LlmError::Local("shutting down".to_owned()))?;
        let messages = messages.to_vec();
        let prompt = *ask.prompt;
        let source = ask.source.to_owned();
        let draft = ask.draft.cloned();
        let budget = ask.budget;
        // The answer so far crosses from the model's thread to this task,
        // which hands it on; only the newest text matters.
        let (so_far, mut written) = tokio::sync::watch::channel(String::new());
        let mut answering = tokio::task::spawn_blocking(move || {
            let mut tell = |text: &str| {
                so_far.send_replace(text.to_owned());
            };
            model.answer_within(&messages, &prompt, &source, draft.as_ref(), budget, &mut tell)
        });
        let answered = loop {
            tokio::select! {
                answered = &mut answering => break answered,
                Ok(()) = written.changed() => on_text(&written.borrow_and_update()),
            }
        };
        answered
            .map_err(|err| LlmError::Local(format!("the model's thread failed: {err}")))?
            .map_err(|err| LlmError::Local(err.to_string()))
    }
}
