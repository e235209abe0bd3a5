//! Searching the open jobs: words by BM25 (the full-text index) and by
//! meaning (the query's embedding against the open jobs' vectors), fused
//! by reciprocal rank fusion, with the same hard filters on both halves,
//! facet counts over the best matches, and an offset cursor.
//!
//! Keeping in step, like the candidate indexes: built from the database in
//! the background at start, then before each search the jobs changed since
//! the last look (minus [`OVERLAP`]) are applied, so a job opened or closed
//! through another replica is found (or not) by the next search here. A
//! job is in the index only while open. Until the first build finishes a
//! search answers from the newest open jobs in the store.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use fairgig_core::{ids::JobId, marketplace::JobStatus};
use fairgig_search::{reciprocal_rank_fusion, Filters, Highlight, SearchDoc, TextIndex, RRF_K};
use fairgig_store::{marketplace::Job, Store};
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::{
    candidates::OVERLAP,
    error::{Error, Result},
    Caller, Engine,
};

/// Most hits on one page.
pub const MAX_PAGE: usize = 50;
/// The deepest a cursor may reach: past this, refine the search.
const MAX_OFFSET: usize = 1_000;
/// How deep each half ranks before fusion, and the pool facets count over.
const DEPTH: usize = 200;
/// The least cosine similarity at which a job counts as about the query by
/// meaning alone (all-MiniLM-L6-v2: unrelated short texts score about
/// 0.0–0.25, paraphrases above 0.5); below it only its words can find it.
const MEANING_FLOOR: f32 = 0.3;
/// The weights of the words' and the meaning's ranks in the fusion, set by
/// `fairgig eval search` (chosen on one half of its queries, reported on
/// the other; see the README).
pub const TEXT_WEIGHT: f64 = 1.0;
pub const VECTOR_WEIGHT: f64 = 1.5;
/// Facet values listed per facet.
const FACET_VALUES: usize = 10;
/// Budget bands for the facet, in minor units per hour: (label, up to).
const BUDGET_BANDS: [(&str, i64); 4] =
    [("under 30", 3_000), ("30–60", 6_000), ("60–100", 10_000), ("100 and more", i64::MAX)];

/// The open jobs' full-text index and how far it has caught up.
pub struct JobSearch {
    text: TextIndex,
    /// `None` until built.
    caught_up: Mutex<Option<CaughtUp>>,
}

/// Where the next look starts, and each indexed job's change time: a job
/// seen again inside the look-back overlap, unchanged, is not indexed
/// (and committed) again at every search.
struct CaughtUp {
    cursor: OffsetDateTime,
    indexed: HashMap<uuid::Uuid, OffsetDateTime>,
}

impl std::fmt::Debug for JobSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSearch").field("text", &self.text).finish()
    }
}

fn document(job: &Job) -> SearchDoc {
    SearchDoc {
        id: job.id.as_uuid(),
        title: job.input.title.clone(),
        body: job.input.description.clone(),
        skills: job.input.required_skills.clone(),
        region: job.input.region.clone(),
        remote: job.input.remote,
        price_minor: job.input.max_hourly_minor,
        updated_unix: job.updated_at.unix_timestamp(),
    }
}

