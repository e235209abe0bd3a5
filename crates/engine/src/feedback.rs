//! What people did with a match list, recorded for training rankers.
//!
//! Training data must not be forged: the rank is taken from the recorded
//! list, not from the caller, and an application or a hire is reported only
//! once it has happened on the marketplace.

use fairgig_core::{
    api_key::Scope,
    ids::{MatchListId, UserId},
    marketplace::ApplicationStatus,
    user::Role,
    ValidationError,
};
use fairgig_store::feedback::NewFeedback;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::{Error, Result},
    Caller, Engine,
};

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
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

    /// The application statuses that show an `apply` or `hire` happened.
    fn happened_as(self) -> Option<&'static [ApplicationStatus]> {
        use ApplicationStatus::*;
        match self {
            FeedbackKind::Apply => Some(&[Applied, Shortlisted, Hired, Rejected]),
            FeedbackKind::Hire => Some(&[Hired]),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The `match_list` of the list that showed the freelancer.
    pub match_list: MatchListId,
    pub freelancer: UserId,
    pub kind: FeedbackKind,
    /// 1–5, for `rating` only.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<u8>,
}

/// What was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackRecorded {
    /// False when this actor had already sent this kind for this item.
    pub recorded: bool,
    /// The position the item was shown at (from the recorded list).
    pub rank: i64,
}

/// Records feedback on a shown match (idempotent per actor, item and kind).
/// The job's owner (or an admin) reports impressions, clicks, shortlists,
/// hires, rejections and ratings; the freelancer reports their own `apply`.
pub async fn record(
    engine: &Engine,
    caller: &Caller,
    request: FeedbackRequest,
) -> Result<FeedbackRecorded> {
    caller.require(Scope::Write)?;
    let rating_fits = match request.kind {
        FeedbackKind::Rating => matches!(request.rating, Some(1..=5)),
        _ => request.rating.is_none(),
    };
    if !rating_fits {
        return Err(ValidationError::new(
            "rating",
            "feedback of kind rating needs a rating of 1 to 5; other kinds take none",
        )
        .into());
    }
    let list = engine.store.match_list(request.match_list).await?;
    let rank = list
        .items
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| {
            item["freelancer"].as_str().and_then(|id| id.parse::<Uuid>().ok())
                == Some(request.freelancer.as_uuid())
        })
        .and_then(|item| item["rank"].as_i64())
        .ok_or_else(Error::not_found)?;
    let job = engine.store.job(list.job).await?;
    let allowed = match request.kind {
        FeedbackKind::Apply => request.freelancer == caller.user.id,
        _ => job.owner == caller.user.id || caller.user.role == Role::Admin,
    };
    if !allowed {
        return Err(Error::not_found());
    }
    if let Some(statuses) = request.kind.happened_as() {
        let applications = engine.store.applications_for_job(job.id).await?;
        let happened = applications.iter().any(|application| {
            application.freelancer == request.freelancer && statuses.contains(&application.status)
        });
        if !happened {
            return Err(ValidationError::new(
                "kind",
                format!(
                    "no {} of this freelancer to this job has happened",
                    if request.kind == FeedbackKind::Hire { "hire" } else { "application" }
                ),
            )
            .into());
        }
    }
    let recorded = engine
        .store
        .record_feedback(&NewFeedback {
            actor: caller.user.id,
            match_list: list.id,
            freelancer: request.freelancer,
            kind: request.kind.as_str().to_owned(),
            rank: i32::try_from(rank).unwrap_or(i32::MAX),
            rating: request.rating.map(i32::from),
        })
        .await?;
    Ok(FeedbackRecorded { recorded, rank })
}
