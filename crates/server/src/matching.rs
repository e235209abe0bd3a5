//! Ranking freelancers for a job, with reasons and a fairness report.
//!
//! 1. Pool: the candidate index ([`crate::candidates`]) proposes the
//!    profiles nearest to the job (open to work, in its region unless it is
//!    remote) and every one holding all its required skills; they are loaded
//!    from the store with their current vectors (until the index is built,
//!    every profile open to work is). Hard filters drop those outside the
//!    job's region and those whose rate is over the budget's top by more
//!    than the tolerance ([`fairgig_matching::features::RATE_TOLERANCE`]).
//! 2. Score: the eight features and the v1 linear model, with explanations.
//! 3. Fair re-rank of the top `limit` so the exposure group "newcomers" (no
//!    completed job yet) gets its share; the target is its share of the
//!    qualified pool (the scored candidates). Skew, NDKL and exposure are reported before and after.
//!
//! Self-declared group attributes are never features; auditing them is a
//! separate report (not built yet).

use crate::candidates::{CandidateQuery, ProfileIndex};
use fairgig_core::{
    audit::{actions, Actor, NewAuditEntry},
    ids::UserId,
    marketplace::ExperienceLevel as Level,
};
use fairgig_matching::{
    fairness::{
        det::{self, DetAlgorithm},
        fa_ir, metrics, pool_distribution, Candidate, FairnessError,
    },
    features::{
        features, ExperienceLevel, JobFacts, Money, ProfileFacts, Reputation, RATE_TOLERANCE,
    },
    score::{explain, Contribution, LinearModel},
};
use fairgig_store::{
    embeddings::EntityKind,
    feedback::NewMatchList,
    marketplace::{Job, MatchableProfile, Profile},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use fairgig_store::Store;

use crate::embedding::{EmbeddingError, EmbeddingService};

/// Which re-ranker keeps the top k fair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FairAlgorithm {
    #[default]
    DetConstSort,
    DetGreedy,
    DetCons,
    DetRelaxed,
    /// FA*IR with newcomers as the protected group (adjusted α = 0.1).
    FaIr,
    /// Relevance order only (the report still shows the skew).
    None,
}

