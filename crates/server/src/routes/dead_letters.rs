//! `/admin/dead-letters`: tasks that failed for good, and re-driving them.

use axum::{extract::State, Json};
use fairgig_core::ids::TaskId;
use fairgig_engine::operations;
use fairgig_store::tasks::DeadTask;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppPath, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_dead_letters)).routes(routes!(retry_dead_letter))
}

/// The newest 200 dead-lettered tasks.
#[utoipa::path(
    get, path = "/admin/dead-letters", tag = "admin",
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = Vec<DeadTask>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn list_dead_letters(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Vec<DeadTask>>> {
    Ok(Json(operations::dead_letters(&state.engine, &caller).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Redriven {
    task: TaskId,
    /// For pipeline steps: the run re-driven from this step.
    #[schema(value_type = Option<String>, format = Uuid)]
    run: Option<fairgig_core::ids::RunId>,
    step: Option<String>,
}

/// Retry a dead task with fresh attempts; for a pipeline step, the run
/// continues from it.
#[utoipa::path(
    post, path = "/admin/dead-letters/{id}/retry", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = Redriven),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No dead task with this id", body = ErrorBody),
    )
)]
async fn retry_dead_letter(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<TaskId>,
) -> ApiResult<Json<Redriven>> {
    let redriven =
        operations::retry_dead_letter(&state.engine, &caller, id, client.context()).await?;
    let redriven = Redriven { task: redriven.task, run: redriven.run, step: redriven.step };
    Ok(Json(redriven))
}
