//! Ranking freelancers for a job, with reasons and a fairness report.
//!
//! 1. Pool: the candidate index ([`crate::candidates`]) proposes the
//!    profiles nearest to the job (open to work, in its region unless it is
//!    remote) and every one holding all its required skills; they are loaded
//!    from the store with their current vectors (until the index is built,
//!    every profile open to work is). Hard filters drop those outside the
//!    job's region and, only when the request asks (`within_budget`), those
//!    whose rate is over the budget's top by more than the tolerance
//!    ([`fairgig_matching::features::RATE_TOLERANCE`]); otherwise the
//!    budget is scored (`rate_fit`), not a filter.
//! 2. Score: the eight features (skill coverage weighted by each skill's
//!    specificity in the index) and the champion linear model (built in:
//!    `linear-v3`), with explanations.
//! 3. Fair re-rank of the top `limit` by the [`FairnessPolicy`]: groups by
//!    an attribute (newcomers, with no completed job yet, by default; or a
//!    self-declared one such as `gender`), each group's desired share (its
//!    share of the qualified pool unless the policy names one), corrected by
//!    the exposure each group is owed from recent lists (amortised fairness,
//!    [`fairgig_matching::fairness::amortise`]). Skew, NDKL and exposure
//!    are reported before and after, and the list's exposure is booked.
//!
//! Self-declared group attributes are never features and never shown to
//! clients: only the re-ranking reads them, and a report grouped by one is
//! redacted for anyone but admins ([`FairnessReport::redact`]).

use crate::candidates::{
    CandidateIndex, CandidateQuery, Indexable, JobIndex, JobQuery, ProfileIndex, Proposed,
};
use fairgig_embed::index::RateCap;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use fairgig_core::{
    audit::{actions, Actor, NewAuditEntry},
    config::FairnessSettings,
    ids::{MatchListId, UserId},
    marketplace::{ExperienceLevel as Level, FairAlgorithm},
};
use fairgig_matching::{
    fairness::{
        amortise::{self, Account},
        det::{self, DetAlgorithm},
        fa_ir,
        groups::{declared_groups, is_attribute_name, NEWCOMER},
        metrics, Candidate, FairnessError,
    },
    features::{
        features, kin_among, skill_key, ExperienceLevel, Features, JobFacts, Money, ProfileFacts,
        Reputation, FEATURES_VERSION, RATE_TOLERANCE,
    },
    score::{explain, Contribution, LinearModel},
};
use fairgig_store::{
    embeddings::EntityKind,
    exposure::GroupExposure,
    feedback::NewMatchList,
    marketplace::{Job, MatchableProfile, Profile},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

use fairgig_store::Store;

use crate::embedding::{EmbeddingError, EmbeddingService};

/// The newcomer attribute's groups: index 0 established, 1 newcomers.
const NEWCOMER_GROUPS: [&str; 2] = ["established", "newcomer"];

/// What candidates are grouped by for fair re-ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// No completed job yet versus the established: needs no declaration.
    Newcomer,
    /// A self-declared profile attribute, such as `gender`.
    Declared(String),
}

impl Attribute {
    /// `newcomer` or a self-declared attribute's name.
    pub fn parse(name: &str) -> Result<Self, PolicyError> {
        let name = name.trim();
        if name == NEWCOMER {
            Ok(Self::Newcomer)
        } else if is_attribute_name(name) {
            Ok(Self::Declared(name.to_owned()))
        } else {
            Err(PolicyError::new(
                "attribute",
                "`newcomer` or a self-declared attribute name (letters, digits, _ and -)",
            ))
        }
    }

    /// The name exposure is booked under.
    pub fn key(&self) -> &str {
        match self {
            Self::Newcomer => NEWCOMER,
            Self::Declared(name) => name,
        }
    }

    /// How reports name it.
    pub fn describe(&self) -> String {
        match self {
            Self::Newcomer => "newcomer (no completed job yet)".to_owned(),
            Self::Declared(name) => format!("{name} (self-declared)"),
        }
    }
}

/// A fairness policy that cannot be applied, naming the setting at fault.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    pub field: &'static str,
    pub message: String,
}

impl PolicyError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// How one match list is kept fair: the deployment's settings
/// (`[fairness]`), optionally overridden per request.
#[derive(Clone, Debug, PartialEq)]
pub struct FairnessPolicy {
    pub algorithm: FairAlgorithm,
    pub attribute: Attribute,
    /// Desired share per group name; the other groups share the rest by
    /// their share of the qualified pool.
    pub targets: BTreeMap<String, f64>,
    /// FA*IR's protected group under a self-declared attribute.
    pub protected: Option<String>,
    pub amortise: bool,
    pub window_days: u32,
    pub max_correction: f64,
}

impl FairnessPolicy {
    /// The deployment's policy; an invalid one stops `serve` with the reason.
    pub fn from_settings(settings: &FairnessSettings) -> Result<Self, PolicyError> {
        let policy = Self {
            algorithm: settings.algorithm,
            attribute: Attribute::parse(&settings.attribute)?,
            targets: settings.targets.clone(),
            protected: settings.protected.clone(),
            amortise: settings.amortise,
            window_days: settings.window_days,
            max_correction: settings.max_correction,
        };
        policy.validate()?;
        Ok(policy)
    }

