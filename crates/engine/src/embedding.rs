//! Embeddings as the rest of fairgig uses them: the configured provider in
//! front of the database cache, so an unchanged text is never embedded twice,
//! and entity vectors that follow a model change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fairgig_core::config::{EmbeddingProvider, EmbeddingSettings};
use fairgig_embed::local::LocalConfig;
use fairgig_embed::openai::OpenAiConfig;
use fairgig_embed::{
    normalise_text, text_digest, EmbedError, Embedder, ProviderConfig, MAX_TEXTS_PER_REQUEST,
};
use fairgig_matching::features::skill_key;
use fairgig_store::embeddings::EntityKind;
use fairgig_store::{Store, StoreError};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("embedding cache: {0}")]
    Store(#[from] StoreError),
}

/// Vectors of a request, in input order, and how many came from the cache.
#[derive(Debug)]
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
    pub cached: usize,
}

/// Cheap to clone. The provider is started on first use or by [`Self::start`]
/// (which `serve` and `worker` call, so a missing model stops them at once),
/// never by CLI commands that do not embed.
#[derive(Clone, Debug)]
pub struct EmbeddingService {
    config: Arc<ProviderConfig>,
    embedder: Arc<OnceCell<Embedder>>,
    model_id: Arc<str>,
    dimensions: usize,
    store: Store,
    /// Vectors of skill labels by [`skill_key`], for skills matched by
    /// meaning: a match compares hundreds of labels, and a lock and a map
    /// beat a cache read per label. Bounded by [`LABEL_MEMO_FLOATS`].
    labels: Arc<std::sync::RwLock<HashMap<String, Arc<[f32]>>>>,
}

/// At most this many floats of label vectors are kept in memory (32 MiB);
/// past it the memo starts again (the database cache still has them).
const LABEL_MEMO_FLOATS: usize = 8 << 20;

/// The provider the settings name. A missing local model is an error that
/// says how to fetch it.
pub fn provider_config(settings: &EmbeddingSettings) -> ProviderConfig {
    match settings.provider {
        EmbeddingProvider::Local => ProviderConfig::Local(local_config(settings)),
        EmbeddingProvider::Openai => {
            let openai = &settings.openai;
            ProviderConfig::OpenAi(OpenAiConfig {
                base_url: openai.base_url.clone(),
                api_key: openai.api_key.clone(),
                model: openai.model.clone(),
                dimensions: openai.dimensions,
                send_dimensions: openai.send_dimensions,
                timeout: Duration::from_secs(openai.timeout_secs.max(1)),
                max_attempts: openai.max_attempts.max(1),
                backoff_base: Duration::from_millis(200),
                breaker_threshold: openai.breaker_threshold.max(1),
                breaker_cooldown: Duration::from_secs(openai.breaker_cooldown_secs),
            })
        }
        EmbeddingProvider::Hashing => ProviderConfig::Hashing,
    }
}

/// Where the local model is and how many cores it uses (0 = all).
pub fn local_config(settings: &EmbeddingSettings) -> LocalConfig {
    let threads = match settings.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    LocalConfig::in_models_dir(&settings.models_dir, threads)
}

impl EmbeddingService {
    pub fn new(settings: &EmbeddingSettings, store: Store) -> Self {
        let config = provider_config(settings);
        Self {
            model_id: config.model_id().into(),
            dimensions: config.dimensions(),
            config: Arc::new(config),
            embedder: Arc::new(OnceCell::new()),
            store,
            labels: Arc::default(),
        }
    }

