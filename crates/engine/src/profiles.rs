//! Freelancer profiles: what a freelancer says about their work, checked,
//! stored and embedded for matching.
//!
//! Self-declared group attributes are optional; they audit and constrain
//! fairness only, are never a scoring feature and never shown to clients.

use std::collections::BTreeMap;

use fairgig_ai::bias::{CheckOptions, Report, TextKind};
use fairgig_core::{
    api_key::Scope,
    ids::UserId,
    marketplace::{check_short_text, check_utc_offset, Availability, ProfileSkill},
    submission::Budget,
    user::{Region, Role},
    ValidationError,
};
use fairgig_store::{
    embeddings::EntityKind,
    feedback::FunnelStep,
    marketplace::{Profile, ProfileInput},
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    error::{Error, Result},
    matching::profile_text,
    Caller, Engine,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// 1–120 characters.
    pub headline: String,
    /// Up to 5,000 characters.
    #[serde(default)]
    pub bio: String,
    /// Up to 50, names unique.
    pub skills: Vec<ProfileSkill>,
    pub hourly_rate: Option<Budget>,
    /// A region code (`DE`, `US-CA`, `EU`).
    pub region: Option<String>,
    /// Minutes east of UTC of the working day.
    pub utc_offset_minutes: Option<i32>,
    pub availability: Availability,
    /// 0–60.
    #[serde(default)]
    pub years_experience: f64,
    /// Up to 20 language codes.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Up to 10 links.
    #[serde(default)]
    pub portfolio: Vec<String>,
    /// Optional self-declared attributes (up to 10 pairs), used only to audit
    /// and constrain fairness: never a scoring feature, never shown to clients.
    #[serde(default)]
    pub group_attributes: BTreeMap<String, String>,
}

impl ProfileRequest {
    /// The stored profile, or the first field that breaks a rule.
    pub fn parse(self) -> Result<ProfileInput, ValidationError> {
        let body = self;
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
}

/// A saved profile and what the language check found in its headline and
/// bio: hints for its owner, never a reason to refuse the save.
#[derive(Debug)]
pub struct SavedProfile {
    pub profile: Profile,
    pub hints: Report,
}

/// The most characters the as-you-type check reads.
const PREVIEW_CHARS: usize = 20_000;
/// Skill suggestions per keystroke.
const SUGGESTIONS: usize = 8;

/// The language check of a profile's headline and bio.
pub fn hints(engine: &Engine, headline: &str, bio: &str) -> Report {
    let text: String = format!("{headline}\n\n{bio}").chars().take(PREVIEW_CHARS).collect();
    engine.bias.check(&text, TextKind::Profile, &CheckOptions::default())
}

/// The language check of a profile being written (a few at once per caller).
pub fn preview(engine: &Engine, caller: &Caller, headline: &str, bio: &str) -> Result<Report> {
    let Some(_slot) = engine.expensive.try_start(caller.user.id) else {
        return Err(Error::RateLimited { retry_after_secs: 1 });
    };
    Ok(hints(engine, headline, bio))
}

/// Skills from the skills list for the last of the comma-separated names
/// typed so far.
pub fn suggest_skills(engine: &Engine, typed: &str) -> Vec<String> {
    let last = typed.rsplit(',').next().unwrap_or_default();
    engine.skills.suggest(last, SUGGESTIONS).into_iter().map(str::to_owned).collect()
}

/// Creates or replaces the caller's profile (freelancers only), checks its
/// language (the findings come back as hints) and embeds it for matching;
/// if the embedding service is down the profile is saved anyway and is
/// matched once embedded.
pub async fn put_mine(
    engine: &Engine,
    caller: &Caller,
    request: ProfileRequest,
) -> Result<SavedProfile> {
    caller.require(Scope::Write)?;
    if caller.user.role != Role::Freelancer {
        return Err(Error::forbidden());
    }
    let input = request.parse()?;
    let profile = engine.store.put_profile(caller.user.id, &input).await?;
    if let Err(err) = engine
        .embeddings
        .embed_entity(EntityKind::Profile, profile.user_id.as_uuid(), &profile_text(&input))
        .await
    {
        tracing::warn!(error = %err, user = %profile.user_id, "profile saved without an embedding");
    }
    let hints = hints(engine, &profile.input.headline, &profile.input.bio);
    Ok(SavedProfile { profile, hints })
}

/// The caller's own profile, if they have one.
pub async fn mine(engine: &Engine, caller: &Caller) -> Result<Option<Profile>> {
    caller.require(Scope::Read)?;
    match engine.store.profile(caller.user.id).await {
        Ok(profile) => Ok(Some(profile)),
        Err(fairgig_store::StoreError::NotFound) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Whether matching can find this profile: it has an embedding made by
/// the model in use (one made by an earlier model is re-embedded later).
pub async fn is_matchable(engine: &Engine, profile: &Profile) -> Result<bool> {
    let embedding =
        engine.store.entity_embedding(EntityKind::Profile, profile.user_id.as_uuid()).await?;
    Ok(embedding.is_some_and(|e| e.model_id == engine.embeddings.model_id()))
}

/// How long after a list showed a freelancer opening their profile counts
/// as a click on that list.
const CLICK_WINDOW: time::Duration = time::Duration::days(7);

/// A freelancer's profile as anyone signed in may read it; the caller shows
/// only its public part. Opened by someone a match list showed them to
/// lately, it is a click in the hiring funnel, on that list at that position.
pub async fn of(engine: &Engine, caller: &Caller, freelancer: UserId) -> Result<ProfileDetail> {
    caller.require(Scope::Read)?;
    let profile = engine.store.profile(freelancer).await?;
    let reviews = crate::applications::reviews_of(engine, caller, freelancer).await?;
    let sub_ratings = crate::applications::sub_rating_averages(&reviews);
    if caller.user.id != freelancer {
        let step = FunnelStep { actor: caller.user.id, freelancer, kind: "click", rating: None };
        let since = time::OffsetDateTime::now_utc() - CLICK_WINDOW;
        if let Err(err) = engine.store.record_profile_opened(&step, since).await {
            tracing::warn!(error = %err, "a profile view was not recorded as a click");
        }
    }
    Ok(ProfileDetail { profile, sub_ratings })
}

/// A profile as readers see it, with its reviews' sub-ratings averaged.
#[derive(Debug)]
pub struct ProfileDetail {
    /// The whole row: show only its public part.
    pub profile: Profile,
    pub sub_ratings: crate::applications::SubRatingAverages,
}

/// The open jobs that fit the caller's profile, ranked and explained;
/// `None` until they have a profile.
pub async fn jobs_for_me(
    engine: &Engine,
    caller: &Caller,
    limit: usize,
    filters: &crate::matching::JobFilters,
) -> Result<Option<crate::matching::JobMatchList>> {
    if !(1..=100).contains(&limit) {
        return Err(ValidationError::new("limit", "must be between 1 and 100").into());
    }
    if filters.min_budget_minor.is_some_and(|budget| budget < 0) {
        return Err(ValidationError::new("min_budget", "must not be negative").into());
    }
    let Some(profile) = mine(engine, caller).await? else { return Ok(None) };
    let list = crate::matching::jobs_for_freelancer(
        &engine.store,
        &engine.embeddings,
        &engine.job_index,
        &profile,
        (limit, filters),
    )
    .await?;
    Ok(Some(list))
}
