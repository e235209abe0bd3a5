//! Learning a ranker from feedback.
//!
//! **Labels** (graded, per shown item, the highest event wins): impression 0,
//! click 1, shortlist or apply 2, hire 3, a rating of 4 or 5 → 4.
//!
//! **Position bias**: people look at the top more, so a click at rank 8 says
//! more than one at rank 1. We assume the examination probability
//! `p(rank) = (1 / rank)^η` with η = 1 and weight every pair by
//! `1 / p(rank of the preferred item)` (inverse propensity weighting, after
//! Joachims, Swaminathan and Schnabel, "Unbiased Learning-to-Rank with
//! Biased Feedback", WSDM 2017), capped at [`MAX_WEIGHT`] so one deep click
//! cannot dominate.
//!
//! **Model**: linear over the eight features, trained pairwise: for every
//! pair `i ≻ j` in a list (higher label) the loss is
//! `w_ij · ln(1 + e^{−(s_i − s_j)})`, `s = θ·x`, plus `λ‖θ‖²/2`, minimised
//! by full-batch gradient descent. The result is scaled so `Σ|θ| = 1`
//! (ranking only depends on direction), comparable with the hand-set v1.
//!
//! **Evaluation** (time split: lists are ordered by when they were shown, the
//! last share is held out): NDCG@10 with gains `2^label − 1`, AUC over
//! (engaged, not engaged) pairs, and MinSkew@10 of the newcomer group when
//! the held-out lists are re-ordered by the model.

use crate::fairness::metrics;

/// Most a single pair may weigh after inverse propensity weighting.
pub const MAX_WEIGHT: f64 = 10.0;

/// One shown item with what happened to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub features: [f64; 8],
    /// 1-based position it was shown at.
    pub rank: usize,
    /// Graded label, 0–4.
    pub label: u8,
    pub newcomer: bool,
}

/// One shown list, in the order it was shown.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownList {
    pub examples: Vec<Example>,
}

/// The graded label of a feedback kind (and rating, for `rating`).
pub fn label_of(kind: &str, rating: Option<i32>) -> u8 {
    match kind {
        "click" => 1,
        "shortlist" | "apply" => 2,
        "hire" => 3,
        "rating" if rating.unwrap_or(0) >= 4 => 4,
        _ => 0,
    }
}

/// `1 / p(rank)` with `p(rank) = 1/rank`, capped.
pub fn inverse_propensity(rank: usize) -> f64 {
    (rank.max(1) as f64).min(MAX_WEIGHT)
}

fn score(weights: &[f64; 8], features: &[f64; 8]) -> f64 {
    weights.iter().zip(features).map(|(w, x)| w * x).sum()
}

/// Training settings.
#[derive(Clone, Copy, Debug)]
pub struct TrainConfig {
    pub epochs: usize,
    pub learning_rate: f64,
    pub l2: f64,
    /// Weight pairs by inverse propensity.
    pub debias: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { epochs: 300, learning_rate: 0.5, l2: 1e-3, debias: true }
    }
}

/// Trains pairwise from `lists`, starting from `start`. Returns the
/// weights scaled to `Σ|θ| = 1` (or `start` when no list has a pair).
pub fn train(lists: &[ShownList], start: [f64; 8], config: TrainConfig) -> [f64; 8] {
    let mut pairs: Vec<(&[f64; 8], &[f64; 8], f64)> = Vec::new();
    for list in lists {
        for better in &list.examples {
            for worse in &list.examples {
                if better.label > worse.label {
                    let weight = if config.debias { inverse_propensity(better.rank) } else { 1.0 };
                    pairs.push((&better.features, &worse.features, weight));
                }
            }
        }
    }
    if pairs.is_empty() {
        return start;
    }
    let total: f64 = pairs.iter().map(|(_, _, w)| w).sum();
    let mut theta = start;
    for _ in 0..config.epochs {
        let mut gradient = [0.0; 8];
        for (better, worse, weight) in &pairs {
            let margin = score(&theta, better) - score(&theta, worse);
            // d/dθ ln(1 + e^{−m}) = −σ(−m) · (x_i − x_j)
            let pull = weight / (1.0 + margin.exp());
            for (k, g) in gradient.iter_mut().enumerate() {
                *g -= pull * (better[k] - worse[k]);
            }
        }
        for (k, t) in theta.iter_mut().enumerate() {
            *t -= config.learning_rate * (gradient[k] / total + config.l2 * *t);
        }
    }
    let norm: f64 = theta.iter().map(|t| t.abs()).sum();
    if norm > 0.0 {
        theta.iter_mut().for_each(|t| *t /= norm);
    }
    theta
}

