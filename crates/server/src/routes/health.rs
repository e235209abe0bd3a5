//! Liveness, readiness and metrics for orchestrators and Prometheus.

use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ErrorCode},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// The process is alive (no dependency is checked).
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    database: &'static str,
    migrations: &'static str,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

/// Ready to serve: the database answers and its schema is current.
#[utoipa::path(
    get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness))
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let readiness = readiness(&state).await;
    let status =
        if readiness.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(readiness))
}

/// Whether this node can serve: the database answers and its migrations
/// are current (for `/readyz` and the `fairgig_ready` gauge).
pub async fn readiness(state: &AppState) -> Readiness {
    let database = state.engine.store.ping().await.is_ok();
    let migrations = database && state.engine.store.check_migrations_current().await.is_ok();
    let ready = database && migrations;
    Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database: if database { "ok" } else { "unreachable" },
        migrations: if migrations {
            "current"
        } else if database {
            "not_current"
        } else {
            "unknown"
        },
    }
}

/// Prometheus exposition format. With `server.metrics_token` set, only
/// `Authorization: Bearer <token>` is answered.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "`server.metrics_token` is set and the request lacks it", body = crate::error::ErrorBody),
    )
)]
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    if !crate::metrics::authorised(&state, &headers) {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "metrics need the configured bearer token",
        ));
    }
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(&state).await,
    ))
}
