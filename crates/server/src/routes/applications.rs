//! Applications, hiring and reviews: `/jobs/{id}/applications`,
//! `/applications/{id}/status`, `/jobs/{id}/reviews`,
//! `/profiles/{id}/reviews` and the admin moderation queue.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_ai::bias::{CheckOptions, TextKind};
use fairgig_core::{
    apikey::Scope,
    ids::{JobId, UserId},
    marketplace::JobStatus,
    submission::{parse_body, Budget},
    user::Role,
    ValidationError,
};
use fairgig_notify::NotificationKind;
use fairgig_store::{
    applications::{Application, NewReview, Review},
    marketplace::Job,
    StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use fairgig_engine::notifications::announce_from_request;

use fairgig_engine::Caller;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extractors::{AppJson, AppPath},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply, list_applications))
        .routes(routes!(set_application_status))
        .routes(routes!(review_job))
        .routes(routes!(profile_reviews))
        .routes(routes!(pending_reviews))
        .routes(routes!(publish_review))
        .routes(routes!(reject_review))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    id: Uuid,
    job: JobId,
    freelancer: UserId,
    cover_letter: String,
    proposed_rate: Option<Budget>,
    /// `applied`, `shortlisted`, `hired`, `rejected` or `withdrawn`.
    status: String,
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// 1–10,000 characters, not only spaces.
    #[schema(min_length = 1, max_length = 10000, pattern = "\\S")]
    cover_letter: String,
    proposed_rate: Option<Budget>,
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
    caller.require(Scope::Write)?;
    if caller.user.role != Role::Freelancer {
        return Err(ApiError::forbidden());
    }
    match state.engine.store.profile(caller.user.id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::new(ErrorCode::Forbidden, "create a profile before applying"))
        }
        Err(err) => return Err(err.into()),
    }
    let letter = parse_body(&body.cover_letter)
        .map_err(|err| ValidationError::new("cover_letter", err.message))?;
    let length = letter.trim().chars().count();
    if length == 0 || length > 10_000 {
        return Err(ValidationError::new("cover_letter", "must be 1 to 10000 characters").into());
    }
    let rate = body
        .proposed_rate
        .map(|rate| Budget::parse(rate.amount_minor, &rate.currency))
        .transpose()
        .map_err(|err| ValidationError::new("proposed_rate", err.message))?;
    let job = state.engine.store.job(id).await?;
    if job.status != JobStatus::Open {
        return Err(ApiError::not_found());
    }
    let application = state
        .engine
        .store
        .apply(
            id,
            caller.user.id,
            &letter,
            rate.as_ref().map(|r| (r.amount_minor, r.currency.as_str())),
        )
        .await?;
    announce_from_request(
        &state.engine,
        job.owner,
        NotificationKind::ApplicationReceived,
        format!("application/{}", application.id),
        json!({"job": job_context(&job), "applicant": caller.user.display_name}),
    )
    .await;
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
    caller.require(Scope::Read)?;
    let job = state.engine.store.job(id).await?;
    if job.owner != caller.user.id && caller.user.role != Role::Admin {
        return Err(ApiError::not_found());
    }
    let applications = state.engine.store.applications_for_job(id).await?;
    Ok(Json(applications.into_iter().map(application_view).collect()))
}

