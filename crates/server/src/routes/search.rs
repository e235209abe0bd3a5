//! The shapes every search answer shares: highlights, facet counts, and
//! the comma-separated skill list of a query.

use fairgig_search::Highlight;
use serde::Serialize;
use utoipa::ToSchema;

/// Where a text matched: a fragment and the byte ranges of the matched
/// words in it.
#[derive(Serialize, ToSchema)]
pub struct HighlightView {
    fragment: String,
    #[schema(value_type = Vec<[usize; 2]>)]
    ranges: Vec<[usize; 2]>,
}

impl From<Highlight> for HighlightView {
    fn from(highlight: Highlight) -> Self {
        HighlightView {
            fragment: highlight.fragment,
            ranges: highlight.ranges.into_iter().map(|r| [r.start, r.end]).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FacetCount {
    value: String,
    count: usize,
}

/// Facet values with their counts, in the engine's order.
pub fn counts(values: Vec<(String, usize)>) -> Vec<FacetCount> {
    values.into_iter().map(|(value, count)| FacetCount { value, count }).collect()
}

/// `a, b,,c` into `[a, b, c]`.
pub fn skill_list(list: Option<&str>) -> Vec<String> {
    list.map(|list| {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    })
    .unwrap_or_default()
}
