//! Searching the content service's public pages as jobs and freelancers
//! are searched: words (BM25 in the shared full-text index, German pages
//! stemmed in German too) and meaning (the query's embedding against each
//! page's), fused by the same reciprocal rank fusion, in one locale and by
//! tag. Pages are few: their vectors come from the embedding cache (a page
//! is embedded once per text), not from a vector index.

use fairgig_core::content::check_locale;
use fairgig_embed::MAX_TEXTS_PER_REQUEST;
use fairgig_search::{Filters, Highlight};
use fairgig_store::pages::{Page, PageFilter};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{check_page, embed_query, Fused, DEPTH, MEANING_FLOOR};
use crate::{error::Error, Engine, Result};

/// How much of a page its vector reads (the model reads 256 tokens).
const MEANING_CHARS: usize = 2_000;

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
    /// The fused score.
    pub score: f64,
    pub highlight: Highlight,
    /// 1-based rank by words, and by meaning, where it had one.
    pub text_rank: Option<usize>,
    pub vector_rank: Option<usize>,
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
    let found = engine
        .page_search
        .search(&query.text, &filters, DEPTH)
        .map_err(|err| Error::Internal(anyhow::Error::new(err).context("searching pages")))?;
    let vector_ids = by_meaning(engine, query).await?;
    let mut fused = Fused::new(found, vector_ids);
    let now = OffsetDateTime::now_utc();
    let mut hits = Vec::new();
    for id in fused.pool.clone() {
        let Ok(page) = engine.store.page(fairgig_core::ids::PageId::from_uuid(id)).await else {
            continue; // gone since the last look
        };
        // Scheduled pages not yet due are in the index.
        if !page.content.status.is_public(page.content.publish_at, now) {
            continue;
        }
        let ranked = fused.explain(id);
        hits.push(PageHit {
            page,
            score: ranked.score,
            highlight: ranked.highlight,
            text_rank: ranked.text_rank,
            vector_rank: ranked.vector_rank,
        });
        if hits.len() == query.limit {
            break;
        }
    }
    Ok(hits)
}

/// What a page's vector reads: title, summary and the start of the text.
fn page_text(page: &Page) -> String {
    let c = &page.content;
    let text = format!("{}\n{}\n{}", c.title, c.summary, c.body);
    text[..text.floor_char_boundary(MEANING_CHARS)].to_owned()
}

/// The public pages of the query's locale and tag close enough in meaning,
/// best first; none for a blank query or when the provider does not answer
/// (words alone rank).
async fn by_meaning(engine: &Engine, query: &PageSearchQuery) -> Result<Vec<Uuid>> {
    if query.text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let Some(wanted) = embed_query(engine, &query.text).await else { return Ok(Vec::new()) };
    let filter = PageFilter {
        locale: query.locale.clone(),
        tag: query.tag.as_ref().map(|tag| tag.trim().to_lowercase()),
        status: None,
    };
    let now = OffsetDateTime::now_utc();
    let pages: Vec<Page> = engine
        .store
        .pages(&filter)
        .await?
        .into_iter()
        .filter(|page| page.content.status.is_public(page.content.publish_at, now))
        .collect();
    let texts: Vec<String> = pages.iter().map(page_text).collect();
    let mut scored: Vec<(f32, Uuid)> = Vec::with_capacity(pages.len());
    for (chunk, chunk_pages) in
        texts.chunks(MAX_TEXTS_PER_REQUEST).zip(pages.chunks(MAX_TEXTS_PER_REQUEST))
    {
        let embedded = match engine.embeddings.embed(chunk).await {
            Ok(embedded) => embedded,
            Err(err) => {
                tracing::warn!(error = %err, "page search without the vector half");
                return Ok(Vec::new());
            }
        };
        for (vector, page) in embedded.vectors.iter().zip(chunk_pages) {
            let similarity = fairgig_embed::dot(&wanted, vector);
            if similarity >= MEANING_FLOOR {
                scored.push((similarity, page.id.as_uuid()));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(scored.into_iter().map(|(_, id)| id).collect())
}
