//! The one background supervisor: everything a process runs besides
//! answering requests, started by [`start`] into one `JoinSet` so that
//! shutdown cancels *and joins* it (the candidate index's last snapshot is
//! written before the process exits, in-flight steps finish or are handed
//! back).

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use fairgig_core::config::Settings;
use fairgig_pipeline::{
    amqp::{AmqpConfig, Relay},
    Worker, WorkerConfig,
};
use secrecy::ExposeSecret;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::Engine;

/// What a process does in the background.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duties {
    /// Serves requests only: keeps the candidate indexes and the bias
    /// rules current, and relays enqueued tasks to RabbitMQ.
    Api,
    /// Runs steps only: pipeline workers, notification sending, scheduled
    /// training and re-embedding, with the profile index the match step
    /// reads.
    Worker,
    /// Both, on one machine.
    All,
}

impl Duties {
    fn serves(self) -> bool {
        matches!(self, Duties::Api | Duties::All)
    }

    fn works(self) -> bool {
        matches!(self, Duties::Worker | Duties::All)
    }
}

/// Starts the embedding provider and records it in the model registry, and
/// checks the speech-to-text model is there; every process does this before
/// serving or working.
pub async fn prepare(engine: &Engine) -> anyhow::Result<()> {
    engine.embeddings.start().await.context("starting the embedding provider")?;
    engine.transcription.check()?;
    record_embedder(engine).await;
    Ok(())
}

/// Builds a full-text search index in the background (searches read the
/// store, or wait, until it is ready).
fn spawn_text_index<E: crate::search::Searchable>(
    tasks: &mut JoinSet<()>,
    search: Arc<crate::search::TextSearch<E>>,
    engine: &Engine,
    stop: &CancellationToken,
    what: &'static str,
) {
    let (store, stopping) = (engine.store.clone(), stop.clone());
    tasks.spawn(async move {
        let started = std::time::Instant::now();
        tokio::select! {
            () = stopping.cancelled() => {}
            built = search.build(&store) => match built {
                Ok((size, how)) => tracing::info!(size, ?how, seconds = started.elapsed().as_secs_f64(), what, "search index ready"),
                Err(err) => tracing::warn!(error = %err, what, "search index not built"),
            },
        }
    });
}

/// Starts `duties` until `stop`; join the returned set after cancelling.
pub async fn start(engine: &Engine, duties: Duties, stop: &CancellationToken) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    engine.profile_index.spawn_build(engine.store.clone(), &mut tasks, stop.clone());
    engine.profile_index.spawn_snapshots(&mut tasks, stop.clone());
    if duties.serves() {
        engine.job_index.spawn_build(engine.store.clone(), &mut tasks, stop.clone());
        engine.job_index.spawn_snapshots(&mut tasks, stop.clone());
        spawn_text_index(&mut tasks, Arc::clone(&engine.job_search), engine, stop, "job");
        spawn_text_index(&mut tasks, Arc::clone(&engine.page_search), engine, stop, "page");
        spawn_text_index(
            &mut tasks,
            Arc::clone(&engine.profile_search),
            engine,
            stop,
            "freelancer",
        );
    }
    engine
        .bias
        .keep_current(engine.store.clone(), engine.storage.clone(), &mut tasks, stop.clone())
        .await;
    crate::retention::spawn(
        engine.store.clone(),
        engine.settings.retention.clone(),
        process_name(),
        &mut tasks,
        stop.clone(),
    );
    crate::orphan_uploads::spawn(
        engine.store.clone(),
        engine.storage.clone(),
        Duration::from_secs(engine.settings.storage.orphan_grace_secs),
        process_name(),
        &mut tasks,
        stop.clone(),
    );
    if let Some(relay) = relay_for(engine) {
        tasks.spawn(relay.run(stop.clone()));
    }
    if duties.works() {
        let embeddings = engine.embeddings.clone();
        let reembedding = stop.clone();
        tasks.spawn(async move { reembed_stale(embeddings, reembedding).await });
        crate::scheduled_training::spawn(
            engine.store.clone(),
            engine.settings.training.clone(),
            process_name(),
            &mut tasks,
            stop.clone(),
        );
        crate::notifications::spawn(
            engine.store.clone(),
            Arc::clone(&engine.notifier),
            Duration::from_secs(engine.settings.notifications.announcement_grace_secs),
            Arc::clone(&engine.runs_finished),
            &mut tasks,
            stop.clone(),
        );
        tasks.spawn(worker_for(engine).run(stop.clone()));
    }
    tasks
}

/// Cancels `stop` and waits for every task; a task that panicked is logged.
pub async fn stop_and_join(mut tasks: JoinSet<()>, stop: &CancellationToken) {
    stop.cancel();
    while let Some(finished) = tasks.join_next().await {
        if let Err(err) = finished {
            tracing::error!(error = %err, "a background task failed");
        }
    }
}

/// A pipeline worker for this process, woken by its own enqueues.
pub fn worker_for(engine: &Engine) -> Worker {
    let settings = &engine.settings.worker;
    let config = WorkerConfig {
        id: process_name(),
        concurrency: settings.concurrency.max(1),
        lease: Duration::from_secs(settings.lease_secs.max(3)),
        poll_interval: Duration::from_millis(settings.poll_interval_ms.max(10)),
        shutdown_grace: Duration::from_secs(engine.settings.server.shutdown_grace_secs),
        amqp: amqp_config(&engine.settings),
        ..WorkerConfig::default()
    };
    Worker::new(engine.store.clone(), Arc::clone(&engine.pipeline), config)
        .with_wake(Arc::clone(&engine.wake))
        .with_run_finished(Arc::clone(&engine.runs_finished))
}

/// The RabbitMQ transport, when `queue.amqp_url` (or `AMQP_URL`) is set.
pub fn amqp_config(settings: &Settings) -> Option<AmqpConfig> {
    let queue = &settings.queue;
    let url = queue.amqp_url.as_ref()?;
    Some(AmqpConfig::new(url.expose_secret(), queue.amqp_prefix.clone()))
}

/// The relay that publishes this process's enqueued tasks to RabbitMQ, woken
/// by the same notification as the in-process worker; `None` without RabbitMQ.
fn relay_for(engine: &Engine) -> Option<Relay> {
    let config = amqp_config(&engine.settings)?;
    Some(Relay::new(engine.store.clone(), config, Arc::clone(&engine.wake)))
}

/// Re-embeds what an earlier model embedded (after a model change); logs
/// how many.
async fn reembed_stale(embeddings: crate::embedding::EmbeddingService, stop: CancellationToken) {
    match embeddings.reembed_stale(&stop).await {
        Ok(0) => {}
        Ok(count) => {
            tracing::info!(
                count,
                model = embeddings.model_id(),
                "re-embedded for the current model"
            )
        }
        Err(err) => tracing::error!(error = %err, "re-embedding stopped"),
    }
}

/// This process among others, `host-pid`: workers' claims and schedule
/// leases name it.
pub fn process_name() -> String {
    format!("{}-{}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "fairgig".into())
}

/// Records the serving embedder in the model registry; a failure is
/// logged, not fatal (the registry is bookkeeping, matching does not wait).
async fn record_embedder(engine: &Engine) {
    let provider = format!("{:?}", engine.settings.embedding.provider).to_lowercase();
    if let Err(err) =
        crate::embedding_registry::record_serving(&engine.store, &engine.embeddings, &provider)
            .await
    {
        tracing::warn!(error = %err, "recording the embedder in the model registry failed");
    }
}
