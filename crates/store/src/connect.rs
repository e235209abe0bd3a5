//! Opening a store from a URL and keeping its schema current.

use std::{str::FromStr, time::Duration};

use sqlx::{
    migrate::{MigrateError, Migrator},
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{Pool, Store, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How to open the pool. `max_connections == 0` picks the backend's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// How long a query waits for a connection before the store answers
    /// "unavailable" ([`StoreError::is_unavailable`]); `None`: 10 s.
    pub acquire_timeout: Option<Duration>,
}

impl Store {
    /// A consistent copy of an SQLite database at `path` (`VACUUM INTO`:
    /// one read transaction, so writes during the copy are either in it or
    /// not). `None` on PostgreSQL, whose own tools (`pg_dump`, WAL
    /// archiving) do this better.
    pub async fn snapshot_sqlite(&self, path: &std::path::Path) -> Result<Option<()>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("VACUUM INTO $1")
                    .bind(path.to_string_lossy().into_owned())
                    .execute(pool)
                    .await?;
                Ok(Some(()))
            }
            Pool::Postgres(_) => Ok(None),
        }
    }

    /// Whether the database holds any table at all (a restore goes only
    /// into an empty one).
    pub async fn has_tables(&self) -> Result<bool, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')",
                )
                .fetch_one(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                     WHERE table_schema = current_schema())",
                )
                .fetch_one(pool)
                .await?
            }
        })
    }

    /// Opens the database named by `url`; the scheme picks the backend.
    /// SQLite files (and their folder) are created if missing.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Store, StoreError> {
        let acquire_timeout = options.acquire_timeout.unwrap_or(Duration::from_secs(10));
        let pool = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if let Some(parent) = connect.get_filename().parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)
                        .map_err(|err| StoreError::Database(sqlx::Error::Io(err)))?;
                }
            }
            let max = if options.max_connections == 0 { 8 } else { options.max_connections };
            // A fresh file is turned to WAL by whichever process opens it
            // first; another opening it at that moment is told "locked" at
            // once (no busy wait applies to a journal-mode change), so it
            // tries again for a few seconds.
            let mut attempts = 0;
            let pool = loop {
                let opened = SqlitePoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire_timeout)
                    .connect_with(connect.clone())
                    .await;
                match opened {
                    Err(sqlx::Error::Database(err))
                        if err.code().as_deref() == Some("5") && attempts < 50 =>
                    {
                        attempts += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    other => break other?,
                }
            };
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let max = if options.max_connections == 0 { 10 } else { options.max_connections };
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire_timeout)
                    .connect(url)
                    .await?,
            )
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::UnsupportedUrl(format!("{scheme}:")));
        };
        Ok(Store { pool })
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations. Refuses a database migrated by a newer
    /// fairgig (one with migrations this binary does not have).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => {
                let _lock = migration_lock(pool.connect_options().get_filename()).await?;
                SQLITE_MIGRATIONS.run(pool).await
            }
            // sqlx holds an advisory lock while it migrates PostgreSQL.
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|err| match err {
            MigrateError::VersionMissing(version) => StoreError::DatabaseNewer { version },
            other => StoreError::Migrate(other),
        })
    }

    /// Versions applied to the database, ascending.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let query = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
        let versions: Vec<i64> = crate::with_pool!(self, pool => {
            sqlx::query_scalar(query).fetch_all(pool).await?
        });
        Ok(versions)
    }

    /// Ok when the database has exactly the migrations this binary ships.
    pub async fn check_migrations_current(&self) -> Result<(), StoreError> {
        let applied = self.applied_migrations().await?;
        let known: Vec<i64> = self
            .migrator()
            .iter()
            .filter(|migration| !migration.migration_type.is_down_migration())
            .map(|migration| migration.version)
            .collect();
        if let Some(unknown) = applied.iter().find(|version| !known.contains(version)) {
            return Err(StoreError::DatabaseNewer { version: *unknown });
        }
        if applied.len() < known.len() {
            return Err(StoreError::MigrationsPending);
        }
        Ok(())
    }
}

/// Holds an exclusive lock on a file beside the SQLite database while it is
/// migrated: sqlx takes none on SQLite, so two processes starting on a
/// fresh file (`serve --role api` and `worker`) would both run the first
/// migration and one would fail. The second now waits, then finds nothing
/// to do. The lock goes with the returned file; the empty file stays.
async fn migration_lock(database: &std::path::Path) -> Result<Option<std::fs::File>, StoreError> {
    if database.as_os_str().is_empty() || database == std::path::Path::new(":memory:") {
        return Ok(None);
    }
    let mut name = database.as_os_str().to_owned();
    name.push(".migrate-lock");
    let path = std::path::PathBuf::from(name);
    let locked = tokio::task::spawn_blocking(move || {
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|err| StoreError::Database(sqlx::Error::Io(std::io::Error::other(err))))?;
    locked.map(Some).map_err(|err| StoreError::Database(sqlx::Error::Io(err)))
}
