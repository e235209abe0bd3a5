//! Domain types of fairgig: the words the product speaks, checked at the edge.
//!
//! Everything here is pure: no I/O, no clocks other than what callers pass in.
//! Values that come from users are parsed into newtypes (`Email`, `DisplayName`,
//! `Region`, …) once, so the rest of the system never re-validates them.
//!
//! Layout:
//! - [`ids`]: typed, time-sortable identifiers (UUIDv7).
//! - [`validation`]: the error every parser returns, naming the field.
//! - [`user`]: users, roles and the values a user types in.
//! - [`api_key`]: API-key scopes.
//! - [`audit`]: audit-log entries and the names of audited actions.
//! - [`breaker`]: a circuit breaker for calls to remote providers.
//! - [`cancel`]: telling CPU work that its requester is gone.
//! - [`submission`]: submissions, their runs and steps.
//! - [`marketplace`]: jobs, profiles, applications and reviews, and their states.
//! - [`work`]: statuses of background work: queued tasks and notification deliveries.
//! - [`config`]: typed configuration (loading it is the binary's job).
//! - [`dates`]: calendar dates in JSON as ISO 8601.
//! - [`progress`]: how far long work has come (stages and counts).

pub mod api_key;
pub mod audit;
pub mod breaker;
pub mod cancel;
pub mod config;
pub mod content;
pub mod dates;
pub mod ids;
pub mod marketplace;
pub mod progress;
pub mod submission;
pub mod user;
pub mod validation;
pub mod work;

pub use validation::ValidationError;
