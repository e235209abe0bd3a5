//! `/admin/fairness`: how fair the shown lists were, day by day.

use axum::{extract::State, Json};
use fairgig_engine::{
    fairness_audit::{self, FairnessAudit},
    review_audit::{self, ReviewAudit},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::extractors::AppQuery;

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(fairness_report)).routes(routes!(review_disparity))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewAuditQuery {
    /// A self-declared profile attribute such as `gender`.
    attribute: String,
    /// Days back from now, 1–3660; default 365.
    days: Option<i64>,
}

/// Do reviewers rate one group of freelancers worse? (admins)
///
/// Published ratings by the reviewed freelancer's self-declared group,
/// overall and per reviewer, with the four-fifths test on favourable
/// ratings (4 or 5). Groups are pooled as in the fairness audit; a cell
/// under three ratings is withheld, so no one is singled out.
#[utoipa::path(
    get, path = "/admin/fairness/reviews", tag = "admin", params(ReviewAuditQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = ReviewAudit),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "attribute or days invalid", body = ErrorBody),
    )
)]
async fn review_disparity(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<ReviewAuditQuery>,
) -> ApiResult<Json<ReviewAudit>> {
    Ok(Json(review_audit::audit(&state.engine, &caller, &query.attribute, query.days).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FairnessQuery {
    /// Days back from today, 1–366; default 30.
    days: Option<i64>,
    /// `newcomer` (default: no completed job yet vs established) or a
    /// self-declared profile attribute such as `gender`.
    attribute: Option<String>,
}

/// Fairness of the shown match lists per day (admins).
///
/// By default the groups are newcomers (no completed job) and established
/// freelancers; `attribute=gender` (any self-declared profile attribute)
/// groups by the freelancers' own answers instead, which only this audit
/// reads. Shortlist and hire rates come from recorded feedback.
#[utoipa::path(
    get, path = "/admin/fairness", tag = "admin", params(FairnessQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = FairnessAudit),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "days out of range", body = ErrorBody),
    )
)]
async fn fairness_report(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<FairnessQuery>,
) -> ApiResult<Json<FairnessAudit>> {
    let report =
        fairness_audit::audit(&state.engine, &caller, query.days, query.attribute.as_deref())
            .await?;
    Ok(Json(report))
}
