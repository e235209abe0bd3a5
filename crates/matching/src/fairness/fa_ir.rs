//! FA*IR (Zehlike, Bonchi, Castillo, Hajian, Megahed, Baeza-Yates, CIKM 2017).
//!
//! *Ranked group fairness*: a top-k ranking is fair towards a protected
//! group with minimum proportion `p` at significance `α` when every prefix
//! `i ≤ k` holds at least `m(i)` protected candidates, where
//! `m(i) = min { m : F(m; i, p) > α }` and `F` is the binomial CDF: a
//! ranking drawn by `i` Bernoulli(p) trials would have fewer with
//! probability at most α. The list `m(1..=k)` is the *mtable*.
//!
//! Testing `k` prefixes rejects a truly fair ranking more often than α. The
//! *fail probability* of an mtable is `1 − P(∀i: X_i ≥ m(i))` for
//! `X_i ~ Binomial(i, p)` along one Bernoulli sequence, computed exactly by a
//! dynamic programme over the number of protected candidates so far. The
//! adjusted significance `α_c ≤ α` is found by bisection: the mtables for
//! neighbouring values of `α_c` either side of "fail probability = α" are
//! compared and the one whose fail probability is closer to α is kept (as the
//! authors' reference implementation does, so it may exceed α slightly).
//!
//! The fail probability here counts every prefix, position k included: a
//! ranking the mtable rejects only at its last place is rejected all the
//! same, so leaving k out would understate how often a fair ranking fails.
//! The reference implementation (`fairsearchcore`) leaves position k out:
//! for k = 20, p = 0.25, α = 0.1 its README reports 0.1152 for the
//! unadjusted mtable, which is this module's figure over the first 19
//! prefixes; over all 20 it is 0.1469 (see the test
//! `fail_probability_counts_position_k_unlike_the_reference`).
//!
//! *Re-ranking*: fill ranks 1..=k; when the protected count is below `m(i)`
//! take the best remaining protected candidate, else the best remaining of
//! either group.

use super::{queues_by_group, validate_candidates, Candidate, FairnessError};

fn check(k: usize, p: f64, alpha: f64) -> Result<(), FairnessError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(FairnessError::OutOfRange { name: "p", value: p, low: 0.0, high: 1.0 });
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(FairnessError::OutOfRange { name: "alpha", value: alpha, low: 0.0, high: 1.0 });
    }
    if k == 0 {
        return Err(FairnessError::OutOfRange {
            name: "k",
            value: 0.0,
            low: 0.0,
            high: f64::INFINITY,
        });
    }
    Ok(())
}

/// The binomial CDF `F(0..=n; n, p)`, in log space so large `n` or extreme
/// `p` do not underflow.
fn binomial_cdf(n: usize, p: f64) -> Vec<f64> {
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let mut ln_choose = 0.0; // ln C(n, 0)
    let mut total = 0.0;
    let mut cdf = Vec::with_capacity(n + 1);
    for i in 0..=n {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (ln_choose + i as f64 * ln_p + (n - i) as f64 * ln_q).exp();
        cdf.push(total.min(1.0));
    }
    cdf
}

/// `m(i)` for `i = 1..=k`: the fewest protected candidates the top `i` may hold.
pub fn mtable(k: usize, p: f64, alpha: f64) -> Result<Vec<usize>, FairnessError> {
    check(k, p, alpha)?;
    Ok((1..=k).map(|i| binomial_cdf(i, p).iter().position(|f| *f > alpha).unwrap_or(i)).collect())
}

/// The probability that a ranking drawn by Bernoulli(p) trials fails some
/// prefix of `mtable`.
pub fn fail_probability(mtable: &[usize], p: f64) -> f64 {
    // alive[j]: P(j protected so far and no prefix failed).
    let mut alive = vec![1.0];
    for (i, minimum) in mtable.iter().enumerate() {
        let mut next = vec![0.0; i + 2];
        for (j, probability) in alive.iter().enumerate() {
            next[j] += probability * (1.0 - p);
            next[j + 1] += probability * p;
        }
        next.iter_mut().take(*minimum).for_each(|probability| *probability = 0.0);
        alive = next;
    }
    (1.0 - alive.iter().sum::<f64>()).max(0.0)
}

/// An mtable corrected for testing every prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjusted {
    /// The corrected significance α_c the mtable was built with.
    pub alpha: f64,
    pub mtable: Vec<usize>,
    pub fail_probability: f64,
}

