//! `/feedback`: what people did with a match list, for training rankers.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_engine::feedback::{self, FeedbackRecorded, FeedbackRequest};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::AppJson,
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_feedback))
}

/// Record feedback on a shown match (idempotent per actor, item and kind).
///
/// The job's owner (or an admin) reports impressions, clicks, shortlists,
/// hires, rejections and ratings; the freelancer reports their own `apply`.
/// The rank is taken from the recorded list, not from the caller.
#[utoipa::path(
    post, path = "/feedback", tag = "marketplace", request_body = FeedbackRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, description = "Recorded", body = FeedbackRecorded),
        (status = 200, description = "Already recorded", body = FeedbackRecorded),
        (status = 404, description = "No such list, or the freelancer is not in it, or not the caller's", body = ErrorBody),
        (status = 422, description = "A rating is missing or out of range, or given for another kind; an apply or hire that has not happened", body = ErrorBody),
    )
)]
async fn record_feedback(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<FeedbackRequest>,
) -> ApiResult<(StatusCode, Json<FeedbackRecorded>)> {
    let recorded = feedback::record(&state.engine, &caller, body).await?;
    let status = if recorded.recorded { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(recorded)))
}
