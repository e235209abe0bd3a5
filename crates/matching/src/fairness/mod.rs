//! Fair re-ranking and its audit metrics.
//!
//! Candidates belong to one of `n` groups (an attribute value, such as a
//! self-declared group or "no completed jobs yet"), identified by index
//! `0..n`; a target distribution gives each group's desired share of every
//! top-k prefix. Algorithms return positions into the input slice, best first.
//!
//! - [`det`]: DetGreedy, DetCons, DetRelaxed and DetConstSort (Geyik,
//!   Ambler, Kenthapadi, "Fairness-Aware Ranking in Search & Recommendation
//!   Systems with Application to LinkedIn Talent Search", KDD 2019).
//! - [`fa_ir`]: FA*IR's ranked group fairness test, its binomial `mtable`,
//!   the multiple-testing adjustment of α, and the re-ranking (Zehlike et al.,
//!   "FA*IR: A Fair Top-k Ranking Algorithm", CIKM 2017).
//! - [`metrics`]: skew@k, MinSkew@k, MaxSkew@k, NDKL and group exposure.
//! - [`amortise`]: exposure owed and given over many lists, and the target
//!   corrected by the accumulated deficit.
//! - [`groups`]: groups from self-declared answers.
//! - [`reviews`]: whether reviewers rate one group of reviewed people worse
//!   (the four-fifths test on favourable ratings).

pub mod amortise;
pub mod audit;
pub mod det;
pub mod fa_ir;
pub mod groups;
pub mod metrics;
pub mod reviews;

/// A candidate to re-rank: its group and its relevance score (higher is better).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub group: usize,
    pub score: f64,
}

/// Why a re-ranking request cannot be served.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FairnessError {
    #[error("a candidate's group {group} is outside the {groups} groups of the target")]
    UnknownGroup { group: usize, groups: usize },
    #[error(
        "the target distribution must be finite, non-negative shares summing to 1 (sum {sum})"
    )]
    BadTarget { sum: f64 },
    #[error("a candidate's score is not a finite number")]
    BadScore,
    #[error("{name} must be in ({low}, {high}), not {value}")]
    OutOfRange { name: &'static str, value: f64, low: f64, high: f64 },
}

/// Checks candidates against a target of `target.len()` groups.
pub(crate) fn validate(candidates: &[Candidate], target: &[f64]) -> Result<(), FairnessError> {
    let sum: f64 = target.iter().sum();
    if target.is_empty()
        || target.iter().any(|share| !share.is_finite() || *share < 0.0)
        || (sum - 1.0).abs() > 1e-6
    {
        return Err(FairnessError::BadTarget { sum });
    }
    validate_candidates(candidates, target.len())
}

/// Every candidate in one of `groups` groups, with a finite score.
pub(crate) fn validate_candidates(
    candidates: &[Candidate],
    groups: usize,
) -> Result<(), FairnessError> {
    for candidate in candidates {
        if candidate.group >= groups {
            return Err(FairnessError::UnknownGroup { group: candidate.group, groups });
        }
        if !candidate.score.is_finite() {
            return Err(FairnessError::BadScore);
        }
    }
    Ok(())
}

/// Each group's candidates as input positions, best score first (ties keep
/// input order), so `queues[g][c]` is group `g`'s `c`-th best.
pub(crate) fn queues_by_group(candidates: &[Candidate], groups: usize) -> Vec<Vec<usize>> {
    let mut queues = vec![Vec::new(); groups];
    for (position, candidate) in candidates.iter().enumerate() {
        queues[candidate.group].push(position);
    }
    for queue in &mut queues {
        queue.sort_by(|a, b| candidates[*b].score.total_cmp(&candidates[*a].score).then(a.cmp(b)));
    }
    queues
}

/// The share of each group among `candidates`: the default target
/// ("as represented in the qualified pool").
pub fn pool_distribution(candidates: &[Candidate], groups: usize) -> Vec<f64> {
    let mut counts = vec![0.0; groups];
    for candidate in candidates {
        if let Some(count) = counts.get_mut(candidate.group) {
            *count += 1.0;
        }
    }
    let total: f64 = counts.iter().sum();
    if total > 0.0 {
        counts.iter_mut().for_each(|count| *count /= total);
    }
    counts
}
