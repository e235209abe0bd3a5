//! `/bias/check`: exclusionary language in a text, with spans and suggestions.

use axum::{
    extract::{DefaultBodyLimit, State},
    Json,
};
use fairgig_ai::bias::{CheckOptions, Report, TextKind};
use fairgig_core::{
    api_key::Scope,
    cancel::{Cancel, Cancelled},
    ValidationError,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extractors::AppJson,
    state::AppState,
};

/// Texts up to 10 MiB are checked (JSON escaping may add a little).
const MAX_TEXT_BYTES: usize = 10 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .layer(DefaultBodyLimit::max(MAX_TEXT_BYTES + 64 * 1024))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BiasCheckRequest {
    /// `job_post`, `profile`, `review` or `text`: decides which rule packs apply.
    #[schema(value_type = String, example = "job_post")]
    kind: TextKind,
    /// Up to 10 MiB of UTF-8.
    text: String,
    /// Allow binary pairs such as "his or her", "him/her", "s/he" (default
    /// true: naming both is inclusive); false flags every gendered pronoun.
    #[serde(default = "allow_pairs")]
    binary: bool,
    /// Words or phrases your organisation allows (e.g. a product name).
    #[serde(default)]
    allow: Vec<String>,
}

fn allow_pairs() -> bool {
    true
}

/// Check a text for exclusionary language.
///
/// Returns `{score 0-100, verdict, requires_review, categories, coded?, findings}`;
/// each finding has `rule_id, category, severity, start, end` (UTF-8 byte
/// offsets), `text, message, suggestions, source`. `coded` (job posts only)
/// is the masculine/feminine-coded verdict.
#[utoipa::path(
    post, path = "/bias/check", tag = "bias", request_body = BiasCheckRequest,
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, description = "The report", body = Object),
        (status = 400, description = "Malformed body (including invalid UTF-8)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Text over 10 MiB", body = ErrorBody),
        (status = 429, description = "The caller already has as many expensive requests running as allowed", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn check(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<BiasCheckRequest>,
) -> ApiResult<Json<Report>> {
    caller.require(Scope::Read)?;
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ValidationError::new("text", "must be at most 10 MiB").into());
    }
    if body.allow.len() > 1000 || body.allow.iter().any(|word| word.chars().count() > 100) {
        return Err(ValidationError::new(
            "allow",
            "at most 1000 entries of at most 100 characters",
        )
        .into());
    }
    let options = CheckOptions {
        binary: body.binary,
        allow: body.allow.iter().map(|word| word.trim().to_lowercase()).collect(),
    };
    let slot = state.engine.expensive.try_start(caller.user.id).ok_or_else(busy)?;
    let checker = state.engine.bias.checker();
    let kind = body.kind;
    // The check stops soon after this request is dropped (timeout, hang-up);
    // the slot goes with the check, so it is free only when the CPU is.
    let cancel = Cancel::new();
    let _cancel_on_drop = cancel.on_drop();
    let checked = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        checker.check_until(&body.text, body.kind, &options, &cancel)
    })
    .await
    .map_err(|err| ApiError::Internal(anyhow::Error::new(err).context("bias check task")))?;
    let report = checked
        .map_err(|Cancelled| ApiError::new(ErrorCode::Timeout, "the check was cancelled"))?;
    fairgig_engine::bias_rules::observe_check(kind, &report);
    Ok(Json(report))
}

/// 429 (with `Retry-After`) for a caller who already has their expensive
/// requests running.
pub fn busy() -> ApiError {
    ApiError::RateLimited { retry_after_secs: 1 }
}
