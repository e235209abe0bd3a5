//! Searching the open jobs and the freelancers open to work: words by
//! BM25 (the full-text index, [`index`]) and meaning (the query's
//! embedding against the candidate indexes' vectors), fused by reciprocal
//! rank fusion, with the same hard filters on both halves, facet counts
//! over the best matches, and an offset cursor.
//!
//! - [`index`]: the full-text index that follows the store ([`JobSearch`],
//!   [`ProfileSearch`]).
//! - [`for_jobs`]: `GET /jobs` and the portal's board.
//! - [`for_profiles`]: `GET /profiles`, for clients and admins. Self-declared
//!   attributes are never indexed, filtered on or returned.

pub mod for_jobs;
pub mod for_profiles;
pub mod index;

use std::collections::BTreeMap;

use fairgig_core::ValidationError;

pub use for_jobs::{jobs, Facets, JobHit, JobSearchPage, JobSearchQuery};
pub use for_profiles::{
    profiles, ProfileFacets, ProfileHit, ProfileSearchPage, ProfileSearchQuery,
};
pub use index::{JobSearch, ProfileSearch, Searchable, TextSearch};

use crate::{Engine, Result};

/// Most hits on one page.
pub const MAX_PAGE: usize = 50;
/// The deepest a cursor may reach: past this, refine the search.
const MAX_OFFSET: usize = 1_000;
/// How deep each half ranks before fusion, and the pool facets count over.
const DEPTH: usize = 200;
/// The most characters of a query.
const MAX_QUERY_CHARS: usize = 500;
/// The least cosine similarity at which an entry counts as about the query
/// by meaning alone (all-MiniLM-L6-v2: unrelated short texts score about
/// 0.0–0.25, paraphrases above 0.5); below it only its words can find it.
const MEANING_FLOOR: f32 = 0.3;
/// The weights of the words' and the meaning's ranks in the fusion, set by
/// `fairgig eval search` (chosen on one half of its queries, reported on
/// the other; see the README).
pub const TEXT_WEIGHT: f64 = 1.0;
pub const VECTOR_WEIGHT: f64 = 1.5;
/// Facet values listed per facet.
const FACET_VALUES: usize = 10;
/// How many of the best matches a search sorted by a field (not by
/// relevance) sorts.
const SORT_DEPTH: usize = 1_000;

/// The order of a search's hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// The fused rank (a blank query: the newest first).
    #[default]
    Relevance,
    /// The most recently changed first.
    Newest,
    /// Jobs: the highest hourly budget first. Freelancers: the lowest
    /// hourly rate first. Those without one come last.
    Price,
}

impl SortBy {
    /// How deep each half ranks: sorting by a field sorts the best
    /// [`SORT_DEPTH`] matches.
    fn depth(self, offset: usize, limit: usize) -> usize {
        let deepest = match self {
            SortBy::Relevance => DEPTH,
            SortBy::Newest | SortBy::Price => SORT_DEPTH,
        };
        deepest.max(offset + limit)
    }
}

/// A page size, cursor and query length every search accepts.
fn check_page(text: &str, limit: usize, offset: usize) -> Result<(), ValidationError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ValidationError::new("limit", "must be 1-50"));
    }
    if offset > MAX_OFFSET {
        return Err(ValidationError::new("cursor", "is past the last page"));
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ValidationError::new("q", "at most 500 characters"));
    }
    Ok(())
}

/// 1-based rank of `id` in `list`.
fn rank_in(list: &[uuid::Uuid], id: uuid::Uuid) -> Option<usize> {
    list.iter().position(|x| *x == id).map(|rank| rank + 1)
}

/// The `n` most frequent values, ties by name.
fn top(counts: BTreeMap<String, usize>, n: usize) -> Vec<(String, usize)> {
    let mut counted: Vec<(String, usize)> = counts.into_iter().collect();
    counted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counted.truncate(n);
    counted
}

/// The query's embedding; `None` (words alone rank) when the provider
/// does not answer.
async fn embed_query(engine: &Engine, text: &str) -> Option<Vec<f32>> {
    match engine.embeddings.embed(&[text.to_owned()]).await {
        Ok(mut embedded) => embedded.vectors.pop(),
        Err(err) => {
            tracing::warn!(error = %err, "search without the vector half");
            None
        }
    }
}
