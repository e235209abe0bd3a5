//! Metrics that audit a ranking's group mix (Geyik et al., KDD 2019;
//! exposure after Singh and Joachims, KDD 2018).
//!
//! A ranking is given as the group of each rank, best first; `target` is the
//! desired share of each group. The formulas are the paper's, with no
//! smoothing, so every finite value is exactly the published one:
//!
//! - `Skew_g@k = ln(p_g / p*_g)` with `p_g` the group's share of the top k
//!   and `p*_g` its target share: 0 when the top k holds exactly its share,
//!   negative when under-represented, and −∞ when a group with a target
//!   share has no place in the top k (`absent` names those groups). A group
//!   with no target share has no skew (the ratio is undefined); NDKL counts
//!   its places.
//! - `MinSkew@k = min_g Skew_g@k` (the worst-off group, −∞ when one is
//!   absent), `MaxSkew@k = max_g Skew_g@k` (the most favoured).
//! - `NDKL = (1/Z) Σ_{i=1..n} KL(D_i ‖ target) / log2(i + 1)` with
//!   `Z = Σ 1/log2(i + 1)`, `D_i` the group distribution of the top i and
//!   `KL(D ‖ T) = Σ_{g: D_g > 0} D_g ln(D_g / T_g)` (natural log; a term with
//!   `D_g = 0` is 0): 0 when every prefix matches the target, growing with
//!   the deviation, weighted towards the top; +∞ when a group with no target
//!   share has a place.
//! - `exposure_g = Σ_{ranks r of g} 1/log2(1 + r)` (1-based ranks): the
//!   attention a position-biased viewer gives the group.
//!
//! An empty ranking shows nobody: its skews and NDKL are 0 and nobody is
//! absent.

fn top_k_shares(ranking: &[usize], groups: usize, k: usize) -> Vec<f64> {
    let top = &ranking[..k.min(ranking.len())];
    let mut shares = vec![0.0; groups];
    for group in top {
        if let Some(share) = shares.get_mut(*group) {
            *share += 1.0;
        }
    }
    if !top.is_empty() {
        shares.iter_mut().for_each(|share| *share /= top.len() as f64);
    }
    shares
}

/// `Skew_g@k` for every group, `None` for a group with no target share.
pub fn skews(ranking: &[usize], target: &[f64], k: usize) -> Vec<Option<f64>> {
    let shown = k.min(ranking.len()) > 0;
    top_k_shares(ranking, target.len(), k)
        .iter()
        .zip(target)
        .map(|(share, desired)| {
            (*desired > 0.0).then(|| if shown { (share / desired).ln() } else { 0.0 })
        })
        .collect()
}

/// `MinSkew@k`: the most under-represented group's skew; −∞ when a group
/// with a target share has no place in the top k.
pub fn min_skew(ranking: &[usize], target: &[f64], k: usize) -> f64 {
    skews(ranking, target, k).into_iter().flatten().reduce(f64::min).unwrap_or(0.0)
}

/// `MaxSkew@k`: the most over-represented group's skew.
/// (Both are 0 when no group has a target share.)
pub fn max_skew(ranking: &[usize], target: &[f64], k: usize) -> f64 {
    skews(ranking, target, k).into_iter().flatten().reduce(f64::max).unwrap_or(0.0)
}

/// The groups with a target share and no place in the top k: the ones
/// whose skew is −∞.
pub fn absent(ranking: &[usize], target: &[f64], k: usize) -> Vec<usize> {
    skews(ranking, target, k)
        .into_iter()
        .enumerate()
        .filter(|(_, skew)| *skew == Some(f64::NEG_INFINITY))
        .map(|(group, _)| group)
        .collect()
}

/// KL(observed ‖ target), exact: +∞ when a group with no target share is
/// observed.
fn kl_divergence(observed: &[f64], target: &[f64]) -> f64 {
    observed
        .iter()
        .zip(target)
        .filter(|(share, _)| **share > 0.0)
        .map(|(share, desired)| share * (share / desired).ln())
        .sum::<f64>()
        .max(0.0)
}

/// Normalised discounted KL divergence of the whole ranking from `target`.
pub fn ndkl(ranking: &[usize], target: &[f64]) -> f64 {
    let mut counts = vec![0.0; target.len()];
    let (mut weighted, mut normaliser) = (0.0, 0.0);
    for (i, group) in ranking.iter().enumerate() {
        if let Some(count) = counts.get_mut(*group) {
            *count += 1.0;
        }
        let seen = (i + 1) as f64;
        let shares: Vec<f64> = counts.iter().map(|count| count / seen).collect();
        let discount = 1.0 / (seen + 1.0).log2();
        weighted += discount * kl_divergence(&shares, target);
        normaliser += discount;
    }
    if normaliser == 0.0 {
        0.0
    } else {
        weighted / normaliser
    }
}

/// Each group's exposure over the ranking.
pub fn exposure(ranking: &[usize], groups: usize) -> Vec<f64> {
    let mut exposure = vec![0.0; groups];
    for (i, group) in ranking.iter().enumerate() {
        if let Some(total) = exposure.get_mut(*group) {
            *total += 1.0 / ((i + 2) as f64).log2();
        }
    }
    exposure
}