    /// Shares in [0, 1] summing to at most 1, a window of 1–366 days, a
    /// correction in [0, 1], and a protected group for FA*IR by a
    /// self-declared attribute.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let shares = self.targets.values();
        if self.targets.len() > 16 || self.targets.keys().any(|g| g.is_empty() || g.len() > 100) {
            return Err(PolicyError::new(
                "targets",
                "at most 16 groups, named in 1–100 characters",
            ));
        }
        if shares.clone().any(|share| !(0.0..=1.0).contains(share))
            || shares.sum::<f64>() > 1.0 + 1e-9
        {
            return Err(PolicyError::new("targets", "shares in [0, 1] summing to at most 1"));
        }
        if !(1..=366).contains(&self.window_days) {
            return Err(PolicyError::new("window_days", "must be between 1 and 366"));
        }
        if !(0.0..=1.0).contains(&self.max_correction) {
            return Err(PolicyError::new("max_correction", "must be between 0 and 1"));
        }
        if self.algorithm == FairAlgorithm::FaIr
            && matches!(self.attribute, Attribute::Declared(_))
            && self.protected.is_none()
        {
            return Err(PolicyError::new(
                "protected",
                "FA*IR protects one group: name it for a self-declared attribute",
            ));
        }
        Ok(())
    }

    /// The group FA*IR protects, by name.
    fn protected_group(&self) -> Option<&str> {
        match self.attribute {
            Attribute::Newcomer => Some(NEWCOMER_GROUPS[1]),
            Attribute::Declared(_) => self.protected.as_deref(),
        }
    }
}

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

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupMetrics {
    /// Skew@k = ln(share in the top k / target share) of the worst-off
    /// group (0 is on target, negative under); null when a group with a
    /// target share has no place in the top k (the skew is −∞; `absent`
    /// lists them).
    pub min_skew: Option<f64>,
    /// Skew@k of the most favoured group; null when no group with a target
    /// share has a place.
    pub max_skew: Option<f64>,
    /// Groups (indices into `groups`) with a target share and no place in
    /// the top k.
    pub absent: Vec<usize>,
    /// NDKL of the top k (natural log, no smoothing); null when a group
    /// with no target share has a place (the divergence is unbounded).
    pub ndkl: Option<f64>,
    /// Exposure per group (Σ 1/log2(1 + rank)), in `groups` order.
    pub exposure: Vec<f64>,
}

impl GroupMetrics {
    /// MinSkew@k for people: two decimals, or −∞ when a group is absent.
    pub fn min_skew_figure(&self) -> String {
        self.min_skew.map_or_else(|| "−∞".to_owned(), |skew| format!("{skew:.2}"))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FairnessReport {
    pub attribute: String,
    pub algorithm: FairAlgorithm,
    /// Whether the target was corrected by the exposure groups are owed.
    pub amortised: bool,
    /// Ranked by a self-declared attribute.
    pub self_declared: bool,
    /// True when the figures below are withheld: a ranking by a
    /// self-declared attribute shows its groups to admins only.
    pub redacted: bool,
    pub groups: Vec<String>,
    /// Desired share per group among the qualified pool: the policy's
    /// shares, else the group's share of the pool.
    pub desired: Vec<f64>,
    /// The shares re-ranked for: `desired` corrected by the deficit when
    /// amortised. Skew and NDKL are measured against it.
    pub target: Vec<f64>,
    pub before: Option<GroupMetrics>,
    pub after: Option<GroupMetrics>,
    /// For a ranking by a self-declared attribute: the list as shown,
    /// measured by newcomers against their share of the qualified pool, so
    /// the newcomer audit covers every list.
    pub newcomers: Option<GroupMetrics>,
}

impl FairnessReport {
    /// Withholds what a ranking by a self-declared attribute would tell a
    /// client about who declared what (group sizes, per-group exposure).
    pub fn redact(&mut self) {
        if self.redacted || !self.self_declared {
            return;
        }
        self.redacted = true;
        self.groups.clear();
        self.desired.clear();
        self.target.clear();
        self.before = None;
        self.after = None;
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MatchList {
    /// This list as recorded: feedback (`POST /feedback`) refers to it.
    pub match_list: MatchListId,
    /// The ranker's version.
    pub ranker: String,
    pub model: String,
    /// Qualified candidates considered.
    pub pool: usize,
    pub matches: Vec<Match>,
    pub fairness: FairnessReport,
    /// Where the time went (not part of the API; metrics and `bench match`).
    #[serde(skip)]
    pub timings: StageTimings,
}

/// Time spent in each stage of one match, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimings {
    /// The job's vector (cache, or the embedding model).
    pub embed: f64,
    /// Proposing candidates (catching the index up included).
    pub candidates: f64,
    /// The champion ranker, then features and score of every candidate.
    pub score: f64,
    /// Group targets (with the exposure ledger) and the fair re-rank.
    pub rerank: f64,
    /// Explanations of the shown matches.
    pub explain: f64,
    /// Storing the list, booking exposure, the audit entry.
    pub record: f64,
}

impl StageTimings {
    pub const STAGES: [&'static str; 6] =
        ["embed", "candidates", "score", "rerank", "explain", "record"];

    /// The stages' times, in [`Self::STAGES`] order.
    pub fn seconds(&self) -> [f64; 6] {
        [self.embed, self.candidates, self.score, self.rerank, self.explain, self.record]
    }

    /// Into the `fairgig_match_stage_seconds` histogram, by stage.
    fn observe(&self) {
        for (stage, seconds) in Self::STAGES.iter().zip(self.seconds()) {
            ::metrics::histogram!("fairgig_match_stage_seconds", "stage" => *stage).record(seconds);
        }
    }
}

/// Reads the time since its last reading.
struct Lap(std::time::Instant);

impl Lap {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    fn lap(&mut self) -> f64 {
        let now = std::time::Instant::now();
        let seconds = now.duration_since(self.0).as_secs_f64();
        self.0 = now;
        seconds
    }
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

impl From<MatchError> for crate::Error {
    fn from(err: MatchError) -> Self {
        match err {
            MatchError::Store(err) => err.into(),
            MatchError::Embedding(_) => {
                tracing::warn!(error = %err, "matching without embeddings");
                crate::Error::new(
                    crate::ErrorKind::Unavailable,
                    "the embedding service did not answer",
                )
            }
            other => crate::Error::internal(other, "matching"),
        }
    }
}

/// The text a job or profile is embedded by.
pub fn job_text(job: &fairgig_store::marketplace::JobInput) -> String {
    format!("{}\n{}\n{}", job.title, job.required_skills.join(", "), job.description)
}

pub fn profile_text(profile: &fairgig_store::marketplace::ProfileInput) -> String {
    let skills: Vec<&str> = profile.skills.iter().map(|skill| skill.name.as_str()).collect();
    format!("{}\n{}\n{}", profile.headline, skills.join(", "), profile.bio)
}

fn money(minor: Option<i64>, currency: Option<&String>) -> Option<Money<'_>> {
    Some(Money { amount: minor? as f64 / 100.0, currency: currency?.as_str() })
}

fn job_facts(job: &Job) -> JobFacts<'_> {
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
        // Set by the match from its index ([`weigh_skills`]): none is
        // needed for explanations.
        required_weights: Vec::new(),
        preferred_weights: Vec::new(),
        // Set by the match from the labels it compares ([`give_kin`]).
        required_kin: Vec::new(),
        preferred_kin: Vec::new(),
    }
}

/// The vectors of skill `labels` for skills matched by meaning; none when
/// the embedding provider fails (logged), which leaves labels alone to
/// decide rather than failing the match.
///
/// Takes the labels collected: an iterator held across the await would
/// make the match's future unnameable to the router.
async fn skill_vectors(
    embeddings: &EmbeddingService,
    mut labels: Vec<&str>,
) -> HashMap<String, Arc<[f32]>> {
    labels.sort_unstable();
    labels.dedup();
    match embeddings.label_vectors(&labels).await {
        Ok(vectors) => vectors,
        Err(err) => {
            tracing::warn!(error = %err, "skill labels not embedded; matching skills by label only");
            HashMap::new()
        }
    }
}

/// Gives `facts`' skills their kin among the `held` labels.
fn give_kin(facts: &mut JobFacts<'_>, held: &[&str], vectors: &HashMap<String, Arc<[f32]>>) {
    let vector = |label: &str| vectors.get(&skill_key(label)).map(|vector| &vector[..]);
    facts.required_kin = kin_among(&facts.required_skills, held, vector);
    facts.preferred_kin = kin_among(&facts.preferred_skills, held, vector);
}

/// Every skill label of `facts` and of `profiles`.
fn labels_of<'a>(
    facts: &'a JobFacts<'_>,
    profiles: impl Iterator<Item = &'a Profile>,
) -> impl Iterator<Item = &'a str> {
    facts
        .required_skills
        .iter()
        .chain(&facts.preferred_skills)
        .map(String::as_str)
        .chain(profiles.flat_map(|profile| profile.input.skills.iter().map(|s| s.name.as_str())))
}

