//! The landing page, the open jobs board and the language switch.

use askama::Template;
use axum::{
    extract::{rejection::QueryRejection, Query, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_engine::jobs::{self, BoardFilter};
use fairgig_store::marketplace::Job;
use serde::Deserialize;

use super::{
    i18n::Locale,
    page::{check_csrf, render, Page, PortalError},
    session::{append_cookie, Visitor},
};
use crate::state::AppState;

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
}

#[derive(Template)]
#[template(path = "portal/jobs.html")]
struct Board {
    page: Page,
    query: BoardQuery,
    jobs: Vec<Job>,
}

/// How many jobs the board shows.
const BOARD_SIZE: usize = 50;

pub async fn board(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Response, PortalError> {
    // A mangled query string shows the whole board rather than an error.
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let filter = BoardFilter {
        words: Some(query.q.chars().take(200).collect()),
        region: Some(query.region.chars().take(64).collect()),
        remote_only: query.remote.is_some(),
    };
    let jobs = jobs::board(&state.engine, &filter, BOARD_SIZE)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(render(&Board { page: Page::new(&visitor, "jobs-title"), query, jobs }))
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
