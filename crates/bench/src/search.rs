//! `fairgig bench search`: searching `jobs` open jobs and `profiles`
//! freelancers by words and meaning, with and without filters: each index's
//! build time and memory, then p50 and p99 of `engine::search::jobs` and
//! `engine::search::profiles` (the whole use case: catch-up, BM25, the
//! query's embedding and the vector half, fusion, reading the page's rows,
//! facets) against the goal.
//!
//! The texts are built from ESCO-like skill names and a small vocabulary,
//! the vectors random; the query is embedded by the hashing stand-in, so
//! the timings are about search, not the model (`bench embed` times the
//! model).

use std::time::Instant;

use anyhow::Context;
use fairgig_core::config::{EmbeddingProvider, Settings};
use fairgig_engine::search::{self, JobSearchQuery, ProfileSearchQuery};
use fairgig_search::Filters;
use fairgig_store::marketplace::{JobInput, ProfileInput};
use rand::{rngs::StdRng, Rng, SeedableRng};

const P99_GOAL_MS: f64 = 30.0;
/// The vocabulary of the seeded titles and descriptions.
const WORDS: &str = "build migrate tune design review maintain service pipeline shop dashboard \
                     database mobile payments search reports cluster backend frontend tests \
                     security bathroom kitchen garden translation";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// This process's resident memory in MiB (Linux), for the build's cost.
fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Prints one case's p50 and p99 against the goal.
fn report(name: &str, mut millis: Vec<f64>) {
    millis.sort_by(f64::total_cmp);
    let p99 = percentile(&millis, 0.99);
    println!(
        "  {name:<34} p50 {:>6.1} ms  p99 {:>6.1} ms (goal < {P99_GOAL_MS} ms: {})",
        percentile(&millis, 0.5),
        p99,
        if p99 < P99_GOAL_MS { "met" } else { "NOT met" },
    );
}

pub async fn run(
    base: &Settings,
    jobs: usize,
    profiles: usize,
    queries: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let mut settings = base.clone();
    settings.data_dir = dir.path().to_path_buf();
    settings.database.url = None;
    settings.rate_limit.enabled = false;
    settings.embedding.provider = EmbeddingProvider::Hashing;
    let engine = fairgig_engine::Engine::build(settings).await?;
    engine.store.migrate().await?;
    engine.embeddings.start().await?;
    let dimensions = engine.embeddings.dimensions();
    let model = engine.embeddings.model_id().to_owned();
    let client =
        super::seed_client(&engine, "client@example.org", "bench search passphrase 1").await?;
    let skills = super::SEED_SKILLS;
    let regions = ["DE", "FR", "US-CA", "GB"];
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut rng = StdRng::seed_from_u64(11);
    let started = Instant::now();
    for i in 0..jobs {
        let word = |rng: &mut StdRng| words[rng.gen_range(0..words.len())];
        let description: Vec<&str> = (0..40).map(|_| word(&mut rng)).collect();
        let remote = rng.gen_bool(0.4);
        let input = JobInput {
            title: format!("{} {} {}", skills[i % skills.len()], word(&mut rng), word(&mut rng)),
            description: description.join(" "),
            required_skills: vec![
                skills[i % skills.len()].to_owned(),
                skills[(i + 3) % skills.len()].to_owned(),
            ],
            preferred_skills: vec![],
            max_hourly_minor: Some(rng.gen_range(20..150) * 100),
            currency: Some("EUR".to_owned()),
            region: (!remote).then(|| regions[i % regions.len()].to_owned()),
            remote,
            utc_offset_minutes: None,
            experience_level: None,
        };
        let vector = super::random_unit(&mut rng, dimensions);
        super::seed_open_job(&engine.store, client.id, &input, &model, &vector).await?;
    }
    println!("seeded {jobs} open jobs in {:.1} s", started.elapsed().as_secs_f64());

    let before = resident_mib();
    let started = Instant::now();
    let (indexed, _) = engine.job_search.build(&engine.store).await?;
    let build = started.elapsed().as_secs_f64();
    let grown = resident_mib().zip(before).map(|(after, before)| after - before);
    println!(
        "text index: {indexed} jobs in {build:.1} s ({:.1} s per 100k), resident memory +{} MiB",
        build * 100_000.0 / jobs as f64,
        grown.map_or("?".to_owned(), |mib| format!("{mib:.0}")),
    );
    engine.job_index.build(&engine.store).await?;

    let caller = fairgig_engine::Caller {
        user: client,
        credential: fairgig_engine::Credential::Session(fairgig_core::ids::SessionId::new()),
    };
    let cases = [("words, no filter", false), ("words + skill, region, budget", true)];
    println!("{queries} queries each (in process, one at a time):");
    for (name, filtered) in cases {
        let mut millis = Vec::with_capacity(queries);
        for i in 0..queries {
            let text = format!("{} {}", words[i % words.len()], skills[i % skills.len()]);
            let filters = if filtered {
                Filters {
                    skills: vec![skills[(i + 1) % skills.len()].to_owned()],
                    region: Some(regions[i % regions.len()].to_owned()),
                    price_max: Some(10_000),
                    ..Filters::default()
                }
            } else {
                Filters::default()
            };
            let query = JobSearchQuery { text, filters, limit: 20, ..Default::default() };
            let started = Instant::now();
            let page = search::jobs(&engine, Some(&caller), &query)
                .await
                .map_err(|err| anyhow::anyhow!("searching: {err}"))?;
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(page.total > 0 || filtered, "an unfiltered query found nothing");
        }
        report(name, millis);
    }
    search_profiles(&engine, &caller, profiles, queries).await?;
    Ok(())
}