/// The exposure groups: index 0 established, 1 newcomers.
const GROUPS: [&str; 2] = ["established", "newcomer"];

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeatureContribution {
    pub feature: String,
    pub value: f64,
    pub weight: f64,
    pub contribution: f64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Match {
    pub freelancer: UserId,
    pub headline: String,
    /// 1-based, after fair re-ranking.
    pub rank: usize,
    /// 1-based, by score alone.
    pub relevance_rank: usize,
    pub score: f64,
    pub newcomer: bool,
    pub features: Vec<FeatureContribution>,
    pub strengths: Vec<String>,
    pub gaps: Vec<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GroupMetrics {
    /// Skew@k of the worst-off group (0 is on target, negative under).
    pub min_skew: f64,
    pub max_skew: f64,
    pub ndkl: f64,
    /// Exposure per group (Σ 1/log2(1 + rank)), in `groups` order.
    pub exposure: Vec<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FairnessReport {
    pub attribute: String,
    pub algorithm: FairAlgorithm,
    pub groups: Vec<String>,
    /// Desired share per group: its share of the qualified pool.
    pub target: Vec<f64>,
    pub before: GroupMetrics,
    pub after: GroupMetrics,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MatchList {
    /// This list as recorded: feedback (`POST /feedback`) refers to it.
    pub match_list: uuid::Uuid,
    /// The ranker's version.
    pub ranker: String,
    pub model: String,
    /// Qualified candidates considered.
    pub pool: usize,
    pub matches: Vec<Match>,
    pub fairness: FairnessReport,
}

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Embedding(#[from] EmbeddingError),
    #[error(transparent)]
    Store(#[from] fairgig_store::StoreError),
    #[error(transparent)]
    Fairness(#[from] FairnessError),
}

/// The text a job or profile is embedded by.
pub fn job_text(job: &fairgig_store::marketplace::JobInput) -> String {
    format!("{}\n{}\n{}", job.title, job.required_skills.join(", "), job.description)
}

pub fn profile_text(profile: &fairgig_store::marketplace::ProfileInput) -> String {
    let skills: Vec<&str> = profile.skills.iter().map(|skill| skill.name.as_str()).collect();
    format!("{}\n{}\n{}", profile.headline, skills.join(", "), profile.bio)
}

fn money(minor: Option<i64>, currency: Option<&String>) -> Option<Money> {
    Some(Money { amount: minor? as f64 / 100.0, currency: currency?.clone() })
}

fn job_facts(job: &Job) -> JobFacts {
    JobFacts {
        required_skills: job.input.required_skills.clone(),
        preferred_skills: job.input.preferred_skills.clone(),
        max_hourly: money(job.input.max_hourly_minor, job.input.currency.as_ref()),
        experience: job.input.experience_level.map(|level| match level {
            Level::Entry => ExperienceLevel::Entry,
            Level::Intermediate => ExperienceLevel::Intermediate,
            Level::Expert => ExperienceLevel::Expert,
        }),
        utc_offset_minutes: job.input.utc_offset_minutes,
    }
}

fn profile_facts(profile: &Profile, now: OffsetDateTime) -> ProfileFacts {
    let input = &profile.input;
    let count = u32::try_from(profile.rating_count).unwrap_or(0);
    ProfileFacts {
        skills: input.skills.iter().map(|skill| skill.name.clone()).collect(),
        hourly_rate: money(input.hourly_rate_minor, input.currency.as_ref()),
        years_experience: input.years_experience,
        reputation: Reputation {
            mean: if count > 0 { profile.rating_sum / f64::from(count) } else { 0.0 },
            count,
        },
        utc_offset_minutes: input.utc_offset_minutes,
        days_since_active: (now - profile.last_active_at).as_seconds_f64().max(0.0) / 86_400.0,
    }
}

/// Hard filters: region (unless remote) and rate within the tolerance.
fn qualifies(job: &JobFacts, job_record: &Job, profile: &Profile, facts: &ProfileFacts) -> bool {
    if !job_record.input.remote {
        if let Some(region) = &job_record.input.region {
            if profile.input.region.as_ref() != Some(region) {
                return false;
            }
        }
    }
    match (&job.max_hourly, &facts.hourly_rate) {
        (Some(budget), Some(rate)) if budget.currency == rate.currency => {
            rate.amount <= budget.amount * (1.0 + RATE_TOLERANCE)
        }
        _ => true,
    }
}

fn group_metrics(ranking: &[usize], target: &[f64], k: usize) -> GroupMetrics {
    GroupMetrics {
        min_skew: metrics::min_skew(ranking, target, k),
        max_skew: metrics::max_skew(ranking, target, k),
        ndkl: metrics::ndkl(&ranking[..k.min(ranking.len())], target),
        exposure: metrics::exposure(&ranking[..k.min(ranking.len())], target.len()),
    }
}

/// A qualified candidate with its features and score.
struct Scored<'a> {
    profile: &'a Profile,
    facts: ProfileFacts,
    features: fairgig_matching::features::Features,
    score: f64,
    /// 1 for newcomers, 0 for the established.
    group: usize,
}

/// Nearest profiles the index proposes per match: enough that the fair
/// re-ranking finds every group's best, few enough to load quickly.
fn nearest_candidates(limit: usize) -> usize {
    (limit * 20).clamp(400, 2_000)
}

/// The profiles to score for `job`: the index's candidates, or the whole
/// pool while the index is not built (or failed, which is logged).
async fn candidate_pool(
    store: &Store,
    model_id: &str,
    profiles: &ProfileIndex,
    job: &Job,
    job_vector: &[f32],
    limit: usize,
) -> Result<Vec<MatchableProfile>, MatchError> {
    let query = CandidateQuery {
        vector: job_vector,
        required_skills: &job.input.required_skills,
        region: if job.input.remote { None } else { job.input.region.as_deref() },
        nearest: nearest_candidates(limit),
    };
    match profiles.candidates(store, &query).await {
        Ok(Some(ids)) => Ok(store.matchable_profiles_among(model_id, &ids).await?),
        Ok(None) => Ok(store.matchable_profiles(model_id).await?),
        Err(err) => {
            tracing::warn!(error = %err, "candidate index failed; scanning the pool");
            Ok(store.matchable_profiles(model_id).await?)
        }
    }
}

/// The ranked, explained and fairly re-ranked freelancers for `job`.
pub async fn matches_for_job(
    store: &Store,
    embeddings: &EmbeddingService,
    profiles: &ProfileIndex,
    job: &Job,
    limit: usize,
    algorithm: FairAlgorithm,
) -> Result<MatchList, MatchError> {
    let (job_vector, _) =
        embeddings.entity_vector(EntityKind::Job, job.id.as_uuid(), &job_text(&job.input)).await?;
    let pool =
        candidate_pool(store, embeddings.model_id(), profiles, job, &job_vector, limit).await?;
    let facts = job_facts(job);
    let now = OffsetDateTime::now_utc();
    let (ranker, weights) = crate::training::champion_ranker(store).await?;
    let model = LinearModel { weights };
    // Score everyone; explanations (strings) only for those shown.
    let mut scored: Vec<Scored> = pool
        .iter()
        .filter(|candidate| candidate.profile.user_id != job.owner)
        .filter_map(|candidate| {
            let profile_facts = profile_facts(&candidate.profile, now);
            if !qualifies(&facts, job, &candidate.profile, &profile_facts) {
                return None;
            }
            let similarity = fairgig_embed::dot(&job_vector, &candidate.vector);
            let found = features(&facts, &profile_facts, similarity);
            Some(Scored {
                score: model.score(&found),
                features: found,
                facts: profile_facts,
                profile: &candidate.profile,
                group: usize::from(candidate.profile.completed_jobs == 0),
            })
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(a.profile.user_id.cmp(&b.profile.user_id))
    });
    let candidates: Vec<Candidate> =
        scored.iter().map(|s| Candidate { group: s.group, score: s.score }).collect();
    let target = pool_distribution(&candidates, GROUPS.len());
    let k = limit.min(candidates.len());
    let order: Vec<usize> = if candidates.is_empty() {
        Vec::new()
    } else {
        match algorithm {
            FairAlgorithm::None => (0..k).collect(),
            FairAlgorithm::DetConstSort => {
                det::rerank(DetAlgorithm::ConstSort, &candidates, &target, k)?
            }
            FairAlgorithm::DetGreedy => det::rerank(DetAlgorithm::Greedy, &candidates, &target, k)?,
            FairAlgorithm::DetCons => det::rerank(DetAlgorithm::Cons, &candidates, &target, k)?,
            FairAlgorithm::DetRelaxed => {
                det::rerank(DetAlgorithm::Relaxed, &candidates, &target, k)?
            }
            FairAlgorithm::FaIr => {
                let share = target[1];
                if share <= 0.0 || share >= 1.0 || k == 0 {
                    (0..k).collect()
                } else {
                    let table = fa_ir::adjusted_mtable(k, share, 0.1)?.mtable;
                    fa_ir::rerank(&candidates, GROUPS.len(), 1, &table)?
                }
            }
        }
    };
    let groups_by_relevance: Vec<usize> = candidates.iter().map(|c| c.group).collect();
    let groups_after: Vec<usize> = order.iter().map(|i| candidates[*i].group).collect();
    let fairness = FairnessReport {
        attribute: "newcomer (no completed job yet)".to_owned(),
        algorithm,
        groups: GROUPS.iter().map(|g| (*g).to_owned()).collect(),
        before: group_metrics(&groups_by_relevance, &target, k),
        after: group_metrics(&groups_after, &target, k),
        target,
    };
    let matches = order
        .iter()
        .enumerate()
        .filter_map(|(rank, index)| {
            let chosen = scored.get(*index)?;
            let explained = explain(&model, &facts, &chosen.facts, &chosen.features);
            Some(Match {
                freelancer: chosen.profile.user_id,
                headline: chosen.profile.input.headline.clone(),
                rank: rank + 1,
                relevance_rank: index + 1,
                score: chosen.score,
                newcomer: chosen.group == 1,
                features: explained.contributions.into_iter().map(contribution).collect(),
                strengths: explained.strengths,
                gaps: explained.gaps,
            })
        })
        .collect();
    let mut list = MatchList {
        match_list: uuid::Uuid::nil(),
        ranker,
        model: embeddings.model_id().to_owned(),
        pool: scored.len(),
        matches,
        fairness,
    };
    let record = record_of(job, &list, algorithm);
    list.match_list = store.record_match_list(&record).await?;
    // Every ranking shown is auditable with its fairness figures, beside the list itself.
    let entry = NewAuditEntry::new(Actor::System, actions::MATCH_RANKED)
        .target(format!("match_list:{}", list.match_list))
        .details(serde_json::json!({
            "job": job.id,
            "ranker": list.ranker,
            "algorithm": record.algorithm,
            "pool": list.pool,
            "shown": list.matches.len(),
            "fairness": record.fairness,
        }));
    store.append_audit(entry).await?;
    Ok(list)
}

/// What is kept of a shown list: each item's features, for training.
fn record_of(job: &Job, list: &MatchList, algorithm: FairAlgorithm) -> NewMatchList {
    let items = list
        .matches
        .iter()
        .map(|m| {
            serde_json::json!({
                "freelancer": m.freelancer,
                "rank": m.rank,
                "relevance_rank": m.relevance_rank,
                "score": m.score,
                "newcomer": m.newcomer,
                "features": m.features.iter().map(|f| f.value).collect::<Vec<_>>(),
            })
        })
        .collect();
    NewMatchList {
        job: job.id,
        ranker: list.ranker.clone(),
        embedding_model: list.model.clone(),
        algorithm: serde_json::to_value(algorithm)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        items: serde_json::Value::Array(items),
        fairness: serde_json::to_value(&list.fairness).unwrap_or_default(),
    }
}

/// A job ranked for a freelancer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobMatch {
    pub job: fairgig_core::ids::JobId,
    pub title: String,
    pub rank: usize,
    pub score: f64,
    pub features: Vec<FeatureContribution>,
    pub strengths: Vec<String>,
    pub gaps: Vec<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobMatchList {
    pub model: String,
    /// Open jobs the freelancer qualifies for.
    pub pool: usize,
    pub matches: Vec<JobMatch>,
}

/// Open jobs for a freelancer, best first, by the same features, model and
/// hard filters as [`matches_for_job`] (no re-ranking: jobs have no groups).
pub async fn jobs_for_freelancer(
    store: &Store,
    embeddings: &EmbeddingService,
    profile: &Profile,
    limit: usize,
) -> Result<JobMatchList, MatchError> {
    let text = profile_text(&profile.input);
    let (profile_vector, _) =
        embeddings.entity_vector(EntityKind::Profile, profile.user_id.as_uuid(), &text).await?;
    let facts = profile_facts(profile, OffsetDateTime::now_utc());
    let model = LinearModel::v1();
    let mut ranked: Vec<JobMatch> = store
        .matchable_jobs(embeddings.model_id())
        .await?
        .into_iter()
        .filter(|(job, _)| job.owner != profile.user_id)
        .filter_map(|(job, vector)| {
            let job_facts = job_facts(&job);
            if !qualifies(&job_facts, &job, profile, &facts) {
                return None;
            }
            let found = features(&job_facts, &facts, fairgig_embed::dot(&vector, &profile_vector));
            let explained = explain(&model, &job_facts, &facts, &found);
            Some(JobMatch {
                job: job.id,
                title: job.input.title,
                rank: 0,
                score: explained.score,
                features: explained.contributions.into_iter().map(contribution).collect(),
                strengths: explained.strengths,
                gaps: explained.gaps,
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.job.cmp(&b.job)));
    let pool = ranked.len();
    ranked.truncate(limit);
    for (index, matched) in ranked.iter_mut().enumerate() {
        matched.rank = index + 1;
    }
    Ok(JobMatchList { model: embeddings.model_id().to_owned(), pool, matches: ranked })
}

fn contribution(c: Contribution) -> FeatureContribution {
    FeatureContribution {
        feature: c.feature.to_owned(),
        value: c.value,
        weight: c.weight,
        contribution: c.contribution,
    }
}
