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
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique violation to `Conflict { field }`, anything else unchanged.
    pub(crate) fn conflict_on(field: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { field },
            _ => StoreError::Database(err),
        }
    }
}
