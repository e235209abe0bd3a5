//! Prometheus metrics: HTTP request counts and latency by route and status,
//! database pool figures, rendered at `/metrics`.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;

use crate::state::AppState;

/// The process-wide recorder. `metrics` has one global recorder, so every
/// application in the process (tests start many) shares this handle.
pub fn prometheus_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = with_buckets().unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then our handle
            // simply renders nothing, which is better than refusing to start.
            let _ = metrics::set_global_recorder(recorder);
            register_event_counters();
            handle
        })
        .clone()
}

/// Every histogram is exported as one (with buckets), not as a summary,
/// so dashboards can aggregate quantiles across nodes: durations from a
/// millisecond (a match stage) to five minutes (a long recording's
/// transcription), and the fairness figures on their own scales.
fn with_buckets() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    let seconds = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
        120.0, 300.0,
    ];
    PrometheusBuilder::new()
        .set_buckets(&seconds)?
        // −MinSkew@k, a log ratio: 0 on target, 0.69 at half the share.
        .set_buckets_for_metric(
            Matcher::Full("fairgig_fairness_skew_shortfall".to_owned()),
            &[0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full("fairgig_fairness_ndkl".to_owned()),
            &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
        )
}

/// Counters of rare events start at 0 so `increase()` in an alert or a
/// dashboard sees the first one (a series born at 1 shows no increase).
fn register_event_counters() {
    let calls =
        ["embeddings", "transcription", "chat completion"].into_iter().map(str::to_owned).chain(
            fairgig_notify::ChannelKind::ALL
                .iter()
                .map(|channel| format!("notify:{}", channel.as_str())),
        );
    for call in calls {
        metrics::counter!("fairgig_breaker_opened_total", "call" => call).absolute(0);
    }
    for by in ["newcomer", "declared"] {
        metrics::counter!("fairgig_fairness_absent_lists_total", "by" => by).absolute(0);
    }
    metrics::counter!("fairgig_rate_limited_total").absolute(0);
    metrics::counter!("fairgig_accounts_erased_total").absolute(0);
}

/// Records `http_requests_total` and `http_request_duration_seconds` with
/// labels `method`, `route` and `status`. Every label has a fixed set of
/// values, so no client can grow the series: a method outside the standard
/// nine is `other`, a route is the matched pattern (never the raw path) or
/// `unmatched`, a status is one of at most 900 numbers.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method.to_owned()), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The standard methods by name; any other string a client sends is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// `/metrics` is served to this request: no token is configured, or the
/// request carries it as a bearer token (compared in constant time).
pub fn authorised(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(expected) = &state.engine.settings.server.metrics_token else { return true };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests of equal length, compared as API keys are.
    fairgig_engine::accounts::api_keys::digests_match(
        &fairgig_engine::accounts::api_keys::hash_key(offered),
        &fairgig_engine::accounts::api_keys::hash_key(expected.expose_secret()),
    )
}

/// The exposition text, with pool, queue and readiness gauges refreshed
/// first (`fairgig_ready` is what `/readyz` would answer: 1 or 0).
pub async fn render(state: &AppState) -> String {
    let ready = crate::routes::readiness(state).await.is_ready();
    metrics::gauge!("fairgig_ready").set(if ready { 1.0 } else { 0.0 });
    let stats = state.engine.store.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(stats.size));
    metrics::gauge!("db_pool_idle_connections").set(stats.idle as f64);
    match state.engine.store.queue_stats().await {
        Ok(queue) => {
            metrics::gauge!("queue_tasks", "status" => "queued").set(queue.queued as f64);
            metrics::gauge!("queue_tasks", "status" => "running").set(queue.running as f64);
            metrics::gauge!("queue_tasks", "status" => "dead").set(queue.dead as f64);
            metrics::gauge!("queue_oldest_ready_age_seconds").set(queue.oldest_ready_secs);
        }
        Err(err) => tracing::warn!(error.message = %err, "queue statistics unavailable"),
    }
    state.metrics.render()
}