/// The mtable whose fail probability is closest to `alpha` (see the module docs).
pub fn adjusted_mtable(k: usize, p: f64, alpha: f64) -> Result<Adjusted, FairnessError> {
    let table = mtable(k, p, alpha)?;
    let fail = fail_probability(&table, p);
    if fail <= alpha {
        return Ok(Adjusted { alpha, mtable: table, fail_probability: fail });
    }
    // Invariant: fail(lo) ≤ α < fail(hi). At α_c → 0 the table is all zeros.
    let (mut lo, mut hi) = (0.0, alpha);
    let mut lenient = Adjusted { alpha: 0.0, mtable: vec![0; k], fail_probability: 0.0 };
    let mut strict = Adjusted { alpha, mtable: table, fail_probability: fail };
    for _ in 0..64 {
        let mid = (lo + hi) / 2.0;
        let table = mtable(k, p, mid)?;
        let fail = fail_probability(&table, p);
        if fail > alpha {
            hi = mid;
            strict = Adjusted { alpha: mid, mtable: table, fail_probability: fail };
        } else {
            lo = mid;
            lenient = Adjusted { alpha: mid, mtable: table, fail_probability: fail };
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    Ok(if alpha - lenient.fail_probability <= strict.fail_probability - alpha {
        lenient
    } else {
        strict
    })
}

/// Does every prefix of `protected` (one flag per rank) meet `mtable`?
pub fn is_fair(protected: &[bool], mtable: &[usize]) -> bool {
    let mut count = 0;
    protected.iter().zip(mtable).all(|(is_protected, minimum)| {
        count += usize::from(*is_protected);
        count >= *minimum
    })
}

/// Re-ranks into a top `k` that passes `mtable` for `protected_group`
/// (every other group counts as non-protected). Returns input positions.
pub fn rerank(
    candidates: &[Candidate],
    groups: usize,
    protected_group: usize,
    mtable: &[usize],
) -> Result<Vec<usize>, FairnessError> {
    validate_candidates(candidates, groups)?;
    if protected_group >= groups {
        return Err(FairnessError::UnknownGroup { group: protected_group, groups });
    }
    let k = mtable.len().min(candidates.len());
    let by_group = queues_by_group(candidates, groups);
    let protected = &by_group[protected_group];
    let mut others: Vec<usize> = by_group
        .iter()
        .enumerate()
        .filter(|(group, _)| *group != protected_group)
        .flat_map(|(_, queue)| queue.iter().copied())
        .collect();
    others.sort_by(|a, b| candidates[*b].score.total_cmp(&candidates[*a].score).then(a.cmp(b)));
    let (mut next_protected, mut next_other) = (0, 0);
    let mut order = Vec::with_capacity(k);
    for minimum in mtable.iter().take(k) {
        let need_protected = next_protected < *minimum;
        let protected_head = protected.get(next_protected);
        let other_head = others.get(next_other);
        let take_protected = match (protected_head, other_head) {
            (Some(_), None) => true,
            (None, _) => false,
            (Some(p), Some(o)) => {
                need_protected
                    || candidates[*p].score > candidates[*o].score
                    || (candidates[*p].score == candidates[*o].score && p < o)
            }
        };
        if take_protected {
            order.extend(protected_head);
            next_protected += 1;
        } else {
            order.extend(other_head);
            next_other += 1;
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtables_follow_the_binomial_quantiles() {
        // k = 10, p = 0.5, α = 0.1, from the definition: F(0;4,½) = 1/16 ≤ 0.1 < F(1;4,½) …
        assert_eq!(mtable(10, 0.5, 0.1).expect("valid"), [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]);
        // The authors' reference implementation (fairsearch-fair-python's tests).
        assert_eq!(mtable(10, 0.2, 0.15).expect("valid"), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(
            mtable(20, 0.25, 0.1).expect("valid"),
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3]
        );
        assert_eq!(
            mtable(30, 0.3, 0.05).expect("valid"),
            [
                0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5,
                5, 5
            ]
        );
    }

    #[test]
    fn the_adjusted_alpha_matches_the_reference_implementation() {
        let adjusted = adjusted_mtable(10, 0.2, 0.15).expect("valid");
        assert_eq!(adjusted.alpha, 0.15, "already within α: no adjustment");
        assert!((adjusted.fail_probability - 0.134_217_728).abs() < 1e-9, "0.8⁹");

        let adjusted = adjusted_mtable(20, 0.25, 0.1).expect("valid");
        assert_eq!(adjusted.mtable, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
        assert!((adjusted.fail_probability - 0.105_152_473_552_152_51).abs() < 1e-4);
        // The reference's α_c = 0.078125 builds the same table.
        assert_eq!(mtable(20, 0.25, 0.078_125).expect("valid"), adjusted.mtable);

        let adjusted = adjusted_mtable(30, 0.3, 0.05).expect("valid");
        assert_eq!(
            adjusted.mtable,
            [
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4,
                4, 4
            ]
        );
        assert!((adjusted.fail_probability - 0.048_777_307_971_783_59).abs() < 1e-4);
        // Here the reference's bisection stops early: its α_c = 0.0796875
        // gives a table failing 16.6 % of fair rankings; ours fails 14.7 %,
        // closer to α = 15 %.
        let adjusted = adjusted_mtable(30, 0.3, 0.15).expect("valid");
        let reference = fail_probability(&mtable(30, 0.3, 0.079_687_5).expect("valid"), 0.3);
        assert!((reference - 0.15).abs() > (adjusted.fail_probability - 0.15).abs());
        assert!((adjusted.fail_probability - 0.146_740_138).abs() < 1e-6);

        // The worked case of this product: k = 10, p = ½, α = 0.1.
        let unadjusted = fail_probability(&mtable(10, 0.5, 0.1).expect("valid"), 0.5);
        let adjusted = adjusted_mtable(10, 0.5, 0.1).expect("valid");
        assert!(unadjusted > 0.1, "testing ten prefixes inflates the error: {unadjusted}");
        assert!(adjusted.alpha < 0.1 && adjusted.fail_probability < unadjusted);
        assert_eq!(adjusted.mtable, mtable(10, 0.5, adjusted.alpha).expect("valid"));
    }

    #[test]
    fn fail_probability_counts_position_k_unlike_the_reference() {
        let unadjusted = mtable(20, 0.25, 0.1).expect("valid");
        assert_eq!(unadjusted, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3]);
        // fairsearchcore's README: 0.11517506930977106, without position 20.
        assert!((fail_probability(&unadjusted[..19], 0.25) - 0.115_175_069_309_771).abs() < 1e-12);
        assert!((fail_probability(&unadjusted, 0.25) - 0.146_887_188_699_111).abs() < 1e-12);
    }

    #[test]
    fn fail_probability_is_exact_on_small_cases() {
        // One prefix needing one protected out of one: fails with probability 1 − p.
        assert!((fail_probability(&[1], 0.3) - 0.7).abs() < 1e-12);
        // Never requiring anyone never fails.
        assert!(fail_probability(&[0, 0, 0], 0.3) < 1e-12);
        // [0, 1]: fails when both of the first two are non-protected.
        assert!((fail_probability(&[0, 1], 0.5) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn re_ranking_makes_an_unfair_ranking_fair_and_keeps_everyone() {
        // The reference's example: 20 by descending score, the protected five at the bottom.
        let candidates: Vec<Candidate> = (0..20)
            .map(|i| Candidate { group: usize::from(i >= 15), score: (20 - i) as f64 })
            .collect();
        let table = mtable(20, 0.25, 0.1).expect("valid");
        let flags = |order: &[usize]| -> Vec<bool> {
            order.iter().map(|position| candidates[*position].group == 1).collect()
        };
        let identity: Vec<usize> = (0..20).collect();
        assert!(!is_fair(&flags(&identity), &table));
        let order = rerank(&candidates, 2, 1, &table).expect("valid");
        assert!(is_fair(&flags(&order), &table));
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, identity, "the same twenty candidates");
        // Within each group the score order is kept.
        let protected: Vec<usize> =
            order.iter().copied().filter(|position| candidates[*position].group == 1).collect();
        assert!(protected.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn parameters_out_of_range_are_refused() {
        assert!(mtable(10, 0.0, 0.1).is_err());
        assert!(mtable(10, 0.5, 1.0).is_err());
        assert!(mtable(0, 0.5, 0.1).is_err());
        assert!(adjusted_mtable(10, f64::NAN, 0.1).is_err());
        // Large k and an extreme p stay finite.
        let table = mtable(400, 0.98, 0.1).expect("valid");
        assert!(table[399] > 380 && table[399] <= 400, "{}", table[399]);
    }
}
