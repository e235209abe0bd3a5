//! Searching the freelancers open to work (`GET /profiles`), for clients
//! and admins. Only what a profile shows publicly is searched and
//! filtered on; self-declared attributes are not in the index, not among
//! the filters and not in the hits' public view.

use std::collections::BTreeMap;

use fairgig_core::{ids::UserId, user::Role, ValidationError};
use fairgig_matching::features::Reputation;
use fairgig_search::{Filters, Highlight};
use fairgig_store::marketplace::Profile;

use super::{
    check_page, embed_query, meaning_ids, page, price_bands, top, Fused, SortBy, FACET_VALUES,
};
use crate::{
    error::{Error, Result},
    Caller, Engine,
};

/// What a client asks for. `filters.remote_only` does not apply (a
/// profile has a region, not a remote flag); `price_*` bound the hourly rate.
#[derive(Clone, Debug, Default)]
pub struct ProfileSearchQuery {
    /// Free text; blank lists every profile that passes the filters, newest first.
    pub text: String,
    pub filters: Filters,
    /// At least this many years of experience (0–80).
    pub min_years: Option<f64>,
    /// A reputation (Bayesian average rating, as matching uses) of at least this (1–5).
    pub min_rating: Option<f64>,
    /// Speaks this language (as written on profiles, any case).
    pub language: Option<String>,
    /// 1–[`MAX_PAGE`](super::MAX_PAGE).
    pub limit: usize,
    pub offset: usize,
    pub sort: SortBy,
}

impl ProfileSearchQuery {
    fn check(&self) -> Result<(), ValidationError> {
        check_page(&self.text, self.limit, self.offset)?;
        if self.min_years.is_some_and(|years| !(0.0..=80.0).contains(&years)) {
            return Err(ValidationError::new("min_years", "must be between 0 and 80"));
        }
        if self.min_rating.is_some_and(|rating| !(1.0..=5.0).contains(&rating)) {
            return Err(ValidationError::new("min_rating", "must be between 1 and 5"));
        }
        if self.language.as_deref().is_some_and(|language| language.chars().count() > 64) {
            return Err(ValidationError::new("language", "at most 64 characters"));
        }
        Ok(())
    }

    /// Filters the full-text index cannot apply.
    fn has_profile_filters(&self) -> bool {
        self.min_years.is_some() || self.min_rating.is_some() || self.language.is_some()
    }
}

/// A found freelancer, with where their text matched and why they rank here.
#[derive(Clone, Debug)]
pub struct ProfileHit {
    /// The whole row: show only its public part.
    pub profile: Profile,
    pub score: f64,
    pub highlight: Highlight,
    pub text_rank: Option<usize>,
    pub vector_rank: Option<usize>,
}

/// Counts of the best matches by skill, region and hourly-rate band.
#[derive(Clone, Debug, Default)]
pub struct ProfileFacets {
    pub skills: Vec<(String, usize)>,
    pub regions: Vec<(String, usize)>,
    pub rate_bands: Vec<(String, usize)>,
}

#[derive(Clone, Debug, Default)]
pub struct ProfileSearchPage {
    pub hits: Vec<ProfileHit>,
    /// How many match: by their words plus those found by meaning alone
    /// among the best [`DEPTH`](super::DEPTH); with experience, rating or language
    /// filters, those among the best [`DEPTH`](super::DEPTH) that pass them.
    pub total: usize,
    pub facets: ProfileFacets,
    pub next: Option<usize>,
}

/// Whether a profile passes every filter (the vector half and the profile
/// filters are checked here; the words' half in the index too).
fn passes(profile: &Profile, query: &ProfileSearchQuery) -> bool {
    let input = &profile.input;
    let filters = &query.filters;
    let skills: Vec<String> = input.skills.iter().map(|s| s.name.trim().to_lowercase()).collect();
    let reputation = Reputation {
        mean: if profile.rating_count > 0 {
            profile.rating_sum / f64::from(profile.rating_count)
        } else {
            0.0
        },
        count: u32::try_from(profile.rating_count).unwrap_or(0),
    };
    filters.skills.iter().all(|wanted| skills.contains(&wanted.trim().to_lowercase()))
        && filters.region.as_deref().map(str::trim).filter(|r| !r.is_empty()).is_none_or(|region| {
            input.region.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(region))
        })
        && filters.price_min.is_none_or(|min| input.hourly_rate_minor.is_some_and(|p| p >= min))
        && filters.price_max.is_none_or(|max| input.hourly_rate_minor.is_some_and(|p| p <= max))
        && filters.since_unix.is_none_or(|since| profile.updated_at.unix_timestamp() >= since)
        && query.min_years.is_none_or(|years| input.years_experience >= years)
        && query.min_rating.is_none_or(|rating| reputation.bayesian_average() >= rating)
        && query.language.as_deref().map(str::trim).filter(|l| !l.is_empty()).is_none_or(
            |language| input.languages.iter().any(|l| l.trim().eq_ignore_ascii_case(language)),
        )
}

