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
use fairgig_engine::{
    background::{self, Duties},
    Engine,
};
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
    engine: Engine,
    duties: Duties,
}

impl ServeRole {
    /// The background duties of a `serve` process in this role.
    fn duties(self) -> Duties {
        match self {
            ServeRole::All => Duties::All,
            ServeRole::Api => Duties::Api,
        }
    }
}

impl Server {
    /// Migrates the database, builds the state and binds `settings.server.bind`.
    pub async fn build(settings: Settings, role: ServeRole) -> anyhow::Result<Self> {
        let bind = settings.server.bind;
        let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
        let state = AppState::build(settings).await?;
        state.engine.store.migrate().await.context("migrating the database")?;
        background::prepare(&state.engine).await?;
        let listener = TcpListener::bind(bind).await.with_context(|| format!("binding {bind}"))?;
        let engine = state.engine.clone();
        Ok(Self { listener, router: app(state), grace, engine, duties: role.duties() })
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
        let background = background::start(&self.engine, self.duties, &stop).await;
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
        background::stop_and_join(background, &stop).await;
        served
    }
}

/// The router with every middleware, outermost first: request id, tracing,
/// timeout, body limit, security headers, CORS, metrics, rate limits, one
/// more try of a safe request answered 503.
pub fn app(state: AppState) -> Router {
    let server = &state.engine.settings.server;
    let timeout = Duration::from_secs(server.request_timeout_secs.max(1));
    let body_limit = server.body_limit_bytes;
    let cors = cors_layer(&server.cors_origins);
    let x_request_id = HeaderName::from_static("x-request-id");

    routes::router(state.clone())
        .layer(crate::retry::RetryUnavailableOnceLayer)
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
                    // The route, not the path, names the span: ids in a
                    // path would make every request a name of its own.
                    let route = request
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map_or_else(|| request.uri().path(), |matched| matched.as_str());
                    let span = tracing::info_span!(
                        "request",
                        otel.name = %format_args!("{} {route}", request.method()),
                        otel.kind = "server",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                        trace_id = tracing::field::Empty,
                    );
                    let traceparent = request
                        .headers()
                        .get(fairgig_trace::TRACEPARENT)
                        .and_then(|value| value.to_str().ok());
                    fairgig_trace::continue_from(&span, traceparent);
                    span
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
            HeaderName::from_static(fairgig_trace::TRACEPARENT),
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

/// Serves `/healthz`, `/readyz` and `/metrics` alone on `bind` until
/// `stop`: a worker's face to probes and Prometheus, which would otherwise
/// never see its step metrics. Returns the bound address.
pub async fn serve_probes(
    state: AppState,
    bind: SocketAddr,
    stop: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener =
        TcpListener::bind(bind).await.with_context(|| format!("binding the probes to {bind}"))?;
    let address = listener.local_addr()?;
    let (router, _) = routes::probes().split_for_parts();
    let router = router.with_state(state);
    tokio::spawn(async move {
        let served =
            axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await;
        if let Err(err) = served {
            tracing::error!(error = %err, "the probe server stopped");
        }
    });
    Ok(address)
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
