//! Building and running the HTTP application.
//!
//! `Server::build` migrates, builds state and binds (port 0 picks a free
//! port, which tests use); `run_until_stopped` serves until the shutdown
//! future resolves, then lets in-flight requests finish.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use axum::{
    error_handling::HandleErrorLayer,
    extract::Request,
    http::{header, HeaderName, HeaderValue, Method},
    middleware, BoxError, Router,
};
use fairgig_core::config::Settings;
use fairgig_pipeline::{
    amqp::{AmqpConfig, Relay},
    Worker, WorkerConfig,
};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{
    embedding::EmbeddingService,
    error::{ApiError, ErrorCode},
    ratelimit, routes,
    state::AppState,
};

/// What a `serve` process runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeRole {
    /// The API and the pipeline workers (one machine).
    #[default]
    All,
    /// The API only; run `fairgig worker` elsewhere.
    Api,
}

#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    router: Router,
    grace: Duration,
    /// The background work of role `all`.
    worker: Option<BackgroundWork>,
    /// Publishes this process's enqueued tasks, when RabbitMQ is configured.
    relay: Option<Relay>,
    /// Saved now and then, and at shutdown.
    profile_index: Arc<crate::candidates::ProfileIndex>,
    job_index: Arc<crate::candidates::JobIndex>,
    /// The bias checker, kept on the champion rule pack.
    bias: (
        Arc<crate::bias_rules::LiveBias>,
        fairgig_store::Store,
        fairgig_store::objects::ObjectStorage,
    ),
}

/// What a worker-running process does besides serving: run steps, keep
/// embeddings current, send notifications.
#[derive(Debug)]
struct BackgroundWork {
    worker: Worker,
    embeddings: EmbeddingService,
    store: fairgig_store::Store,
    notifier: Arc<fairgig_notify::dispatch::Dispatcher>,
    runs_finished: Arc<tokio::sync::Notify>,
    training: fairgig_core::config::TrainingSettings,
}

/// A pipeline worker for this process, woken by its API's enqueues.
pub fn worker_for(state: &AppState) -> Worker {
    let settings = &state.settings.worker;
    let config = WorkerConfig {
        id: process_name(),
        concurrency: settings.concurrency.max(1),
        lease: Duration::from_secs(settings.lease_secs.max(3)),
        poll_interval: Duration::from_millis(settings.poll_interval_ms.max(10)),
        shutdown_grace: Duration::from_secs(state.settings.server.shutdown_grace_secs),
        amqp: amqp_config(&state.settings),
        ..WorkerConfig::default()
    };
    Worker::new(state.store.clone(), Arc::clone(&state.pipeline), config)
        .with_wake(Arc::clone(&state.wake))
        .with_run_finished(Arc::clone(&state.runs_finished))
}

/// The RabbitMQ transport, when `queue.amqp_url` (or `AMQP_URL`) is set.
pub fn amqp_config(settings: &Settings) -> Option<AmqpConfig> {
    let queue = &settings.queue;
    let url = queue.amqp_url.as_ref()?;
    Some(AmqpConfig::new(url.expose_secret(), queue.amqp_prefix.clone()))
}

/// The relay that publishes this process's enqueued tasks to RabbitMQ, woken
/// by the same notification as the in-process worker; `None` without RabbitMQ.
pub fn relay_for(state: &AppState) -> Option<Relay> {
    let config = amqp_config(&state.settings)?;
    Some(Relay::new(state.store.clone(), config, Arc::clone(&state.wake)))
}

/// Re-embeds, in the background, what an earlier model embedded (after a
/// model change); logs how many.
pub fn spawn_reembedding(embeddings: EmbeddingService, stop: CancellationToken) {
    tokio::spawn(async move {
        match embeddings.reembed_stale(&stop).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(
                count,
                model = embeddings.model_id(),
                "re-embedded for the current model"
            ),
            Err(err) => tracing::error!(error = %err, "re-embedding stopped"),
        }
    });
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
pub async fn record_embedder(state: &AppState) {
    let provider = format!("{:?}", state.settings.embedding.provider).to_lowercase();
    if let Err(err) =
        crate::embedding_registry::record_serving(&state.store, &state.embeddings, &provider).await
    {
        tracing::warn!(error = %err, "recording the embedder in the model registry failed");
    }
}