/// Weighs `facts`' skills by their specificity in `index`.
async fn weigh_skills<E: Indexable>(index: &CandidateIndex<E>, facts: &mut JobFacts<'_>) {
    let names: Vec<&str> =
        facts.required_skills.iter().chain(&facts.preferred_skills).map(String::as_str).collect();
    let mut weights = index.skill_specificity(&names).await;
    facts.preferred_weights = weights.split_off(facts.required_skills.len().min(weights.len()));
    facts.required_weights = weights;
}

fn profile_facts(profile: &Profile, now: OffsetDateTime) -> ProfileFacts<'_> {
    let input = &profile.input;
    let count = u32::try_from(profile.rating_count).unwrap_or(0);
    ProfileFacts {
        skills: input.skills.iter().map(|skill| skill.name.as_str()).collect(),
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

/// Hard filters: region (unless remote), and the rate within the
/// tolerance only when `within_budget` is asked: otherwise the budget is a
/// scored factor (`rate_fit`), as a client may well pay more for the right
/// freelancer and a filter would hide them.
fn qualifies(
    job: &JobFacts,
    job_record: &Job,
    profile: &Profile,
    facts: &ProfileFacts,
    within_budget: bool,
) -> bool {
    if !job_record.input.remote {
        if let Some(region) = &job_record.input.region {
            if profile.input.region.as_ref() != Some(region) {
                return false;
            }
        }
    }
    match (&job.max_hourly, &facts.hourly_rate) {
        (Some(budget), Some(rate)) if within_budget && budget.currency == rate.currency => {
            rate.amount <= budget.amount * (1.0 + RATE_TOLERANCE)
        }
        _ => true,
    }
}

fn group_metrics(ranking: &[usize], target: &[f64], k: usize) -> GroupMetrics {
    let finite = |value: f64| value.is_finite().then_some(value);
    GroupMetrics {
        min_skew: finite(metrics::min_skew(ranking, target, k)),
        max_skew: finite(metrics::max_skew(ranking, target, k)),
        absent: metrics::absent(ranking, target, k),
        ndkl: finite(metrics::ndkl(&ranking[..k.min(ranking.len())], target)),
        exposure: metrics::exposure(&ranking[..k.min(ranking.len())], target.len()),
    }
}

/// A qualified candidate with its features and score.
struct Scored<'a> {
    profile: &'a Profile,
    features: Features,
    score: f64,
}

/// A freelancer (or job) who passes the hard filters of a match, with the
/// features the ranker scores.
#[derive(Clone, Debug)]
pub struct Qualified<E> {
    pub entity: Arc<E>,
    pub features: Features,
}

