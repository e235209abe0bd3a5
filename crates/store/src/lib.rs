//! Durable storage for fairgig, on SQLite (one machine) or PostgreSQL (many).
//!
//! Why one `Store` over an enum of pools instead of a trait with two impls:
//! both dialects accept the same SQL for nearly everything we do (`$n`
//! parameters, `RETURNING`, `ON CONFLICT`), and the derived row types decode
//! from either backend. So each query is written once and [`with_pool!`]
//! type-checks it against both drivers; the few statements that really differ
//! (task claiming with `SKIP LOCKED`, later) match on [`Pool`] explicitly.
//! The contract tests in `tests/contract.rs` run every repository on both.
//!
//! Layout:
//! - [`connect`]: URL → backend, pool options, migrations.
//! - [`users`], [`sessions`], [`api_keys`]: accounts and credentials.
//! - [`account_links`]: one-time emailed links (password reset, email verification).
//! - [`audit`]: the append-only, hash-chained audit log.
//! - [`tasks`]: the durable task queue (claim, lease, retry, dead letters).
//! - [`submissions`], [`runs`]: what clients submit and the runs of steps processing it.
//! - [`objects`]: object storage for uploaded files (local directory or S3).
//! - [`embeddings`]: the embedding cache and each entity's current vector.
//! - [`personal_data`]: what an account holds, for its export, and erasing it.
//! - [`announcements`]: notifications decided in a transaction, delivered after it (an outbox).
//! - [`notifications`]: notification preferences, webhook endpoints, the delivery log and queue.
//! - [`outbox`]: handing queued tasks to the broker and claiming them by id.
//! - [`marketplace`]: jobs and freelancer profiles, and their change cursors.
//! - [`applications`]: applications to jobs and reviews after them.
//! - [`job_activity`]: views of a client's jobs and their applicant counts.
//! - [`feedback`]: match lists as shown and feedback on them.
//! - [`exposure`]: the fairness groups' exposure ledger.
//! - [`models`]: the model registry (versions, champion and challenger).
//! - [`retention`]: pruning finished records past their retention period.
//! - [`schedules`]: leases that let one process run each occurrence of periodic work.
//! - `error`: [`StoreError`], every repository's one error type.
//! - `test_support` (feature `test-support`): fresh databases for tests and
//!   benchmarks (SQLite file or PostgreSQL database).

pub mod account_links;
pub mod announcements;
pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod connect;
pub mod embeddings;
mod error;
pub mod exposure;
pub mod feedback;
pub mod job_activity;
pub mod marketplace;
pub mod models;
pub mod notifications;
pub mod objects;
pub mod outbox;
pub mod pages;
pub mod personal_data;
pub mod prototypes;
pub mod retention;
pub mod runs;
pub mod schedules;
pub mod sessions;
pub mod submissions;
pub mod tasks;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod users;

pub use error::StoreError;

use sqlx::{PgPool, SqlitePool};
use time::OffsetDateTime;

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
/// The body is compiled once per backend, so it must be valid for both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Starts a transaction that will write.
///
/// Why not `pool.begin_write()`: SQLite's plain `BEGIN` is deferred, so a
/// transaction that reads before it writes holds a read snapshot, and if
/// another connection commits in between, its first write fails at once
/// with `SQLITE_BUSY` (the busy timeout cannot mend a stale snapshot).
/// `BEGIN IMMEDIATE` takes the write lock up front and waits out other
/// writers for the busy timeout instead. PostgreSQL needs nothing of the kind.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// The connection pool of the configured backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which backend a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database; cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

/// Connection-pool figures for `/metrics`.
#[derive(Clone, Copy, Debug)]
pub struct PoolStats {
    pub size: u32,
    pub idle: usize,
}

impl Store {
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Round-trips a trivial query: the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// The database's size on disk, in bytes (SQLite: after folding its
    /// write-ahead log into the file), for storage benchmarks.
    pub async fn database_bytes(&self) -> Result<u64, StoreError> {
        let (bytes,): (i64,) = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
                sqlx::query_as(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    pub fn pool_stats(&self) -> PoolStats {
        with_pool!(self, pool => PoolStats { size: pool.size(), idle: pool.num_idle() })
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// `NotFound` when a write changed no row: the row it names does not exist
/// (or is not in the state the write needs).
pub(crate) fn found(changed: u64) -> Result<(), StoreError> {
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Now, in UTC, as every stored time is made.
///
/// Truncated to microseconds: PostgreSQL keeps no finer precision, and
/// values must read back exactly as written (the audit chain hashes them).
/// And never on a whole ten microseconds: SQLite keeps times as RFC 3339
/// text, which drops trailing zeros, so `…24.24Z` would sort after
/// `…24.240429Z` in every `ORDER BY` and comparison. One microsecond later
/// keeps every stored fraction six digits long, so text order is time order.
pub fn now() -> OffsetDateTime {
    sortable(OffsetDateTime::now_utc())
}

fn sortable(at: OffsetDateTime) -> OffsetDateTime {
    let micros = at.microsecond();
    let micros = if micros.is_multiple_of(10) { micros + 1 } else { micros };
    at.replace_microsecond(micros).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;

    use super::*;

    fn text(at: OffsetDateTime) -> String {
        at.format(&Rfc3339).expect("format")
    }

    #[test]
    fn stored_times_sort_as_text_in_time_order() {
        let second = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let times: Vec<OffsetDateTime> = [0, 10, 240_000, 240_001, 240_429, 999_990, 999_999]
            .into_iter()
            .map(|micros| sortable(second + time::Duration::microseconds(micros)))
            .chain([sortable(second + time::Duration::nanoseconds(240_429_777))])
            .collect();
        for at in &times {
            let fraction = text(*at).split('.').nth(1).map(|f| f.len());
            assert_eq!(fraction, Some(7), "six digits and the Z: {}", text(*at));
        }
        let mut by_text = times.clone();
        by_text.sort_by_key(|at| text(*at));
        let mut by_time = times;
        by_time.sort();
        assert_eq!(by_text, by_time);
    }

    #[test]
    fn a_stored_time_moves_by_at_most_a_microsecond() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time")
            + time::Duration::nanoseconds(240_000_999);
        assert_eq!(sortable(at).microsecond(), 240_001);
        let kept = at + time::Duration::microseconds(7);
        assert_eq!(sortable(kept).microsecond(), 240_007);
        assert_eq!(sortable(kept).nanosecond(), 240_007_000, "truncated to microseconds");
    }
}
