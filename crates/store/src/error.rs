use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme in {0:?} (expected sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error(
        "the database has migration {version} that this fairgig does not know: \
         it was migrated by a newer fairgig; run that version or restore a backup"
    )]
    DatabaseNewer { version: i64 },
    #[error("the database schema is not current; run `fairgig migrate`")]
    MigrationsPending,
    /// A uniqueness constraint refused the write; `field` names what clashed.
    #[error("{field} already exists")]
    Conflict { field: &'static str },
    #[error("not found")]
    NotFound,
    /// An update named a version that is no longer current: someone saved
    /// since. `current` is the version it is at.
    #[error("changed since: now at version {current}")]
    Stale { current: i64 },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// The database could not be reached or dropped the connection (rather
    /// than refusing the statement): worth a retry in a moment, and an
    /// answer of "unavailable", not an internal error.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(err) = self else { return false };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL: a FATAL error ends the session (the database is
            // shutting down, not accepting connections, out of
            // connections), as do class 08 (connection exception) and
            // 57P01–57P03; SQLite 5 and 6 (busy and locked past the busy
            // timeout).
            sqlx::Error::Database(db) => {
                let fatal =
                    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some_and(|pg| {
                        matches!(
                            pg.severity(),
                            sqlx::postgres::PgSeverity::Fatal | sqlx::postgres::PgSeverity::Panic
                        )
                    });
                fatal
                    || db.code().is_some_and(|code| {
                        code.starts_with("08")
                            || ["57P01", "57P02", "57P03", "5", "6"].contains(&&*code)
                    })
            }
            _ => false,
        }
    }

    /// Maps a unique violation to `Conflict { field }`, anything else unchanged.
    pub(crate) fn conflict_on(field: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { field },
            _ => StoreError::Database(err),
        }
    }
}
