//! fairgig's measurements: the `fairgig bench …` benchmarks and the
//! `fairgig eval …` relevance evaluations. They print figures beside their
//! goals and never assert them; tests keep the floors.
//!
//! - this module: the queue and pipeline, the bias check, the embedding
//!   model, the vector index and matching, plus the seeding every
//!   measurement shares ([`seed_client`], [`seed_open_job`], [`seed_profiles`]).
//! - [`notify`]: notification latency and throughput through real channels.
//! - [`search`]: job search latency at scale, with and without filters.
//! - [`eval`]: search relevance (nDCG@10) on ESCO occupations.
//!
//! The portal's page timings need the HTTP router, so they live in the
//! server (`fairgig_server::bench`).

pub mod asr;
pub mod eval;
pub mod llm;
pub mod notify;
pub mod search;

use anyhow::Context;
use fairgig_core::progress::Progress;
use fairgig_pipeline::{
    amqp::{delete_topology, AmqpConfig},
    bench,
};
use fairgig_store::{test_support::TestDatabase, Store};

/// Queue throughput with 1, 2 and 8 workers, and 40-step chain latency
/// (median of 5), on SQLite and, when given, PostgreSQL; then whole one-step
/// runs per second and the chain again with tasks delivered by RabbitMQ,
/// when given, beside the same on the database queue.
pub async fn queue(
    tasks: usize,
    postgres: Option<String>,
    amqp: Option<String>,
) -> anyhow::Result<()> {
    let sqlite = TestDatabase::sqlite().context("temporary directory")?;
    let store = sqlite.store().await?;
    report("sqlite", &store, tasks, amqp.as_deref()).await?;
    store.close().await;
    if let Some(url) = postgres {
        let database = postgres_database(&url).await?;
        let store = database.store().await?;
        report("postgres", &store, tasks, amqp.as_deref()).await?;
        store.close().await;
        database.cleanup().await?;
    } else {
        println!("postgres: skipped (pass --postgres URL or set FAIRGIG_TEST_POSTGRES_URL)");
    }
    if amqp.is_none() {
        println!("rabbitmq: skipped (pass --amqp URL or set FAIRGIG_TEST_AMQP_URL)");
    }
    Ok(())
}

async fn postgres_database(url: &str) -> anyhow::Result<TestDatabase> {
    TestDatabase::postgres_on(url).await.context("creating a scratch PostgreSQL database")
}

async fn report(
    backend: &str,
    store: &Store,
    tasks: usize,
    amqp_url: Option<&str>,
) -> anyhow::Result<()> {
    for workers in [1, 2, 8] {
        let per_second = bench::throughput(store, workers, tasks).await?;
        println!("{backend}: {tasks} no-op tasks, {workers} worker(s): {per_second:.0} tasks/s");
    }
    chain_report(backend, store, None).await?;
    let Some(url) = amqp_url else { return Ok(()) };
    let amqp = AmqpConfig::new(url, format!("fairgig-bench-{}", uuid::Uuid::now_v7().simple()));
    let runs = (tasks / 5).max(100);
    for (transport, config) in [("database queue", None), ("rabbitmq", Some(&amqp))] {
        for concurrency in [1, 8] {
            let per_second = bench::run_throughput(store, config, concurrency, runs).await?;
            println!(
                "{backend} + {transport}: {runs} one-step runs, {concurrency} at once: {per_second:.0} runs/s"
            );
        }
    }
    chain_report(&format!("{backend} + rabbitmq"), store, Some(&amqp)).await?;
    delete_topology(&amqp).await.context("deleting the benchmark's queues")?;
    Ok(())
}

async fn chain_report(label: &str, store: &Store, amqp: Option<&AmqpConfig>) -> anyhow::Result<()> {
    let mut latencies = Vec::new();
    for _ in 0..5 {
        latencies.push(bench::chain_latency(store, amqp).await?);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "{label}: 40-step sequential chain, submission to done: median {:.3} s (min {:.3}, max {:.3})",
        latencies[2], latencies[0], latencies[4]
    );
    Ok(())
}

