//! `fairgig eval search`: how well search ranks jobs and freelancers, on third-party data
//! the product was not built from.
//!
//! From the official ESCO v1.1.1 export (`../shared/data/skills/esco-v1.1.1`):
//! each of the 3,007 occupations becomes an open job (title: its preferred
//! label, description: its ESCO description, required skills: its first ten
//! essential skills). Queries are written from alternative labels ("head of
//! technical" for *technical director*), never the preferred label. Graded
//! relevance: the query's own occupation 2, other occupations of the same
//! 4-digit ISCO unit group 1. nDCG@10 is reported for words alone (BM25),
//! meaning alone (the embedding model) and the fused ranking, all read from
//! one run of the product's own `engine::search::jobs` (each hit says its
//! rank in each half).

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    time::Instant,
};

use super::{
    embed_all,
    esco::{load, EssentialSkills, Occupation},
    ndcg, Scratch,
};
use fairgig_core::{config::Settings, marketplace::JobStatus};
use fairgig_engine::search::{self, JobSearchQuery, ProfileSearchQuery};
use fairgig_store::{
    embeddings::EntityKind,
    marketplace::{JobInput, JobReview},
};

/// Hits read per query, a page at a time: the fused pool's best 200
/// recover each half's best few dozen, enough to fuse them again with other
/// constants and weights and to judge each half's top ten.
const READ: usize = 200;
/// Essential skills kept per job and freelancer.
const SKILLS_PER_JOB: usize = 10;