/// Mean NDCG@10 of ranking each list by `weights` (lists without a
/// labelled item are left out): what [`fit_shares`] maximises.
pub fn mean_ndcg(lists: &[ShownList], weights: &[f64; 8]) -> f64 {
    let (mut sum, mut counted) = (0.0, 0usize);
    let mut scored: Vec<(f64, u8)> = Vec::new();
    for list in lists {
        scored.clear();
        scored.extend(list.examples.iter().map(|e| (score(weights, &e.features), e.label)));
        let mut ideal: Vec<u8> = scored.iter().map(|(_, label)| *label).collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let best = dcg(ideal.into_iter());
        if best == 0.0 {
            continue;
        }
        // Only the top ten count: select them, then order those.
        let top = scored.len().min(10);
        if top < scored.len() {
            scored.select_nth_unstable_by(top - 1, |a, b| b.0.total_cmp(&a.0));
        }
        scored[..top].sort_by(|a, b| b.0.total_cmp(&a.0));
        sum += dcg(scored[..top].iter().map(|(_, label)| *label)) / best;
        counted += 1;
    }
    if counted == 0 {
        0.0
    } else {
        sum / counted as f64
    }
}

/// Listwise learning of how a share of the weight is split among some
/// features: `fixed` keeps its weights; the features in `free` share
/// `1 − Σ fixed` so that [`mean_ndcg`] over `lists` (graded labels) is
/// highest, by a search of the simplex in steps of 0.05, then of 0.01
/// around the best (ties keep the earlier, so the result is
/// deterministic). The pairwise [`train`] fits pairs, most of them an
/// unremarkable item against another; on judged relevance it tied plain
/// similarity, while the split that maximises the measure itself beat it.
/// Only two or three free features are practical (the search is a grid).
pub fn fit_shares(lists: &[ShownList], fixed: [f64; 8], free: &[usize]) -> [f64; 8] {
    let budget = (1.0 - fixed.iter().sum::<f64>()).max(0.0);
    let with = |shares: &[f64]| {
        let mut weights = fixed;
        for (feature, share) in free.iter().zip(shares) {
            weights[*feature] = share * budget;
        }
        weights
    };
    // Every split of 1 among the free features in steps of `step`, within
    // `radius` of `around`.
    let splits = |around: &[f64], step: f64, radius: f64| -> Vec<Vec<f64>> {
        let steps = (1.0 / step).round() as usize;
        let mut out = Vec::new();
        let mut current = vec![0usize; free.len()];
        loop {
            let used: usize = current[..free.len().saturating_sub(1)].iter().sum();
            if used <= steps {
                if let Some(last) = current.last_mut() {
                    *last = steps - used;
                }
                let shares: Vec<f64> = current.iter().map(|k| *k as f64 * step).collect();
                if shares.iter().zip(around).all(|(s, a)| (s - a).abs() <= radius + 1e-9) {
                    out.push(shares);
                }
            }
            // Next combination of all but the last (an odometer).
            let mut digit = 0;
            loop {
                if digit + 1 >= free.len() {
                    return out;
                }
                current[digit] += 1;
                if current[digit] <= steps {
                    break;
                }
                current[digit] = 0;
                digit += 1;
            }
        }
    };
    let mut best = vec![1.0 / free.len().max(1) as f64; free.len()];
    let mut best_ndcg = f64::NEG_INFINITY;
    for (step, radius) in [(0.05, 1.0), (0.01, 0.05)] {
        let around = best.clone();
        for shares in splits(&around, step, radius) {
            let ndcg = mean_ndcg(lists, &with(&shares));
            if ndcg > best_ndcg + 1e-12 {
                best_ndcg = ndcg;
                best = shares;
            }
        }
    }
    with(&best)
}