/// The freelancers who pass `job`'s hard filters and `filters`, each with
/// its features, unsorted: what [`matches_for_job`] ranks. Public so that
/// `fairgig eval matching` measures the product's own pool and features.
pub async fn qualified_freelancers(
    store: &Store,
    embeddings: &EmbeddingService,
    profiles: &ProfileIndex,
    job: &Job,
    job_vector: &[f32],
    (limit, filters): (usize, &ProfileFilters),
    now: OffsetDateTime,
) -> Result<Vec<Qualified<Profile>>, MatchError> {
    let pool =
        candidate_pool(store, embeddings.model_id(), profiles, job, job_vector, limit, filters)
            .await?;
    let mut facts = job_facts(job);
    weigh_skills(profiles, &mut facts).await;
    let labels = labels_of(&facts, pool.iter().map(|c| &*c.entity)).collect();
    let vectors = skill_vectors(embeddings, labels).await;
    // Every label the pool holds: each is a vector's key.
    let held: Vec<&str> = vectors.keys().map(String::as_str).collect();
    give_kin(&mut facts, &held, &vectors);
    Ok(pool
        .into_iter()
        .filter(|candidate| candidate.entity.user_id != job.owner)
        .filter_map(|candidate| {
            let profile = &candidate.entity;
            let profile_facts = profile_facts(profile, now);
            if !qualifies(&facts, job, profile, &profile_facts, filters.within_budget)
                || !filters.admits(profile, &profile_facts)
            {
                return None;
            }
            let features = features(&facts, &profile_facts, candidate.similarity);
            Some(Qualified { features, entity: candidate.entity })
        })
        .collect())
}

/// Hourly rates, in `currency`'s minor unit, of the freelancers a request
/// would be matched with: its analysed skills as a job's required skills,
/// its vector (`embed`'s, from the cache) as the job's, the same pool and
/// hard filters as [`matches_for_job`]. What the `offer` step prices from.
pub async fn qualified_rates(
    store: &Store,
    embeddings: &EmbeddingService,
    profiles: &ProfileIndex,
    submission: &fairgig_store::submissions::Submission,
    analysis: &fairgig_ai::analyse::Analysis,
    text: &str,
    currency: &str,
) -> Result<Vec<i64>, MatchError> {
    let (vector, _) =
        embeddings.entity_vector(EntityKind::Submission, submission.id.as_uuid(), text).await?;
    let mut skills: Vec<String> = Vec::new();
    for mention in &analysis.skills {
        if skills.len() < 30 && !skills.iter().any(|known| known == &mention.label) {
            skills.push(mention.label.clone());
        }
    }
    let now = OffsetDateTime::now_utc();
    let job = Job {
        id: fairgig_core::ids::JobId::new(),
        owner: submission.owner,
        submission: Some(submission.id),
        input: fairgig_store::marketplace::JobInput {
            title: submission.title.clone(),
            description: text.to_owned(),
            required_skills: skills,
            preferred_skills: Vec::new(),
            max_hourly_minor: None,
            currency: Some(currency.to_owned()),
            region: submission.region.clone(),
            remote: submission.region.is_none(),
            utc_offset_minutes: None,
            experience_level: None,
        },
        status: fairgig_core::marketplace::JobStatus::Open,
        bias_report: serde_json::Value::Null,
        needs_review: false,
        bias_acknowledged: false,
        created_at: now,
        updated_at: now,
    };
    let pool = qualified_freelancers(
        store,
        embeddings,
        profiles,
        &job,
        &vector,
        (50, &ProfileFilters::default()),
        now,
    )
    .await?;
    Ok(pool
        .iter()
        .filter(|candidate| candidate.entity.input.currency.as_deref() == Some(currency))
        .filter_map(|candidate| candidate.entity.input.hourly_rate_minor)
        .collect())
}

