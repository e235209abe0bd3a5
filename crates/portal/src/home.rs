//! The landing page, the open jobs board and the language switch.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_engine::search::{self, Facets, JobSearchQuery};
use fairgig_search::{Filters, Highlight};
use fairgig_store::marketplace::Job;
use serde::Deserialize;

use super::{
    i18n::Locale,
    page::{check_csrf, render, LenientQuery, Page, PortalError},
    session::{append_cookie, Visitor},
};
use crate::PortalState;

#[derive(Template)]
#[template(path = "portal/landing.html")]
struct Landing {
    page: Page,
}

pub async fn landing(visitor: Visitor) -> Response {
    render(&Landing { page: Page::new(&visitor, "landing-title") })
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    remote: Option<String>,
    /// A skill every listed job must require (from the facet links).
    #[serde(default)]
    skill: String,
    #[serde(default)]
    cursor: Option<usize>,
}

impl BoardQuery {
    /// This query as a query string, with `changes` applied, for links.
    fn with(&self, changes: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("q", self.q.clone()),
            ("region", self.region.clone()),
            ("skill", self.skill.clone()),
            ("remote", self.remote.clone().unwrap_or_default()),
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
}

/// A found job as the board shows it: the description's matched words
/// marked in a fragment.
struct BoardHit {
    job: Job,
    /// The fragment around the matched words, cut into (text, marked) runs.
    excerpt: Vec<(String, bool)>,
}

pub(crate) fn excerpt(highlight: &Highlight) -> Vec<(String, bool)> {
    let text = &highlight.fragment;
    let mut runs = Vec::new();
    let mut at = 0;
    for range in &highlight.ranges {
        let (Some(before), Some(marked)) = (text.get(at..range.start), text.get(range.clone()))
        else {
            continue;
        };
        runs.push((before.to_owned(), false));
        runs.push((marked.to_owned(), true));
        at = range.end;
    }
    runs.push((text.get(at..).unwrap_or_default().to_owned(), false));
    runs.retain(|(run, _)| !run.is_empty());
    runs
}

#[derive(Template)]
#[template(path = "portal/jobs.html")]
struct Board {
    page: Page,
    query: BoardQuery,
    hits: Vec<BoardHit>,
    total: usize,
    facets: Facets,
    next: Option<usize>,
}

/// How many jobs a page of the board shows.
const BOARD_SIZE: usize = 20;

/// The open jobs, searched by words and meaning, filtered, with facets
/// (public: signed out, it lists what anyone may see).
pub async fn board(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<BoardQuery>,
) -> Result<Response, PortalError> {
    let skill = query.skill.trim();
    let search = JobSearchQuery {
        text: query.q.chars().take(200).collect(),
        filters: Filters {
            skills: if skill.is_empty() { Vec::new() } else { vec![skill.to_owned()] },
            region: Some(query.region.chars().take(64).collect()),
            remote_only: query.remote.is_some(),
            ..Filters::default()
        },
        limit: BOARD_SIZE,
        offset: query.cursor.unwrap_or(0).min(1_000),
        sort: Default::default(),
    };
    let found = search::jobs(&state.engine, visitor.caller.as_ref(), &search)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let hits = found
        .hits
        .into_iter()
        .map(|hit| BoardHit { excerpt: excerpt(&hit.highlight), job: hit.job })
        .collect();
    Ok(render(&Board {
        page: Page::new(&visitor, "jobs-title"),
        query,
        hits,
        total: found.total,
        facets: found.facets,
        next: found.next,
    }))
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

/// Keeps the chosen language in a cookie and returns to the page.
pub async fn set_language(
    visitor: Visitor,
    Form(form): Form<LanguageForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back
    } else {
        "/".to_owned()
    };
    let mut response = Redirect::to(&back).into_response();
    if let Some(locale) = Locale::from_tag(&form.lang) {
        append_cookie(&mut response, &visitor.language_cookie(locale));
    }
    Ok(response)
}
