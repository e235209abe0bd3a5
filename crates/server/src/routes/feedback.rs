//! `/feedback`: what people did with a match list, for training rankers.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::{apikey::Scope, ids::UserId, user::Role, ValidationError};
use fairgig_store::feedback::NewFeedback;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody},
    extractors::AppJson,
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_feedback))
}

#[derive(Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Impression,
    Click,
    Shortlist,
    Apply,
    Hire,
    Reject,
    Rating,
}

impl FeedbackKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Impression => "impression",
            Self::Click => "click",
            Self::Shortlist => "shortlist",
            Self::Apply => "apply",
            Self::Hire => "hire",
            Self::Reject => "reject",
            Self::Rating => "rating",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The `match_list` of the list that showed the freelancer.
    match_list: Uuid,
    freelancer: UserId,
    kind: FeedbackKind,
    /// 1–5, for `rating` only.
    #[schema(minimum = 1, maximum = 5)]
    rating: Option<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackRecorded {
    /// False when this actor had already sent this kind for this item.
    recorded: bool,
    /// The position the item was shown at (from the recorded list).
    rank: i64,
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
    caller.require(Scope::Write)?;
    let rating_fits = match body.kind {
        FeedbackKind::Rating => matches!(body.rating, Some(1..=5)),
        _ => body.rating.is_none(),
    };
    if !rating_fits {
        return Err(ValidationError::new(
            "rating",
            "feedback of kind rating needs a rating of 1 to 5; other kinds take none",
        )
        .into());
    }
    let list = state.engine.store.match_list(body.match_list).await?;
    let rank = list
        .items
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| {
            item["freelancer"].as_str().and_then(|id| id.parse::<Uuid>().ok())
                == Some(body.freelancer.as_uuid())
        })
        .and_then(|item| item["rank"].as_i64())
        .ok_or_else(ApiError::not_found)?;
    let job = state.engine.store.job(list.job).await?;
    let allowed = match body.kind {
        FeedbackKind::Apply => body.freelancer == caller.user.id,
        _ => job.owner == caller.user.id || caller.user.role == Role::Admin,
    };
    if !allowed {
        return Err(ApiError::not_found());
    }
    // Training data must not be forged: an application or a hire is
    // reported only once it has happened on the marketplace.
    let needed = match body.kind {
        FeedbackKind::Apply => Some(&["applied", "shortlisted", "hired", "rejected"][..]),
        FeedbackKind::Hire => Some(&["hired"][..]),
        _ => None,
    };
    if let Some(statuses) = needed {
        let applications = state.engine.store.applications_for_job(job.id).await?;
        let happened = applications.iter().any(|application| {
            application.freelancer == body.freelancer
                && statuses.contains(&application.status.as_str())
        });
        if !happened {
            return Err(ValidationError::new(
                "kind",
                format!(
                    "no {} of this freelancer to this job has happened",
                    if body.kind == FeedbackKind::Hire { "hire" } else { "application" }
                ),
            )
            .into());
        }
    }
    let recorded = state
        .engine
        .store
        .record_feedback(&NewFeedback {
            actor: caller.user.id,
            match_list: list.id,
            freelancer: body.freelancer,
            kind: body.kind.as_str().to_owned(),
            rank: i32::try_from(rank).unwrap_or(i32::MAX),
            rating: body.rating.map(i32::from),
        })
        .await?;
    let status = if recorded { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(FeedbackRecorded { recorded, rank })))
}