/// The open jobs that pass `profile`'s hard filters and `filters`, each
/// with its features, unsorted: what [`jobs_for_freelancer`] ranks.
pub async fn qualified_jobs(
    store: &Store,
    embeddings: &EmbeddingService,
    jobs: &JobIndex,
    profile: &Profile,
    profile_vector: &[f32],
    (limit, filters): (usize, &JobFilters),
    now: OffsetDateTime,
) -> Result<Vec<Qualified<Job>>, MatchError> {
    let facts = profile_facts(profile, now);
    let pool = job_pool(store, embeddings.model_id(), jobs, profile, profile_vector, limit).await?;
    // Every candidate job's skills weighed at one look at the index.
    let mut names: Vec<&str> = pool
        .iter()
        .flat_map(|candidate| {
            let input = &candidate.entity.input;
            input.required_skills.iter().chain(&input.preferred_skills).map(String::as_str)
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let labels = names.iter().chain(&facts.skills).copied().collect();
    let vectors = skill_vectors(embeddings, labels).await;
    let specificity: HashMap<&str, f64> =
        names.iter().copied().zip(jobs.skill_specificity(&names).await).collect();
    let weigh = |skills: &[String]| -> Vec<f64> {
        skills.iter().map(|skill| specificity.get(skill.as_str()).copied().unwrap_or(1.0)).collect()
    };
    // Weighed while the names borrow the pool, so the pool can then move
    // its jobs into the result.
    let weights: Vec<(Vec<f64>, Vec<f64>)> = pool
        .iter()
        .map(|candidate| {
            let input = &candidate.entity.input;
            (weigh(&input.required_skills), weigh(&input.preferred_skills))
        })
        .collect();
    Ok(pool
        .into_iter()
        .zip(weights)
        .filter(|(candidate, _)| candidate.entity.owner != profile.user_id)
        .filter_map(|(candidate, (required_weights, preferred_weights))| {
            let job = &candidate.entity;
            let mut job_facts = JobFacts { required_weights, preferred_weights, ..job_facts(job) };
            give_kin(&mut job_facts, &facts.skills, &vectors);
            if !qualifies(&job_facts, job, profile, &facts, filters.within_budget)
                || !filters.admits(job, profile)
            {
                return None;
            }
            let features = features(&job_facts, &facts, candidate.similarity);
            Some(Qualified { features, entity: candidate.entity })
        })
        .collect())
}

/// Each scored candidate's group under `attribute`, and the group names.
fn groups_of(attribute: &Attribute, scored: &[Scored]) -> (Vec<usize>, Vec<String>) {
    match attribute {
        Attribute::Newcomer => (
            scored.iter().map(|s| usize::from(s.profile.completed_jobs == 0)).collect(),
            NEWCOMER_GROUPS.iter().map(|g| (*g).to_owned()).collect(),
        ),
        Attribute::Declared(key) => {
            let answers: Vec<Option<&str>> = scored
                .iter()
                .map(|s| s.profile.input.group_attributes.get(key).map(String::as_str))
                .collect();
            let groups = declared_groups(&answers);
            (groups.members, groups.names)
        }
    }
}

/// The shown list's figures by newcomers, against their share of the pool.
fn newcomer_metrics(scored: &[Scored], order: &[usize], k: usize) -> GroupMetrics {
    let (group_of, groups) = groups_of(&Attribute::Newcomer, scored);
    let shown: Vec<usize> = order.iter().map(|i| group_of[*i]).collect();
    group_metrics(&shown, &shares(&group_counts(&group_of, groups.len())), k)
}

/// How many of `group_of` are in each of `groups` groups.
fn group_counts(group_of: &[usize], groups: usize) -> Vec<usize> {
    let mut counts = vec![0usize; groups];
    for group in group_of {
        counts[*group] += 1;
    }
    counts
}

/// Counts as shares of their total (all zero when it is).
fn shares(counts: &[usize]) -> Vec<f64> {
    let total = counts.iter().sum::<usize>().max(1) as f64;
    counts.iter().map(|count| *count as f64 / total).collect()
}

/// The desired shares among the pool, and the target after amortisation.
async fn targets(
    store: &Store,
    policy: &FairnessPolicy,
    groups: &[String],
    group_of: &[usize],
    k: usize,
) -> Result<(Vec<f64>, Vec<f64>), MatchError> {
    let available = group_counts(group_of, groups.len());
    let fixed: Vec<Option<f64>> = groups.iter().map(|g| policy.targets.get(g).copied()).collect();
    let desired = amortise::among_available(
        &amortise::desired_shares(&shares(&available), &fixed)?,
        &available,
    );
    if !policy.amortise || group_of.is_empty() {
        return Ok((desired.clone(), desired));
    }
    let since =
        OffsetDateTime::now_utc().date() - time::Duration::days(i64::from(policy.window_days) - 1);
    let booked = store.exposure_since(policy.attribute.key(), since).await?;
    let accounts: Vec<Account> = groups
        .iter()
        .map(|group| {
            booked
                .iter()
                .find(|b| &b.group == group)
                .map_or(Account::default(), |b| Account { owed: b.owed, given: b.given })
        })
        .collect();
    let target = amortise::corrected_target(&desired, &accounts, k, policy.max_correction);
    Ok((desired, target))
}

/// The re-ranked top `k`, as positions into `candidates`.
fn rerank(
    policy: &FairnessPolicy,
    groups: &[String],
    candidates: &[Candidate],
    target: &[f64],
    k: usize,
) -> Result<Vec<usize>, MatchError> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match policy.algorithm {
        FairAlgorithm::None => (0..k).collect(),
        FairAlgorithm::DetConstSort => det::rerank(DetAlgorithm::ConstSort, candidates, target, k)?,
        FairAlgorithm::DetGreedy => det::rerank(DetAlgorithm::Greedy, candidates, target, k)?,
        FairAlgorithm::DetCons => det::rerank(DetAlgorithm::Cons, candidates, target, k)?,
        FairAlgorithm::DetRelaxed => det::rerank(DetAlgorithm::Relaxed, candidates, target, k)?,
        FairAlgorithm::FaIr => {
            let protected =
                policy.protected_group().and_then(|p| groups.iter().position(|g| g == p));
            match protected {
                Some(protected) if target[protected] > 0.0 && target[protected] < 1.0 && k > 0 => {
                    let table = fa_ir::adjusted_mtable(k, target[protected], 0.1)?.mtable;
                    fa_ir::rerank(candidates, groups.len(), protected, &table)?
                }
                // No one of the protected group in the pool, or only them.
                _ => (0..k).collect(),
            }
        }
    })
}

/// Nearest profiles the index proposes per match: enough that the fair
/// re-ranking finds every group's best, few enough to score quickly.
pub fn nearest_candidates(limit: usize) -> usize {
    (limit * 10).clamp(100, 1_000)
}

/// The profiles to score for `job`, with their similarity to it: the
/// index's candidates, or the whole pool while the index is not built (or
/// failed, which is logged).
async fn candidate_pool(
    store: &Store,
    model_id: &str,
    profiles: &ProfileIndex,
    job: &Job,
    job_vector: &[f32],
    limit: usize,
    filters: &ProfileFilters,
) -> Result<Vec<Proposed<Profile>>, MatchError> {
    // The budget's hard filter when asked, in the graph walk; one minor
    // unit looser than `qualifies`, which checks again exactly.
    let rate_cap = match (job.input.max_hourly_minor, &job.input.currency) {
        (Some(max), Some(currency)) if filters.within_budget => Some(RateCap {
            currency: currency.clone(),
            max_minor: max as f64 * (1.0 + RATE_TOLERANCE) + 1.0,
        }),
        _ => None,
    };
    let query = CandidateQuery {
        vector: job_vector,
        required_skills: &job.input.required_skills,
        // The request's region, else the job's unless remote (a request for
        // another region than the job's finds nobody who qualifies).
        region: filters.region.as_deref().or(if job.input.remote {
            None
        } else {
            job.input.region.as_deref()
        }),
        rate_cap,
        nearest: nearest_candidates(limit),
    };
    match profiles.candidates(store, &query).await {
        Ok(Some(candidates)) => return Ok(candidates),
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "candidate index failed; scanning the pool"),
    }
    Ok(store
        .matchable_profiles(model_id)
        .await?
        .into_iter()
        .map(|MatchableProfile { profile, vector }| Proposed {
            similarity: fairgig_embed::dot(job_vector, &vector),
            entity: Arc::new(profile),
        })
        .collect())
}

