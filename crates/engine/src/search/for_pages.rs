//! Searching the content service's public pages by words (BM25, the same
//! full-text index as jobs and freelancers, German pages stemmed in German
//! too), in one locale and by tag. Words only: pages are few and written
//! by the platform, and their readers search for the words on them.

use fairgig_core::content::check_locale;
use fairgig_search::{Filters, Highlight};
use fairgig_store::pages::Page;
use time::OffsetDateTime;

use super::check_page;
use crate::{error::Error, Engine, Result};

#[derive(Clone, Debug, Default)]
pub struct PageSearchQuery {
    pub text: String,
    /// Only pages in this locale.
    pub locale: Option<String>,
    /// Only pages with this tag.
    pub tag: Option<String>,
    pub limit: usize,
}

#[derive(Clone, Debug)]
pub struct PageHit {
    pub page: Page,
    pub score: f32,
    pub highlight: Highlight,
}

/// The best public pages for the query, best first.
pub async fn pages(engine: &Engine, query: &PageSearchQuery) -> Result<Vec<PageHit>> {
    check_page(&query.text, query.limit, 0)?;
    if let Some(locale) = &query.locale {
        check_locale(locale)?;
    }
    let failed = |err: anyhow::Error| Error::Internal(err.context("the page index"));
    // Pages are few: the first search builds the index if start has not.
    if engine.page_search.refresh(&engine.store).await.map_err(failed)?.is_none() {
        engine.page_search.build(&engine.store).await.map_err(failed)?;
    }
    let filters = Filters {
        region: query.locale.clone(),
        skills: query.tag.iter().map(|tag| tag.trim().to_lowercase()).collect(),
        ..Filters::default()
    };
    // Scheduled pages not yet due are in the index: ask for a few more.
    let found = engine
        .page_search
        .search(&query.text, &filters, query.limit * 2)
        .map_err(|err| Error::Internal(anyhow::Error::new(err).context("searching pages")))?;
    let now = OffsetDateTime::now_utc();
    let mut hits = Vec::new();
    for hit in found.hits {
        let Ok(page) = engine.store.page(fairgig_core::ids::PageId::from_uuid(hit.id)).await else {
            continue; // gone since the last look
        };
        if page.content.status.is_public(page.content.publish_at, now) {
            hits.push(PageHit { page, score: hit.score, highlight: hit.highlight });
        }
        if hits.len() == query.limit {
            break;
        }
    }
    Ok(hits)
}
