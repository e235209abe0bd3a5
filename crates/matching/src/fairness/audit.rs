//! Fairness over time: shown lists aggregated per day, for the admin report.
//!
//! Per day: how many lists were shown, the mean MinSkew@k and NDKL after
//! re-ranking over the lists where they are finite (a list where a group
//! with a target share has no place, MinSkew = −∞, or where a group with no
//! target share has one, NDKL = +∞, is counted, not averaged), each group's
//! total exposure, and the four-fifths ratio of
//! shortlist and hire rates (share of a group's shown members the client
//! shortlisted or hired).

use super::metrics::selection_ratio;

/// One shown item: its group and what the client did with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShownItem {
    pub group: usize,
    pub shortlisted: bool,
    pub hired: bool,
}

/// One shown list as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ListSummary {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// −∞ when a group with a target share had no place.
    pub min_skew: f64,
    /// +∞ when a group with no target share had one.
    pub ndkl: f64,
    pub exposure: Vec<f64>,
    pub items: Vec<ShownItem>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DayReport {
    pub day: String,
    pub lists: usize,
    /// Over the lists where it is finite; `None` when none is.
    pub mean_min_skew: Option<f64>,
    pub lists_with_absent_group: usize,
    /// Over the lists where it is finite; `None` when none is.
    pub mean_ndkl: Option<f64>,
    pub lists_with_unbounded_ndkl: usize,
    pub exposure: Vec<f64>,
    pub shortlist_ratio: Option<f64>,
    pub hire_ratio: Option<f64>,
}

/// Aggregates `lists` per day, in day order.
pub fn by_day(lists: &[ListSummary], groups: usize) -> Vec<DayReport> {
    let mut days: std::collections::BTreeMap<&str, Vec<&ListSummary>> = Default::default();
    for list in lists {
        days.entry(list.day.as_str()).or_default().push(list);
    }
    days.into_iter()
        .map(|(day, lists)| {
            let mut exposure = vec![0.0; groups];
            let mut shortlisted = vec![(0usize, 0usize); groups];
            let mut hired = vec![(0usize, 0usize); groups];
            for list in &lists {
                for (total, value) in exposure.iter_mut().zip(&list.exposure) {
                    *total += value;
                }
                for item in list.items.iter().filter(|item| item.group < groups) {
                    shortlisted[item.group].1 += 1;
                    hired[item.group].1 += 1;
                    shortlisted[item.group].0 += usize::from(item.shortlisted);
                    hired[item.group].0 += usize::from(item.hired);
                }
            }
            DayReport {
                day: day.to_owned(),
                lists: lists.len(),
                mean_min_skew: finite_mean(lists.iter().map(|l| l.min_skew)),
                lists_with_absent_group: lists.iter().filter(|l| !l.min_skew.is_finite()).count(),
                mean_ndkl: finite_mean(lists.iter().map(|l| l.ndkl)),
                lists_with_unbounded_ndkl: lists.iter().filter(|l| !l.ndkl.is_finite()).count(),
                exposure,
                shortlist_ratio: selection_ratio(&shortlisted),
                hire_ratio: selection_ratio(&hired),
            }
        })
        .collect()
}

/// The mean of the finite values; `None` when there is none.
fn finite_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values
        .filter(|value| value.is_finite())
        .fold((0.0, 0usize), |(sum, count), value| (sum + value, count + 1));
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(group: usize, shortlisted: bool, hired: bool) -> ShownItem {
        ShownItem { group, shortlisted, hired }
    }

    #[test]
    fn lists_are_summed_per_day() {
        let list = |day: &str, min_skew: f64, items: Vec<ShownItem>| ListSummary {
            day: day.to_owned(),
            min_skew,
            ndkl: 0.1,
            exposure: vec![1.0, 0.5],
            items,
        };
        let report = by_day(
            &[
                list("2026-12-02", -0.2, vec![item(0, true, true), item(1, false, false)]),
                list("2026-12-01", 0.0, vec![item(0, true, false), item(1, true, false)]),
                list("2026-12-02", 0.0, vec![item(0, false, false), item(1, true, false)]),
                list("2026-12-02", f64::NEG_INFINITY, vec![item(0, false, false)]),
            ],
            2,
        );
        assert_eq!(report.len(), 2);
        assert_eq!((report[0].day.as_str(), report[0].lists), ("2026-12-01", 1));
        assert_eq!(report[0].shortlist_ratio, Some(1.0));
        let second = &report[1];
        assert_eq!(second.lists, 3);
        assert_eq!(second.mean_min_skew, Some(-0.1), "the absent group is counted, not averaged");
        assert_eq!(second.lists_with_absent_group, 1);
        assert!(second.mean_ndkl.is_some_and(|ndkl| (ndkl - 0.1).abs() < 1e-12));
        assert_eq!(second.lists_with_unbounded_ndkl, 0);
        assert_eq!(second.exposure, vec![3.0, 1.5]);
        let ratio = second.shortlist_ratio.expect("both groups shown");
        assert!((ratio - 2.0 / 3.0).abs() < 1e-12, "one of three over one of two: {ratio}");
        assert_eq!(second.hire_ratio, Some(0.0), "group 1 was never hired: the rule is broken");
    }
}