/// A request's own hard filters on a job's freelancers, on top of the job's.
#[derive(Clone, Debug, Default)]
pub struct ProfileFilters {
    /// Only freelancers in this region (even for a remote job).
    pub region: Option<String>,
    /// At least this many years of experience.
    pub min_years: Option<f64>,
    /// At least this reputation: the Bayesian average rating (1–5), as the
    /// `reputation` feature uses it.
    pub min_rating: Option<f64>,
    /// Leave out freelancers whose rate is over the budget's top by more
    /// than [`RATE_TOLERANCE`] (otherwise the budget is only scored).
    pub within_budget: bool,
}

impl ProfileFilters {
    fn admits(&self, profile: &Profile, facts: &ProfileFacts) -> bool {
        self.region.as_ref().is_none_or(|region| profile.input.region.as_ref() == Some(region))
            && self.min_years.is_none_or(|min| facts.years_experience >= min)
            && self.min_rating.is_none_or(|min| facts.reputation.bayesian_average() >= min)
    }
}

/// A request's own hard filters on a freelancer's jobs.
#[derive(Clone, Debug, Default)]
pub struct JobFilters {
    /// Only remote jobs.
    pub remote_only: bool,
    /// Only jobs paying at least this per hour (minor units) in the
    /// freelancer's currency; jobs without a budget, or in another currency,
    /// are left out.
    pub min_budget_minor: Option<i64>,
    /// Leave out jobs whose budget's top the freelancer's rate exceeds by
    /// more than [`RATE_TOLERANCE`] (otherwise the budget is only scored).
    pub within_budget: bool,
}

impl JobFilters {
    fn admits(&self, job: &Job, profile: &Profile) -> bool {
        let paid_enough = |min: i64| {
            job.input.max_hourly_minor.is_some_and(|budget| budget >= min)
                && (profile.input.currency.is_none()
                    || job.input.currency == profile.input.currency)
        };
        (!self.remote_only || job.input.remote) && self.min_budget_minor.is_none_or(paid_enough)
    }
}

/// The ranked, explained and fairly re-ranked freelancers for `job` that
/// pass its hard filters and `filters`.
/// `viewer`: who is shown the list (`None`: the pipeline). The same viewer
/// shown the same list again within [`REPEAT_VIEW_WINDOW_SECS`] is one
/// impression with a count: one row updated, no new list, ledger entry or
/// audit record.
pub async fn matches_for_job(
    store: &Store,
    embeddings: &EmbeddingService,
    profiles: &ProfileIndex,
    job: &Job,
    (limit, filters, viewer): (usize, &ProfileFilters, Option<UserId>),
    policy: &FairnessPolicy,
) -> Result<MatchList, MatchError> {
    let mut lap = Lap::start();
    let mut timings = StageTimings::default();
    let (job_vector, _) =
        embeddings.entity_vector(EntityKind::Job, job.id.as_uuid(), &job_text(&job.input)).await?;
    timings.embed = lap.lap();
    let mut facts = job_facts(job);
    let now = OffsetDateTime::now_utc();
    let pool =
        qualified_freelancers(store, embeddings, profiles, job, &job_vector, (limit, filters), now)
            .await?;
    timings.candidates = lap.lap();
    let (ranker, weights) = crate::training::champion_ranker(store).await?;
    let model = LinearModel { weights };
    // Score everyone; explanations (strings) only for those shown.
    let mut scored: Vec<Scored> = pool
        .iter()
        .map(|qualified| Scored {
            score: model.score(&qualified.features),
            features: qualified.features,
            profile: &qualified.entity,
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(a.profile.user_id.cmp(&b.profile.user_id))
    });
    timings.score = lap.lap();
    let (group_of, groups) = groups_of(&policy.attribute, &scored);
    let candidates: Vec<Candidate> = scored
        .iter()
        .zip(&group_of)
        .map(|(s, group)| Candidate { group: *group, score: s.score })
        .collect();
    let k = limit.min(candidates.len());
    let (desired, target) = targets(store, policy, &groups, &group_of, k).await?;
    let order = rerank(policy, &groups, &candidates, &target, k)?;
    let groups_after: Vec<usize> = order.iter().map(|i| group_of[*i]).collect();
    let fairness = FairnessReport {
        attribute: policy.attribute.describe(),
        algorithm: policy.algorithm,
        amortised: policy.amortise,
        self_declared: matches!(policy.attribute, Attribute::Declared(_)),
        redacted: false,
        before: Some(group_metrics(&group_of, &target, k)),
        after: Some(group_metrics(&groups_after, &target, k)),
        newcomers: match policy.attribute {
            Attribute::Newcomer => None,
            Attribute::Declared(_) => Some(newcomer_metrics(&scored, &order, k)),
        },
        groups,
        desired,
        target,
    };
    timings.rerank = lap.lap();
    // The kin of the shown freelancers' labels, as the match scored them
    // (from memory: the pool's labels were just embedded).
    let held: Vec<&str> = order
        .iter()
        .filter_map(|index| Some(scored.get(*index)?.profile))
        .flat_map(|profile| profile.input.skills.iter().map(|s| s.name.as_str()))
        .collect();
    let labels = labels_of(&facts, std::iter::empty()).chain(held.iter().copied()).collect();
    let vectors = skill_vectors(embeddings, labels).await;
    give_kin(&mut facts, &held, &vectors);
    let matches = order
        .iter()
        .enumerate()
        .filter_map(|(rank, index)| {
            let chosen = scored.get(*index)?;
            let chosen_facts = profile_facts(chosen.profile, now);
            let explained = explain(&model, &facts, &chosen_facts, &chosen.features);
            Some(Match {
                freelancer: chosen.profile.user_id,
                headline: chosen.profile.input.headline.clone(),
                rank: rank + 1,
                relevance_rank: index + 1,
                score: chosen.score,
                newcomer: chosen.profile.completed_jobs == 0,
                features: explained.contributions.into_iter().map(contribution).collect(),
                strengths: explained.strengths,
                gaps: explained.gaps,
            })
        })
        .collect();
    timings.explain = lap.lap();
    let mut list = MatchList {
        match_list: MatchListId::from_uuid(uuid::Uuid::nil()),
        ranker,
        model: embeddings.model_id().to_owned(),
        pool: scored.len(),
        matches,
        fairness,
        timings,
    };
    let record = record_of(job, &list, policy.algorithm, viewer);
    if let Some(viewer) = viewer {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let since = now - REPEAT_VIEW_WINDOW_SECS;
        if let Some(id) =
            store.count_repeat_view(job.id, viewer, &record.hash, (now, since)).await?
        {
            list.match_list = id;
            list.timings.record = lap.lap();
            list.timings.observe();
            return Ok(list);
        }
    }
    let booked = exposure_booking(&list.fairness, &groups_after);
    let today = OffsetDateTime::now_utc().date();
    let exposure = (!booked.is_empty()).then_some((policy.attribute.key(), today, &booked[..]));
    // Every ranking shown is auditable with its fairness figures, beside the
    // list itself; list, ledger and audit entry are one transaction.
    let (id, _) = store
        .insert_match_list(&record, exposure, |id| {
            NewAuditEntry::new(Actor::System, actions::MATCH_RANKED)
                .target(format!("match_list:{id}"))
                .details(serde_json::json!({
                    "job": job.id,
                    "ranker": list.ranker,
                    "algorithm": record.algorithm,
                    "pool": list.pool,
                    "shown": list.matches.len(),
                    "fairness": record.fairness,
                }))
        })
        .await?;
    list.match_list = id;
    list.timings.record = lap.lap();
    list.timings.observe();
    observe_fairness(&list.fairness);
    Ok(list)
}