impl JobSearch {
    pub fn new() -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(JobSearch { text: TextIndex::in_memory()?, caught_up: Mutex::new(None) }))
    }

    /// Indexes every open job (at start, in the background).
    pub async fn build(&self, store: &Store) -> anyhow::Result<u64> {
        let mut guard = self.caught_up.lock().await;
        let started = OffsetDateTime::now_utc();
        let mut caught_up = CaughtUp { cursor: started - OVERLAP, indexed: HashMap::new() };
        self.apply(&mut caught_up, store.jobs_changed_since(OffsetDateTime::UNIX_EPOCH).await?)?;
        *guard = Some(caught_up);
        Ok(self.text.len())
    }

    /// Applies the jobs changed since the last look; `None` before the
    /// build, else how many changed the index.
    pub async fn refresh(&self, store: &Store) -> anyhow::Result<Option<usize>> {
        let mut guard = self.caught_up.lock().await;
        let Some(caught_up) = guard.as_mut() else { return Ok(None) };
        let started = OffsetDateTime::now_utc();
        let changed = self.apply(caught_up, store.jobs_changed_since(caught_up.cursor).await?)?;
        caught_up.cursor = started - OVERLAP;
        Ok(Some(changed))
    }

    /// Indexes open jobs and drops the others, skipping rows seen before
    /// with the same change time; commits only when something changed.
    fn apply(&self, caught_up: &mut CaughtUp, jobs: Vec<Job>) -> anyhow::Result<usize> {
        let mut changed = 0;
        for job in &jobs {
            let id = job.id.as_uuid();
            if caught_up.indexed.get(&id) == Some(&job.updated_at) {
                continue;
            }
            if job.status == JobStatus::Open {
                self.text.upsert(&document(job))?;
                caught_up.indexed.insert(id, job.updated_at);
            } else if caught_up.indexed.remove(&id).is_some() {
                self.text.remove(id)?;
            } else {
                continue;
            }
            changed += 1;
        }
        if changed > 0 {
            self.text.commit()?;
        }
        Ok(changed)
    }
}

/// What a searcher asks for.
#[derive(Clone, Debug, Default)]
pub struct JobSearchQuery {
    /// Free text; blank lists every job that passes the filters, newest first.
    pub text: String,
    pub filters: Filters,
    /// 1–[`MAX_PAGE`].
    pub limit: usize,
    /// Where this page starts (the previous page's `next`).
    pub offset: usize,
}

/// A found job, with where its text matched and why it ranks here.
#[derive(Clone, Debug)]
pub struct JobHit {
    pub job: Job,
    /// The fused score (higher first).
    pub score: f64,
    pub highlight: Highlight,
    /// Its rank (from 1) by words and by meaning, where it was found.
    pub text_rank: Option<usize>,
    pub vector_rank: Option<usize>,
}

/// Counts of the best matches by skill, region and budget band.
#[derive(Clone, Debug, Default)]
pub struct Facets {
    pub skills: Vec<(String, usize)>,
    pub regions: Vec<(String, usize)>,
    pub budget_bands: Vec<(String, usize)>,
}

#[derive(Clone, Debug, Default)]
pub struct JobSearchPage {
    pub hits: Vec<JobHit>,
    /// How many open jobs match: by their words, plus those found by
    /// meaning alone among the best [`DEPTH`].
    pub total: usize,
    /// Counted over the best [`DEPTH`] matches.
    pub facets: Facets,
    /// The offset of the next page, when there is one.
    pub next: Option<usize>,
}

/// Whether a job passes the hard filters (the vector half is filtered here;
/// the text half inside the index).
fn passes(job: &Job, filters: &Filters) -> bool {
    let input = &job.input;
    let skills: Vec<String> =
        input.required_skills.iter().map(|s| s.trim().to_lowercase()).collect();
    filters.skills.iter().all(|wanted| skills.contains(&wanted.trim().to_lowercase()))
        && (!filters.remote_only || input.remote)
        && filters.region.as_deref().map(str::trim).filter(|r| !r.is_empty()).is_none_or(|region| {
            input.remote || input.region.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(region))
        })
        && filters.price_min.is_none_or(|min| input.max_hourly_minor.is_some_and(|p| p >= min))
        && filters.price_max.is_none_or(|max| input.max_hourly_minor.is_some_and(|p| p <= max))
        && filters.since_unix.is_none_or(|since| job.updated_at.unix_timestamp() >= since)
}

