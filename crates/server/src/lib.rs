//! The fairgig server: HTTP API, authentication, rate limiting, metrics and
//! the command line, on top of the `store` crate.
//!
//! A request reads top to bottom: [`routes`] (HTTP shapes, who may call) →
//! [`accounts`] (what happens, audit) → `fairgig_store` (SQL).
//!
//! - [`startup`]: `Server::build` / `run_until_stopped`, middleware stack.
//! - [`state`]: the shared `AppState`.
//! - [`settings`]: configuration loading.
//! - [`auth`]: passwords, tokens, API keys, the `Caller` extractor.
//! - [`ratelimit`]: GCRA limits, in-process or in Redis.
//! - [`error`], [`extractors`]: one error shape for every failure.
//! - [`headers`]: caching and content-security headers by area (API, docs).
//! - [`metrics`], [`telemetry`]: Prometheus and logs.
//! - [`submissions`], [`sniff`], [`steps`]: what clients submit, checking
//!   uploads, and the pipeline steps that process them.
//! - [`matching`], [`candidates`]: ranked, explained, fairly re-ranked
//!   matches, and the index that proposes whom to score.
//! - [`cli`]: the `fairgig` command.

pub mod accounts;
pub mod auth;
pub mod bench;
pub mod bias_rules;
pub mod candidates;
pub mod cli;
pub mod demo;
pub mod embedding;
pub mod embedding_registry;
pub mod error;
pub mod extractors;
pub mod headers;
pub mod matching;
pub mod metrics;
pub mod notifications;
pub mod ratelimit;
pub mod routes;
pub mod scheduled_training;
pub mod settings;
pub mod sniff;
pub mod startup;
pub mod state;
pub mod steps;
pub mod submissions;
pub mod telemetry;
pub mod training;
