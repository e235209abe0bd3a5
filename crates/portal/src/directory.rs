//! The freelancer directory, for clients and admins: freelancers open to
//! work found by words and meaning with filters (`/freelancers`), and one
//! freelancer's public page with averaged sub-ratings and reviews, the
//! most helpful first, which readers mark helpful (`/freelancers/{id}`).

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::{ids::ReviewId, ids::UserId, user::Role};
use fairgig_engine::{
    applications::{self, SubRatingAverages},
    profiles,
    search::{self, ProfileFacets, ProfileSearchQuery},
};
use fairgig_search::Filters;
use fairgig_store::{applications::Review, marketplace::Profile};
use serde::Deserialize;

use super::{
    home::excerpt,
    page::{check_csrf, path_id, render, require_sign_in, LenientQuery, Page, PortalError},
    session::Visitor,
};
use crate::PortalState;

/// Freelancers a page of the directory shows.
const PAGE_SIZE: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub struct DirectoryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    region: String,
    /// A skill every listed freelancer has (from the facet links).
    #[serde(default)]
    skill: String,
    /// Highest hourly rate, in whole units of the rate's currency.
    #[serde(default)]
    rate_max: String,
    #[serde(default)]
    min_years: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    cursor: Option<usize>,
}

impl DirectoryQuery {
    /// This query as a query string, with `changes` applied, for links.
    fn with(&self, changes: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("q", self.q.clone()),
            ("region", self.region.clone()),
            ("skill", self.skill.clone()),
            ("rate_max", self.rate_max.clone()),
            ("min_years", self.min_years.clone()),
            ("language", self.language.clone()),
        ];
        for (name, value) in changes {
            match pairs.iter_mut().find(|(key, _)| key == name) {
                Some(pair) => pair.1 = (*value).to_owned(),
                None => pairs.push((name, (*value).to_owned())),
            }
        }
        pairs.retain(|(_, value)| !value.is_empty());
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    /// The engine's query; unreadable numbers are ignored (the form keeps
    /// what was typed, the engine checks ranges).
    fn search(&self) -> ProfileSearchQuery {
        let skill = self.skill.trim();
        ProfileSearchQuery {
            text: self.q.chars().take(200).collect(),
            filters: Filters {
                skills: if skill.is_empty() { Vec::new() } else { vec![skill.to_owned()] },
                region: Some(self.region.chars().take(64).collect()),
                price_max: self.rate_max.trim().parse::<i64>().ok().map(|whole| whole * 100),
                ..Filters::default()
            },
            min_years: self.min_years.trim().parse().ok(),
            min_rating: None,
            language: Some(self.language.chars().take(64).collect())
                .filter(|language: &String| !language.trim().is_empty()),
            limit: PAGE_SIZE,
            offset: self.cursor.unwrap_or(0).min(1_000),
            sort: Default::default(),
        }
    }
}

/// A found freelancer: the public profile and the bio's matched words.
struct DirectoryHit {
    profile: Profile,
    excerpt: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "portal/freelancers.html")]
struct Directory {
    page: Page,
    query: DirectoryQuery,
    hits: Vec<DirectoryHit>,
    total: usize,
    facets: ProfileFacets,
    next: Option<usize>,
    /// A refusal of the query (a number out of range), beside the form.
    error: String,
}

/// Clients and admins search the freelancers open to work.
pub async fn directory(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<DirectoryQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    if caller.user.role == Role::Freelancer {
        return Err(PortalError::new(&visitor, StatusCode::FORBIDDEN));
    }
    let page = Page::new(&visitor, "directory-title");
    let (found, error) = match search::profiles(&state.engine, caller, &query.search()).await {
        Ok(found) => (found, String::new()),
        Err(fairgig_engine::Error::Refused { message, .. }) => (Default::default(), message),
        Err(other) => return Err(PortalError::from_engine(&visitor, other)),
    };
    let hits = found
        .hits
        .into_iter()
        .map(|hit| DirectoryHit { excerpt: excerpt(&hit.highlight), profile: hit.profile })
        .collect();
    Ok(render(&Directory {
        page,
        query,
        hits,
        total: found.total,
        facets: found.facets,
        next: found.next,
        error,
    }))
}

#[derive(Template)]
#[template(path = "portal/freelancer.html")]
struct FreelancerPage {
    page: Page,
    profile: Profile,
    sub_ratings: SubRatingAverages,
    reviews: Vec<Review>,
    /// The reader's own id: no helpful button on their own review.
    reader: UserId,
}

/// One freelancer's public page (anyone signed in; opening it from a match
/// list is a click in the hiring funnel).
pub async fn freelancer(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let id: UserId = path_id(&visitor, &id)?;
    let failed = |err| PortalError::from_engine(&visitor, err);
    let detail = profiles::of(&state.engine, caller, id).await.map_err(failed)?;
    let reviews = applications::reviews_of(&state.engine, caller, id).await.map_err(failed)?;
    let page = Page::new(&visitor, "freelancer-title");
    Ok(render(&FreelancerPage {
        page,
        profile: detail.profile,
        sub_ratings: detail.sub_ratings,
        reviews,
        reader: caller.user.id,
    }))
}

#[derive(Debug, Deserialize)]
pub struct VoteForm {
    #[serde(default)]
    _csrf: String,
    /// `yes` marks the review helpful, anything else takes the mark back.
    #[serde(default)]
    helpful: String,
    /// Whose page to go back to.
    #[serde(default)]
    back: String,
}

/// Marks a review helpful (or takes it back) and returns to the page.
pub async fn vote(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<VoteForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: ReviewId = path_id(&visitor, &id)?;
    let back: UserId = path_id(&visitor, &form.back)?;
    applications::vote(&state.engine, caller, id, form.helpful == "yes")
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to(&format!("/freelancers/{back}#reviews")).into_response())
}
