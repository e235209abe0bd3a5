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
//! - [`for_pages`]: the content service's public pages, by words.

pub mod for_jobs;
pub mod for_pages;
pub mod for_profiles;
pub mod index;

use std::collections::{BTreeMap, HashMap};

use fairgig_core::ValidationError;
use fairgig_search::{reciprocal_rank_fusion, Found, Highlight};
use uuid::Uuid;

pub use for_jobs::{jobs, Facets, JobHit, JobSearchPage, JobSearchQuery};
pub use for_pages::{pages, PageHit, PageSearchQuery};
pub use for_profiles::{
    profiles, ProfileFacets, ProfileHit, ProfileSearchPage, ProfileSearchQuery,
};
pub use index::{JobSearch, PageSearch, ProfileSearch, Searchable, TextSearch};

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
/// The weights of the words' and the meaning's ranks in the fusion and its
/// constant, set by `fairgig eval search`: the best sum of nDCG@10 over the
/// tuning halves of its job and freelancer queries (k = 10 with weight 2
/// tied k = 10 with weight 3; the smaller weight was kept), reported on the
/// held-out halves (see the README).
pub const TEXT_WEIGHT: f64 = 1.0;
pub const VECTOR_WEIGHT: f64 = 2.0;
/// Reciprocal rank fusion's constant: how flat the reward for rank is
/// (the paper's 60 rewards the top ranks less than these queries want).
pub const RRF_K: f64 = 10.0;
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
fn rank_in(list: &[Uuid], id: Uuid) -> Option<usize> {
    list.iter().position(|x| *x == id).map(|rank| rank + 1)
}

/// The words' and the meaning's rankings fused: the pool to read from the
/// store, best first, and what each hit says of how it was found.
struct Fused {
    text_ids: Vec<Uuid>,
    vector_ids: Vec<Uuid>,
    /// How many the words half matched in all (not only the best `depth`).
    text_total: usize,
    scores: HashMap<Uuid, f64>,
    highlights: HashMap<Uuid, Highlight>,
    pool: Vec<Uuid>,
}

/// Why one hit ranks where it does.
struct Ranked {
    score: f64,
    highlight: Highlight,
    text_rank: Option<usize>,
    vector_rank: Option<usize>,
}

impl Fused {
    fn new(found: Found, vector_ids: Vec<Uuid>) -> Self {
        let text_ids: Vec<Uuid> = found.hits.iter().map(|hit| hit.id).collect();
        let fused = reciprocal_rank_fusion(
            &[(&text_ids, TEXT_WEIGHT), (&vector_ids, VECTOR_WEIGHT)],
            RRF_K,
        );
        Fused {
            pool: fused.iter().map(|(id, _)| *id).collect(),
            scores: fused.into_iter().collect(),
            highlights: found.hits.into_iter().map(|hit| (hit.id, hit.highlight)).collect(),
            text_total: found.total,
            text_ids,
            vector_ids,
        }
    }

    /// Takes `id`'s highlight: each hit is explained once.
    fn explain(&mut self, id: Uuid) -> Ranked {
        Ranked {
            score: self.scores.get(&id).copied().unwrap_or_default(),
            highlight: self.highlights.remove(&id).unwrap_or_default(),
            text_rank: rank_in(&self.text_ids, id),
            vector_rank: rank_in(&self.vector_ids, id),
        }
    }

    /// Everything the words matched, plus those of `shown` found by
    /// meaning alone.
    fn total(&self, shown: impl Iterator<Item = Uuid>) -> usize {
        self.text_total + shown.filter(|id| !self.text_ids.contains(id)).count()
    }
}

/// Hourly budget and rate bands for the facets, in minor units: (label, up to).
const PRICE_BANDS: [(&str, i64); 4] =
    [("under 30", 3_000), ("30–60", 6_000), ("60–100", 10_000), ("100 and more", i64::MAX)];

/// How many of `prices` fall in each band, in band order, empty bands left out.
fn price_bands(prices: impl Iterator<Item = i64>) -> Vec<(String, usize)> {
    let mut counts = [0usize; PRICE_BANDS.len()];
    for price in prices {
        if let Some(band) = PRICE_BANDS.iter().position(|(_, up_to)| price < *up_to) {
            counts[band] += 1;
        }
    }
    PRICE_BANDS
        .iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .map(|((label, _), count)| ((*label).to_owned(), count))
        .collect()
}

/// The part of `shown` one page holds, and the next page's offset.
fn page<T>(shown: &[T], offset: usize, limit: usize) -> (&[T], Option<usize>) {
    let start = offset.min(shown.len());
    let end = (offset + limit).min(shown.len());
    (&shown[start..end], (offset + limit < shown.len()).then_some(offset + limit))
}

/// The ids of the proposed entries similar enough to the query and
/// passing `keep`; empty (words alone rank) when the index is still being
/// built or failed.
fn meaning_ids<E>(
    proposed: std::result::Result<
        Option<Vec<crate::candidates::Proposed<E>>>,
        crate::candidates::CandidateError,
    >,
    keep: impl Fn(&E) -> bool,
    key: impl Fn(&E) -> Uuid,
) -> Vec<Uuid> {
    match proposed {
        Ok(Some(proposed)) => proposed
            .into_iter()
            .filter(|p| p.similarity >= MEANING_FLOOR && keep(&p.entity))
            .map(|p| key(&p.entity))
            .collect(),
        Ok(None) => Vec::new(),
        Err(err) => {
            tracing::warn!(error = %err, "search without the vector half");
            Vec::new()
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_from_the_shown_list_with_the_next_offset() {
        let shown = [1, 2, 3, 4, 5];
        assert_eq!(page(&shown, 0, 2), (&shown[0..2], Some(2)));
        assert_eq!(page(&shown, 4, 2), (&shown[4..5], None));
        assert_eq!(page(&shown, 9, 2), (&shown[5..5], None), "past the end: empty");
    }

    #[test]
    fn prices_are_counted_in_their_bands_and_empty_bands_left_out() {
        let bands = price_bands([1_000, 2_999, 3_000, 50_000].into_iter());
        let expected = [("under 30", 2), ("30–60", 1), ("100 and more", 1)];
        assert_eq!(bands, expected.iter().map(|(l, n)| ((*l).to_owned(), *n)).collect::<Vec<_>>());
    }
}