/// Searches the freelancers open to work (clients and admins).
pub async fn profiles(
    engine: &Engine,
    caller: &Caller,
    query: &ProfileSearchQuery,
) -> Result<ProfileSearchPage> {
    caller.require(fairgig_core::api_key::Scope::Read)?;
    if !matches!(caller.user.role, Role::Client | Role::Admin) {
        return Err(Error::forbidden());
    }
    query.check()?;
    let failed = |err: anyhow::Error| Error::Internal(err.context("searching profiles"));
    if engine.profile_search.refresh(&engine.store).await.map_err(failed)?.is_none() {
        // Not built yet (just started): this search waits for the build.
        engine.profile_search.build(&engine.store).await.map_err(failed)?;
    }
    let depth = query.sort.depth(query.offset, query.limit);
    let found = engine
        .profile_search
        .search(&query.text, &query.filters, depth)
        .map_err(|err| failed(err.into()))?;
    let vector_ids = if query.text.trim().is_empty() {
        Vec::new()
    } else {
        by_meaning(engine, query, depth).await
    };
    let mut fused = Fused::new(found, vector_ids);
    let pool: Vec<UserId> = fused.pool.iter().map(|id| UserId::from_uuid(*id)).collect();
    let profiles = engine.store.profiles_by_ids(&pool).await?;
    // The store is read after the index: a profile closed in between drops out.
    let mut shown: Vec<&Profile> = profiles
        .iter()
        .filter(|profile| super::Searchable::listed(*profile) && passes(profile, query))
        .collect();
    match query.sort {
        SortBy::Relevance => {}
        SortBy::Newest => shown.sort_by_key(|profile| std::cmp::Reverse(profile.updated_at)),
        SortBy::Price => {
            shown.sort_by_key(|profile| profile.input.hourly_rate_minor.unwrap_or(i64::MAX))
        }
    }
    let (on_page, next) = page(&shown, query.offset, query.limit);
    let hits = on_page
        .iter()
        .map(|profile| {
            let ranked = fused.explain(profile.user_id.as_uuid());
            ProfileHit {
                profile: (*profile).clone(),
                score: ranked.score,
                highlight: ranked.highlight,
                text_rank: ranked.text_rank,
                vector_rank: ranked.vector_rank,
            }
        })
        .collect();
    // The profile filters apply after the index: count what passed them.
    let total = if query.has_profile_filters() {
        shown.len()
    } else {
        fused.total(shown.iter().map(|profile| profile.user_id.as_uuid()))
    };
    Ok(ProfileSearchPage { hits, total, facets: facets(&shown), next })
}

/// The freelancers open to work nearest in meaning to the query that pass
/// the filters; empty when the embedding provider or the index is not there.
async fn by_meaning(engine: &Engine, query: &ProfileSearchQuery, depth: usize) -> Vec<uuid::Uuid> {
    let Some(vector) = embed_query(engine, &query.text).await else { return Vec::new() };
    meaning_ids(
        engine.profile_index.nearest(&engine.store, &vector, depth).await,
        |profile| passes(profile, query),
        |profile| profile.user_id.as_uuid(),
    )
}

fn facets(profiles: &[&Profile]) -> ProfileFacets {
    let mut skills = BTreeMap::new();
    let mut regions = BTreeMap::new();
    for profile in profiles {
        for skill in &profile.input.skills {
            *skills.entry(skill.name.trim().to_lowercase()).or_insert(0) += 1;
        }
        if let Some(region) = &profile.input.region {
            *regions.entry(region.clone()).or_insert(0) += 1;
        }
    }
    let rate_bands =
        price_bands(profiles.iter().filter_map(|profile| profile.input.hourly_rate_minor));
    ProfileFacets {
        skills: top(skills, FACET_VALUES),
        regions: top(regions, FACET_VALUES),
        rate_bands,
    }
}
