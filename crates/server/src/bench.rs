//! `fairgig bench portal`: how long the server takes to answer the portal's
//! heaviest pages (a client's dashboard, a request's results, a job's page
//! with its live matches) on a marketplace of `jobs` open jobs and
//! `profiles` freelancers, sent at a steady rate through the whole router
//! (middleware included), in process: no network, no browser.

use std::time::{Duration, Instant};

use anyhow::Context;
use axum::{body::Body, http::Request};
use fairgig_core::{
    audit::RequestContext,
    config::{EmbeddingProvider, Settings},
    submission::{RunStatus, SubmissionKind},
};
use fairgig_engine::{
    accounts::{self},
    submissions::{self, SubmissionRequest},
    Caller, Credential,
};
use fairgig_store::marketplace::JobInput;
use rand::{rngs::StdRng, SeedableRng};
use tower::ServiceExt;

use crate::state::AppState;

/// The pages timed, with their goal.
const P99_GOAL_MS: f64 = 50.0;
const PASSWORD: &str = "bench portal passphrase 1";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

pub async fn run(
    base: &Settings,
    jobs: usize,
    profiles: usize,
    rate: u32,
    seconds: u64,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let mut settings = base.clone();
    settings.data_dir = dir.path().to_path_buf();
    settings.database.url = None;
    settings.rate_limit.enabled = false;
    // Vectors are seeded directly; the hashing embedder keeps the page
    // timings about the portal and matching, not the model.
    settings.embedding.provider = EmbeddingProvider::Hashing;
    settings.llm.provider = fairgig_core::config::LlmProvider::Off;
    let state = AppState::build(settings).await?;
    let engine = state.engine.clone();
    engine.store.migrate().await?;
    engine.embeddings.start().await?;
    let dimensions = engine.embeddings.dimensions();
    let model = engine.embeddings.model_id().to_owned();
    let mut rng = StdRng::seed_from_u64(7);
    let skills = fairgig_bench::SEED_SKILLS;
    let started = Instant::now();
    fairgig_bench::seed_profiles(&engine.store, &model, dimensions, profiles, &mut rng).await?;
    let client = fairgig_bench::seed_client(&engine, "client@example.org", PASSWORD).await?;
    let mut job_ids = Vec::with_capacity(jobs);
    for i in 0..jobs {
        let input = JobInput {
            title: format!(
                "{} and {} work #{i}",
                skills[i % skills.len()],
                skills[(i + 3) % skills.len()]
            ),
            description: "Build and run a service.".to_owned(),
            required_skills: vec![
                skills[i % skills.len()].to_owned(),
                skills[(i + 3) % skills.len()].to_owned(),
            ],
            preferred_skills: vec![],
            max_hourly_minor: Some(12_000),
            currency: Some("EUR".to_owned()),
            region: None,
            remote: true,
            utc_offset_minutes: None,
            experience_level: None,
        };
        let vector = fairgig_bench::random_unit(&mut rng, dimensions);
        job_ids.push(
            fairgig_bench::seed_open_job(&engine.store, client.id, &input, &model, &vector).await?,
        );
    }
    println!(
        "seeded {profiles} profiles and {jobs} jobs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let background =
        fairgig_engine::background::start(&engine, fairgig_engine::background::Duties::All, &stop)
            .await;
    // The dashboard lists the client's requests: a few, processed for real.
    let caller = Caller {
        user: client.clone(),
        credential: Credential::Session(fairgig_core::ids::SessionId::new()),
    };
    let mut request_ids = Vec::new();
    for i in 0..5 {
        let request = SubmissionRequest {
            kind: SubmissionKind::Job,
            title: format!("Rust and SQL service #{i}"),
            text: "We need a Rust and SQL developer to build and run an API. Budget EUR 5000."
                .to_owned(),
            budget: None,
            deadline: None,
            region: None,
            contact: None,
        };
        let (submission, _) = submissions::create(
            &engine,
            &caller,
            request,
            Vec::new(),
            None,
            RequestContext::default(),
        )
        .await
        .map_err(|err| anyhow::anyhow!("submitting: {err}"))?;
        request_ids.push(submission.id);
    }
    for id in &request_ids {
        let deadline = Instant::now() + Duration::from_secs(300);
        while engine.store.run_of_submission(*id).await?.status == RunStatus::Running {
            anyhow::ensure!(Instant::now() < deadline, "the bench requests did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let session =
        accounts::browser_login(&engine, "client@example.org", PASSWORD, RequestContext::default())
            .await
            .map_err(|err| anyhow::anyhow!("signing in: {err}"))?;
    let cookie = format!("fg_session={}", session.token);
    let router = crate::startup::app(state);
    let pages = [
        ("dashboard", "/dashboard".to_owned()),
        ("request results", format!("/requests/{}", request_ids[0])),
        ("job with matches", format!("/jobs/{}", job_ids[0])),
    ];
    println!("portal pages, {rate} requests/s for {seconds} s each (in process, 2 cores):");
    for (name, path) in &pages {
        let mut millis = Vec::new();
        let mut bytes = 0usize;
        let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
        let mut ticker = tokio::time::interval(interval);
        let mut in_flight = tokio::task::JoinSet::new();
        let total = u64::from(rate) * seconds;
        for _ in 0..total {
            ticker.tick().await;
            let router = router.clone();
            let request =
                Request::get(path.as_str()).header("cookie", &cookie).body(Body::empty())?;
            in_flight.spawn(async move {
                let started = Instant::now();
                let response =
                    router.oneshot(request).await.map_err(|err| anyhow::anyhow!("{err}"))?;
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
                anyhow::ensure!(status.is_success(), "{status}");
                Ok::<_, anyhow::Error>((started.elapsed().as_secs_f64() * 1000.0, body.len()))
            });
        }
        while let Some(done) = in_flight.join_next().await {
            let (ms, size) = done??;
            millis.push(ms);
            bytes = size;
        }
        millis.sort_by(f64::total_cmp);
        let p99 = percentile(&millis, 0.99);
        println!(
            "  {name:<17} p50 {:>6.1} ms  p99 {:>6.1} ms (goal < {P99_GOAL_MS} ms: {})  {:.1} KB",
            percentile(&millis, 0.5),
            p99,
            if p99 < P99_GOAL_MS { "met" } else { "NOT met" },
            bytes as f64 / 1024.0
        );
    }
    fairgig_engine::background::stop_and_join(background, &stop).await;
    Ok(())
}
