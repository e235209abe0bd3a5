//! The content service's pages in the site's layout: `/p/{slug}` in the
//! visitor's language, `/{locale}/p/{slug}` in a named one (en, de, fr,
//! es, cs). A page missing in that locale is shown in the default one
//! with a notice (the engine decides which: [`pages::published`]).

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use fairgig_content::render::Heading;
use fairgig_core::content::locale_name;
use fairgig_engine::pages;

use crate::{
    page::{render, Page, PortalError},
    session::Visitor,
    PortalState,
};

#[derive(Template)]
#[template(path = "portal/content_page.html")]
struct ContentPage {
    page: Page,
    locale: String,
    title: String,
    summary: String,
    tags: Vec<String>,
    /// Sanitized by the engine's renderer: safe to embed.
    html: String,
    /// The second-level headings, for the table of contents.
    contents: Vec<Heading>,
    notice: Option<String>,
    /// Other public locales: locale, its name, slug.
    translations: Vec<(String, &'static str, String)>,
}

/// A page in the visitor's language (or the default one, with a notice).
pub async fn in_visitor_language(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(slug): Path<String>,
) -> Result<Response, PortalError> {
    show(&state, &visitor, visitor.locale.tag(), &slug).await
}

/// A page in the locale the path names.
pub async fn in_locale(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path((locale, slug)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    show(&state, &visitor, &locale, &slug).await
}

async fn show(
    state: &PortalState,
    visitor: &Visitor,
    locale: &str,
    slug: &str,
) -> Result<Response, PortalError> {
    let published = pages::published(&state.engine, locale, slug).await.map_err(|err| {
        // An unknown locale in the path is no page, not a form error.
        match err {
            fairgig_engine::Error::Refused { kind: fairgig_engine::ErrorKind::Invalid, .. } => {
                PortalError::new(visitor, axum::http::StatusCode::NOT_FOUND)
            }
            other => PortalError::from_engine(visitor, other),
        }
    })?;
    let notice = published.notice();
    let mut page = Page::new(visitor, "freelancer-title");
    page.title = published.page.content.title.clone();
    let shown = published.page.locale.clone();
    let translations = published
        .translations
        .into_iter()
        .filter(|(other, _)| *other != shown)
        .map(|(other, slug)| {
            let name = locale_name(&other);
            (other, name, slug)
        })
        .collect();
    let content = published.page.content;
    Ok(render(&ContentPage {
        page,
        locale: shown,
        title: content.title,
        summary: content.summary,
        tags: content.tags,
        html: published.html,
        contents: published.headings.into_iter().filter(|h| h.level == 2).collect(),
        notice,
        translations,
    }))
}
