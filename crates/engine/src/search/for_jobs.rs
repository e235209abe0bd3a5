//! Searching the open jobs (`GET /jobs`, the portal's board).

use std::collections::BTreeMap;

use fairgig_core::{ids::JobId, marketplace::JobStatus};
use fairgig_search::{Filters, Highlight};
use fairgig_store::marketplace::Job;

use super::{
    check_page, embed_query, meaning_ids, page, price_bands, top, Fused, SortBy, FACET_VALUES,
};
use crate::{
    error::{Error, Result},
    Caller, Engine,
};

/// What a searcher asks for.
#[derive(Clone, Debug, Default)]
pub struct JobSearchQuery {
    /// Free text; blank lists every job that passes the filters, newest first.
    pub text: String,
    pub filters: Filters,
    /// 1–[`MAX_PAGE`](super::MAX_PAGE).
    pub limit: usize,
    /// Where this page starts (the previous page's `next`).
    pub offset: usize,
    pub sort: SortBy,
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
    /// meaning alone among the best [`DEPTH`](super::DEPTH).
    pub total: usize,
    /// Counted over the best [`DEPTH`](super::DEPTH) matches.
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
    check_page(&query.text, query.limit, query.offset)?;
    let failed = |err: anyhow::Error| Error::Internal(err.context("searching jobs"));
    if engine.job_search.refresh(&engine.store).await.map_err(failed)?.is_none() {
        return from_store(engine, query).await;
    }
    let depth = query.sort.depth(query.offset, query.limit);
    let found = engine
        .job_search
        .search(&query.text, &query.filters, depth)
        .map_err(|err| failed(err.into()))?;
    let vector_ids = if query.text.trim().is_empty() {
        Vec::new()
    } else {
        by_meaning(engine, query, depth).await
    };
    let mut fused = Fused::new(found, vector_ids);
    let pool: Vec<JobId> = fused.pool.iter().map(|id| JobId::from_uuid(*id)).collect();
    let jobs = engine.store.jobs_by_ids(&pool).await?;
    // The store is read after the index: a job closed in between drops out.
    let mut open: Vec<&Job> = jobs.iter().filter(|job| job.status == JobStatus::Open).collect();
    match query.sort {
        SortBy::Relevance => {}
        SortBy::Newest => open.sort_by_key(|job| std::cmp::Reverse(job.updated_at)),
        SortBy::Price => {
            open.sort_by_key(|job| std::cmp::Reverse(job.input.max_hourly_minor.unwrap_or(-1)))
        }
    }
    let (shown, next) = page(&open, query.offset, query.limit);
    let hits: Vec<JobHit> = shown
        .iter()
        .map(|job| {
            let ranked = fused.explain(job.id.as_uuid());
            JobHit {
                job: (*job).clone(),
                score: ranked.score,
                highlight: ranked.highlight,
                text_rank: ranked.text_rank,
                vector_rank: ranked.vector_rank,
            }
        })
        .collect();
    let total = fused.total(open.iter().map(|job| job.id.as_uuid()));
    Ok(JobSearchPage { hits, total, facets: facets(&open), next })
}

/// The open jobs nearest in meaning to the query that pass the filters;
/// empty (words alone rank) when the embedding provider or the vector
/// index is not available.
async fn by_meaning(engine: &Engine, query: &JobSearchQuery, depth: usize) -> Vec<uuid::Uuid> {
    let Some(vector) = embed_query(engine, &query.text).await else { return Vec::new() };
    meaning_ids(
        engine.job_index.nearest(&engine.store, &vector, depth).await,
        |job| passes(job, &query.filters),
        |job| job.id.as_uuid(),
    )
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
    let (shown, next) = page(&matching, query.offset, query.limit);
    let hits = shown
        .iter()
        .map(|job| JobHit {
            job: (*job).clone(),
            score: 0.0,
            highlight: Highlight::default(),
            text_rank: None,
            vector_rank: None,
        })
        .collect();
    Ok(JobSearchPage { hits, total: matching.len(), facets: facets(&matching), next })
}

fn facets(jobs: &[&Job]) -> Facets {
    let mut skills = BTreeMap::new();
    let mut regions = BTreeMap::new();
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
    }
    let budget_bands = price_bands(jobs.iter().filter_map(|job| job.input.max_hourly_minor));
    Facets { skills: top(skills, FACET_VALUES), regions: top(regions, FACET_VALUES), budget_bands }
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
    use crate::{candidates::Built, search::JobSearch};

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
            let folder = tempfile::tempdir().expect("folder");
            let search = JobSearch::new(Some(folder.path().join("jobs")));
            assert_eq!(search.refresh(&store).await.expect("look"), None, "not built yet");
            assert_eq!(search.build(&store).await.expect("build"), (1, Built::Rebuilt));
            // Inside the look-back overlap the job is read again, unchanged.
            assert_eq!(search.refresh(&store).await.expect("look"), Some(0));
            store
                .set_job_status(job.id, JobStatus::Open, JobStatus::Cancelled, false)
                .await
                .expect("close");
            assert_eq!(search.refresh(&store).await.expect("look"), Some(1));
            assert_eq!(search.refresh(&store).await.expect("look"), Some(0));
            let found = search.search("plumbing", &Filters::default(), 10).expect("search");
            assert!(found.hits.is_empty());

            // A restart reopens the folder and applies what changed meanwhile.
            store
                .set_job_status(job.id, JobStatus::Cancelled, JobStatus::Open, false)
                .await
                .expect("reopen");
            drop(search);
            let restarted = JobSearch::new(Some(folder.path().join("jobs")));
            assert_eq!(restarted.build(&store).await.expect("load"), (1, Built::FromSnapshot));
            let found = restarted.search("plumbing", &Filters::default(), 10).expect("search");
            assert_eq!(found.hits.len(), 1, "the job reopened while it was down is found");
            store
                .set_job_status(job.id, JobStatus::Open, JobStatus::Cancelled, false)
                .await
                .expect("close again");
            drop(restarted);
            let again = JobSearch::new(Some(folder.path().join("jobs")));
            assert_eq!(again.build(&store).await.expect("load"), (0, Built::FromSnapshot));
        })
        .await;
    }
}
