//! `fairgig eval search`: how well job search ranks, on third-party data
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
    io::Read,
    path::Path,
    time::Instant,
};

use anyhow::Context;
use fairgig_core::{config::Settings, marketplace::JobStatus};
use fairgig_engine::{
    search::{self, JobSearchQuery, ProfileSearchQuery},
    Caller, Credential,
};
use fairgig_store::{
    embeddings::EntityKind,
    marketplace::{JobInput, JobReview},
};

/// Hits read per query, a page at a time: the fused pool's best 200
/// recover each half's best few dozen, enough to fuse them again with other
/// constants and weights and to judge each half's top ten.
const READ: usize = 200;
const CUTOFF: usize = 10;
/// Essential skills kept per job.
const SKILLS_PER_JOB: usize = 10;

struct Occupation {
    uri: String,
    isco: String,
    title: String,
    description: String,
    alternatives: Vec<String>,
}

/// The CSV `name` inside the zip `archive`, as rows of named columns.
fn csv_rows(archive: &Path, name: &str) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut zip =
        zip::ZipArchive::new(file).with_context(|| format!("reading {}", archive.display()))?;
    let mut text = String::new();
    zip.by_name(name)
        .with_context(|| format!("{name} in {}", archive.display()))?
        .read_to_string(&mut text)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(
            headers.iter().map(str::to_owned).zip(record.iter().map(str::to_owned)).collect(),
        );
    }
    Ok(rows)
}

/// Each occupation's essential skill names, by occupation URI.
type EssentialSkills = HashMap<String, Vec<String>>;

fn load(esco: &Path) -> anyhow::Result<(Vec<Occupation>, EssentialSkills)> {
    let classification = esco.join("ESCO-v1.1.1-classification-en-csv.zip");
    let relations = esco.join("ESCO-v1.1.1-relations-csv.zip");
    let field =
        |row: &HashMap<String, String>, name: &str| row.get(name).cloned().unwrap_or_default();
    let occupations: Vec<Occupation> = csv_rows(&classification, "occupations_en.csv")?
        .iter()
        .map(|row| {
            let title = field(row, "preferredLabel");
            Occupation {
                uri: field(row, "conceptUri"),
                isco: field(row, "iscoGroup"),
                alternatives: field(row, "altLabels")
                    .lines()
                    .map(str::trim)
                    .filter(|alt| !alt.is_empty() && !alt.eq_ignore_ascii_case(&title))
                    .map(str::to_owned)
                    .collect(),
                description: field(row, "description"),
                title,
            }
        })
        .collect();
    let skill_names: HashMap<String, String> = csv_rows(&classification, "skills_en.csv")?
        .iter()
        .map(|row| (field(row, "conceptUri"), field(row, "preferredLabel")))
        .collect();
    let mut essential = EssentialSkills::new();
    for row in csv_rows(&relations, "occupationSkillRelations.csv")? {
        if field(&row, "relationType") != "essential" {
            continue;
        }
        let skills = essential.entry(field(&row, "occupationUri")).or_default();
        if skills.len() < SKILLS_PER_JOB {
            if let Some(name) = skill_names.get(&field(&row, "skillUri")) {
                skills.push(name.clone());
            }
        }
    }
    Ok((occupations, essential))
}

/// nDCG@10 of `ranked` (best first) under `grade`.
fn ndcg(ranked: &[usize], grade: impl Fn(usize) -> f64, ideal: &[f64]) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(CUTOFF)
        .enumerate()
        .map(|(at, doc)| (2f64.powf(grade(*doc)) - 1.0) / ((at + 2) as f64).log2())
        .sum();
    let best: f64 = ideal
        .iter()
        .take(CUTOFF)
        .enumerate()
        .map(|(at, g)| (2f64.powf(*g) - 1.0) / ((at + 2) as f64).log2())
        .sum();
    if best == 0.0 {
        0.0
    } else {
        dcg / best
    }
}

pub async fn search_relevance(base: &Settings, esco: &Path, queries: usize) -> anyhow::Result<()> {
    let (occupations, essential) = load(esco)?;
    let dir = tempfile::tempdir().context("temporary directory")?;
    let mut settings = base.clone();
    settings.data_dir = dir.path().to_path_buf();
    settings.database.url = None;
    settings.rate_limit.enabled = false;
    let engine = fairgig_engine::Engine::build(settings).await?;
    engine.store.migrate().await?;
    engine.embeddings.start().await?;
    let owner = crate::seed_client(&engine, "eval@example.org", "relevance under test 42").await?;
    let caller = Caller {
        user: owner.clone(),
        credential: Credential::Session(fairgig_core::ids::SessionId::new()),
    };
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
            required_skills: essential.get(&occupation.uri).cloned().unwrap_or_default(),
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

/// Embeds `texts` with the engine's model and stores each as `ids`' vector.
async fn embed_all(
    engine: &fairgig_engine::Engine,
    kind: EntityKind,
    ids: &[uuid::Uuid],
    texts: &[String],
) -> anyhow::Result<()> {
    for (chunk_ids, chunk_texts) in ids.chunks(64).zip(texts.chunks(64)) {
        let embedded = engine.embeddings.embed(chunk_texts).await?;
        for (id, vector) in chunk_ids.iter().zip(&embedded.vectors) {
            engine
                .store
                .put_entity_embedding(kind, *id, engine.embeddings.model_id(), "", vector)
                .await?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_lower_otherwise() {
        let grade = |doc: usize| [2.0, 1.0, 0.0][doc];
        let ideal = [2.0, 1.0];
        assert!((ndcg(&[0, 1, 2], grade, &ideal) - 1.0).abs() < 1e-12);
        let swapped = ndcg(&[1, 0, 2], grade, &ideal);
        assert!(swapped < 1.0 && swapped > 0.5, "{swapped}");
        assert_eq!(ndcg(&[2], grade, &ideal), 0.0);
        assert_eq!(ndcg(&[], grade, &[]), 0.0);
    }
}