impl Server {
    /// Migrates the database, builds the state and binds `settings.server.bind`.
    pub async fn build(settings: Settings, role: ServeRole) -> anyhow::Result<Self> {
        let bind = settings.server.bind;
        let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
        let state = AppState::build(settings).await?;
        state.store.migrate().await.context("migrating the database")?;
        state.embeddings.start().await.context("starting the embedding provider")?;
        record_embedder(&state).await;
        state.profile_index.spawn_build(state.store.clone());
        state.job_index.spawn_build(state.store.clone());
        let bias = (Arc::clone(&state.bias), state.store.clone(), state.storage.clone());
        let listener = TcpListener::bind(bind).await.with_context(|| format!("binding {bind}"))?;
        let worker = (role == ServeRole::All).then(|| BackgroundWork {
            worker: worker_for(&state),
            embeddings: state.embeddings.clone(),
            store: state.store.clone(),
            notifier: Arc::clone(&state.notifier),
            runs_finished: Arc::clone(&state.runs_finished),
            training: state.settings.training.clone(),
        });
        let relay = relay_for(&state);
        let profile_index = Arc::clone(&state.profile_index);
        let job_index = Arc::clone(&state.job_index);
        Ok(Self {
            listener,
            router: app(state),
            grace,
            worker,
            relay,
            profile_index,
            job_index,
            bias,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves (and runs the worker, if any) until `shutdown` resolves, then
    /// waits up to the grace period for in-flight requests and steps.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = CancellationToken::new();
        let worker = self.worker.map(|work| {
            spawn_reembedding(work.embeddings, stop.clone());
            crate::scheduled_training::spawn(
                work.store.clone(),
                work.training,
                process_name(),
                stop.clone(),
            );
            crate::notifications::spawn(
                work.store,
                work.notifier,
                work.runs_finished,
                stop.clone(),
            );
            tokio::spawn(work.worker.run(stop.clone()))
        });
        let relay = self.relay.map(|relay| tokio::spawn(relay.run(stop.clone())));
        self.profile_index.spawn_snapshots(stop.clone());
        self.job_index.spawn_snapshots(stop.clone());
        let (bias, store, storage) = self.bias;
        bias.keep_current(store, storage, stop.clone()).await;
        let stop_on_signal = stop.clone();
        let serve = axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop_on_signal.cancel();
            let _ = stopping_tx.send(());
        });
        let grace = self.grace;
        let deadline = async move {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        };
        let served = tokio::select! {
            result = serve => result.context("serving HTTP"),
            () = deadline => {
                tracing::warn!(grace_secs = grace.as_secs(), "shutdown grace period over; dropping open connections");
                Ok(())
            }
        };
        stop.cancel();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        if let Some(relay) = relay {
            let _ = relay.await;
        }
        served
    }
}

/// The router with every middleware, outermost first: request id, tracing,
/// timeout, body limit, security headers, CORS, metrics, rate limits.
pub fn app(state: AppState) -> Router {
    let server = &state.settings.server;
    let timeout = Duration::from_secs(server.request_timeout_secs.max(1));
    let body_limit = server.body_limit_bytes;
    let cors = cors_layer(&server.cors_origins);
    let x_request_id = HeaderName::from_static("x-request-id");

    routes::router(state.clone())
        .layer(middleware::from_fn_with_state(state, ratelimit::limit_requests))
        .layer(middleware::from_fn(crate::metrics::track_http))
        .layer(cors)
        .layer(middleware::from_fn(crate::headers::by_area))
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("cross-origin-opener-policy"),
                    HeaderValue::from_static("same-origin"),
                )),
        )
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                }))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(HandleErrorLayer::new(handle_middleware_error))
                .timeout(timeout),
        )
}

async fn handle_middleware_error(err: BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(ErrorCode::Timeout, "the request took too long")
    } else {
        ApiError::Internal(anyhow::anyhow!("middleware error: {err}"))
    }
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> =
        origins.iter().filter_map(|origin| origin.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