/// A whole app on a scratch data folder (SQLite file, local storage),
/// migrated, its worker running, with a client to act as: what the
/// end-to-end benchmarks drive.
struct ScratchApp {
    engine: fairgig_engine::Engine,
    caller: fairgig_engine::Caller,
    stop: tokio_util::sync::CancellationToken,
    worker: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl ScratchApp {
    /// The operator's configuration (`base`, loaded as `serve` loads it:
    /// models folder, providers, workers) on a scratch data folder and
    /// database, so a benchmark never writes into the real ones.
    async fn start(
        base: &fairgig_core::config::Settings,
        configure: impl FnOnce(&mut fairgig_core::config::Settings),
    ) -> anyhow::Result<Self> {
        use fairgig_core::{audit::Actor, ids::SessionId, user::Role};

        use fairgig_engine::{
            accounts::{self, AccountInput},
            Caller, Credential,
        };

        let dir = tempfile::tempdir().context("temporary directory")?;
        let mut settings = base.clone();
        settings.data_dir = dir.path().to_path_buf();
        settings.database.url = None;
        configure(&mut settings);
        let engine = fairgig_engine::Engine::build(settings).await?;
        engine.store.migrate().await?;
        engine.embeddings.start().await?;
        let stop = tokio_util::sync::CancellationToken::new();
        let worker =
            tokio::spawn(fairgig_engine::background::worker_for(&engine).run(stop.clone()));
        let input = AccountInput {
            email: "bench@example.org",
            display_name: "Bench",
            password: "bench password",
            role: Role::Client,
            region: None,
        };
        let user = accounts::create_user(&engine, input, Actor::Cli, Default::default())
            .await
            .map_err(|err| anyhow::anyhow!("creating the bench user: {err}"))?;
        let caller = Caller { user, credential: Credential::Session(SessionId::new()) };
        Ok(ScratchApp { engine, caller, stop, worker, _dir: dir })
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.worker.await;
    }
}

/// Submission → `analyse` done, for a 2-page PDF, through the real state,
/// storage and an in-process worker; prints p50 and p95 over `runs`.
pub async fn pipeline(
    settings: &fairgig_core::config::Settings,
    runs: usize,
) -> anyhow::Result<()> {
    use bytes::Bytes;
    use sha2::{Digest, Sha256};

    use fairgig_engine::submissions::{self, SubmissionRequest, Upload};

    // The queue, the store and the steps; the language model's share is
    // `bench llm`'s to measure.
    let app = ScratchApp::start(settings, |settings| {
        settings.llm.provider = fairgig_core::config::LlmProvider::Off;
    })
    .await?;
    let (engine, caller) = (&app.engine, &app.caller);
    let document = fairgig_ai::extract::samples::pdf(&[
        "We need a Rust developer to build a REST API with PostgreSQL and Docker. Budget EUR 4500.",
        "The service must handle authentication, rate limiting and audit logging by 2027-03-01.",
    ]);
    let mut latencies = Vec::with_capacity(runs);
    for _ in 0..runs {
        let request = SubmissionRequest {
            kind: fairgig_core::submission::SubmissionKind::Job,
            title: "Bench".to_owned(),
            text: "See the attached brief.".to_owned(),
            budget: None,
            deadline: None,
            region: None,
            contact: None,
        };
        let upload = Upload {
            role: "attachment",
            filename: "brief.pdf".to_owned(),
            content_type: "application/pdf",
            sha256: hex::encode(Sha256::digest(&document)),
            bytes: Bytes::from(document.clone()),
        };
        let started = std::time::Instant::now();
        let (submission, _) =
            submissions::create(engine, caller, request, vec![upload], None, Default::default())
                .await
                .map_err(|err| anyhow::anyhow!("submitting: {err}"))?;
        loop {
            let run = engine.store.run_of_submission(submission.id).await?;
            if run.status != fairgig_core::submission::RunStatus::Running {
                anyhow::ensure!(
                    run.status == fairgig_core::submission::RunStatus::Succeeded,
                    "run ended {}",
                    run.status
                );
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    app.stop().await;
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "sqlite: submission with a 2-page PDF to analyse done, {runs} runs: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    Ok(())
}

/// Bias-check throughput on one core, ad by ad as job posts, over
/// `megabytes` MB of synthetic job ads (short, a third of their sentences
/// biased) and as much again of the demo's job posts and bios (real
/// ESCO-derived text, longer, mostly clean).
pub fn bias(megabytes: usize) -> anyhow::Result<()> {
    use fairgig_ai::bias::{bench, BiasChecker};

    let checker = BiasChecker::new();
    let synthetic = bench::corpus(megabytes);
    let synthetic: Vec<&str> = synthetic.split_inclusive('\n').collect();
    let demo: Vec<String> =
        fairgig_engine::demo::reference_texts().into_iter().map(|(_, text)| text).collect();
    let demo_bytes = demo.iter().map(String::len).sum::<usize>().max(1);
    let repeats = (megabytes.max(1) * 1_000_000).div_ceil(demo_bytes);
    let demo: Vec<&str> = (0..repeats).flat_map(|_| demo.iter().map(String::as_str)).collect();
    for (corpus, ads) in [("synthetic job ads", &synthetic), ("demo posts and bios", &demo)] {
        let figure = bench::run(&checker, ads);
        println!(
            "bias check, one core, {corpus}: {:.1} MB in {:.2} s = {:.1} MB/s over {} texts, {} findings",
            figure.megabytes,
            figure.seconds,
            figure.megabytes_per_second(),
            figure.ads,
            figure.findings
        );
    }
    // Hostile texts, one at a time, with the hardest options the API takes.
    let options = bench::hostile_options();
    let mut slowest = f64::INFINITY;
    for (name, text) in bench::adversarial(megabytes.max(1) * 1_000_000) {
        let figure = bench::run_with(&checker, &[text.as_str()], &options);
        slowest = slowest.min(figure.megabytes_per_second());
        println!(
            "bias check, one core, adversarial {name}: {:.1} MB in {:.2} s = {:.1} MB/s, {} findings",
            figure.megabytes,
            figure.seconds,
            figure.megabytes_per_second(),
            figure.findings
        );
    }
    println!("bias check, slowest adversarial text: {slowest:.1} MB/s (goal: above 40 MB/s)");
    Ok(())
}

/// Sentences per second of the local model (`embedding.models_dir`,
/// `embedding.threads`), batches of 64 short and long texts.
pub fn embed(settings: &fairgig_core::config::Settings, batches: usize) -> anyhow::Result<()> {
    use fairgig_embed::{bench, local::LocalModel};

    let config = fairgig_engine::embedding::local_config(&settings.embedding);
    let model = LocalModel::load(&config)?;
    for figure in bench::run(&model, batches)? {
        println!(
            "embed {}: {:.0} sentences/s ({:.1} tokens each, batch of 64 p50 {:.1} ms, {} thread(s))",
            figure.label,
            figure.sentences_per_sec,
            figure.mean_tokens,
            figure.batch_p50.as_secs_f64() * 1000.0,
            config.threads
        );
    }
    Ok(())
}

/// Vectors the index benchmark runs on (and the CLI names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IndexVectors {
    /// Drawn directly ([`fairgig_embed::bench::Data`]).
    Random,
    Clustered,
    /// Profile-like texts ([`EmbeddedProfiles`]) embedded by the local model:
    /// what the index holds in use, at the cost of embedding them first.
    Embedded,
}

/// The vector index at each size in `points`, on each kind of `data`.
pub fn index(
    settings: &fairgig_core::config::Settings,
    points: &[usize],
    data: &[IndexVectors],
    config: &fairgig_embed::index::IndexConfig,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    use fairgig_embed::bench::{index, index_on, Data};

    for &n in points {
        for &kind in data {
            let f = match kind {
                IndexVectors::Random => index(n, Data::Random, config.clone(), progress)?,
                IndexVectors::Clustered => index(n, Data::Clustered, config.clone(), progress)?,
                IndexVectors::Embedded => {
                    let embedded = EmbeddedProfiles::new(settings, n, 1_000, progress)?;
                    let (points, queries) = (embedded.points, embedded.queries);
                    index_on(points, queries, "embedded", config.clone(), progress)?
                }
            };
            println!(
                "index {} x {} {} (M {}, ef_construction {}): build {:.1} s, +{} MiB resident, \
                 ef {}; {:.0} queries/s/core, recall@10 {:.3}; 10 % filter: {:.0} queries/s/core, \
                 recall@10 {:.3}",
                f.points,
                config.dimensions,
                f.data,
                config.max_connections,
                config.ef_construction,
                f.build.as_secs_f64(),
                f.memory_bytes / (1024 * 1024),
                f.ef_search,
                f.queries_per_sec_one_core,
                f.recall_at_10,
                f.filtered_queries_per_sec_one_core,
                f.filtered_recall_at_10
            );
        }
    }
    Ok(())
}

/// Profile-like texts embedded by the local model on every core: `points`
/// for the index (seed 1) and `queries` more (seed 2). Prints the time taken.
struct EmbeddedProfiles {
    points: Vec<Vec<f32>>,
    queries: Vec<Vec<f32>>,
}

impl EmbeddedProfiles {
    fn new(
        settings: &fairgig_core::config::Settings,
        points: usize,
        queries: usize,
        progress: &dyn Progress,
    ) -> anyhow::Result<Self> {
        use fairgig_embed::local::LocalModel;
        use std::time::Instant;

        let model =
            LocalModel::load(&fairgig_engine::embedding::local_config(&settings.embedding))?;
        let skills = fairgig_ai::analyse::skills::SkillIndex::builtin();
        let skills: Vec<&str> = skills.labels().collect();
        let started = Instant::now();
        let embed = |count: usize, seed: u64| -> anyhow::Result<Vec<Vec<f32>>> {
            let texts = profile_texts(count, seed, &skills);
            let mut vectors = Vec::with_capacity(count);
            progress.stage("embedding profile texts", Some(count as u64));
            for chunk in texts.chunks(512) {
                let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
                vectors.extend(model.embed(&chunk)?);
                progress.advance(chunk.len() as u64);
            }
            Ok(vectors)
        };
        let embedded = Self { points: embed(points, 1)?, queries: embed(queries, 2)? };
        let (count, seconds) = (points + queries, started.elapsed().as_secs_f64());
        println!(
            "embedded {count} profile texts in {seconds:.0} s ({:.0}/s)",
            count as f64 / seconds
        );
        Ok(embedded)
    }
}

/// `count` texts shaped like freelancer profiles: a role, years of
/// experience and four ESCO skills, three of them from one run of 12 in the
/// shipped (alphabetical) list, which share words and topics. So texts fall
/// into overlapping topics as real profiles do, without claiming to be them.
fn profile_texts(count: usize, seed: u64, skills: &[&str]) -> Vec<String> {
    use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};

    const ROLES: &[&str] = &[
        "Freelance consultant",
        "Senior engineer",
        "Junior developer",
        "Independent specialist",
        "Contract analyst",
        "Technical lead",
        "Designer",
        "Trainer",
    ];
    const RUN: usize = 12;
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let start = rng.gen_range(0..skills.len().saturating_sub(RUN).max(1));
            let run = &skills[start..(start + RUN).min(skills.len())];
            let mut chosen: Vec<&str> =
                (0..3).map(|_| run.choose(&mut rng).copied().unwrap_or_default()).collect();
            chosen.push(skills.choose(&mut rng).copied().unwrap_or_default());
            format!(
                "{} with {} years of experience in {}, {}, {} and {}.",
                ROLES.choose(&mut rng).copied().unwrap_or_default(),
                rng.gen_range(1..25),
                chosen[0],
                chosen[1],
                chosen[2],
                chosen[3]
            )
        })
        .collect()
}