/// Held-out quality and fairness of a weight vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub ndcg_at_10: f64,
    pub auc: f64,
    /// Mean over lists of the newcomer/established MinSkew@10 (target: the
    /// list's own mix), over the lists where both groups have a place in the
    /// top 10; `None` when no list has both groups.
    pub min_skew_at_10: Option<f64>,
    /// Lists with both groups where one of them has no place in the top 10
    /// (MinSkew@10 = −∞, so they are counted, not averaged).
    pub lists_with_absent_group: usize,
    /// Four-fifths rule: the lower group's rate of reaching the top 10
    /// divided by the higher group's (pooled over lists); `None` when a
    /// group is absent.
    pub selection_ratio: Option<f64>,
    pub lists: usize,
}

fn dcg(labels: impl Iterator<Item = u8>) -> f64 {
    labels
        .take(10)
        .enumerate()
        .map(|(i, label)| (2f64.powi(i32::from(label)) - 1.0) / ((i + 2) as f64).log2())
        .sum()
}

/// NDCG@10, AUC and MinSkew@10 of ranking each list by `weights`.
pub fn evaluate(lists: &[ShownList], weights: &[f64; 8]) -> Evaluation {
    let (mut ndcg_sum, mut ndcg_lists) = (0.0, 0usize);
    let (mut ordered_pairs, mut pairs) = (0.0, 0usize);
    let (mut skew_sum, mut skew_lists, mut absent_lists) = (0.0, 0usize, 0usize);
    // [group] → (members in the top 10, members)
    let mut selected = [(0usize, 0usize); 2];
    for list in lists {
        let mut order: Vec<&Example> = list.examples.iter().collect();
        order.sort_by(|a, b| score(weights, &b.features).total_cmp(&score(weights, &a.features)));
        let mut ideal: Vec<u8> = list.examples.iter().map(|e| e.label).collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let best = dcg(ideal.into_iter());
        if best > 0.0 {
            ndcg_sum += dcg(order.iter().map(|e| e.label)) / best;
            ndcg_lists += 1;
        }
        for positive in list.examples.iter().filter(|e| e.label > 0) {
            for negative in list.examples.iter().filter(|e| e.label == 0) {
                let (p, n) =
                    (score(weights, &positive.features), score(weights, &negative.features));
                ordered_pairs += if p > n {
                    1.0
                } else if p == n {
                    0.5
                } else {
                    0.0
                };
                pairs += 1;
            }
        }
        let groups: Vec<usize> = order.iter().map(|e| usize::from(e.newcomer)).collect();
        for (position, group) in groups.iter().enumerate() {
            selected[*group].1 += 1;
            if position < 10 {
                selected[*group].0 += 1;
            }
        }
        let newcomers = groups.iter().filter(|g| **g == 1).count();
        if newcomers > 0 && newcomers < groups.len() {
            let share = newcomers as f64 / groups.len() as f64;
            let skew = metrics::min_skew(&groups, &[1.0 - share, share], 10);
            if skew.is_finite() {
                skew_sum += skew;
                skew_lists += 1;
            } else {
                absent_lists += 1;
            }
        }
    }
    Evaluation {
        ndcg_at_10: if ndcg_lists > 0 { ndcg_sum / ndcg_lists as f64 } else { 0.0 },
        auc: if pairs > 0 { ordered_pairs / pairs as f64 } else { 0.5 },
        min_skew_at_10: (skew_lists > 0).then(|| skew_sum / skew_lists as f64),
        lists_with_absent_group: absent_lists,
        selection_ratio: metrics::selection_ratio(&selected),
        lists: lists.len(),
    }
}

/// What a challenger must show to become champion.
#[derive(Clone, Copy, Debug)]
pub struct Gate {
    /// NDCG@10 may be at most this much below the champion's.
    pub ndcg_margin: f64,
    /// MinSkew@10 of the newcomer group must be at least this, where measured
    /// (and a group may be absent from the top 10 of no more lists than
    /// under the champion).
    pub min_skew_floor: f64,
    /// The four-fifths rule: selection-rate ratio at least this, where measured.
    pub selection_ratio_floor: f64,
    /// Below this many held-out lists, real feedback is too scarce to
    /// judge quality alone: the challenger must also hold the champion's
    /// NDCG@10 on the shipped relevance set ([`OfflineCheck`]).
    pub min_held_out_lists: usize,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            ndcg_margin: 0.01,
            min_skew_floor: -0.1,
            selection_ratio_floor: 0.8,
            min_held_out_lists: 50,
        }
    }
}

