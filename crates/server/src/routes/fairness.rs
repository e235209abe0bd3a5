//! `/admin/fairness`: how fair the shown lists were, day by day.

use axum::{extract::State, Json};
use fairgig_core::ids::JobId;
use fairgig_engine::{
    fairness_audit::{self, FairnessAudit},
    language_evidence::{self, JobEvidence, LanguageEvidence},
    review_audit::{self, ReviewAudit},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::extractors::{AppPath, AppQuery};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fairness_report))
        .routes(routes!(review_disparity))
        .routes(routes!(language_report))
        .routes(routes!(job_applicant_mix))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LanguageQuery {
    /// Jobs posted this many days back, 1–3660; default 90.
    days: Option<i64>,
    /// Group applicants by this self-declared profile attribute too.
    attribute: Option<String>,
}

/// Does flagged language cost a group its applications? (admins)
///
/// For each finding category of the jobs' bias checks: the jobs with it
/// against the jobs without it, posted in the period, with applications per
/// job and the applicants' shares (newcomers; a self-declared group when
/// `attribute` is given), and the counts behind each share.
#[utoipa::path(
    get, path = "/admin/fairness/language", tag = "admin", params(LanguageQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = LanguageEvidence),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "days or attribute invalid", body = ErrorBody),
    )
)]
async fn language_report(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<LanguageQuery>,
) -> ApiResult<Json<LanguageEvidence>> {
    let report =
        language_evidence::report(&state.engine, &caller, query.days, query.attribute.as_deref())
            .await?;
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MixQuery {
    /// Admins only: group applicants by this self-declared profile attribute.
    attribute: Option<String>,
}

/// A job's flagged language next to who applied (its owner or an admin).
///
/// The finding categories of the job's bias check, and its applicants:
/// how many, how many newcomers; admins may group them by a self-declared
/// attribute too.
#[utoipa::path(
    get, path = "/jobs/{id}/applicant-mix", tag = "marketplace", params(
        ("id" = String, Path, format = Uuid), MixQuery,
    ),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = JobEvidence),
        (status = 403, description = "Grouping by a self-declared attribute (admins only)", body = ErrorBody),
        (status = 404, description = "No such job of the caller's", body = ErrorBody),
    )
)]
async fn job_applicant_mix(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
    AppQuery(query): AppQuery<MixQuery>,
) -> ApiResult<Json<JobEvidence>> {
    let evidence =
        language_evidence::for_job(&state.engine, &caller, id, query.attribute.as_deref()).await?;
    Ok(Json(evidence))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewAuditQuery {
    /// A self-declared profile attribute such as `gender` (required; checked
    /// after the caller is known to be an admin).
    attribute: Option<String>,
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
    Ok(Json(
        review_audit::audit(&state.engine, &caller, query.attribute.as_deref(), query.days).await?,
    ))
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