/// Seeds `count` freelancers open to work, builds the freelancer index and
/// times `engine::search::profiles` with and without filters.
async fn search_profiles(
    engine: &fairgig_engine::Engine,
    caller: &fairgig_engine::Caller,
    count: usize,
    queries: usize,
) -> anyhow::Result<()> {
    use fairgig_core::marketplace::{Availability, ProfileSkill, SkillLevel};
    use fairgig_store::embeddings::EntityKind;

    let skills = super::SEED_SKILLS;
    let regions = ["DE", "FR", "US-CA", "GB"];
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let languages = ["English", "German", "French"];
    let dimensions = engine.embeddings.dimensions();
    let model = engine.embeddings.model_id().to_owned();
    let mut rng = StdRng::seed_from_u64(12);
    let started = Instant::now();
    for i in 0..count {
        let word = |rng: &mut StdRng| words[rng.gen_range(0..words.len())];
        let bio: Vec<&str> = (0..30).map(|_| word(&mut rng)).collect();
        let input = ProfileInput {
            headline: format!("{} {} specialist", skills[i % skills.len()], word(&mut rng)),
            bio: bio.join(" "),
            skills: (0..3)
                .map(|k| ProfileSkill {
                    name: skills[(i + k) % skills.len()].to_owned(),
                    level: SkillLevel::Expert,
                })
                .collect(),
            hourly_rate_minor: Some(rng.gen_range(20..150) * 100),
            currency: Some("EUR".to_owned()),
            region: Some(regions[i % regions.len()].to_owned()),
            utc_offset_minutes: None,
            availability: Availability::Available,
            years_experience: rng.gen_range(0.0..20.0),
            languages: vec![languages[i % languages.len()].to_owned()],
            portfolio: vec![],
            group_attributes: Default::default(),
        };
        let email = format!("freelancer{i}@example.org");
        let user = super::seed_freelancer(&engine.store, &email, i, &input).await?;
        let vector = super::random_unit(&mut rng, dimensions);
        engine
            .store
            .put_entity_embedding(EntityKind::Profile, user.as_uuid(), &model, "", &vector)
            .await?;
    }
    println!("seeded {count} freelancers in {:.1} s", started.elapsed().as_secs_f64());
    let before = resident_mib();
    let started = Instant::now();
    let (indexed, _) = engine.profile_search.build(&engine.store).await?;
    let build = started.elapsed().as_secs_f64();
    let grown = resident_mib().zip(before).map(|(after, before)| after - before);
    println!(
        "text index: {indexed} freelancers in {build:.1} s ({:.1} s per 100k), resident memory +{} MiB",
        build * 100_000.0 / count.max(1) as f64,
        grown.map_or("?".to_owned(), |mib| format!("{mib:.0}")),
    );
    engine.profile_index.build(&engine.store).await?;
    let cases = [("freelancers, words", false), ("freelancers, + skill, region, rate", true)];
    for (name, filtered) in cases {
        let mut millis = Vec::with_capacity(queries);
        for i in 0..queries {
            let text = format!("{} {}", words[i % words.len()], skills[i % skills.len()]);
            let filters = if filtered {
                Filters {
                    skills: vec![skills[(i + 1) % skills.len()].to_owned()],
                    region: Some(regions[i % regions.len()].to_owned()),
                    price_max: Some(10_000),
                    ..Filters::default()
                }
            } else {
                Filters::default()
            };
            let query = ProfileSearchQuery { text, filters, limit: 20, ..Default::default() };
            let started = Instant::now();
            let page = search::profiles(engine, caller, &query)
                .await
                .map_err(|err| anyhow::anyhow!("searching freelancers: {err}"))?;
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(page.total > 0 || filtered, "an unfiltered query found nobody");
        }
        report(name, millis);
    }
    Ok(())
}
