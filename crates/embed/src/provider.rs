//! The configured embedding provider.

use std::sync::Arc;

use crate::local::{LocalConfig, LocalModel};
use crate::openai::{OpenAiClient, OpenAiConfig};
use crate::{hashing, local, EmbedError, MAX_TEXTS_PER_REQUEST};

/// Which provider to build, with its settings.
#[derive(Clone, Debug)]
pub enum ProviderConfig {
    Local(LocalConfig),
    OpenAi(OpenAiConfig),
    Hashing,
}

impl ProviderConfig {
    /// Recorded with every vector: vectors of different ids never mix.
    pub fn model_id(&self) -> String {
        match self {
            Self::Local(_) => local::MODEL_ID.to_owned(),
            Self::OpenAi(openai) => format!("openai:{}", openai.model),
            Self::Hashing => hashing::MODEL_ID.to_owned(),
        }
    }

    pub fn dimensions(&self) -> usize {
        match self {
            Self::Local(_) => local::DIMENSIONS,
            Self::OpenAi(openai) => openai.dimensions,
            Self::Hashing => hashing::DIMENSIONS,
        }
    }
}

/// One of the three providers; cheap to clone.
#[derive(Clone, Debug)]
pub enum Embedder {
    Local(Arc<LocalModel>),
    OpenAi(Arc<OpenAiClient>),
    Hashing,
}

impl Embedder {
    /// Loads the model or builds the client. Loading the local model takes a
    /// second or so: call this once at start-up.
    pub fn build(config: &ProviderConfig) -> Result<Self, EmbedError> {
        Ok(match config {
            ProviderConfig::Local(local) => Self::Local(Arc::new(LocalModel::load(local)?)),
            ProviderConfig::OpenAi(openai) => {
                Self::OpenAi(Arc::new(OpenAiClient::new(openai.clone())?))
            }
            ProviderConfig::Hashing => Self::Hashing,
        })
    }

    /// Unit-length embeddings of `texts` (already normalised), in order; at
    /// most [`MAX_TEXTS_PER_REQUEST`] at once. The local model runs on the
    /// blocking pool, never on an async worker thread.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.len() > MAX_TEXTS_PER_REQUEST {
            return Err(EmbedError::TooManyTexts { max: MAX_TEXTS_PER_REQUEST, got: texts.len() });
        }
        match self {
            Self::Local(model) => {
                let model = Arc::clone(model);
                tokio::task::spawn_blocking(move || {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    model.embed(&refs)
                })
                .await
                .map_err(|e| EmbedError::Model(format!("embedding task failed: {e}")))?
            }
            Self::OpenAi(client) => client.embed(&texts).await,
            Self::Hashing => Ok(texts.iter().map(|t| hashing::embed(t)).collect()),
        }
    }
}
