//! `/embeddings`: vectors of up to 64 texts from the configured model.

use axum::{extract::State, Json};
use fairgig_core::{api_key::Scope, ValidationError};
use fairgig_embed::{EmbedError, MAX_TEXTS_PER_REQUEST};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::embedding::EmbeddingError;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extractors::AppJson,
    state::AppState,
};

/// Longest text accepted, in bytes. The model reads at most 256 tokens
/// (~1,000 characters); the rest is cut, so this only bounds the work.
const MAX_TEXT_BYTES: usize = 16 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(embed))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsRequest {
    /// 1 to 64 non-blank texts of at most 16 KiB each.
    #[schema(min_items = 1, max_items = 64)]
    texts: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EmbeddingsResponse {
    /// The model that made the vectors; vectors of different models never mix.
    model: String,
    dimensions: usize,
    /// How many of the texts were answered from the cache.
    cached: usize,
    data: Vec<EmbeddingItem>,
}

#[derive(Serialize, ToSchema)]
pub struct EmbeddingItem {
    index: usize,
    /// Unit length: the dot product of two is their cosine similarity.
    embedding: Vec<f32>,
}

/// Embed texts.
///
/// Whitespace is normalised before embedding; an unchanged text is answered
/// from the cache. Needs a session or an API key with the `write` scope (it
/// spends compute).
#[utoipa::path(
    post, path = "/embeddings", tag = "embeddings", request_body = EmbeddingsRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, description = "One vector per text, in order", body = EmbeddingsResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "API key without the write scope", body = ErrorBody),
        (status = 422, description = "No texts, more than 64, or a blank or oversized one", body = ErrorBody),
        (status = 429, description = "The caller already has as many expensive requests running as allowed", body = ErrorBody),
        (status = 503, description = "The embedding service is unavailable", body = ErrorBody),
    )
)]
async fn embed(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<EmbeddingsRequest>,
) -> ApiResult<Json<EmbeddingsResponse>> {
    caller.require(Scope::Write)?;
    validate(&body.texts)?;
    // At most 64 texts of 16 KiB (the model reads 256 tokens of each): about
    // a second of CPU at worst, so a batch is bounded rather than cancelled.
    let _slot = state.engine.expensive.try_start(caller.user.id).ok_or_else(super::bias::busy)?;
    let embedded = state.engine.embeddings.embed(&body.texts).await.map_err(api_error)?;
    Ok(Json(EmbeddingsResponse {
        model: state.engine.embeddings.model_id().to_owned(),
        dimensions: state.engine.embeddings.dimensions(),
        cached: embedded.cached,
        data: embedded
            .vectors
            .into_iter()
            .enumerate()
            .map(|(index, embedding)| EmbeddingItem { index, embedding })
            .collect(),
    }))
}

fn validate(texts: &[String]) -> Result<(), ValidationError> {
    if texts.is_empty() || texts.len() > MAX_TEXTS_PER_REQUEST {
        return Err(ValidationError::new("texts", "must hold 1 to 64 texts"));
    }
    for (i, text) in texts.iter().enumerate() {
        if text.trim().is_empty() {
            return Err(ValidationError::new("texts", format!("texts[{i}] is blank")));
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(ValidationError::new("texts", format!("texts[{i}] is over 16 KiB")));
        }
    }
    Ok(())
}

fn api_error(err: EmbeddingError) -> ApiError {
    match err {
        EmbeddingError::Embed(EmbedError::CircuitOpen { retry_in_secs }) => ApiError::new(
            ErrorCode::Unavailable,
            format!("the embedding service is failing; retry in {retry_in_secs} s"),
        ),
        EmbeddingError::Embed(EmbedError::Remote(message)) => {
            tracing::warn!(error = %message, "embedding service failed");
            ApiError::new(ErrorCode::Unavailable, "the embedding service did not answer")
        }
        other => ApiError::Internal(anyhow::Error::new(other).context("embedding")),
    }
}