/// This process's resident memory in MB (Linux; 0 elsewhere).
fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `q` quantile (0–1) of ascending `sorted` (0 when empty): the
/// smallest value at least that share of the figures is at or below.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

/// The job's owner reloading its matches from 16 tasks at 500 views/s in
/// all for 4 s (each view a whole match, as the API serves it): p50/p99
/// latency against the goal (p99 < 25 ms), and the bytes the database grew
/// per view once the first was recorded (goal < 50).
async fn repeated_views(
    store: &fairgig_store::Store,
    embeddings: &fairgig_engine::embedding::EmbeddingService,
    index: &fairgig_engine::candidates::ProfileIndex,
    job: &fairgig_store::marketplace::Job,
    viewer: fairgig_core::ids::UserId,
) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};

    use fairgig_engine::matching::{matches_for_job, FairnessPolicy, ProfileFilters};

    const TASKS: u32 = 16;
    const RATE: u32 = 500;
    const SECONDS: u32 = 4;
    let everyone = ProfileFilters::default();
    let policy = FairnessPolicy::from_settings(&fairgig_core::config::FairnessSettings::default())?;
    let view =
        || matches_for_job(store, embeddings, index, job, (10, &everyone, Some(viewer)), &policy);
    view().await?;
    let before = store.database_bytes().await?;
    let every = Duration::from_secs_f64(f64::from(TASKS) / f64::from(RATE));
    let started = Instant::now();
    let runs = (0..TASKS).map(|task| {
        let view = &view;
        async move {
            let mut took = Vec::new();
            let first = every.mul_f64(f64::from(task) / f64::from(TASKS));
            for n in 0..(RATE * SECONDS / TASKS) {
                let due = started + first + every * n;
                tokio::time::sleep_until(due.into()).await;
                view().await?;
                // From when the view was due: a late start counts as waiting.
                took.push(due.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(took)
        }
    });
    let mut latencies: Vec<f64> = Vec::new();
    for took in futures::future::join_all(runs).await {
        latencies.extend(took?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let grown = store.database_bytes().await?.saturating_sub(before);
    println!(
        "repeated views by one viewer, {TASKS} tasks, {:.0} views/s: p50 {:.1} ms, p99 {:.1} ms (goal p99 < 25 ms at 500 views/s); database grew {:.1} bytes per view (goal < 50)",
        latencies.len() as f64 / elapsed,
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99),
        grown as f64 / latencies.len().max(1) as f64
    );
    Ok(())
}

/// Match latency (pool, features, score, fair re-rank, recording the list;
/// top 10) over `profiles` freelancers with random unit vectors, p50/p99 of
/// `queries` requests; then the time to train on 100,000 synthetic feedback
/// events (10,000 lists of 10).
pub async fn matching(profiles: usize, queries: usize) -> anyhow::Result<()> {
    use fairgig_core::{
        config::{EmbeddingProvider, EmbeddingSettings, FairnessSettings},
        marketplace::{ExperienceLevel, JobStatus},
        user::{DisplayName, Email, Role},
    };
    use fairgig_matching::learning::{train, Example, ShownList, TrainConfig};
    use fairgig_store::{embeddings::EntityKind, marketplace::JobInput, users::NewUser};
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::time::Instant;

    use fairgig_engine::{
        candidates::{CandidateQuery, ProfileIndex},
        embedding::EmbeddingService,
        matching::{matches_for_job, FairnessPolicy},
    };

    let database = TestDatabase::sqlite().context("temporary directory")?;
    let store = database.store().await?;
    let settings =
        EmbeddingSettings { provider: EmbeddingProvider::Hashing, ..EmbeddingSettings::default() };
    let embeddings = EmbeddingService::new(&settings, store.clone());
    embeddings.start().await?;
    let dimensions = embeddings.dimensions();
    let mut rng = StdRng::seed_from_u64(42);
    let started = Instant::now();
    seed_profiles(&store, embeddings.model_id(), dimensions, profiles, &mut rng).await?;
    println!("seeded {profiles} profiles in {:.1} s", started.elapsed().as_secs_f64());
    // Steady state: the index re-reads rows written within its look-back
    // overlap on every match, which right after seeding is all of them.
    tokio::time::sleep(fairgig_engine::candidates::OVERLAP).await;
    let owner = store
        .create_user(NewUser {
            email: Email::parse("owner@example.org")?,
            display_name: DisplayName::parse("Owner")?,
            role: Role::Client,
            region: None,
            password_hash: String::new(),
        })
        .await?;
    let job = store
        .create_job(
            owner.id,
            None,
            &JobInput {
                title: "Rust and SQL backend".to_owned(),
                description: "Build an API".to_owned(),
                required_skills: vec!["Rust".to_owned(), "SQL".to_owned()],
                preferred_skills: vec!["Docker".to_owned()],
                max_hourly_minor: Some(12_000),
                currency: Some("EUR".to_owned()),
                region: None,
                remote: true,
                utc_offset_minutes: Some(60),
                experience_level: Some(ExperienceLevel::Intermediate),
            },
            JobStatus::Open,
            &fairgig_store::marketplace::JobReview::unchecked(),
        )
        .await?;
    let index = ProfileIndex::new(embeddings.model_id(), dimensions, None);
    let mut top_by_scan = Vec::new();
    for (how, built) in [("whole pool scanned from SQLite", false), ("candidate index", true)] {
        if built {
            let (started, before) = (Instant::now(), resident_mb());
            index.build(&store).await?;
            println!(
                "candidate index built over {profiles} profiles in {:.1} s, {:.0} MB resident more",
                started.elapsed().as_secs_f64(),
                resident_mb() - before
            );
            let text = fairgig_engine::matching::job_text(&job.input);
            let (vector, _) =
                embeddings.entity_vector(EntityKind::Job, job.id.as_uuid(), &text).await?;
            let query = CandidateQuery {
                vector: &vector,
                required_skills: &job.input.required_skills,
                region: None,
                rate_cap: None,
                nearest: fairgig_engine::matching::nearest_candidates(10),
            };
            let mut took = Vec::with_capacity(queries);
            let mut found = 0;
            for _ in 0..queries.max(1) {
                let started = Instant::now();
                found = index.candidates(&store, &query).await?.map_or(0, |c| c.len());
                took.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            took.sort_by(f64::total_cmp);
            let mut caught_up = Vec::with_capacity(queries);
            for _ in 0..queries.max(1) {
                let started = Instant::now();
                index.refresh(&store).await?;
                caught_up.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            caught_up.sort_by(f64::total_cmp);
            println!(
                "  of which candidates ({found} proposed): p50 {:.1} ms, catching up with the store alone {:.1} ms",
                quantile(&took, 0.5),
                quantile(&caught_up, 0.5)
            );
        }
        // The deployed default, but without amortisation: each list would
        // move the next one's target, and both runs must rank alike.
        let policy = FairnessPolicy {
            amortise: false,
            ..FairnessPolicy::from_settings(&FairnessSettings::default())?
        };
        let mut latencies = Vec::with_capacity(queries);
        let mut stages: Vec<[f64; 6]> = Vec::with_capacity(queries);
        let mut top = Vec::new();
        // A whole-pool scan takes seconds at 100k: a few runs tell enough.
        let runs = if built { queries.max(1) } else { queries.clamp(1, 20) };
        for _ in 0..runs {
            let started = Instant::now();
            let everyone = fairgig_engine::matching::ProfileFilters::default();
            let list =
                matches_for_job(&store, &embeddings, &index, &job, (10, &everyone, None), &policy)
                    .await?;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            stages.push(list.timings.seconds());
            top = list.matches.iter().map(|m| m.freelancer).collect();
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "match, {profiles} profiles ({how}), top 10, DetConstSort: p50 {:.1} ms, p99 {:.1} ms over {} queries",
            quantile(&latencies, 0.5),
            quantile(&latencies, 0.99),
            latencies.len()
        );
        let stage_figures: Vec<String> = fairgig_engine::matching::StageTimings::STAGES
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let mut took: Vec<f64> = stages.iter().map(|s| s[i] * 1000.0).collect();
                took.sort_by(f64::total_cmp);
                format!("{stage} {:.1}/{:.1}", quantile(&took, 0.5), quantile(&took, 0.99))
            })
            .collect();
        println!("  by stage, p50/p99 ms: {}", stage_figures.join(", "));
        if built {
            let same = top.iter().filter(|id| top_by_scan.contains(*id)).count();
            println!("  top 10 shared with the whole-pool scan: {same} of {}", top.len());
        } else {
            top_by_scan = top;
        }
    }

    repeated_views(&store, &embeddings, &index, &job, owner.id).await?;

    let lists: Vec<ShownList> = (0..10_000)
        .map(|_| ShownList {
            examples: (1..=10)
                .map(|rank| Example {
                    features: std::array::from_fn(|_| rng.gen_range(0.0..1.0)),
                    rank,
                    label: if rng.gen_bool(0.15) { rng.gen_range(1..=4) } else { 0 },
                    newcomer: rng.gen_bool(0.3),
                })
                .collect(),
        })
        .collect();
    let started = Instant::now();
    std::hint::black_box(train(&lists, [0.125; 8], TrainConfig::default()));
    println!(
        "training on 100,000 feedback events (10,000 lists): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}

/// The skills seeded profiles and jobs draw from.
pub const SEED_SKILLS: [&str; 8] =
    ["Rust", "Python", "SQL", "Kubernetes", "React", "Go", "Docker", "AWS"];

/// A random unit vector: seeded entities skip the embedding model.
pub fn random_unit(rng: &mut rand::rngs::StdRng, dimensions: usize) -> Vec<f32> {
    use rand::Rng;
    let mut v: Vec<f32> = (0..dimensions).map(|_| rng.gen_range(-1.0..1.0)).collect();
    fairgig_embed::l2_normalise(&mut v);
    v
}

/// The client account whose jobs a bench or evaluation seeds.
pub async fn seed_client(
    engine: &fairgig_engine::Engine,
    email: &str,
    password: &str,
) -> anyhow::Result<fairgig_core::user::User> {
    fairgig_engine::accounts::create_user(
        engine,
        fairgig_engine::accounts::AccountInput {
            email,
            display_name: "Bench Client",
            password,
            role: fairgig_core::user::Role::Client,
            region: None,
        },
        fairgig_core::audit::Actor::Cli,
        fairgig_core::audit::RequestContext::default(),
    )
    .await
    .map_err(|err| anyhow::anyhow!("creating the client {email}: {err}"))
}

/// Stores `input` as an open job of `owner` with `vector` under `model`
/// (seeded jobs skip the pipeline and, with a random vector, the model).
pub async fn seed_open_job(
    store: &Store,
    owner: fairgig_core::ids::UserId,
    input: &fairgig_store::marketplace::JobInput,
    model: &str,
    vector: &[f32],
) -> anyhow::Result<fairgig_core::ids::JobId> {
    use fairgig_core::marketplace::JobStatus;
    use fairgig_store::marketplace::JobReview;
    let job =
        store.create_job(owner, None, input, JobStatus::Open, &JobReview::unchecked()).await?;
    store
        .put_entity_embedding(
            fairgig_store::embeddings::EntityKind::Job,
            job.id.as_uuid(),
            model,
            "",
            vector,
        )
        .await?;
    Ok(job.id)
}

/// `count` freelancers open to work, three skills each, with a random
/// vector under `model`: the benchmarks' marketplace.
pub async fn seed_profiles(
    store: &Store,
    model: &str,
    dimensions: usize,
    count: usize,
    rng: &mut rand::rngs::StdRng,
) -> anyhow::Result<()> {
    use fairgig_core::marketplace::{Availability, ProfileSkill, SkillLevel};
    use fairgig_store::{embeddings::EntityKind, marketplace::ProfileInput};
    use rand::Rng;

    for i in 0..count {
        let input = ProfileInput {
            headline: "Developer".to_owned(),
            bio: String::new(),
            skills: (0..3)
                .map(|k| ProfileSkill {
                    name: SEED_SKILLS[(i + k) % SEED_SKILLS.len()].to_owned(),
                    level: SkillLevel::Expert,
                })
                .collect(),
            hourly_rate_minor: Some(rng.gen_range(3_000..15_000)),
            currency: Some("EUR".to_owned()),
            region: None,
            utc_offset_minutes: Some(rng.gen_range(-8..10) * 60),
            availability: Availability::Available,
            years_experience: rng.gen_range(0.0..20.0),
            languages: vec![],
            portfolio: vec![],
            group_attributes: Default::default(),
        };
        let user = seed_freelancer(store, &format!("bench{i}@example.org"), i, &input).await?;
        let vector = random_unit(rng, dimensions);
        store.put_entity_embedding(EntityKind::Profile, user.as_uuid(), model, "", &vector).await?;
    }
    Ok(())
}

/// A freelancer account (`email`, shown as "Freelancer `n`", no password)
/// with `input` as its profile: every seeded marketplace's freelancer.
pub async fn seed_freelancer(
    store: &Store,
    email: &str,
    n: usize,
    input: &fairgig_store::marketplace::ProfileInput,
) -> anyhow::Result<fairgig_core::ids::UserId> {
    use fairgig_core::user::{DisplayName, Email, Role};
    let user = store
        .create_user(fairgig_store::users::NewUser {
            email: Email::parse(email)?,
            display_name: DisplayName::parse(&format!("Freelancer {n}"))?,
            role: Role::Freelancer,
            region: None,
            password_hash: String::new(),
        })
        .await?;
    store.put_profile(user.id, input).await?;
    Ok(user.id)
}
