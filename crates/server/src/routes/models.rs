//! `/admin/models`: the model registry over HTTP. Three kinds (`?kind=`):
//! `ranker` (the default: train a challenger, promote it through the gate,
//! roll back), `bias_rules` (register an organisation rule pack, promote,
//! roll back; [`fairgig_engine::bias_rules`]) and `embedder` (the embedding models
//! that have served, recorded at start; chosen by configuration, so never
//! promoted here).

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::ValidationError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::{
    registry::{self, ModelKind},
    training,
};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, AppQuery},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_models))
        .routes(routes!(train_model))
        .routes(routes!(promote_model))
        .routes(routes!(rollback_model))
        .routes(routes!(register_bias_rules))
}

/// Which registry kind a request is about.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KindQuery {
    /// `ranker` (default), `bias_rules` or `embedder`.
    kind: Option<String>,
}

impl KindQuery {
    fn kind(&self) -> Result<ModelKind, ValidationError> {
        self.kind.as_deref().map_or(Ok(ModelKind::default()), str::parse)
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
    kind: String,
    /// The version in use: for rankers the one matching ranks with
    /// (`linear-v3` while none is promoted); for bias rules the
    /// organisation pack (`shipped packs` while none is promoted); for
    /// embedders the configured model.
    serving: String,
    models: Vec<ModelView>,
}

/// Versions of one kind, oldest first, and the one serving (admins).
#[utoipa::path(
    get, path = "/admin/models", tag = "admin", params(KindQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = Registry), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn list_models(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<KindQuery>,
) -> ApiResult<Json<Registry>> {
    let listed = registry::list(&state.engine, &caller, query.kind()?).await?;
    let models = listed
        .entries
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
    Ok(Json(Registry { kind: listed.kind.to_string(), serving: listed.serving, models }))
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
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    // Parsed after the role check: a non-admin learns nothing about the body's shape.
    let body: TrainRequest = serde_json::from_value(body)
        .map_err(|err| ValidationError::new("body", err.to_string()))?;
    let report = training::train_challenger(&state.engine, &caller, body.held_out).await?;
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

/// Run the gate on the kind's challenger; promote it if it passes (admins).
#[utoipa::path(
    post, path = "/admin/models/promote", tag = "admin", params(KindQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = PromotionView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "No evaluated challenger", body = ErrorBody),
    )
)]
async fn promote_model(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<KindQuery>,
) -> ApiResult<Json<PromotionView>> {
    let promotion = registry::promote(&state.engine, &caller, query.kind()?).await?;
    Ok(Json(PromotionView {
        version: promotion.version,
        promoted: promotion.promoted,
        reasons: promotion.reasons,
    }))
}

/// Restore the kind's previous champion (admins). For bias rules, rolling
/// back the first pack leaves the shipped packs alone in use.
#[utoipa::path(
    post, path = "/admin/models/rollback", tag = "admin", params(KindQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = Object),
        (status = 403, body = ErrorBody),
        (status = 409, description = "No earlier champion", body = ErrorBody),
    )
)]
async fn rollback_model(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<KindQuery>,
) -> ApiResult<Json<Value>> {
    let rolled = registry::roll_back(&state.engine, &caller, query.kind()?).await?;
    Ok(Json(json!({"from": rolled.from, "serving": rolled.serving})))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePackRequest {
    /// The pack as TOML: a `[pack]` header (name, applies_to) and
    /// `[[rule]]` tables in the shipped packs' format.
    pack: String,
}

/// Register an organisation bias rule pack as challenger (admins).
///
/// 201 with its evaluation on the reference corpus and the gate's verdict
/// (promotion runs the same gate); 422 names the rule at fault.
#[utoipa::path(
    post, path = "/admin/models/bias-rules", tag = "admin", request_body = RulePackRequest,
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 201, body = Object), (status = 403, body = ErrorBody),
        (status = 409, description = "Already registered", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn register_bias_rules(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    let body: RulePackRequest = serde_json::from_value(body)
        .map_err(|err| ValidationError::new("body", err.to_string()))?;
    let registered = registry::register_bias_rules(&state.engine, &caller, &body.pack).await?;
    let pack = registered.pack;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "version": pack.version,
            "name": pack.name,
            "rules": pack.rules,
            "evaluation": pack.evaluation,
            "gate": {"passes": registered.passes, "reasons": registered.reasons},
        })),
    ))
}