/// Each newly shown list's fairness after re-ranking, for dashboards and
/// the drift alert: `fairgig_fairness_skew_shortfall` (−MinSkew@k, how far
/// the worst-off group falls below its target; recorded negated because a
/// histogram's sum must only grow for `rate()` to read it) and
/// `fairgig_fairness_ndkl` when finite, and
/// `fairgig_fairness_absent_lists_total` when a group with a target share
/// got no place. Labelled `by` newcomer or a declared attribute, never by
/// the attribute's name (a request may name any).
fn observe_fairness(report: &FairnessReport) {
    let Some(after) = &report.after else { return };
    let by = if report.self_declared { "declared" } else { "newcomer" };
    if let Some(skew) = after.min_skew {
        ::metrics::histogram!("fairgig_fairness_skew_shortfall", "by" => by)
            .record((-skew).max(0.0));
    }
    if let Some(ndkl) = after.ndkl {
        ::metrics::histogram!("fairgig_fairness_ndkl", "by" => by).record(ndkl);
    }
    if !after.absent.is_empty() {
        ::metrics::counter!("fairgig_fairness_absent_lists_total", "by" => by).increment(1);
    }
}

/// What the shown list owed and gave each group (by its desired shares,
/// before correction), for later lists' amortisation; nothing for an empty
/// list.
fn exposure_booking(report: &FairnessReport, shown: &[usize]) -> Vec<GroupExposure> {
    if shown.is_empty() {
        return Vec::new();
    }
    amortise::list_accounts(&report.desired, shown)
        .into_iter()
        .zip(&report.groups)
        .map(|(account, group)| GroupExposure {
            group: group.clone(),
            owed: account.owed,
            given: account.given,
        })
        .collect()
}

/// What is kept of a shown list: each item's features, for training.
/// A reload of the same list by the same viewer within this many seconds is
/// the same impression (counted, not recorded again).
pub const REPEAT_VIEW_WINDOW_SECS: i64 = 10 * 60;

fn record_of(
    job: &Job,
    list: &MatchList,
    algorithm: FairAlgorithm,
    viewer: Option<UserId>,
) -> NewMatchList {
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
                "features_version": FEATURES_VERSION,
            })
        })
        .collect();
    let algorithm = serde_json::to_value(algorithm)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let items = serde_json::Value::Array(items);
    // What was shown: who, in which places, by which ranker and model. (Not
    // the scores: recency decays by the second, so no two are equal.)
    let mut hash = Sha256::new()
        .chain_update(list.ranker.as_bytes())
        .chain_update([0])
        .chain_update(list.model.as_bytes())
        .chain_update([0])
        .chain_update(algorithm.as_bytes());
    for shown in &list.matches {
        hash.update(shown.freelancer.as_uuid().as_bytes());
        hash.update(u32::try_from(shown.rank).unwrap_or(u32::MAX).to_le_bytes());
    }
    let hash = hash.finalize();
    NewMatchList {
        job: job.id,
        ranker: list.ranker.clone(),
        embedding_model: list.model.clone(),
        algorithm,
        items,
        fairness: serde_json::to_value(&list.fairness).unwrap_or_default(),
        viewer,
        hash: hex::encode(hash),
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
    /// The ranker's version.
    pub ranker: String,
    /// Open jobs the freelancer qualifies for.
    pub pool: usize,
    pub matches: Vec<JobMatch>,
}

