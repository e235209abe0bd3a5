//! The deterministic re-rankers of Geyik, Ambler and Kenthapadi (KDD 2019).
//!
//! Each group `g` has a desired share `p_g`. While filling rank `r`
//! (1-based), with `c_g` of `g`'s candidates placed so far:
//!
//! - `g` is *below its minimum* when `c_g < ⌊r·p_g⌋` (the prefix would
//!   under-represent it), and *below its maximum* when `c_g < ⌈r·p_g⌉`.
//! - **DetGreedy**: if some groups are below their minimum, take the best
//!   next candidate among them; else the best next candidate among groups
//!   below their maximum.
//! - **DetCons**: as DetGreedy, but the second case takes the group whose
//!   minimum will bind soonest, `argmin ⌈r·p_g⌉ / p_g` (ties: best score).
//! - **DetRelaxed**: the second case takes the groups with the smallest
//!   `⌈⌈r·p_g⌉ / p_g⌉` (the integer rank where the minimum binds) and, among
//!   them, the best next candidate.
//! - **DetConstSort**: for `r = 1, 2, …`, every group whose minimum count
//!   `⌊r·p_g⌋` grew places its next candidate at the end (best score first),
//!   remembering `r` as the lowest rank it may take; the new candidate then
//!   bubbles up past lower-scored ones whose lowest allowed rank permits them
//!   to move down. The paper shows it always satisfies the minimums of every
//!   prefix, where the greedy variants can fail with more than three groups.
//!
//! If a group runs out of candidates its constraints are dropped; in the
//! greedy variants, when no group is below its maximum, the best remaining
//! candidate is taken. DetConstSort keeps placing by the other groups'
//! minimums, so the list stays in score order wherever the minimums allow. Products
//! `r·p_g` are rounded with a 1e-9 tolerance, so `10 × 0.3` counts as 3.

use super::{queues_by_group, validate, Candidate, FairnessError};

/// Which of the four algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetAlgorithm {
    Greedy,
    Cons,
    Relaxed,
    ConstSort,
}

const TOLERANCE: f64 = 1e-9;

fn floor_share(rank: usize, share: f64) -> usize {
    (rank as f64 * share + TOLERANCE).floor() as usize
}

fn ceil_share(rank: usize, share: f64) -> usize {
    (rank as f64 * share - TOLERANCE).ceil().max(0.0) as usize
}

/// Re-ranks `candidates` into a top `k` (fewer if there are fewer
/// candidates) whose group mix follows `target`. Returns input positions.
pub fn rerank(
    algorithm: DetAlgorithm,
    candidates: &[Candidate],
    target: &[f64],
    k: usize,
) -> Result<Vec<usize>, FairnessError> {
    validate(candidates, target)?;
    let k = k.min(candidates.len());
    Ok(match algorithm {
        DetAlgorithm::ConstSort => const_sort(candidates, target, k),
        greedy => greedy_family(greedy, candidates, target, k),
    })
}

/// Group queues with a cursor each: the next candidate of group `g` is
/// `queues[g][taken[g]]`.
struct Pools<'a> {
    candidates: &'a [Candidate],
    queues: Vec<Vec<usize>>,
    taken: Vec<usize>,
}

impl<'a> Pools<'a> {
    fn new(candidates: &'a [Candidate], groups: usize) -> Self {
        Self { candidates, queues: queues_by_group(candidates, groups), taken: vec![0; groups] }
    }

    fn next(&self, group: usize) -> Option<usize> {
        self.queues[group].get(self.taken[group]).copied()
    }

    fn next_score(&self, group: usize) -> f64 {
        self.next(group).map_or(f64::NEG_INFINITY, |position| self.candidates[position].score)
    }

    /// The group whose next candidate scores best among `groups` (ties: lower
    /// input position, so results are deterministic).
    fn best_of(&self, groups: impl Iterator<Item = usize>) -> Option<usize> {
        groups.filter(|group| self.next(*group).is_some()).min_by(|a, b| {
            self.next_score(*b)
                .total_cmp(&self.next_score(*a))
                .then(self.next(*a).cmp(&self.next(*b)))
        })
    }

    fn take(&mut self, group: usize) -> Option<usize> {
        let position = self.next(group)?;
        self.taken[group] += 1;
        Some(position)
    }
}

