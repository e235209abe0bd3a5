//! fairgig's engine: the use cases every face of fairgig calls (the HTTP
//! API, the portal, the CLI and the background workers), on top of the
//! store and the pure crates (`ai`, `embed`, `matching`, `notify`).
//!
//! No HTTP here: use cases take an [`Engine`] and a [`Caller`] and return
//! [`Error`], which each face shows in its own way.
//!
//! - [`services`]: [`Engine`], the shared services built from settings.
//! - [`background`]: the supervisor that starts workers, index builds,
//!   notification sending, scheduled training and rule reloads, and joins
//!   them at shutdown.
//! - [`error`]: the one error type and its kinds.
//! - [`caller`]: who is acting and what their credential allows.
//! - [`accounts`]: sign-up, sign-in, sessions, passwords, API keys
//!   ([`accounts::passwords`], [`accounts::tokens`], [`accounts::api_keys`]).
//! - [`limits`]: request quotas, sign-in lockouts, expensive-work slots.
//! - [`jobs`], [`applications`]: posting and publishing jobs; applying,
//!   hiring, reviews and their moderation.
//! - [`feedback`]: what people did with a match list, for training.
//! - [`fairness_audit`]: how fair the shown lists were, day by day.
//! - [`review_audit`]: whether reviewers rate one self-declared group of
//!   freelancers worse (the four-fifths test).
//! - [`language_evidence`]: flagged language in jobs next to who applied.
//! - [`profiles`]: freelancer profiles, checked and embedded.
//! - [`submissions`], [`sniff`]: what clients submit, and checking uploads.
//! - [`orphan_uploads`]: removing uploaded files no submission refers to.
//! - [`retention`]: pruning finished records past their retention period.
//! - [`personal_data`]: a person's copy of their data, and erasing their account.
//! - [`leased`]: periodic work one process runs per occurrence, under a lease.
//! - [`backup`]: backing up, verifying and restoring a one-machine deployment.
//! - [`steps`]: the pipeline each submission runs through and its steps.
//! - [`matching`], [`candidates`]: ranked, explained, fairly re-ranked
//!   matches, and the indexes that propose whom to score.
//! - [`match_request`]: a request for a job's matches (limit, filters,
//!   policy overrides), checked the same way for every face.
//! - [`search`]: searching the open jobs by words and meaning, fused.
//! - [`transcription`]: voice recordings to text (Whisper in process, an
//!   OpenAI-compatible service, or off).
//! - [`embedding`], [`embedding_registry`]: the embedding provider behind
//!   the database cache, and its entries in the model registry.
//! - [`registry`]: the model registry's use cases over its three kinds.
//! - [`training`], [`scheduled_training`], [`bias_rules`]: the model
//!   registry's rankers and rule packs, trained, evaluated, promoted.
//! - [`notifications`]: announcing finished runs and inviting matches, and
//!   delivering announcements (a submission's receipt) written in a
//!   transaction.
//! - [`webhooks`]: a user's webhook endpoints and their secret rotation.
//! - [`live`]: a user's live events (new applications, newly opened jobs
//!   that fit), for `GET /me/events` and the portal.
//! - [`operations`]: the operator's users, audit log, dead letters,
//!   notification log and template previews.
//! - [`demo`]: the demo marketplace and the reference texts.

pub mod accounts;
pub mod applications;
pub mod background;
pub mod backup;
pub mod bias_rules;
pub mod briefs;
pub mod caller;
pub mod candidates;
pub mod demo;
pub mod embedding;
pub mod embedding_registry;
pub mod error;
pub mod fairness_audit;
pub mod feedback;
pub mod jobs;
pub mod language_evidence;
pub mod leased;
pub mod limits;
pub mod live;
pub mod match_request;
pub mod matching;
pub mod notifications;
pub mod operations;
pub mod orphan_uploads;
pub mod pages;
pub mod personal_data;
pub mod profiles;
pub mod prototypes;
pub mod registry;
pub mod relevance_set;
pub mod retention;
pub mod review_audit;
pub mod scheduled_training;
pub mod search;
pub mod services;
pub mod sniff;
pub mod steps;
pub mod submissions;
pub mod training;
pub mod transcription;
pub mod webhooks;

pub use caller::{Caller, Credential};
pub use error::{Error, ErrorKind, Result};
pub use services::{check_settings, Engine};
