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
    search::{self, JobSearchQuery},
    Caller, Credential,
};
use fairgig_store::{
    embeddings::EntityKind,
    marketplace::{JobInput, JobReview},
};

/// Hits read per query: enough to recover each half's own top ten from
/// the fused list (an item in either top ten is within the fused top 20).
const READ: usize = 50;
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

    let started = Instant::now();
    let mut job_of: HashMap<uuid::Uuid, usize> = HashMap::new();
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
        job_of.insert(job.id.as_uuid(), at);
        texts.push(fairgig_engine::matching::job_text(&input));
        ids.push(job.id.as_uuid());
    }
    for (chunk_ids, chunk_texts) in ids.chunks(64).zip(texts.chunks(64)) {
        let embedded = engine.embeddings.embed(chunk_texts).await?;
        for (id, vector) in chunk_ids.iter().zip(&embedded.vectors) {
            engine
                .store
                .put_entity_embedding(
                    EntityKind::Job,
                    *id,
                    engine.embeddings.model_id(),
                    "",
                    vector,
                )
                .await?;
        }
    }
    engine.job_index.build(&engine.store).await?;
    engine.job_search.build(&engine.store).await?;
    println!(
        "{} ESCO occupations as open jobs, embedded by {} and indexed in {:.1} s",
        occupations.len(),
        engine.embeddings.model_id(),
        started.elapsed().as_secs_f64()
    );

    // Every occupation with an alternative label, spread over the list.
    let candidates: Vec<usize> =
        (0..occupations.len()).filter(|at| !occupations[*at].alternatives.is_empty()).collect();
    let step = (candidates.len() / queries.max(1)).max(1);
    let asked: Vec<usize> = candidates.iter().step_by(step).take(queries).copied().collect();
    let caller = Caller {
        user: owner,
        credential: Credential::Session(fairgig_core::ids::SessionId::new()),
    };
    let mut judged = Vec::with_capacity(asked.len());
    let started = Instant::now();
    for &target in &asked {
        let occupation = &occupations[target];
        let text = occupation.alternatives[target % occupation.alternatives.len()].clone();
        let query = JobSearchQuery { text, limit: READ, ..Default::default() };
        let page = search::jobs(&engine, Some(&caller), &query)
            .await
            .map_err(|err| anyhow::anyhow!("searching: {err}"))?;
        let doc = |hit: &search::JobHit| job_of.get(&hit.job.id.as_uuid()).copied();
        let by = |rank: fn(&search::JobHit) -> Option<usize>| -> Vec<usize> {
            let mut ranked: Vec<(usize, usize)> =
                page.hits.iter().filter_map(|hit| Some((rank(hit)?, doc(hit)?))).collect();
            ranked.sort_unstable();
            ranked.into_iter().map(|(_, doc)| doc).collect()
        };
        let same_group = occupations.iter().filter(|o| o.isco == occupation.isco).count();
        let mut ideal = vec![2.0];
        ideal.extend(std::iter::repeat_n(1.0, same_group.saturating_sub(1)));
        judged.push(Judged {
            target,
            ideal,
            words: by(|hit| hit.text_rank),
            meaning: by(|hit| hit.vector_rank),
            fused: page.hits.iter().filter_map(doc).collect(),
        });
    }
    let per_query = started.elapsed().as_secs_f64() * 1000.0 / asked.len().max(1) as f64;
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
    // Weights are chosen on the even queries and judged on the odd ones.
    let tuning: Vec<&Judged> = judged.iter().step_by(2).collect();
    let held_out: Vec<&Judged> = judged.iter().skip(1).step_by(2).collect();
    println!(
        "{} queries from alternative labels ({per_query:.1} ms each); nDCG@10 (own occupation 2, same ISCO unit group 1):",
        judged.len()
    );
    let words = mean(&all, &|q| q.words.clone());
    let meaning = mean(&all, &|q| q.meaning.clone());
    let fused = mean(&all, &|q| q.fused.clone());
    println!("  words alone (BM25)            {words:.3}");
    println!("  meaning alone (vectors)       {meaning:.3}");
    println!(
        "  fused, as search ranks        {fused:.3}  (goal: above both: {})",
        if fused > words && fused > meaning { "met" } else { "NOT met" }
    );
    println!(
        "  weight of meaning in the fusion (words 1): tuning half / held-out half (search uses {})",
        search::VECTOR_WEIGHT
    );
    println!(
        "    words alone: {:.3} / {:.3}; meaning alone: {:.3} / {:.3}",
        mean(&tuning, &|q| q.words.clone()),
        mean(&held_out, &|q| q.words.clone()),
        mean(&tuning, &|q| q.meaning.clone()),
        mean(&held_out, &|q| q.meaning.clone()),
    );
    for weight in [0.5, 1.0, 1.5, 2.0, 3.0, 4.0] {
        let refused = |q: &Judged| fuse(&q.words, &q.meaning, weight);
        println!(
            "    {weight:>3.1}: {:.3} / {:.3}",
            mean(&tuning, &refused),
            mean(&held_out, &refused)
        );
    }
    let distinct: HashSet<&str> = occupations.iter().map(|o| o.isco.as_str()).collect();
    println!("  ({} ISCO unit groups)", distinct.len());
    Ok(())
}

/// One query's rankings, by document index.
struct Judged {
    target: usize,
    ideal: Vec<f64>,
    words: Vec<usize>,
    meaning: Vec<usize>,
    fused: Vec<usize>,
}

/// The two halves fused again with another weight of meaning.
fn fuse(words: &[usize], meaning: &[usize], weight: f64) -> Vec<usize> {
    let as_ids = |docs: &[usize]| -> Vec<uuid::Uuid> {
        docs.iter().map(|doc| uuid::Uuid::from_u128(*doc as u128)).collect()
    };
    let (words, meaning) = (as_ids(words), as_ids(meaning));
    fairgig_search::reciprocal_rank_fusion(
        &[(&words, search::TEXT_WEIGHT), (&meaning, weight)],
        fairgig_search::RRF_K,
    )
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