fn greedy_family(
    algorithm: DetAlgorithm,
    candidates: &[Candidate],
    target: &[f64],
    k: usize,
) -> Vec<usize> {
    let groups = target.len();
    let mut pools = Pools::new(candidates, groups);
    let mut ranked = Vec::with_capacity(k);
    for rank in 1..=k {
        let available = |g: &usize| pools.next(*g).is_some();
        let below_min: Vec<usize> = (0..groups)
            .filter(available)
            .filter(|g| pools.taken[*g] < floor_share(rank, target[*g]))
            .collect();
        let below_max: Vec<usize> = (0..groups)
            .filter(available)
            .filter(|g| pools.taken[*g] < ceil_share(rank, target[*g]))
            .collect();
        let chosen = if !below_min.is_empty() {
            pools.best_of(below_min.into_iter())
        } else if below_max.is_empty() {
            pools.best_of(0..groups)
        } else {
            match algorithm {
                DetAlgorithm::Cons => {
                    // When the group's next minimum binds, as a real number of ranks.
                    let due = |g: usize| ceil_share(rank, target[g]) as f64 / target[g];
                    let soonest = below_max.iter().map(|g| due(*g)).fold(f64::INFINITY, f64::min);
                    pools.best_of(below_max.into_iter().filter(|g| due(*g) <= soonest + TOLERANCE))
                }
                DetAlgorithm::Relaxed => {
                    let due = |g: usize| {
                        (ceil_share(rank, target[g]) as f64 / target[g] - TOLERANCE).ceil()
                    };
                    let soonest = below_max.iter().map(|g| due(*g)).fold(f64::INFINITY, f64::min);
                    pools.best_of(below_max.into_iter().filter(|g| due(*g) <= soonest))
                }
                _ => pools.best_of(below_max.into_iter()),
            }
        };
        match chosen.and_then(|group| pools.take(group)) {
            Some(position) => ranked.push(position),
            None => break,
        }
    }
    ranked
}

/// DetConstSort as Geyik et al. give it (Algorithm 4): for `r = 1, 2, …`
/// every group whose minimum `⌊r·p_g⌋` grew places its next candidate (the
/// best-scoring group first) with `r` as the lowest rank it may take, and
/// the newcomer moves up past lower scores that may sink one rank. Ranks
/// at which no minimum grows are skipped, and a group with no candidates
/// left drops out, so the others' minimums keep filling the list in score
/// order until `k` are placed (the paper's `lastEmpty ≤ k` loop). Only when
/// no group with a share has candidates left do the rest (groups with no
/// share) follow, best first and free to move up.
fn const_sort(candidates: &[Candidate], target: &[f64], k: usize) -> Vec<usize> {
    let groups = target.len();
    let mut pools = Pools::new(candidates, groups);
    // (input position, the lowest rank it may be moved down to).
    let mut ranked: Vec<(usize, usize)> = Vec::with_capacity(k);
    let mut min_counts = vec![0usize; groups];
    let mut rank = 0;
    while ranked.len() < k {
        // The next rank at which a group that still has candidates gains a place.
        let Some(next) = (0..groups)
            .filter(|g| target[*g] > 0.0 && pools.next(*g).is_some())
            .map(|g| rank_reaching(min_counts[g] + 1, target[g]))
            .min()
        else {
            break;
        };
        rank = next.max(rank + 1);
        let new_mins: Vec<usize> = target.iter().map(|share| floor_share(rank, *share)).collect();
        let mut grown: Vec<usize> = (0..groups)
            .filter(|g| min_counts[*g] < new_mins[*g] && pools.next(*g).is_some())
            .collect();
        grown.sort_by(|a, b| {
            pools
                .next_score(*b)
                .total_cmp(&pools.next_score(*a))
                .then(pools.next(*a).cmp(&pools.next(*b)))
        });
        for group in grown {
            if ranked.len() == k {
                break;
            }
            if let Some(position) = pools.take(group) {
                place(&mut ranked, candidates, position, rank);
            }
        }
        min_counts = new_mins;
    }
    while ranked.len() < k {
        match pools.best_of(0..groups).and_then(|group| pools.take(group)) {
            Some(position) => place(&mut ranked, candidates, position, usize::MAX),
            None => break,
        }
    }
    ranked.into_iter().map(|(position, _)| position).collect()
}

/// The least rank `r` with `⌊r·share⌋ ≥ count` (`share > 0`).
fn rank_reaching(count: usize, share: f64) -> usize {
    let mut rank = ((count as f64 - TOLERANCE) / share).ceil().max(1.0) as usize;
    while floor_share(rank, share) < count {
        rank += 1;
    }
    while rank > 1 && floor_share(rank - 1, share) >= count {
        rank -= 1;
    }
    rank
}