/// NDCG@10 of the challenger and the champion on judged relevance that
/// ships with the product (not feedback), and on how many lists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OfflineCheck {
    pub challenger: f64,
    pub champion: f64,
    pub lists: usize,
}

impl OfflineCheck {
    /// Both rankers' mean NDCG@10 over `lists`.
    pub fn measure(lists: &[ShownList], challenger: &[f64; 8], champion: &[f64; 8]) -> Self {
        Self {
            challenger: mean_ndcg(lists, challenger),
            champion: mean_ndcg(lists, champion),
            lists: lists.len(),
        }
    }
}

/// The gate's decision and its reasons, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub promote: bool,
    pub reasons: Vec<String>,
}

/// Judges a challenger against the champion on the same held-out lists,
/// and on `offline` judged relevance when those lists are too few.
pub fn judge(
    challenger: &Evaluation,
    champion: &Evaluation,
    offline: Option<OfflineCheck>,
    gate: Gate,
) -> Verdict {
    let mut reasons = Vec::new();
    let mut promote = true;
    if challenger.lists < gate.min_held_out_lists {
        let scarce = format!(
            "{} held-out lists of feedback (fewer than {})",
            challenger.lists, gate.min_held_out_lists
        );
        match offline {
            Some(check) if check.challenger >= check.champion - gate.ndcg_margin => {
                reasons.push(format!(
                    "{scarce}: on the relevance set ({} lists) NDCG@10 {:.4} is within {} of the champion's {:.4}",
                    check.lists, check.challenger, gate.ndcg_margin, check.champion
                ))
            }
            Some(check) => {
                promote = false;
                reasons.push(format!(
                    "{scarce}: on the relevance set ({} lists) NDCG@10 {:.4} is more than {} below the champion's {:.4}",
                    check.lists, check.challenger, gate.ndcg_margin, check.champion
                ));
            }
            None => {
                promote = false;
                reasons.push(format!("{scarce}, and no relevance set to judge by"));
            }
        }
    }
    let floor = champion.ndcg_at_10 - gate.ndcg_margin;
    if challenger.ndcg_at_10 >= floor {
        reasons.push(format!(
            "NDCG@10 {:.4} is within {} of the champion's {:.4}",
            challenger.ndcg_at_10, gate.ndcg_margin, champion.ndcg_at_10
        ));
    } else {
        promote = false;
        reasons.push(format!(
            "NDCG@10 {:.4} is more than {} below the champion's {:.4}",
            challenger.ndcg_at_10, gate.ndcg_margin, champion.ndcg_at_10
        ));
    }
    match challenger.min_skew_at_10 {
        Some(skew) if skew >= gate.min_skew_floor => {
            reasons.push(format!("newcomer MinSkew@10 {skew:.3} ≥ {}", gate.min_skew_floor))
        }
        Some(skew) => {
            promote = false;
            reasons.push(format!("newcomer MinSkew@10 {skew:.3} < {}", gate.min_skew_floor));
        }
        None => reasons.push("MinSkew@10 not measurable: the held-out pools lack a group".into()),
    }
    if challenger.lists_with_absent_group > champion.lists_with_absent_group {
        promote = false;
        reasons.push(format!(
            "a group has no place in the top 10 of {} lists (champion: {})",
            challenger.lists_with_absent_group, champion.lists_with_absent_group
        ));
    }
    match challenger.selection_ratio {
        Some(ratio) if ratio >= gate.selection_ratio_floor => {
            reasons.push(format!("four-fifths rule held (selection ratio {ratio:.3})"))
        }
        Some(ratio) => {
            promote = false;
            reasons.push(format!("four-fifths rule broken (selection ratio {ratio:.3})"));
        }
        None => reasons.push("four-fifths rule not measurable: a group is absent".into()),
    }
    Verdict { promote, reasons }
}

