//! Applications, hiring and reviews: `/jobs/{id}/applications`,
//! `/me/applications`, `/applications/{id}/status`, `/jobs/{id}/reviews`,
//! `/profiles/{id}/reviews` and the admin moderation queue.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::{
    ids::{ApplicationId, JobId, ReviewId, UserId},
    marketplace::{ApplicationStatus, ReviewStatus},
    submission::Budget,
};
use fairgig_engine::applications::{self, ApplicationDecision, ApplyRequest, ReviewRequest};
use fairgig_store::applications::{Application, Review};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, AppPath},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply, list_applications))
        .routes(routes!(my_applications))
        .routes(routes!(set_application_status))
        .routes(routes!(review_job))
        .routes(routes!(profile_reviews))
        .routes(routes!(mark_helpful, unmark_helpful))
        .routes(routes!(pending_reviews))
        .routes(routes!(publish_review))
        .routes(routes!(reject_review))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    id: ApplicationId,
    job: JobId,
    freelancer: UserId,
    cover_letter: String,
    proposed_rate: Option<Budget>,
    status: ApplicationStatus,
}

fn application_view(application: Application) -> ApplicationView {
    ApplicationView {
        id: application.id,
        job: application.job,
        freelancer: application.freelancer,
        cover_letter: application.cover_letter,
        proposed_rate: Budget::from_parts(application.proposed_rate_minor, application.currency),
        status: application.status,
    }
}

/// Apply to an open job (freelancers with a profile; once per job).
#[utoipa::path(
    post, path = "/jobs/{id}/applications", tag = "marketplace", request_body = ApplyRequest,
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, body = ApplicationView),
        (status = 403, description = "Not a freelancer with a profile", body = ErrorBody),
        (status = 404, description = "No such open job", body = ErrorBody),
        (status = 409, description = "Already applied", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn apply(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
    AppJson(body): AppJson<ApplyRequest>,
) -> ApiResult<(StatusCode, Json<ApplicationView>)> {
    let application = applications::apply(&state.engine, &caller, id, body).await?;
    Ok((StatusCode::CREATED, Json(application_view(application))))
}

/// A job's applications (its owner and admins).
#[utoipa::path(
    get, path = "/jobs/{id}/applications", tag = "marketplace",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = Vec<ApplicationView>),
        (status = 404, description = "No such job of the caller's", body = ErrorBody),
    )
)]
async fn list_applications(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
) -> ApiResult<Json<Vec<ApplicationView>>> {
    let found = applications::for_job(&state.engine, &caller, id).await?;
    Ok(Json(found.into_iter().map(application_view).collect()))
}

/// One of the caller's applications, with its job's title.
#[derive(Serialize, ToSchema)]
pub struct MyApplication {
    #[serde(flatten)]
    application: ApplicationView,
    job_title: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: time::OffsetDateTime,
}

/// My applications, newest first (freelancers).
#[utoipa::path(
    get, path = "/me/applications", tag = "marketplace",
    security(("bearer" = []), ("api_key" = ["read"])),
    responses((status = 200, body = Vec<MyApplication>))
)]
async fn my_applications(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Vec<MyApplication>>> {
    let found = applications::mine(&state.engine, &caller).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(application, job_title)| MyApplication {
                created_at: application.created_at,
                application: application_view(application),
                job_title,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationStatusRequest {
    status: ApplicationDecision,
}

/// Shortlist, hire or reject an application (the job's owner), or withdraw it (the applicant).
#[utoipa::path(
    post, path = "/applications/{id}/status", tag = "marketplace",
    request_body = ApplicationStatusRequest,
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = ApplicationView),
        (status = 404, description = "No such application the caller may decide", body = ErrorBody),
        (status = 409, description = "Not possible from its status, or the job is no longer open", body = ErrorBody),
    )
)]
async fn set_application_status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<ApplicationId>,
    AppJson(body): AppJson<ApplicationStatusRequest>,
) -> ApiResult<Json<ApplicationView>> {
    let moved = applications::decide(&state.engine, &caller, id, body.status).await?;
    Ok(Json(application_view(moved)))
}

#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    id: ReviewId,
    job: JobId,
    author: UserId,
    subject: UserId,
    rating: i32,
    #[schema(value_type = Object)]
    sub_ratings: serde_json::Value,
    text: String,
    /// `published`, or `pending` moderation when its text needs a bias review.
    status: ReviewStatus,
    /// Shown to the author and moderators.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    bias_report: Option<serde_json::Value>,
    /// How many users marked it helpful (where reviews are listed for readers).
    helpful: i64,
}

