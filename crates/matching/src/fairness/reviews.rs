//! Rating disparity: do reviewers rate one group of reviewed people worse?
//! Ratings are grouped by the reviewed party's group; a rating of 4 or 5
//! is favourable, and the four-fifths test compares the groups' favourable
//! rates (lowest over highest; under 0.8 is adverse impact, as in the US
//! EEOC Uniform Guidelines, 29 CFR 1607.4(D)).
//!
//! So that no reviewed person is singled out, a group's figures are shown
//! only when it holds at least [`MIN_CELL`] ratings (smaller cells are
//! withheld and left out of the test).

use std::collections::BTreeMap;

/// The fewest ratings a group's figures are shown for.
pub const MIN_CELL: usize = 3;
/// Ratings at or above this are favourable.
pub const FAVOURABLE: u8 = 4;
/// The four-fifths rule's threshold.
pub const ADVERSE_BELOW: f64 = 0.8;

/// One rating: who gave it, the reviewed party's group, the stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rating<R> {
    pub reviewer: R,
    pub group: usize,
    pub stars: u8,
}

/// One group's ratings; `None` figures are withheld (fewer than [`MIN_CELL`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GroupRatings {
    pub ratings: usize,
    pub mean: Option<f64>,
    pub favourable_rate: Option<f64>,
}

/// Ratings by group, and the four-fifths test over the shown groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Disparity {
    /// In group order.
    pub groups: Vec<GroupRatings>,
    /// Lowest favourable rate over the highest, over groups shown; `None`
    /// with fewer than two such groups or no favourable rating at all.
    pub four_fifths: Option<f64>,
}

impl Disparity {
    pub fn adverse(&self) -> bool {
        self.four_fifths.is_some_and(|ratio| ratio < ADVERSE_BELOW)
    }
}

/// The disparity of `ratings` over `groups` groups.
pub fn disparity<R>(ratings: &[Rating<R>], groups: usize) -> Disparity {
    let mut cells: Vec<(usize, u32, usize)> = vec![(0, 0, 0); groups];
    for rating in ratings {
        if let Some(cell) = cells.get_mut(rating.group) {
            cell.0 += 1;
            cell.1 += u32::from(rating.stars);
            cell.2 += usize::from(rating.stars >= FAVOURABLE);
        }
    }
    let groups: Vec<GroupRatings> = cells
        .into_iter()
        .map(|(count, stars, favourable)| {
            let shown = count >= MIN_CELL;
            GroupRatings {
                ratings: count,
                mean: shown.then(|| f64::from(stars) / count as f64),
                favourable_rate: shown.then(|| favourable as f64 / count as f64),
            }
        })
        .collect();
    let rates: Vec<f64> = groups.iter().filter_map(|group| group.favourable_rate).collect();
    let highest = rates.iter().copied().fold(f64::NAN, f64::max);
    let lowest = rates.iter().copied().fold(f64::NAN, f64::min);
    let four_fifths = (rates.len() >= 2 && highest > 0.0).then(|| lowest / highest);
    Disparity { groups, four_fifths }
}

/// Each reviewer's disparity, for reviewers with ratings in at least two
/// groups; sorted with the lowest four-fifths ratio first.
pub fn by_reviewer<R: Ord + Copy>(ratings: &[Rating<R>], groups: usize) -> Vec<(R, Disparity)> {
    let mut of: BTreeMap<R, Vec<Rating<R>>> = BTreeMap::new();
    for rating in ratings {
        of.entry(rating.reviewer).or_default().push(*rating);
    }
    let mut reviewers: Vec<(R, Disparity)> = of
        .into_iter()
        .map(|(reviewer, theirs)| (reviewer, disparity(&theirs, groups)))
        .filter(|(_, disparity)| disparity.four_fifths.is_some())
        .collect();
    reviewers.sort_by(|a, b| {
        a.1.four_fifths.partial_cmp(&b.1.four_fifths).unwrap_or(std::cmp::Ordering::Equal)
    });
    reviewers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(reviewer: u8, group: usize, stars: u8) -> Rating<u8> {
        Rating { reviewer, group, stars }
    }

    #[test]
    fn the_four_fifths_test_compares_favourable_rates() {
        // Group 0: 4 of 4 favourable; group 1: 2 of 4.
        let ratings = [
            rate(1, 0, 5),
            rate(1, 0, 4),
            rate(2, 0, 5),
            rate(2, 0, 4),
            rate(1, 1, 5),
            rate(1, 1, 2),
            rate(2, 1, 4),
            rate(2, 1, 1),
        ];
        let found = disparity(&ratings, 2);
        assert_eq!(found.groups[0].favourable_rate, Some(1.0));
        assert_eq!(found.groups[1].favourable_rate, Some(0.5));
        assert_eq!(found.groups[1].mean, Some(3.0));
        assert_eq!(found.four_fifths, Some(0.5));
        assert!(found.adverse());
    }

    #[test]
    fn small_cells_are_withheld_and_left_out_of_the_test() {
        let ratings = [rate(1, 0, 5), rate(1, 0, 5), rate(1, 0, 5), rate(1, 1, 1), rate(1, 1, 1)];
        let found = disparity(&ratings, 2);
        assert_eq!(found.groups[1], GroupRatings { ratings: 2, mean: None, favourable_rate: None });
        assert_eq!(found.four_fifths, None, "one group shown: nothing to compare");
        assert!(!found.adverse());
    }

    #[test]
    fn reviewers_are_listed_worst_ratio_first_when_they_rated_two_groups() {
        let mut ratings = Vec::new();
        for _ in 0..3 {
            ratings.extend([
                rate(1, 0, 5),
                rate(1, 1, 5),
                rate(2, 0, 5),
                rate(2, 1, 2),
                rate(3, 0, 5),
            ]);
        }
        let listed = by_reviewer(&ratings, 2);
        assert_eq!(listed.iter().map(|(r, _)| *r).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(listed[0].1.four_fifths, Some(0.0));
        assert_eq!(listed[1].1.four_fifths, Some(1.0));
    }
}