pub async fn search_relevance(base: &Settings, esco: &Path, queries: usize) -> anyhow::Result<()> {
    let (occupations, essential) = load(esco)?;
    let Scratch { engine, owner, caller, dir: _dir } = Scratch::new(base).await?;
    // Every occupation with an alternative label, spread over the list;
    // each is asked for by one of its alternative labels.
    let candidates: Vec<usize> =
        (0..occupations.len()).filter(|at| !occupations[*at].alternatives.is_empty()).collect();
    let step = (candidates.len() / queries.max(1)).max(1);
    let asked: Vec<usize> = candidates.iter().step_by(step).take(queries).copied().collect();
    let label = |target: usize| {
        let alternatives = &occupations[target].alternatives;
        alternatives[target % alternatives.len()].clone()
    };
    let set = Judging { occupations: &occupations, asked: &asked };

    let started = Instant::now();
    let job_of = seed_jobs(&engine, &owner, &occupations, &essential).await?;
    println!(
        "{} ESCO occupations as open jobs, embedded by {} and indexed in {:.1} s",
        occupations.len(),
        engine.embeddings.model_id(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let judged = set
        .judge(label, async |text, offset| {
            let query =
                JobSearchQuery { text, limit: search::MAX_PAGE, offset, ..Default::default() };
            let page = search::jobs(&engine, Some(&caller), &query)
                .await
                .map_err(|err| anyhow::anyhow!("searching jobs: {err}"))?;
            let hits = page
                .hits
                .iter()
                .filter_map(|hit| {
                    Some(HitRead {
                        words: hit.text_rank,
                        meaning: hit.vector_rank,
                        doc: *job_of.get(&hit.job.id.as_uuid())?,
                    })
                })
                .collect();
            Ok((hits, page.next))
        })
        .await?;
    set.report("jobs", &judged, started.elapsed());

    // Freelancers name themselves in other words than the query: the
    // headline is another alternative label where there is one.
    let headline = |at: usize| {
        let occupation = &occupations[at];
        let asked_as = occupation.alternatives.get(at % occupation.alternatives.len().max(1));
        occupation
            .alternatives
            .iter()
            .find(|alt| Some(*alt) != asked_as)
            .unwrap_or(&occupation.title)
            .clone()
    };
    let started = Instant::now();
    let profile_of = seed_profiles(&engine, &occupations, &essential, headline).await?;
    println!(
        "{} ESCO occupations as freelancers (headline: another alternative label), embedded and indexed in {:.1} s",
        occupations.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let judged = set
        .judge(label, async |text, offset| {
            let query =
                ProfileSearchQuery { text, limit: search::MAX_PAGE, offset, ..Default::default() };
            let page = search::profiles(&engine, &caller, &query)
                .await
                .map_err(|err| anyhow::anyhow!("searching freelancers: {err}"))?;
            let hits = page
                .hits
                .iter()
                .filter_map(|hit| {
                    Some(HitRead {
                        words: hit.text_rank,
                        meaning: hit.vector_rank,
                        doc: *profile_of.get(&hit.profile.user_id.as_uuid())?,
                    })
                })
                .collect();
            Ok((hits, page.next))
        })
        .await?;
    set.report("freelancers", &judged, started.elapsed());
    let distinct: HashSet<&str> = occupations.iter().map(|o| o.isco.as_str()).collect();
    println!("({} ISCO unit groups)", distinct.len());
    Ok(())
}

/// Each occupation as an open job; the job's id → the occupation's index.
async fn seed_jobs(
    engine: &fairgig_engine::Engine,
    owner: &fairgig_core::user::User,
    occupations: &[Occupation],
    essential: &EssentialSkills,
) -> anyhow::Result<HashMap<uuid::Uuid, usize>> {
    let mut of = HashMap::new();
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    for (at, occupation) in occupations.iter().enumerate() {
        let input = JobInput {
            title: occupation.title.clone(),
            description: occupation.description.clone(),
            required_skills: essential
                .get(&occupation.uri)
                .into_iter()
                .flatten()
                .take(SKILLS_PER_JOB)
                .cloned()
                .collect(),
            preferred_skills: vec![],
            max_hourly_minor: None,
            currency: None,
            region: None,
            remote: true,
            utc_offset_minutes: None,
            experience_level: None,
        };
        let job = engine
            .store
            .create_job(owner.id, None, &input, JobStatus::Open, &JobReview::unchecked())
            .await?;
        of.insert(job.id.as_uuid(), at);
        texts.push(fairgig_engine::matching::job_text(&input));
        ids.push(job.id.as_uuid());
    }
    embed_all(engine, EntityKind::Job, &ids, &texts).await?;
    engine.job_index.build(&engine.store).await?;
    engine.job_search.build(&engine.store).await?;
    Ok(of)
}

/// Each occupation as a freelancer open to work (bio: the description,
/// skills: the essential ones); the user's id → the occupation's index.
async fn seed_profiles(
    engine: &fairgig_engine::Engine,
    occupations: &[Occupation],
    essential: &EssentialSkills,
    headline: impl Fn(usize) -> String,
) -> anyhow::Result<HashMap<uuid::Uuid, usize>> {
    use fairgig_core::marketplace::{Availability, ProfileSkill, SkillLevel};
    use fairgig_store::marketplace::ProfileInput;
    let mut of = HashMap::new();
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    for (at, occupation) in occupations.iter().enumerate() {
        let input = ProfileInput {
            headline: headline(at),
            bio: occupation.description.clone(),
            skills: essential
                .get(&occupation.uri)
                .into_iter()
                .flatten()
                .take(SKILLS_PER_JOB)
                .map(|name| ProfileSkill { name: name.clone(), level: SkillLevel::Expert })
                .collect(),
            hourly_rate_minor: None,
            currency: None,
            region: None,
            utc_offset_minutes: None,
            availability: Availability::Available,
            years_experience: 5.0,
            languages: vec![],
            portfolio: vec![],
            group_attributes: Default::default(),
        };
        let email = format!("occupation{at}@example.org");
        let user = crate::seed_freelancer(&engine.store, &email, at, &input).await?;
        of.insert(user.as_uuid(), at);
        texts.push(fairgig_engine::matching::profile_text(&input));
        ids.push(user.as_uuid());
    }
    embed_all(engine, EntityKind::Profile, &ids, &texts).await?;
    engine.profile_index.build(&engine.store).await?;
    engine.profile_search.build(&engine.store).await?;
    Ok(of)
}

/// The occupations and which of them are asked for.
struct Judging<'a> {
    occupations: &'a [Occupation],
    asked: &'a [usize],
}

/// One page of a search as read: its hits and the next page's offset.
type PageRead = (Vec<HitRead>, Option<usize>);

impl Judging<'_> {
    /// Asks for every occupation by `label`, reading the best [`READ`] hits
    /// of `search(text, offset)` a page at a time, and judges each ranking.
    async fn judge(
        &self,
        label: impl Fn(usize) -> String,
        search: impl AsyncFn(String, usize) -> anyhow::Result<PageRead>,
    ) -> anyhow::Result<Vec<Judged>> {
        let mut judged = Vec::with_capacity(self.asked.len());
        for &target in self.asked {
            let mut hits = Vec::new();
            let mut offset = Some(0);
            while let Some(at) = offset.filter(|at| *at < READ) {
                let (page, next) = search(label(target), at).await?;
                hits.extend(page);
                offset = next;
            }
            judged.push(self.judged(target, &hits));
        }
        Ok(judged)
    }

    /// One query's rankings from its hits in fused order, each with its rank
    /// in the words half and in the meaning half.
    fn judged(&self, target: usize, hits: &[HitRead]) -> Judged {
        let by = |rank: fn(&HitRead) -> Option<usize>| {
            let mut ranked: Vec<(usize, usize)> =
                hits.iter().filter_map(|hit| Some((rank(hit)?, hit.doc))).collect();
            ranked.sort_unstable();
            ranked.into_iter().map(|(_, doc)| doc).collect()
        };
        let isco = &self.occupations[target].isco;
        let same_group = self.occupations.iter().filter(|o| &o.isco == isco).count();
        let mut ideal = vec![2.0];
        ideal.extend(std::iter::repeat_n(1.0, same_group.saturating_sub(1)));
        Judged {
            target,
            ideal,
            words: by(|hit| hit.words),
            meaning: by(|hit| hit.meaning),
            fused: hits.iter().map(|hit| hit.doc).collect(),
        }
    }

    /// nDCG@10 of words alone, meaning alone and the fusion, against the
    /// goal, then the fusion again over constants and weights.
    fn report(&self, what: &str, judged: &[Judged], took: std::time::Duration) {
        let occupations = self.occupations;
        let grade = |query: &Judged, doc: usize| {
            if doc == query.target {
                2.0
            } else if occupations[doc].isco == occupations[query.target].isco {
                1.0
            } else {
                0.0
            }
        };
        let mean = |queries: &[&Judged], ranking: &dyn Fn(&Judged) -> Vec<usize>| -> f64 {
            let total: f64 =
                queries.iter().map(|q| ndcg(&ranking(q), |doc| grade(q, doc), &q.ideal)).sum();
            total / queries.len().max(1) as f64
        };
        let all: Vec<&Judged> = judged.iter().collect();
        // Constants are chosen on the even queries and judged on the odd ones.
        let tuning: Vec<&Judged> = judged.iter().step_by(2).collect();
        let held_out: Vec<&Judged> = judged.iter().skip(1).step_by(2).collect();
        let per_query = took.as_secs_f64() * 1000.0 / judged.len().max(1) as f64;
        println!(
            "{what}: {} queries from alternative labels ({per_query:.1} ms to read the best 200 of each); nDCG@10 (own occupation 2, same ISCO unit group 1), all / tuning half / held-out half:",
            judged.len()
        );
        let row = |name: &str, ranking: &dyn Fn(&Judged) -> Vec<usize>| -> [f64; 3] {
            let figures = [mean(&all, ranking), mean(&tuning, ranking), mean(&held_out, ranking)];
            println!("  {name:<30}{:.3}  {:.3}  {:.3}", figures[0], figures[1], figures[2]);
            figures
        };
        let words = row("words alone (BM25)", &|q| q.words.clone());
        let meaning = row("meaning alone (vectors)", &|q| q.meaning.clone());
        let fused = row("fused, as search ranks", &|q| q.fused.clone());
        let beats = |at: usize| fused[at] > words[at] && fused[at] > meaning[at];
        println!(
            "  goal: fused above both, on all queries and on the held-out half: {}",
            if beats(0) && beats(2) { "met" } else { "NOT met" }
        );
        println!(
            "  the fusion's constant k and weight of meaning (words 1), tuning / held-out (search uses k = {}, weight {}):",
            search::RRF_K,
            search::VECTOR_WEIGHT
        );
        for k in [5.0, 10.0, 20.0, 30.0, 60.0] {
            let cells: Vec<String> = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0]
                .iter()
                .map(|&weight| {
                    let refused = |q: &Judged| fuse(&q.words, &q.meaning, k, weight);
                    format!(
                        "{weight:.1}: {:.3}/{:.3}",
                        mean(&tuning, &refused),
                        mean(&held_out, &refused)
                    )
                })
                .collect();
            println!("    k {k:>2}  {}", cells.join("  "));
        }
    }
}

/// One hit as read, in fused order: its rank in the words half and in the
/// meaning half, and its document's index.
struct HitRead {
    words: Option<usize>,
    meaning: Option<usize>,
    doc: usize,
}

/// One query's rankings, by document index.
struct Judged {
    target: usize,
    ideal: Vec<f64>,
    words: Vec<usize>,
    meaning: Vec<usize>,
    fused: Vec<usize>,
}

/// The two halves fused again with another constant and weight of meaning.
fn fuse(words: &[usize], meaning: &[usize], k: f64, weight: f64) -> Vec<usize> {
    let as_ids = |docs: &[usize]| -> Vec<uuid::Uuid> {
        docs.iter().map(|doc| uuid::Uuid::from_u128(*doc as u128)).collect()
    };
    let (words, meaning) = (as_ids(words), as_ids(meaning));
    fairgig_search::reciprocal_rank_fusion(&[(&words, search::TEXT_WEIGHT), (&meaning, weight)], k)
        .into_iter()
        .map(|(id, _)| id.as_u128() as usize)
        .collect()
}
