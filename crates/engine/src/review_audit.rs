//! The reviewer disparity audit (admins): the ratings published reviews
//! gave, by the reviewed freelancer's self-declared group, overall and per
//! reviewer, with the four-fifths test
//! ([`fairgig_matching::fairness::reviews`]). Groups are pooled as in the
//! fairness audit and cells under three ratings withheld, so no reviewed
//! person is singled out.

use std::collections::HashMap;

use fairgig_core::{ids::UserId, ValidationError};
use fairgig_matching::fairness::{
    groups::{declared_groups, is_attribute_name, DeclaredGroups},
    reviews::{by_reviewer, disparity, Disparity, Rating, MIN_CELL},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Caller, Engine, Result};

/// Reviewers listed, the worst ratio first.
const REVIEWERS_LISTED: usize = 100;

/// One group's ratings; `mean` and `favourable_rate` are withheld (null)
/// under three ratings.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GroupRatingsView {
    pub ratings: usize,
    pub mean: Option<f64>,
    /// Share of ratings of 4 or 5.
    pub favourable_rate: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DisparityView {
    /// In `groups` order.
    pub by_group: Vec<GroupRatingsView>,
    /// Lowest favourable rate over the highest among the shown groups.
    pub four_fifths: Option<f64>,
    /// The ratio is under 0.8.
    pub adverse: bool,
}

impl From<Disparity> for DisparityView {
    fn from(found: Disparity) -> Self {
        DisparityView {
            adverse: found.adverse(),
            four_fifths: found.four_fifths,
            by_group: found
                .groups
                .into_iter()
                .map(|group| GroupRatingsView {
                    ratings: group.ratings,
                    mean: group.mean,
                    favourable_rate: group.favourable_rate,
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewerDisparity {
    pub reviewer: UserId,
    #[serde(flatten)]
    pub disparity: DisparityView,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewAudit {
    /// The self-declared attribute grouped by.
    pub attribute: String,
    pub days: i64,
    /// Published ratings of freelancers in the period.
    pub ratings: usize,
    /// `(not declared)` first, then the answers, the rarest pooled.
    pub groups: Vec<String>,
    pub overall: DisparityView,
    /// Reviewers who rated freelancers of at least two shown groups, the
    /// lowest ratio first (at most 100).
    pub reviewers: Vec<ReviewerDisparity>,
    /// Cells with fewer ratings than this are withheld.
    pub min_cell: usize,
}

/// The audit over the last `days` days (1–3660, default 365) by a
/// self-declared `attribute` (admins).
pub async fn audit(
    engine: &Engine,
    caller: &Caller,
    attribute: Option<&str>,
    days: Option<i64>,
) -> Result<ReviewAudit> {
    caller.require_admin()?;
    let attribute = attribute.unwrap_or_default().trim();
    if !is_attribute_name(attribute) {
        return Err(ValidationError::new(
            "attribute",
            "a self-declared attribute: 1–40 letters, digits, _ or -",
        )
        .into());
    }
    let days = days.unwrap_or(365);
    if !(1..=3660).contains(&days) {
        return Err(ValidationError::new("days", "must be between 1 and 3660").into());
    }
    let since = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    let answers = engine.store.declared_attribute(attribute).await?;
    let values: Vec<Option<&str>> = answers.iter().map(|a| a.value.as_deref()).collect();
    let DeclaredGroups { names, members } = declared_groups(&values);
    let group_of: HashMap<UserId, usize> =
        answers.iter().map(|answer| answer.user).zip(members).collect();
    let ratings: Vec<Rating<UserId>> = engine
        .store
        .published_reviews_since(since)
        .await?
        .into_iter()
        .filter_map(|review| {
            let group = *group_of.get(&review.subject)?;
            Some(Rating {
                reviewer: review.author,
                group,
                stars: u8::try_from(review.rating).ok()?,
            })
        })
        .collect();
    let reviewers = by_reviewer(&ratings, names.len())
        .into_iter()
        .take(REVIEWERS_LISTED)
        .map(|(reviewer, found)| ReviewerDisparity { reviewer, disparity: found.into() })
        .collect();
    Ok(ReviewAudit {
        attribute: attribute.to_owned(),
        days,
        ratings: ratings.len(),
        overall: disparity(&ratings, names.len()).into(),
        groups: names,
        reviewers,
        min_cell: MIN_CELL,
    })
}