fn review_view(review: Review, with_bias: bool) -> ReviewView {
    ReviewView {
        id: review.id,
        job: review.job,
        author: review.author,
        subject: review.subject,
        rating: review.rating,
        sub_ratings: review.sub_ratings,
        text: review.body,
        status: review.status,
        bias_report: with_bias.then_some(review.bias_report),
        helpful: review.helpful,
    }
}

#[derive(Serialize, ToSchema)]
pub struct HelpfulCount {
    /// How many users find the review helpful now.
    helpful: i64,
}

/// Mark a published review helpful (once per user; not one's own).
#[utoipa::path(
    post, path = "/reviews/{id}/helpful", tag = "marketplace",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = HelpfulCount),
        (status = 404, description = "No such published review", body = ErrorBody),
        (status = 409, description = "One's own review", body = ErrorBody),
    )
)]
async fn mark_helpful(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<ReviewId>,
) -> ApiResult<Json<HelpfulCount>> {
    let helpful = applications::vote(&state.engine, &caller, id, true).await?;
    Ok(Json(HelpfulCount { helpful }))
}

/// Take back one's helpful mark on a review.
#[utoipa::path(
    delete, path = "/reviews/{id}/helpful", tag = "marketplace",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = HelpfulCount),
        (status = 404, description = "No such published review", body = ErrorBody),
        (status = 409, description = "One's own review", body = ErrorBody),
    )
)]
async fn unmark_helpful(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<ReviewId>,
) -> ApiResult<Json<HelpfulCount>> {
    let helpful = applications::vote(&state.engine, &caller, id, false).await?;
    Ok(Json(HelpfulCount { helpful }))
}

/// Review the other party of a completed job (once per party).
///
/// The client reviews the hired freelancer; the hired freelancer reviews the
/// client. The text is bias-checked: a review that needs review waits in
/// the moderation queue and counts towards the rating only once published.
#[utoipa::path(
    post, path = "/jobs/{id}/reviews", tag = "marketplace", request_body = ReviewRequest,
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, body = ReviewView),
        (status = 404, description = "No such job the caller took part in", body = ErrorBody),
        (status = 409, description = "The job is not completed, or already reviewed", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn review_job(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
    AppJson(body): AppJson<ReviewRequest>,
) -> ApiResult<(StatusCode, Json<ReviewView>)> {
    let stored = applications::review(&state.engine, &caller, id, body).await?;
    Ok((StatusCode::CREATED, Json(review_view(stored, true))))
}

/// Published reviews of a user, the most helpful first, then the newest (at most 100).
#[utoipa::path(
    get, path = "/profiles/{id}/reviews", tag = "marketplace",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses((status = 200, body = Vec<ReviewView>))
)]
async fn profile_reviews(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
) -> ApiResult<Json<Vec<ReviewView>>> {
    let reviews = applications::reviews_of(&state.engine, &caller, id).await?;
    Ok(Json(reviews.into_iter().map(|review| review_view(review, false)).collect()))
}

/// Reviews waiting for moderation, oldest first (admins).
#[utoipa::path(
    get, path = "/admin/reviews/pending", tag = "admin",
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = Vec<ReviewView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn pending_reviews(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Vec<ReviewView>>> {
    let reviews = applications::pending_reviews(&state.engine, &caller).await?;
    Ok(Json(reviews.into_iter().map(|review| review_view(review, true)).collect()))
}

/// Publish a pending review; its rating then counts (admins).
#[utoipa::path(
    post, path = "/admin/reviews/{id}/publish", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = ReviewView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Not pending", body = ErrorBody),
    )
)]
async fn publish_review(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<ReviewId>,
) -> ApiResult<Json<ReviewView>> {
    let review = applications::moderate(&state.engine, &caller, id, true).await?;
    Ok(Json(review_view(review, true)))
}

/// Reject a pending review; it is never shown or counted (admins).
#[utoipa::path(
    post, path = "/admin/reviews/{id}/reject", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = ReviewView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Not pending", body = ErrorBody),
    )
)]
async fn reject_review(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<ReviewId>,
) -> ApiResult<Json<ReviewView>> {
    let review = applications::moderate(&state.engine, &caller, id, false).await?;
    Ok(Json(review_view(review, true)))
}