#[derive(Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationDecision {
    /// The job's owner.
    Shortlisted,
    /// The job's owner; the job moves to `in_progress`.
    Hired,
    /// The job's owner.
    Rejected,
    /// The applicant.
    Withdrawn,
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
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<ApplicationStatusRequest>,
) -> ApiResult<Json<ApplicationView>> {
    caller.require(Scope::Write)?;
    let application = state.engine.store.application(id).await?;
    let job = state.engine.store.job(application.job).await?;
    let owner = job.owner == caller.user.id || caller.user.role == Role::Admin;
    let (allowed, from, to): (bool, &[&str], &str) = match body.status {
        ApplicationDecision::Shortlisted => (owner, &["applied"], "shortlisted"),
        ApplicationDecision::Hired => (owner, &["applied", "shortlisted"], "hired"),
        ApplicationDecision::Rejected => (owner, &["applied", "shortlisted"], "rejected"),
        ApplicationDecision::Withdrawn => {
            (application.freelancer == caller.user.id, &["applied", "shortlisted"], "withdrawn")
        }
    };
    if !allowed {
        return Err(ApiError::not_found());
    }
    let moved =
        state.engine.store.set_application_status(id, from, to).await.map_err(|err| match err {
            StoreError::Conflict { field: "job" } => {
                ApiError::new(ErrorCode::Conflict, "the job is no longer open")
            }
            StoreError::Conflict { .. } => ApiError::new(
                ErrorCode::Conflict,
                format!("an application that is {} cannot become {to}", application.status),
            ),
            other => other.into(),
        })?;
    if to == "hired" {
        announce_from_request(
            &state.engine,
            moved.freelancer,
            NotificationKind::Hired,
            format!("application/{}/hired", moved.id),
            json!({"job": job_context(&job)}),
        )
        .await;
    }
    Ok(Json(application_view(moved)))
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SubRatings {
    communication: Option<u8>,
    quality: Option<u8>,
    expertise: Option<u8>,
    professionalism: Option<u8>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// 1–5.
    #[schema(minimum = 1, maximum = 5)]
    rating: u8,
    #[serde(default)]
    sub_ratings: SubRatings,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    id: Uuid,
    job: JobId,
    author: UserId,
    subject: UserId,
    rating: i32,
    #[schema(value_type = Object)]
    sub_ratings: serde_json::Value,
    text: String,
    /// `published`, or `pending` moderation when its text needs a bias review.
    status: String,
    /// Shown to the author and moderators.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    bias_report: Option<serde_json::Value>,
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
    }
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
    caller.require(Scope::Write)?;
    let in_range = |value: u8| (1..=5).contains(&value);
    if !in_range(body.rating) {
        return Err(ValidationError::new("rating", "must be 1 to 5").into());
    }
    let subs = &body.sub_ratings;
    if [subs.communication, subs.quality, subs.expertise, subs.professionalism]
        .into_iter()
        .flatten()
        .any(|value| !in_range(value))
    {
        return Err(ValidationError::new("sub_ratings", "each must be 1 to 5").into());
    }
    let text = parse_body(&body.text).map_err(|err| ValidationError::new("text", err.message))?;
    if text.chars().count() > 5_000 {
        return Err(ValidationError::new("text", "must be at most 5000 characters").into());
    }
    let job = state.engine.store.job(id).await?;
    let hired: Vec<UserId> = state
        .engine
        .store
        .applications_for_job(id)
        .await?
        .into_iter()
        .filter(|application| application.status == "hired")
        .map(|application| application.freelancer)
        .collect();
    let subject = if job.owner == caller.user.id {
        *hired.first().ok_or_else(ApiError::not_found)?
    } else if hired.contains(&caller.user.id) {
        job.owner
    } else {
        return Err(ApiError::not_found());
    };
    if job.status != JobStatus::Completed {
        return Err(ApiError::new(ErrorCode::Conflict, "reviews open once the job is completed"));
    }
    let report =
        state.engine.bias.checker().check(&text, TextKind::Review, &CheckOptions::default());
    let published = !report.requires_review;
    let review = NewReview {
        job: id,
        author: caller.user.id,
        subject,
        rating: i32::from(body.rating),
        sub_ratings: serde_json::to_value(&body.sub_ratings).unwrap_or_default(),
        body: text,
        bias_report: serde_json::to_value(&report).unwrap_or_default(),
        published,
    };
    let stored = state.engine.store.create_review(&review).await?;
    if stored.status == "published" {
        announce_review(&state, &stored, &job).await;
    }
    Ok((StatusCode::CREATED, Json(review_view(stored, true))))
}

/// Published reviews of a user, newest first (at most 100).
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
    caller.require(Scope::Read)?;
    let reviews = state.engine.store.reviews_of(id, 100).await?;
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
    caller.require_admin()?;
    let reviews = state.engine.store.pending_reviews(200).await?;
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
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ReviewView>> {
    moderate(&state, &caller, id, true).await
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
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ReviewView>> {
    moderate(&state, &caller, id, false).await
}

async fn moderate(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    publish: bool,
) -> ApiResult<Json<ReviewView>> {
    caller.require_admin()?;
    let review = state.engine.store.moderate_review(id, publish).await?;
    if review.status == "published" {
        let job = state.engine.store.job(review.job).await?;
        announce_review(state, &review, &job).await;
    }
    Ok(Json(review_view(review, true)))
}

/// The job as notification templates see it.
fn job_context(job: &Job) -> serde_json::Value {
    json!({"id": job.id, "title": job.input.title, "status": job.status})
}

/// Tells the reviewed party once their review is visible (once per review:
/// publishing after moderation has the same source).
async fn announce_review(state: &AppState, review: &Review, job: &Job) {
    announce_from_request(
        &state.engine,
        review.subject,
        NotificationKind::ReviewReceived,
        format!("review/{}", review.id),
        json!({"job": job_context(job), "rating": review.rating}),
    )
    .await;
}