/// Searches the open jobs: public (the portal's board), or for a caller
/// whose credential may read.
pub async fn jobs(
    engine: &Engine,
    caller: Option<&Caller>,
    query: &JobSearchQuery,
) -> Result<JobSearchPage> {
    if let Some(caller) = caller {
        caller.require(fairgig_core::api_key::Scope::Read)?;
    }
    if !(1..=MAX_PAGE).contains(&query.limit) {
        return Err(fairgig_core::ValidationError::new("limit", "must be 1-50").into());
    }
    if query.offset > MAX_OFFSET {
        return Err(fairgig_core::ValidationError::new("cursor", "is past the last page").into());
    }
    if query.text.chars().count() > 500 {
        return Err(fairgig_core::ValidationError::new("q", "at most 500 characters").into());
    }
    let failed = |err: anyhow::Error| Error::Internal(err.context("searching jobs"));
    if engine.job_search.refresh(&engine.store).await.map_err(failed)?.is_none() {
        return from_store(engine, query).await;
    }
    let depth = DEPTH.max(query.offset + query.limit);
    let found = engine
        .job_search
        .text
        .search(&query.text, &query.filters, depth)
        .map_err(|err| failed(err.into()))?;
    let text_ids: Vec<uuid::Uuid> = found.hits.iter().map(|hit| hit.id).collect();
    let mut highlights: HashMap<uuid::Uuid, Highlight> =
        found.hits.iter().map(|hit| (hit.id, hit.highlight.clone())).collect();
    let vector_ids = if query.text.trim().is_empty() {
        Vec::new()
    } else {
        by_meaning(engine, query, depth).await
    };
    let fused =
        reciprocal_rank_fusion(&[(&text_ids, TEXT_WEIGHT), (&vector_ids, VECTOR_WEIGHT)], RRF_K);
    let rank_in =
        |list: &[uuid::Uuid], id: uuid::Uuid| list.iter().position(|x| *x == id).map(|r| r + 1);
    let pool: Vec<JobId> = fused.iter().map(|(id, _)| JobId::from_uuid(*id)).collect();
    let jobs = engine.store.jobs_by_ids(&pool).await?;
    // The store is read after the index: a job closed in between drops out.
    let open: Vec<&Job> = jobs.iter().filter(|job| job.status == JobStatus::Open).collect();
    let facets = facets(&open);
    let scores: HashMap<uuid::Uuid, f64> = fused.into_iter().collect();
    let hits: Vec<JobHit> = open
        .iter()
        .skip(query.offset)
        .take(query.limit)
        .map(|job| {
            let id = job.id.as_uuid();
            JobHit {
                job: (*job).clone(),
                score: scores.get(&id).copied().unwrap_or_default(),
                highlight: highlights.remove(&id).unwrap_or_default(),
                text_rank: rank_in(&text_ids, id),
                vector_rank: rank_in(&vector_ids, id),
            }
        })
        .collect();
    let next = (query.offset + query.limit < open.len()).then_some(query.offset + query.limit);
    // Every job the words found, and those found by meaning alone.
    let by_meaning_only = open.iter().filter(|job| !text_ids.contains(&job.id.as_uuid())).count();
    Ok(JobSearchPage { hits, total: found.total + by_meaning_only, facets, next })
}

/// The open jobs nearest in meaning to the query that pass the filters;
/// empty (words alone rank) when the embedding provider or the vector
/// index is not available.
async fn by_meaning(engine: &Engine, query: &JobSearchQuery, depth: usize) -> Vec<uuid::Uuid> {
    let vector = match engine.embeddings.embed(std::slice::from_ref(&query.text)).await {
        Ok(mut embedded) => match embedded.vectors.pop() {
            Some(vector) => vector,
            None => return Vec::new(),
        },
        Err(err) => {
            tracing::warn!(error = %err, "search without the vector half");
            return Vec::new();
        }
    };
    match engine.job_index.nearest(&engine.store, &vector, depth).await {
        Ok(Some(proposed)) => proposed
            .into_iter()
            .filter(|p| p.similarity >= MEANING_FLOOR && passes(&p.entity, &query.filters))
            .map(|p| p.entity.id.as_uuid())
            .collect(),
        Ok(None) => Vec::new(),
        Err(err) => {
            tracing::warn!(error = %err, "search without the vector half");
            Vec::new()
        }
    }
}