/// The open jobs to score for a freelancer, with their similarity to them:
/// the job index's candidates, or every open job while the index is not
/// built (or failed, which is logged).
async fn job_pool(
    store: &Store,
    model_id: &str,
    jobs: &JobIndex,
    profile: &Profile,
    profile_vector: &[f32],
    limit: usize,
) -> Result<Vec<Proposed<Job>>, MatchError> {
    let skills: Vec<String> = profile.input.skills.iter().map(|skill| skill.name.clone()).collect();
    let query = JobQuery {
        vector: profile_vector,
        skills: &skills,
        region: profile.input.region.as_deref(),
        nearest: nearest_candidates(limit),
    };
    match jobs.candidates(store, &query).await {
        Ok(Some(candidates)) => return Ok(candidates),
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "job index failed; scanning the open jobs"),
    }
    Ok(store
        .matchable_jobs(model_id)
        .await?
        .into_iter()
        .map(|(job, vector)| Proposed {
            similarity: fairgig_embed::dot(profile_vector, &vector),
            entity: Arc::new(job),
        })
        .collect())
}

/// Open jobs for a freelancer, best first, by the same features, champion
/// ranker and hard filters as [`matches_for_job`] (no re-ranking: jobs have
/// no groups). The job index proposes the nearest open jobs and every one
/// whose required skills the freelancer all has; those are scored, and
/// only those shown are explained.
pub async fn jobs_for_freelancer(
    store: &Store,
    embeddings: &EmbeddingService,
    jobs: &JobIndex,
    profile: &Profile,
    (limit, filters): (usize, &JobFilters),
) -> Result<JobMatchList, MatchError> {
    let text = profile_text(&profile.input);
    let (profile_vector, _) =
        embeddings.entity_vector(EntityKind::Profile, profile.user_id.as_uuid(), &text).await?;
    let now = OffsetDateTime::now_utc();
    let facts = profile_facts(profile, now);
    let (ranker, weights) = crate::training::champion_ranker(store).await?;
    let model = LinearModel { weights };
    let pool =
        qualified_jobs(store, embeddings, jobs, profile, &profile_vector, (limit, filters), now)
            .await?;
    let mut scored: Vec<(f64, &Job, Features)> = pool
        .iter()
        .map(|qualified| (model.score(&qualified.features), &*qualified.entity, qualified.features))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let pool = scored.len();
    scored.truncate(limit);
    let labels = scored
        .iter()
        .flat_map(|(_, job, _)| job.input.required_skills.iter().chain(&job.input.preferred_skills))
        .map(String::as_str)
        .chain(facts.skills.iter().copied())
        .collect();
    let vectors = skill_vectors(embeddings, labels).await;
    let matches = scored
        .into_iter()
        .enumerate()
        .map(|(index, (score, job, found))| {
            let mut job_facts = job_facts(job);
            give_kin(&mut job_facts, &facts.skills, &vectors);
            let explained = explain(&model, &job_facts, &facts, &found);
            JobMatch {
                job: job.id,
                title: job.input.title.clone(),
                rank: index + 1,
                score,
                features: explained.contributions.into_iter().map(contribution).collect(),
                strengths: explained.strengths,
                gaps: explained.gaps,
            }
        })
        .collect();
    Ok(JobMatchList { model: embeddings.model_id().to_owned(), ranker, pool, matches })
}

fn contribution(c: Contribution) -> FeatureContribution {
    FeatureContribution {
        feature: c.feature.to_owned(),
        value: c.value,
        weight: c.weight,
        contribution: c.contribution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_are_a_valid_policy() {
        let policy = FairnessPolicy::from_settings(&FairnessSettings::default()).expect("valid");
        assert_eq!(policy.attribute, Attribute::Newcomer);
        assert!(policy.amortise);
    }

    #[test]
    fn an_invalid_policy_names_the_setting_at_fault() {
        let field = |settings: FairnessSettings| {
            FairnessPolicy::from_settings(&settings).err().map(|err| err.field)
        };
        let base = FairnessSettings::default;
        assert_eq!(
            field(FairnessSettings { attribute: "a b".into(), ..base() }),
            Some("attribute")
        );
        let targets = [("newcomer".to_owned(), 0.7), ("established".to_owned(), 0.4)].into();
        assert_eq!(field(FairnessSettings { targets, ..base() }), Some("targets"));
        assert_eq!(field(FairnessSettings { window_days: 0, ..base() }), Some("window_days"));
        assert_eq!(
            field(FairnessSettings { max_correction: 1.5, ..base() }),
            Some("max_correction")
        );
        let fa_ir = FairnessSettings {
            algorithm: FairAlgorithm::FaIr,
            attribute: "gender".into(),
            ..base()
        };
        assert_eq!(field(fa_ir.clone()), Some("protected"));
        assert_eq!(field(FairnessSettings { protected: Some("woman".into()), ..fa_ir }), None);
    }

    #[test]
    fn only_reports_by_a_declared_attribute_are_redacted() {
        let metrics = GroupMetrics {
            min_skew: Some(0.0),
            max_skew: Some(0.0),
            absent: Vec::new(),
            ndkl: Some(0.0),
            exposure: vec![1.0],
        };
        let report = |attribute: &Attribute| FairnessReport {
            attribute: attribute.describe(),
            algorithm: FairAlgorithm::DetConstSort,
            amortised: true,
            self_declared: matches!(attribute, Attribute::Declared(_)),
            redacted: false,
            groups: vec!["a".into()],
            desired: vec![1.0],
            target: vec![1.0],
            before: Some(metrics.clone()),
            after: Some(metrics.clone()),
            newcomers: None,
        };
        let mut newcomer = report(&Attribute::Newcomer);
        newcomer.redact();
        assert!(!newcomer.redacted && newcomer.after.is_some());
        let mut declared = report(&Attribute::Declared("gender".into()));
        declared.redact();
        assert!(declared.redacted && declared.groups.is_empty() && declared.after.is_none());
    }
}