/// Splits lists (already in the order they were shown) into the older
/// `1 − held_out` for training and the newest `held_out` for evaluation.
pub fn time_split(lists: &[ShownList], held_out: f64) -> (&[ShownList], &[ShownList]) {
    let test = ((lists.len() as f64) * held_out.clamp(0.0, 1.0)).round() as usize;
    lists.split_at(lists.len() - test.min(lists.len()))
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;

    /// Lists whose labels come from hidden true weights, clicks seen with
    /// position bias (an item at rank r is examined with probability 1/r).
    fn simulate(seed: u64, lists: usize, truth: [f64; 8]) -> Vec<ShownList> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..lists)
            .map(|_| {
                let examples = (1..=10)
                    .map(|rank| {
                        let features: [f64; 8] = std::array::from_fn(|_| rng.gen_range(0.0..1.0));
                        let relevance = score(&truth, &features);
                        let examined = rng.gen_bool(1.0 / rank as f64);
                        let label = if examined && relevance > 0.55 {
                            if relevance > 0.7 {
                                3
                            } else {
                                1
                            }
                        } else {
                            0
                        };
                        Example { features, rank, label, newcomer: rng.gen_bool(0.3) }
                    })
                    .collect();
                ShownList { examples }
            })
            .collect()
    }

    #[test]
    fn the_listwise_fit_finds_the_split_that_ranks_by_relevance() {
        // Relevance is 0.7·feature 0 + 0.3·feature 1, graded 0–3; feature 2
        // is noise. The fit splits 0.85 among the three, 0.15 fixed on 3.
        let mut rng = StdRng::seed_from_u64(7);
        let lists: Vec<ShownList> = (0..300)
            .map(|_| ShownList {
                examples: (1..=30)
                    .map(|rank| {
                        let features: [f64; 8] = std::array::from_fn(|_| rng.gen_range(0.0..1.0));
                        let relevance = 0.7 * features[0] + 0.3 * features[1];
                        let label = (relevance * 4.0).floor().min(3.0) as u8;
                        Example { features, rank, label, newcomer: false }
                    })
                    .collect(),
            })
            .collect();
        let fixed = [0.0, 0.0, 0.0, 0.15, 0.0, 0.0, 0.0, 0.0];
        let fitted = fit_shares(&lists, fixed, &[0, 1, 2]);
        assert!((fitted.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{fitted:?}");
        assert_eq!(fitted[3], 0.15, "fixed weights stay");
        assert!(fitted[2] < 0.1, "noise weighs little: {fitted:?}");
        let ratio = fitted[0] / fitted[1];
        assert!((1.5..4.0).contains(&ratio), "about 7:3: {fitted:?}");
        let even = [0.85 / 3.0, 0.85 / 3.0, 0.85 / 3.0, 0.15, 0.0, 0.0, 0.0, 0.0];
        assert!(mean_ndcg(&lists, &fitted) > mean_ndcg(&lists, &even) + 0.02);
        assert_eq!(mean_ndcg(&[], &fitted), 0.0);
    }

    const TRUTH: [f64; 8] = [0.5, 0.3, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0];

    #[test]
    fn labels_follow_the_funnel() {
        assert_eq!(label_of("impression", None), 0);
        assert_eq!(label_of("click", None), 1);
        assert_eq!(label_of("apply", None), 2);
        assert_eq!(label_of("hire", None), 3);
        assert_eq!(label_of("rating", Some(5)), 4);
        assert_eq!(label_of("rating", Some(2)), 0);
        assert_eq!(inverse_propensity(3), 3.0);
        assert_eq!(inverse_propensity(50), MAX_WEIGHT);
    }

    #[test]
    fn training_recovers_what_people_prefer() {
        let lists = simulate(1, 400, TRUTH);
        let (train_part, test_part) = time_split(&lists, 0.2);
        assert_eq!((train_part.len(), test_part.len()), (320, 80));
        let uniform = [0.125; 8];
        let learned = train(train_part, uniform, TrainConfig::default());
        let before = evaluate(test_part, &uniform);
        let after = evaluate(test_part, &learned);
        assert!(after.ndcg_at_10 > before.ndcg_at_10 + 0.05, "{before:?} → {after:?}");
        assert!(after.auc > 0.75, "{after:?}");
        // The strongest true feature gets the largest weight.
        let top = (0..8).max_by(|a, b| learned[*a].total_cmp(&learned[*b])).expect("8");
        assert_eq!(top, 0, "{learned:?}");
        assert!((learned.iter().map(|w| w.abs()).sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn no_pairs_means_no_change() {
        let list = ShownList {
            examples: vec![Example { features: [0.0; 8], rank: 1, label: 0, newcomer: false }],
        };
        let start = [0.3, 0.25, 0.05, 0.1, 0.1, 0.1, 0.05, 0.05];
        assert_eq!(train(std::slice::from_ref(&list), start, TrainConfig::default()), start);
        let evaluation = evaluate(&[list], &start);
        assert_eq!((evaluation.auc, evaluation.min_skew_at_10), (0.5, None));
    }

    #[test]
    fn the_gate_weighs_quality_and_fairness() {
        let champion = Evaluation {
            ndcg_at_10: 0.60,
            auc: 0.7,
            min_skew_at_10: Some(-0.05),
            lists_with_absent_group: 1,
            selection_ratio: Some(0.9),
            lists: 10,
        };
        let good = Evaluation { ndcg_at_10: 0.595, ..champion };
        let gate = Gate { min_held_out_lists: 10, ..Gate::default() };
        assert!(judge(&good, &champion, None, gate).promote);
        let worse = Evaluation { ndcg_at_10: 0.55, ..champion };
        let verdict = judge(&worse, &champion, None, gate);
        assert!(!verdict.promote && verdict.reasons[0].contains("below"), "{verdict:?}");
        let unfair = Evaluation { selection_ratio: Some(0.5), ..good };
        assert!(!judge(&unfair, &champion, None, gate).promote);
        let skewed = Evaluation { min_skew_at_10: Some(-0.4), ..good };
        assert!(!judge(&skewed, &champion, None, gate).promote);
        let hiding = Evaluation { lists_with_absent_group: 2, ..good };
        let verdict = judge(&hiding, &champion, None, gate);
        assert!(!verdict.promote && verdict.reasons.iter().any(|r| r.contains("no place")));
    }

    #[test]
    fn scarce_feedback_is_judged_on_the_relevance_set_too() {
        let champion = Evaluation {
            ndcg_at_10: 0.60,
            auc: 0.7,
            min_skew_at_10: Some(-0.05),
            lists_with_absent_group: 0,
            selection_ratio: Some(0.9),
            lists: 3,
        };
        let good = Evaluation { ndcg_at_10: 0.70, ..champion };
        let gate = Gate::default();
        let holds = OfflineCheck { challenger: 0.665, champion: 0.67, lists: 200 };
        let verdict = judge(&good, &champion, Some(holds), gate);
        assert!(verdict.promote, "{verdict:?}");
        assert!(verdict.reasons[0].contains("relevance set (200 lists)"), "{verdict:?}");
        let drops = OfflineCheck { challenger: 0.62, ..holds };
        let verdict = judge(&good, &champion, Some(drops), gate);
        assert!(!verdict.promote && verdict.reasons[0].contains("below"), "{verdict:?}");
        assert!(!judge(&good, &champion, None, gate).promote, "no set: no promotion");
        // Enough feedback: the set is not asked.
        let plenty = |e: Evaluation| Evaluation { lists: 50, ..e };
        assert!(judge(&plenty(good), &plenty(champion), Some(drops), gate).promote);

        // Measured on lists: the ranker that orders by the labelled
        // feature scores 1, the one that ignores it less.
        let lists: Vec<ShownList> = (0..3)
            .map(|_| ShownList {
                examples: (0..4)
                    .map(|i| Example {
                        features: [
                            0.1 * i as f64,
                            1.0 - 0.1 * i as f64,
                            0.0,
                            0.0,
                            0.0,
                            0.0,
                            0.0,
                            0.0,
                        ],
                        rank: i + 1,
                        label: i as u8,
                        newcomer: false,
                    })
                    .collect(),
            })
            .collect();
        let by_first = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let by_second = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let check = OfflineCheck::measure(&lists, &by_first, &by_second);
        assert_eq!((check.challenger, check.lists), (1.0, 3));
        assert!(check.champion < 0.9, "{check:?}");
    }

    #[test]
    fn a_perfect_order_scores_one() {
        let examples = (0..5)
            .map(|i| Example {
                features: [1.0 - i as f64 * 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                rank: i + 1,
                label: (4 - i) as u8,
                newcomer: i % 2 == 0,
            })
            .collect();
        let evaluation =
            evaluate(&[ShownList { examples }], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!((evaluation.ndcg_at_10 - 1.0).abs() < 1e-12);
        assert_eq!(evaluation.auc, 1.0);
    }
}
