//! `/me/profile` and `/profiles/{id}`: freelancer profiles.

use std::collections::BTreeMap;

use axum::{extract::State, Json};
use fairgig_core::{
    ids::UserId,
    marketplace::{Availability, ProfileSkill},
    submission::Budget,
};
use fairgig_engine::profiles::{self, ProfileRequest};
use fairgig_store::marketplace::Profile;
use serde::Serialize;
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
        .routes(routes!(get_my_profile, put_my_profile))
        .routes(routes!(get_profile))
}

/// A profile as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct OwnProfile {
    #[serde(flatten)]
    public: PublicProfile,
    group_attributes: BTreeMap<String, String>,
    /// Whether it has an embedding by the current model (matching needs one).
    matchable: bool,
    /// On save only: what the language check found in the headline and bio
    /// (hints; nothing blocks saving).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    bias_hints: Option<serde_json::Value>,
}

/// A profile as clients see it.
#[derive(Serialize, ToSchema)]
pub struct PublicProfile {
    user_id: UserId,
    headline: String,
    bio: String,
    skills: Vec<ProfileSkill>,
    hourly_rate: Option<Budget>,
    region: Option<String>,
    utc_offset_minutes: Option<i32>,
    availability: Availability,
    years_experience: f64,
    languages: Vec<String>,
    portfolio: Vec<String>,
    completed_jobs: i32,
    /// Mean rating and count; the ranking uses a Bayesian average.
    rating: Option<f64>,
    rating_count: i32,
}

fn public(profile: Profile) -> PublicProfile {
    let input = profile.input;
    PublicProfile {
        user_id: profile.user_id,
        headline: input.headline,
        bio: input.bio,
        skills: input.skills,
        hourly_rate: Budget::from_parts(input.hourly_rate_minor, input.currency),
        region: input.region,
        utc_offset_minutes: input.utc_offset_minutes,
        availability: input.availability,
        years_experience: input.years_experience,
        languages: input.languages,
        portfolio: input.portfolio,
        completed_jobs: profile.completed_jobs,
        rating: (profile.rating_count > 0)
            .then(|| profile.rating_sum / f64::from(profile.rating_count)),
        rating_count: profile.rating_count,
    }
}

async fn own(state: &AppState, profile: Profile) -> ApiResult<OwnProfile> {
    let matchable = profiles::is_matchable(&state.engine, &profile).await?;
    let group_attributes = profile.input.group_attributes.clone();
    Ok(OwnProfile { public: public(profile), group_attributes, matchable, bias_hints: None })
}

/// Create or replace my freelancer profile.
///
/// Freelancers only. The profile is embedded for matching at once; if the
/// embedding service is down it is saved anyway and `matchable` is false
/// until the next save.
#[utoipa::path(
    put, path = "/me/profile", tag = "marketplace", request_body = ProfileRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = OwnProfile),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a freelancer, or a key without write", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn put_my_profile(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<ProfileRequest>,
) -> ApiResult<Json<OwnProfile>> {
    let saved = profiles::put_mine(&state.engine, &caller, body).await?;
    let mut answer = own(&state, saved.profile).await?;
    answer.bias_hints = Some(serde_json::to_value(&saved.hints).map_err(anyhow::Error::new)?);
    Ok(Json(answer))
}

/// My freelancer profile.
#[utoipa::path(
    get, path = "/me/profile", tag = "marketplace",
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = OwnProfile),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No profile yet", body = ErrorBody),
    )
)]
async fn get_my_profile(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<OwnProfile>> {
    let profile = profiles::mine(&state.engine, &caller)
        .await?
        .ok_or_else(fairgig_engine::Error::not_found)?;
    Ok(Json(own(&state, profile).await?))
}

/// A freelancer's public profile (no self-declared attributes).
#[utoipa::path(
    get, path = "/profiles/{id}", tag = "marketplace",
    params(("id" = String, Path, format = Uuid, description = "The freelancer's user id")),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = PublicProfile),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
    )
)]
async fn get_profile(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
) -> ApiResult<Json<PublicProfile>> {
    Ok(Json(public(profiles::of(&state.engine, &caller, id).await?)))
}