/// The four-fifths rule's ratio: the lowest group's selection rate over the
/// highest's, from `(selected, members)` per group; groups with no members
/// are left out. `None` with fewer than two groups or nobody selected.
/// A ratio under 0.8 is evidence of adverse impact.
pub fn selection_ratio(groups: &[(usize, usize)]) -> Option<f64> {
    let rates: Vec<f64> = groups
        .iter()
        .filter(|(_, members)| *members > 0)
        .map(|(selected, members)| *selected as f64 / *members as f64)
        .collect();
    let low = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let high = rates.iter().copied().fold(0.0, f64::max);
    (rates.len() >= 2 && high > 0.0).then(|| low / high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn skew_is_the_published_log_ratio_with_no_smoothing() {
        let target = [0.5, 0.5];
        let balanced = [0, 1, 0, 1];
        assert!(skews(&balanced, &target, 4).iter().all(|skew| *skew == Some(0.0)));
        let top_heavy = [0, 0, 0, 1];
        let skew: Vec<f64> = skews(&top_heavy, &target, 4).into_iter().flatten().collect();
        assert!(close(skew[0], (0.75f64 / 0.5).ln()));
        assert!(close(skew[1], (0.25f64 / 0.5).ln()));
        assert!(close(min_skew(&top_heavy, &target, 4), skew[1]));
        assert!(close(max_skew(&top_heavy, &target, 4), skew[0]));
        assert!(absent(&top_heavy, &target, 4).is_empty());
        // Absent from the top 2: −∞, and named.
        assert_eq!(min_skew(&top_heavy, &target, 2), f64::NEG_INFINITY);
        assert_eq!(absent(&top_heavy, &target, 2), vec![1]);
        assert!(close(max_skew(&top_heavy, &target, 2), 2f64.ln()));
        // Shares that do not divide k: exact thirds.
        let thirds = skews(&[0, 1, 2], &[0.5, 0.25, 0.25], 3);
        assert!(close(thirds[0].unwrap_or(f64::NAN), (2.0f64 / 3.0).ln()));
        assert!(close(thirds[1].unwrap_or(f64::NAN), (4.0f64 / 3.0).ln()));
    }

    #[test]
    fn a_group_with_no_target_share_has_no_skew() {
        let target = [1.0, 0.0];
        assert_eq!(skews(&[0, 1], &target, 2), vec![Some(0.5f64.ln()), None]);
        assert!(close(min_skew(&[0, 1], &target, 2), 0.5f64.ln()));
        assert!(absent(&[0, 1], &target, 2).is_empty());
        assert_eq!((min_skew(&[0], &[0.0, 0.0], 1), max_skew(&[0], &[0.0, 0.0], 1)), (0.0, 0.0));
        let nobody = skews(&[], &[0.5, 0.5], 3);
        assert_eq!(nobody, vec![Some(0.0), Some(0.0)]);
        assert!(absent(&[], &[0.5, 0.5], 3).is_empty());
    }

    #[test]
    fn ndkl_is_zero_only_when_every_prefix_matches() {
        let target = [1.0, 0.0];
        assert!(close(ndkl(&[0, 0, 0], &target), 0.0));
        let fair = ndkl(&[0, 1, 0, 1], &[0.5, 0.5]);
        let unfair = ndkl(&[0, 0, 1, 1], &[0.5, 0.5]);
        assert!(fair > 0.0, "odd prefixes cannot match 50/50 exactly");
        assert!(unfair > fair);
        // The top weighs more: the same swap lower down costs less.
        let late = ndkl(&[0, 1, 0, 1, 0, 0, 1, 1], &[0.5, 0.5]);
        let early = ndkl(&[0, 0, 1, 1, 0, 1, 0, 1], &[0.5, 0.5]);
        assert!(early > late);
        assert!(close(ndkl(&[], &[0.5, 0.5]), 0.0));
        // Exact: [0, 1] against 50/50 is KL(1,0) once then 0, so ln 2 / Z.
        let z = 1.0 + 1.0 / 3f64.log2();
        assert!(close(ndkl(&[0, 1], &[0.5, 0.5]), 2f64.ln() / z));
        // A group placed with no target share: unbounded.
        assert_eq!(ndkl(&[0, 1], &target), f64::INFINITY);
    }

    #[test]
    fn exposure_discounts_by_log_rank() {
        let exposure = exposure(&[0, 1, 1], 3);
        assert!(close(exposure[0], 1.0));
        assert!(close(exposure[1], 1.0 / 3f64.log2() + 0.5));
        assert!(close(exposure[2], 0.0));
    }

    #[test]
    fn the_four_fifths_ratio_compares_selection_rates() {
        assert_eq!(selection_ratio(&[(2, 10), (1, 10)]), Some(0.5));
        assert_eq!(selection_ratio(&[(4, 10), (2, 5)]), Some(1.0));
        assert_eq!(selection_ratio(&[(4, 10), (0, 0)]), None, "one group only");
        assert_eq!(selection_ratio(&[(0, 10), (0, 10)]), None, "nobody selected");
    }

    #[test]
    fn out_of_range_groups_are_ignored_not_a_panic() {
        assert_eq!(skews(&[7], &[1.0], 1).len(), 1);
        assert_eq!(absent(&[7], &[1.0], 1), vec![0]);
        assert!(ndkl(&[7, 0], &[1.0]).is_finite());
        assert_eq!(exposure(&[7], 1), vec![0.0]);
    }
}