/// Appends `position`, which may sink no lower than `lowest` (1-based),
/// and moves it up past lower scores that may sink one rank.
fn place(
    ranked: &mut Vec<(usize, usize)>,
    candidates: &[Candidate],
    position: usize,
    lowest: usize,
) {
    ranked.push((position, lowest));
    let mut at = ranked.len() - 1;
    while at > 0
        && ranked[at - 1].1 > at
        && candidates[ranked[at - 1].0].score < candidates[ranked[at].0].score
    {
        ranked.swap(at - 1, at);
        at -= 1;
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;

    /// Candidates in descending score order with the given groups.
    fn ranked(groups: &[usize]) -> Vec<Candidate> {
        groups
            .iter()
            .enumerate()
            .map(|(i, group)| Candidate { group: *group, score: (groups.len() - i) as f64 })
            .collect()
    }

    /// Does every prefix give each group at least ⌊j·p⌋ places?
    fn meets_minimums(order: &[usize], candidates: &[Candidate], target: &[f64]) -> bool {
        let mut counts = vec![0; target.len()];
        order.iter().enumerate().all(|(i, position)| {
            counts[candidates[*position].group] += 1;
            target.iter().enumerate().all(|(g, share)| counts[g] >= floor_share(i + 1, *share))
        })
    }

    #[test]
    fn det_greedy_reproduces_the_papers_example() {
        // Attributes [a,a,a,b,a,a,a,b], target 50/50, k = 4 → positions [0,3,1,7].
        let candidates = ranked(&[0, 0, 0, 1, 0, 0, 0, 1]);
        let order = rerank(DetAlgorithm::Greedy, &candidates, &[0.5, 0.5], 4).expect("valid");
        assert_eq!(order, vec![0, 3, 1, 7]);
    }

    #[test]
    fn every_variant_meets_a_two_group_target_on_that_example() {
        let candidates = ranked(&[0, 0, 0, 1, 0, 0, 0, 1]);
        for algorithm in [
            DetAlgorithm::Greedy,
            DetAlgorithm::Cons,
            DetAlgorithm::Relaxed,
            DetAlgorithm::ConstSort,
        ] {
            let order = rerank(algorithm, &candidates, &[0.5, 0.5], 4).expect("valid");
            assert_eq!(order.len(), 4);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 4, "{algorithm:?} placed someone twice: {order:?}");
            assert!(meets_minimums(&order, &candidates, &[0.5, 0.5]), "{algorithm:?}: {order:?}");
            let bs = order.iter().filter(|p| candidates[**p].group == 1).count();
            assert_eq!(bs, 2, "{algorithm:?}: {order:?}");
        }
    }

    #[test]
    fn a_target_the_ranking_already_meets_changes_nothing() {
        let candidates = ranked(&[0, 1, 0, 1, 0, 1]);
        for algorithm in [DetAlgorithm::Greedy, DetAlgorithm::Cons, DetAlgorithm::Relaxed] {
            let order = rerank(algorithm, &candidates, &[0.5, 0.5], 6).expect("valid");
            assert_eq!(order, vec![0, 1, 2, 3, 4, 5], "{algorithm:?}");
        }
    }

    #[test]
    fn det_const_sort_is_always_feasible() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let groups = rng.gen_range(2..=6);
            let mut target: Vec<f64> = (0..groups).map(|_| rng.gen_range(0.05..1.0)).collect();
            let sum: f64 = target.iter().sum();
            target.iter_mut().for_each(|share| *share /= sum);
            let k = rng.gen_range(1..=40);
            // Enough candidates of every group, in random order and scores.
            let candidates: Vec<Candidate> = (0..groups * k)
                .map(|i| Candidate { group: i % groups, score: rng.gen_range(0.0..1.0) })
                .collect();
            let order = rerank(DetAlgorithm::ConstSort, &candidates, &target, k).expect("valid");
            assert_eq!(order.len(), k);
            assert!(
                meets_minimums(&order, &candidates, &target),
                "target {target:?}, k {k}: {order:?}"
            );
        }
    }

    /// Does every prefix of length j give each group at least
    /// min(⌊j·p⌋, its candidates) places?
    fn meets_available_minimums(order: &[usize], candidates: &[Candidate], target: &[f64]) -> bool {
        let mut available = vec![0; target.len()];
        candidates.iter().for_each(|c| available[c.group] += 1);
        let mut counts = vec![0; target.len()];
        order.iter().enumerate().all(|(i, position)| {
            counts[candidates[*position].group] += 1;
            target
                .iter()
                .enumerate()
                .all(|(g, share)| counts[g] >= floor_share(i + 1, *share).min(available[g]))
        })
    }

    #[test]
    fn det_const_sort_with_short_groups_keeps_minimums_and_sinks_no_one_it_need_not() {
        let mut rng = StdRng::seed_from_u64(11);
        for case in 0..3_000 {
            let groups = rng.gen_range(1..=7);
            let mut target: Vec<f64> = (0..groups)
                .map(|_| if rng.gen_bool(0.2) { 0.0 } else { rng.gen_range(0.05..1.0) })
                .collect();
            if case % 10 == 0 {
                // A share of 1, the others 0.
                target.iter_mut().for_each(|share| *share = 0.0);
                target[rng.gen_range(0..groups)] = 1.0;
            }
            let sum: f64 = target.iter().sum();
            if sum == 0.0 {
                target[0] = 1.0;
            } else {
                target.iter_mut().for_each(|share| *share /= sum);
            }
            let k = rng.gen_range(1..=30);
            // Some groups short or empty.
            let mut candidates = Vec::new();
            for group in 0..groups {
                for _ in 0..rng.gen_range(0..=k) {
                    candidates.push(Candidate { group, score: rng.gen_range(0.0..1.0) });
                }
            }
            let order = rerank(DetAlgorithm::ConstSort, &candidates, &target, k).expect("valid");
            assert_eq!(order.len(), k.min(candidates.len()), "fills k while anyone is left");
            let context = format!("target {target:?}, k {k}, {candidates:?}: {order:?}");
            assert!(meets_available_minimums(&order, &candidates, &target), "{context}");
            // A better candidate right below a worse one: swapping them
            // must break a minimum, or the order was not necessary.
            for at in 1..order.len() {
                if candidates[order[at - 1]].score < candidates[order[at]].score {
                    let mut swapped = order.clone();
                    swapped.swap(at - 1, at);
                    assert!(
                        !meets_available_minimums(&swapped, &candidates, &target),
                        "ranks {at} and {} could swap: {context}",
                        at + 1
                    );
                }
            }
            // Nobody better was left out of the list for a worse one of the same group.
            for group in 0..groups {
                let worst_in = order
                    .iter()
                    .filter(|p| candidates[**p].group == group)
                    .map(|p| candidates[*p].score)
                    .fold(f64::INFINITY, f64::min);
                let best_out = (0..candidates.len())
                    .filter(|p| candidates[*p].group == group && !order.contains(p))
                    .map(|p| candidates[p].score)
                    .fold(f64::NEG_INFINITY, f64::max);
                assert!(best_out <= worst_in, "group {group}: {context}");
            }
        }
    }

    #[test]
    fn exhausted_groups_and_zero_shares_still_fill_k() {
        // Only one candidate of group 1, target 50/50: the rest must come from group 0.
        let candidates = ranked(&[0, 0, 0, 0, 1]);
        for algorithm in [
            DetAlgorithm::Greedy,
            DetAlgorithm::Cons,
            DetAlgorithm::Relaxed,
            DetAlgorithm::ConstSort,
        ] {
            let order = rerank(algorithm, &candidates, &[0.5, 0.5], 5).expect("valid");
            assert_eq!(order.len(), 5, "{algorithm:?}: {order:?}");
            let order = rerank(algorithm, &candidates, &[1.0, 0.0], 5).expect("valid");
            assert_eq!(
                order,
                vec![0, 1, 2, 3, 4],
                "{algorithm:?}: a group with no share comes last"
            );
        }
    }

    #[test]
    fn bad_input_is_refused() {
        let candidates = ranked(&[0, 2]);
        assert!(matches!(
            rerank(DetAlgorithm::Greedy, &candidates, &[0.5, 0.5], 2),
            Err(FairnessError::UnknownGroup { group: 2, groups: 2 })
        ));
        let candidates = ranked(&[0, 1]);
        assert!(matches!(
            rerank(DetAlgorithm::Greedy, &candidates, &[0.5, 0.6], 2),
            Err(FairnessError::BadTarget { .. })
        ));
        let nan = [Candidate { group: 0, score: f64::NAN }];
        assert_eq!(rerank(DetAlgorithm::Cons, &nan, &[1.0], 1), Err(FairnessError::BadScore));
        assert_eq!(rerank(DetAlgorithm::Cons, &[], &[1.0], 10), Ok(Vec::new()));
    }
}