/// Before the index is built: the newest open jobs that pass the filters
/// and contain every word.
async fn from_store(engine: &Engine, query: &JobSearchQuery) -> Result<JobSearchPage> {
    let words: Vec<String> = query.text.split_whitespace().map(str::to_lowercase).collect();
    let jobs = engine.store.open_jobs(500).await?;
    let matching: Vec<&Job> = jobs
        .iter()
        .filter(|job| passes(job, &query.filters))
        .filter(|job| {
            let haystack = format!(
                "{} {} {}",
                job.input.title,
                job.input.description,
                job.input.required_skills.join(" ")
            )
            .to_lowercase();
            words.iter().all(|word| haystack.contains(word.as_str()))
        })
        .collect();
    let hits = matching
        .iter()
        .skip(query.offset)
        .take(query.limit)
        .map(|job| JobHit {
            job: (*job).clone(),
            score: 0.0,
            highlight: Highlight::default(),
            text_rank: None,
            vector_rank: None,
        })
        .collect();
    let next = (query.offset + query.limit < matching.len()).then_some(query.offset + query.limit);
    Ok(JobSearchPage { hits, total: matching.len(), facets: facets(&matching), next })
}

fn facets(jobs: &[&Job]) -> Facets {
    let top = |counts: BTreeMap<String, usize>| {
        let mut counted: Vec<(String, usize)> = counts.into_iter().collect();
        counted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counted.truncate(FACET_VALUES);
        counted
    };
    let mut skills = BTreeMap::new();
    let mut regions = BTreeMap::new();
    let mut bands = BTreeMap::new();
    for job in jobs {
        for skill in &job.input.required_skills {
            *skills.entry(skill.trim().to_lowercase()).or_insert(0) += 1;
        }
        let region = if job.input.remote {
            "remote".to_owned()
        } else {
            job.input.region.clone().unwrap_or_else(|| "remote".to_owned())
        };
        *regions.entry(region).or_insert(0) += 1;
        if let Some(price) = job.input.max_hourly_minor {
            if let Some((label, _)) = BUDGET_BANDS.iter().find(|(_, up_to)| price < *up_to) {
                *bands.entry((*label).to_owned()).or_insert(0) += 1;
            }
        }
    }
    let mut budget_bands: Vec<(String, usize)> = BUDGET_BANDS
        .iter()
        .filter_map(|(label, _)| bands.get(*label).map(|count| ((*label).to_owned(), *count)))
        .collect();
    budget_bands.retain(|(_, count)| *count > 0);
    Facets { skills: top(skills), regions: top(regions), budget_bands }
}

#[cfg(test)]
mod tests {
    use fairgig_core::user::{DisplayName, Email, Role};
    use fairgig_store::{
        marketplace::{JobInput, JobReview},
        test_support::on_every_backend,
        users::NewUser,
    };

    use super::*;

    #[tokio::test]
    async fn a_look_applies_only_what_changed_and_a_closed_job_leaves() {
        on_every_backend(|store| async move {
            let owner = store
                .create_user(NewUser {
                    email: Email::parse("owner@example.org").expect("email"),
                    display_name: DisplayName::parse("Owner").expect("name"),
                    role: Role::Client,
                    region: None,
                    password_hash: "x".into(),
                })
                .await
                .expect("owner");
            let input = JobInput {
                title: "Plumber for a bathroom".into(),
                description: "Replace the pipes.".into(),
                required_skills: vec!["plumbing".into()],
                preferred_skills: vec![],
                max_hourly_minor: None,
                currency: None,
                region: None,
                remote: true,
                utc_offset_minutes: None,
                experience_level: None,
            };
            let job = store
                .create_job(owner.id, None, &input, JobStatus::Open, &JobReview::unchecked())
                .await
                .expect("job");
            let search = JobSearch::new().expect("index");
            assert_eq!(search.refresh(&store).await.expect("look"), None, "not built yet");
            assert_eq!(search.build(&store).await.expect("build"), 1);
            // Inside the look-back overlap the job is read again, unchanged.
            assert_eq!(search.refresh(&store).await.expect("look"), Some(0));
            store
                .set_job_status(job.id, JobStatus::Open, JobStatus::Cancelled, false)
                .await
                .expect("close");
            assert_eq!(search.refresh(&store).await.expect("look"), Some(1));
            assert_eq!(search.refresh(&store).await.expect("look"), Some(0));
            let found = search.text.search("plumbing", &Filters::default(), 10).expect("search");
            assert!(found.hits.is_empty());
        })
        .await;
    }
}
