//! `/admin/models`: the model registry over HTTP: list ranker versions,
//! train a challenger, promote it through the gate, roll back.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::{audit::Actor, ValidationError};
use fairgig_matching::score::LinearModel;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extract::AppJson,
    state::AppState,
    training::{self, RegistryError},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_models))
        .routes(routes!(train_model))
        .routes(routes!(promote_model))
        .routes(routes!(rollback_model))
}

impl From<RegistryError> for ApiError {
    fn from(err: RegistryError) -> Self {
        match err {
            RegistryError::Store(err) => err.into(),
            other => ApiError::new(ErrorCode::Conflict, other.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ModelView {
    version: String,
    kind: String,
    /// `champion`, `challenger`, both or none.
    aliases: Vec<String>,
    #[schema(value_type = Object)]
    parameters: Value,
    /// Held-out evaluation and the baseline it was compared with.
    #[schema(value_type = Object)]
    metrics: Value,
    /// Training data range, parent version, code version.
    #[schema(value_type = Object)]
    lineage: Value,
    created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
}

#[derive(Serialize, ToSchema)]
pub struct Registry {
    /// The version matching ranks with now (`linear-v1` while none is promoted).
    serving: String,
    models: Vec<ModelView>,
}

/// Ranker versions, oldest first, and the one serving (admins).
#[utoipa::path(
    get, path = "/admin/models", tag = "admin",
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses((status = 200, body = Registry), (status = 403, body = ErrorBody))
)]
async fn list_models(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Registry>> {
    caller.require_admin()?;
    let (serving, _) = training::champion_ranker(&state.store).await?;
    let models = training::registry(&state.store)
        .await?
        .into_iter()
        .map(|entry| ModelView {
            version: entry.model.version,
            kind: entry.model.kind,
            aliases: entry.aliases.into_iter().map(str::to_owned).collect(),
            parameters: entry.model.parameters,
            metrics: entry.model.metrics,
            lineage: entry.model.lineage,
            created_by: entry.model.created_by,
            created_at: entry.model.created_at,
        })
        .collect();
    Ok(Json(Registry { serving, models }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// Share of the newest lists held out for evaluation (0.05–0.5, default 0.2).
    held_out: Option<f64>,
}

/// Train a ranker on recorded feedback and register it as challenger (admins).
///
/// 201 with both models' held-out figures; 200 with `trained: null` when
/// there is too little feedback yet.
#[utoipa::path(
    post, path = "/admin/models/train", tag = "admin", request_body = TrainRequest,
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 201, body = Object), (status = 200, body = Object),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
async fn train_model(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    // Parsed after the role check: a non-admin learns nothing about the body's shape.
    let body: TrainRequest = serde_json::from_value(body)
        .map_err(|err| ValidationError::new("body", err.to_string()))?;
    let held_out = body.held_out.unwrap_or(0.2);
    if !(0.05..=0.5).contains(&held_out) {
        return Err(ValidationError::new("held_out", "between 0.05 and 0.5").into());
    }
    let created_by = format!("user:{}", caller.user.id);
    let report = training::train_ranker(&state.store, held_out, &created_by).await?;
    let Some(trained) = report.trained else {
        let body = json!({"lists": report.lists, "events": report.events, "trained": null});
        return Ok((StatusCode::OK, Json(body)));
    };
    let weights: serde_json::Map<String, Value> =
        trained.weights.iter().map(|(name, w)| ((*name).to_owned(), json!(w))).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "lists": report.lists,
            "events": report.events,
            "trained": {
                "version": trained.version,
                "training_lists": trained.training_lists,
                "seconds": trained.seconds,
                "weights": weights,
                "evaluation": training::evaluation_json(&trained.evaluation),
                "baseline": {
                    "version": trained.champion_version,
                    "evaluation": training::evaluation_json(&trained.baseline),
                },
            },
        })),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct PromotionView {
    version: String,
    promoted: bool,
    /// The gate's reasons, in words.
    reasons: Vec<String>,
}

/// Run the gate on the challenger; promote it if it passes (admins).
#[utoipa::path(
    post, path = "/admin/models/promote", tag = "admin",
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = PromotionView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "No evaluated challenger", body = ErrorBody),
    )
)]
async fn promote_model(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PromotionView>> {
    caller.require_admin()?;
    let promotion = training::promote_challenger(&state.store, Actor::User(caller.user.id)).await?;
    Ok(Json(PromotionView {
        version: promotion.version,
        promoted: promotion.promoted,
        reasons: promotion.reasons,
    }))
}

/// Restore the previous champion (admins).
#[utoipa::path(
    post, path = "/admin/models/rollback", tag = "admin",
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = Object),
        (status = 403, body = ErrorBody),
        (status = 409, description = "No earlier champion", body = ErrorBody),
    )
)]
async fn rollback_model(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let (from, to) = training::rollback_ranker(&state.store, Actor::User(caller.user.id)).await?;
    let serving = to.unwrap_or_else(|| LinearModel::V1_VERSION.to_owned());
    Ok(Json(json!({"from": from, "serving": serving})))
}
