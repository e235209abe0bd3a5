//! The fairgig server: the HTTP API and the command line, on top of the
//! engine (`fairgig_engine`), which holds every use case.
//!
//! A request reads top to bottom: [`routes`] (HTTP shapes, who may call) →
//! `fairgig_engine` (what happens, audit) → `fairgig_store` (SQL).
//!
//! - [`startup`]: `Server::build` / `run_until_stopped`, middleware stack.
//! - [`state`]: the shared `AppState` (the engine plus the metrics handle).
//! - [`settings`]: configuration loading.
//! - [`auth`]: the `Authenticated` extractor (bearer token or API key).
//! - [`ratelimit`]: the middleware applying the engine's quotas.
//! - [`retry`]: a safe request answered 503 (the database blinked) is tried once more.
//! - [`error`], [`extractors`]: one error shape for every failure.
//! - [`headers`]: caching and content-security headers by area (API, docs).
//! - [`metrics`], [`telemetry`]: Prometheus, logs and traces (OTLP).
//! - [`progress`]: progress bars of the long commands (terminals only).
//! - [`bench`]: `fairgig bench portal`, the one measurement that needs the
//!   router; the others live in `fairgig_bench`.
//! - [`cli`]: the `fairgig` command.

pub mod auth;
pub mod bench;
pub mod cli;
pub mod error;
pub mod extractors;
pub mod headers;
pub mod metrics;
pub mod progress;
pub mod ratelimit;
pub mod retry;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
