//! `/me/profile` and `/profiles/{id}`: freelancer profiles.

use std::collections::BTreeMap;

use axum::{extract::State, Json};
use fairgig_core::{
    ids::UserId,
    marketplace::{Availability, ProfileSkill},
    submission::Budget,
};
use fairgig_engine::{
    applications::SubRatingAverages,
    profiles::{self, ProfileRequest},
    search::{self, ProfileSearchQuery, SortBy},
};
use fairgig_store::marketplace::Profile;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::search::{counts, skill_list, FacetCount, HighlightView};
use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, AppPath, AppQuery},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_my_profile, put_my_profile))
        .routes(routes!(get_profile))
        .routes(routes!(search_profiles))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProfileSearchParams {
    /// Free text: headline, skills and bio by words (BM25, English
    /// stemming, typo-tolerant skill names) and by meaning, fused.
    #[param(max_length = 500)]
    q: Option<String>,
    /// Comma-separated skill names; a freelancer must have every one.
    skills: Option<String>,
    /// A region code: freelancers there.
    region: Option<String>,
    /// Hourly rate range in minor units.
    rate_min: Option<i64>,
    rate_max: Option<i64>,
    /// At least this many years of experience (0–80).
    min_years: Option<f64>,
    /// A reputation (Bayesian average rating, 1–5) of at least this.
    min_rating: Option<f64>,
    /// Speaks this language (as written on profiles, any case).
    language: Option<String>,
    /// Profile changed at or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<time::OffsetDateTime>,
    /// 1–50, default 20.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<usize>,
    /// `relevance` (default), `newest`, or `price` (the lowest rate first);
    /// sorting by a field sorts the best 1,000 matches.
    sort: Option<SortBy>,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileSearchHit {
    profile: PublicProfile,
    score: f64,
    /// Where the bio matched.
    highlight: HighlightView,
    /// Rank by words and by meaning (from 1), where found.
    text_rank: Option<usize>,
    vector_rank: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileSearchAnswer {
    profiles: Vec<ProfileSearchHit>,
    /// Freelancers open to work matching the words and filters.
    total: usize,
    /// Skills, regions and rate bands over the best 200 matches.
    facets: BTreeMap<String, Vec<FacetCount>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<usize>,
}

/// Search the freelancers open to work (clients and admins).
///
/// Words and meaning fused as for jobs; filters apply to both. Only the
/// public profile is searched, filtered and returned: self-declared
/// attributes never are.
#[utoipa::path(
    get, path = "/profiles", tag = "marketplace", params(ProfileSearchParams),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = ProfileSearchAnswer),
        (status = 403, description = "Freelancers do not browse each other", body = ErrorBody),
    )
)]
async fn search_profiles(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(params): AppQuery<ProfileSearchParams>,
) -> ApiResult<Json<ProfileSearchAnswer>> {
    let query = ProfileSearchQuery {
        text: params.q.unwrap_or_default(),
        filters: fairgig_search::Filters {
            skills: skill_list(params.skills.as_deref()),
            region: params.region,
            remote_only: false,
            price_min: params.rate_min,
            price_max: params.rate_max,
            since_unix: params.since.map(|at| at.unix_timestamp()),
        },
        min_years: params.min_years,
        min_rating: params.min_rating,
        language: params.language,
        limit: params.limit.unwrap_or(20),
        offset: params.cursor.unwrap_or(0),
        sort: params.sort.unwrap_or_default(),
    };
    let page = search::profiles(&state.engine, &caller, &query).await?;
    let facets = BTreeMap::from([
        ("skills".to_owned(), counts(page.facets.skills)),
        ("regions".to_owned(), counts(page.facets.regions)),
        ("rate_bands".to_owned(), counts(page.facets.rate_bands)),
    ]);
    let profiles = page
        .hits
        .into_iter()
        .map(|hit| ProfileSearchHit {
            profile: public(hit.profile),
            score: hit.score,
            highlight: hit.highlight.into(),
            text_rank: hit.text_rank,
            vector_rank: hit.vector_rank,
        })
        .collect();
    Ok(Json(ProfileSearchAnswer { profiles, total: page.total, facets, next_cursor: page.next }))
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
        (status = 200, body = ProfileWithRatings),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
    )
)]
async fn get_profile(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
) -> ApiResult<Json<ProfileWithRatings>> {
    let detail = profiles::of(&state.engine, &caller, id).await?;
    Ok(Json(ProfileWithRatings { public: public(detail.profile), sub_ratings: detail.sub_ratings }))
}

/// A public profile with its published reviews' sub-ratings averaged.
#[derive(Serialize, ToSchema)]
pub struct ProfileWithRatings {
    #[serde(flatten)]
    public: PublicProfile,
    sub_ratings: SubRatingAverages,
}