    /// Loads the model (or builds the client) unless already done.
    pub async fn start(&self) -> Result<&Embedder, EmbeddingError> {
        self.embedder
            .get_or_try_init(|| async {
                let config = Arc::clone(&self.config);
                tokio::task::spawn_blocking(move || Embedder::build(&config))
                    .await
                    .map_err(|e| EmbedError::Model(format!("loading the model: {e}")))?
            })
            .await
            .map_err(EmbeddingError::from)
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Embeds up to [`MAX_TEXTS_PER_REQUEST`] texts. Cached vectors are
    /// reused; the rest (each distinct text once) are embedded and cached.
    pub async fn embed(&self, texts: &[String]) -> Result<Embedded, EmbeddingError> {
        if texts.len() > MAX_TEXTS_PER_REQUEST {
            return Err(
                EmbedError::TooManyTexts { max: MAX_TEXTS_PER_REQUEST, got: texts.len() }.into()
            );
        }
        let normalised: Vec<String> = texts.iter().map(|t| normalise_text(t)).collect();
        let digests: Vec<[u8; 32]> = normalised.iter().map(|t| text_digest(t)).collect();
        let mut known = self.store.cached_embeddings(&self.model_id, &digests).await?;
        let cached = digests.iter().filter(|d| known.contains_key(*d)).count();

        let mut missing: HashMap<[u8; 32], &str> = HashMap::new();
        for (digest, text) in digests.iter().zip(&normalised) {
            if !known.contains_key(digest) {
                missing.entry(*digest).or_insert(text);
            }
        }
        if !missing.is_empty() {
            let (keys, inputs): (Vec<[u8; 32]>, Vec<String>) =
                missing.into_iter().map(|(k, t)| (k, t.to_owned())).unzip();
            let fresh = self.start().await?.embed(inputs).await?;
            let entries: Vec<([u8; 32], &[f32])> =
                keys.iter().copied().zip(fresh.iter().map(Vec::as_slice)).collect();
            self.store.cache_embeddings(&self.model_id, &entries).await?;
            known.extend(keys.into_iter().zip(fresh));
        }
        let vectors = digests.iter().map(|d| known.get(d).cloned().unwrap_or_default()).collect();
        // Every embedding the platform makes (API, pipeline, matching), by
        // where its vector came from.
        metrics::counter!("fairgig_embeddings_total", "source" => "cache").increment(cached as u64);
        metrics::counter!("fairgig_embeddings_total", "source" => "model")
            .increment((texts.len() - cached) as u64);
        Ok(Embedded { vectors, cached })
    }

    /// The vectors of skill `labels`, by [`skill_key`]: from memory, else
    /// the cache, else embedded (each distinct label once).
    pub async fn label_vectors(
        &self,
        labels: &[&str],
    ) -> Result<HashMap<String, Arc<[f32]>>, EmbeddingError> {
        let mut found: HashMap<String, Arc<[f32]>> = HashMap::with_capacity(labels.len());
        let mut missing: Vec<String> = Vec::new();
        {
            let memo = self.labels.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            for label in labels {
                let key = skill_key(label);
                if found.contains_key(&key) || key.is_empty() {
                    continue;
                }
                match memo.get(&key) {
                    Some(vector) => {
                        found.insert(key, Arc::clone(vector));
                    }
                    None if !missing.contains(&key) => missing.push(key),
                    None => {}
                }
            }
        }
        for chunk in missing.chunks(MAX_TEXTS_PER_REQUEST) {
            let embedded = self.embed(chunk).await?;
            let mut memo = self.labels.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            if (memo.len() + chunk.len()) * self.dimensions.max(1) > LABEL_MEMO_FLOATS {
                memo.clear();
            }
            for (key, vector) in chunk.iter().zip(embedded.vectors) {
                let vector: Arc<[f32]> = vector.into();
                memo.insert(key.clone(), Arc::clone(&vector));
                found.insert(key.clone(), vector);
            }
        }
        Ok(found)
    }

    /// Gives an entity the vector of `text`; does nothing when it already has
    /// one of the same text by the current model. Returns whether it embedded.
    pub async fn embed_entity(
        &self,
        kind: EntityKind,
        id: Uuid,
        text: &str,
    ) -> Result<bool, EmbeddingError> {
        Ok(self.entity_vector(kind, id, text).await?.1)
    }

    /// The entity's current vector for `text` (embedding it first when it has
    /// none by the current model, or one of another text), and whether it
    /// had to embed: one read when the stored vector is current.
    pub async fn entity_vector(
        &self,
        kind: EntityKind,
        id: Uuid,
        text: &str,
    ) -> Result<(Vec<f32>, bool), EmbeddingError> {
        let text = normalise_text(text);
        if let Some(existing) = self.store.entity_embedding(kind, id).await? {
            if existing.model_id == *self.model_id && existing.text == text {
                return Ok((existing.vector, false));
            }
        }
        let mut embedded = self.embed(std::slice::from_ref(&text)).await?;
        let vector = embedded.vectors.pop().unwrap_or_default();
        self.store.put_entity_embedding(kind, id, &self.model_id, &text, &vector).await?;
        Ok((vector, true))
    }

    /// Re-embeds, batch by batch, every entity whose vector another model
    /// made; returns how many. Runs in the background after a model change.
    pub async fn reembed_stale(&self, stop: &CancellationToken) -> Result<usize, EmbeddingError> {
        let mut done = 0;
        while !stop.is_cancelled() {
            // Claimed for a while: other processes take other rows meanwhile,
            // and a batch we never finish is free again after the lease.
            let lease_until = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
            let stale = self
                .store
                .claim_stale_entity_embeddings(
                    &self.model_id,
                    MAX_TEXTS_PER_REQUEST as i64,
                    lease_until,
                )
                .await?;
            if stale.is_empty() {
                break;
            }
            let texts: Vec<String> = stale.iter().map(|e| e.text.clone()).collect();
            let embedded = self.embed(&texts).await?;
            let before = done;
            for (entity, vector) in stale.iter().zip(&embedded.vectors) {
                if self.store.replace_stale_entity_embedding(entity, &self.model_id, vector).await?
                {
                    done += 1;
                }
            }
            // A long re-embedding says how far it has come, every thousand.
            if done / 1_000 > before / 1_000 {
                tracing::info!(done, model = %self.model_id, "re-embedding under way");
            }
        }
        Ok(done)
    }
}
