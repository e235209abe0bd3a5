//! `/me/profile` and `/profiles/{id}`: freelancer profiles.

use std::collections::BTreeMap;

use axum::{extract::State, Json};
use fairgig_core::{
    apikey::Scope,
    ids::UserId,
    marketplace::{check_short_text, check_utc_offset, Availability, ProfileSkill},
    submission::Budget,
    user::{Region, Role},
    ValidationError,
};
use fairgig_store::{
    embeddings::EntityKind,
    marketplace::{Profile, ProfileInput},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::matching::profile_text;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody},
    extractors::{AppJson, AppPath},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_my_profile, put_my_profile))
        .routes(routes!(get_profile))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// 1–120 characters.
    headline: String,
    /// Up to 5,000 characters.
    #[serde(default)]
    bio: String,
    /// Up to 50, names unique.
    skills: Vec<ProfileSkill>,
    hourly_rate: Option<Budget>,
    /// A region code (`DE`, `US-CA`, `EU`).
    region: Option<String>,
    /// Minutes east of UTC of the working day.
    utc_offset_minutes: Option<i32>,
    availability: Availability,
    /// 0–60.
    #[serde(default)]
    years_experience: f64,
    /// Up to 20 language codes.
    #[serde(default)]
    languages: Vec<String>,
    /// Up to 10 links.
    #[serde(default)]
    portfolio: Vec<String>,
    /// Optional self-declared attributes (up to 10 pairs), used only to audit
    /// and constrain fairness: never a scoring feature, never shown to clients.
    #[serde(default)]
    group_attributes: BTreeMap<String, String>,
}

/// A profile as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct OwnProfile {
    #[serde(flatten)]
    public: PublicProfile,
    group_attributes: BTreeMap<String, String>,
    /// Whether it has an embedding by the current model (matching needs one).
    matchable: bool,
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
    let embedding =
        state.engine.store.entity_embedding(EntityKind::Profile, profile.user_id.as_uuid()).await?;
    let matchable = embedding.is_some_and(|e| e.model_id == state.engine.embeddings.model_id());
    let group_attributes = profile.input.group_attributes.clone();
    Ok(OwnProfile { public: public(profile), group_attributes, matchable })
}

fn validate(body: ProfileRequest) -> Result<ProfileInput, ValidationError> {
    let headline = body.headline.trim().to_owned();
    check_short_text("headline", &headline, 120)?;
    if body.bio.chars().count() > 5_000 {
        return Err(ValidationError::new("bio", "must be at most 5000 characters"));
    }
    let names: Vec<String> = body.skills.iter().map(|skill| skill.name.clone()).collect();
    let names = fairgig_core::marketplace::parse_skill_names("skills", &names, 50)?;
    let skills = names
        .into_iter()
        .zip(&body.skills)
        .map(|(name, skill)| ProfileSkill { name, level: skill.level })
        .collect();
    let rate = body
        .hourly_rate
        .map(|rate| Budget::parse(rate.amount_minor, &rate.currency))
        .transpose()
        .map_err(|err| ValidationError::new("hourly_rate", err.message))?;
    let region = body.region.as_deref().map(Region::parse).transpose()?;
    let region = region.map(|region| region.as_ref().to_owned());
    if let Some(offset) = body.utc_offset_minutes {
        check_utc_offset(offset)?;
    }
    if !(0.0..=60.0).contains(&body.years_experience) {
        return Err(ValidationError::new("years_experience", "must be between 0 and 60"));
    }
    if body.languages.len() > 20
        || body.languages.iter().any(|l| check_short_text("languages", l, 35).is_err())
    {
        return Err(ValidationError::new("languages", "up to 20 codes of 1 to 35 characters"));
    }
    if body.portfolio.len() > 10
        || body.portfolio.iter().any(|link| {
            check_short_text("portfolio", link, 500).is_err()
                || !(link.starts_with("https://") || link.starts_with("http://"))
        })
    {
        return Err(ValidationError::new("portfolio", "up to 10 http(s) links"));
    }
    if body.group_attributes.len() > 10
        || body.group_attributes.iter().any(|(key, value)| {
            check_short_text("group_attributes", key, 40).is_err()
                || check_short_text("group_attributes", value, 80).is_err()
        })
    {
        return Err(ValidationError::new("group_attributes", "up to 10 short key/value pairs"));
    }
    Ok(ProfileInput {
        headline,
        bio: body.bio,
        skills,
        hourly_rate_minor: rate.as_ref().map(|rate| rate.amount_minor),
        currency: rate.map(|rate| rate.currency),
        region,
        utc_offset_minutes: body.utc_offset_minutes,
        availability: body.availability,
        years_experience: body.years_experience,
        languages: body.languages,
        portfolio: body.portfolio,
        group_attributes: body.group_attributes,
    })
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
    caller.require(Scope::Write)?;
    if caller.user.role != Role::Freelancer {
        return Err(ApiError::forbidden());
    }
    let input = validate(body)?;
    let profile = state.engine.store.put_profile(caller.user.id, &input).await?;
    if let Err(err) = state
        .engine
        .embeddings
        .embed_entity(EntityKind::Profile, profile.user_id.as_uuid(), &profile_text(&input))
        .await
    {
        tracing::warn!(error = %err, user = %profile.user_id, "profile saved without an embedding");
    }
    Ok(Json(own(&state, profile).await?))
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
    caller.require(Scope::Read)?;
    let profile = state.engine.store.profile(caller.user.id).await?;
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
    caller.require(Scope::Read)?;
    Ok(Json(public(state.engine.store.profile(id).await?)))
}
