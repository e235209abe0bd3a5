//! Fresh, isolated databases for tests: a SQLite file in a temporary folder,
//! or a new PostgreSQL database created through `FAIRGIG_TEST_POSTGRES_URL`.
//!
//! Lives in the library (not `tests/`) because the server's integration tests
//! need the same thing.

use std::{future::Future, io::Write, path::PathBuf, sync::Once};

use sqlx::{Connection, PgConnection};

use crate::{connect::ConnectOptions, Store, StoreError};

/// The environment variable naming a PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "FAIRGIG_TEST_POSTGRES_URL";

/// A test database; drop the struct only after closing the store.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    /// Keeps a SQLite database's folder alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
    postgres_admin: Option<(String, String)>,
}

impl TestDatabase {
    /// A new SQLite database file in its own temporary folder.
    pub fn sqlite() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path: PathBuf = dir.path().join("test.db");
        Ok(Self {
            url: format!("sqlite://{}", path.display()),
            _dir: Some(dir),
            postgres_admin: None,
        })
    }

    /// A new, empty PostgreSQL database, or `None` when the variable is unset.
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            return Ok(None);
        };
        Self::postgres_on(&admin_url).await.map(Some)
    }

    /// A new, empty database on the server at `admin_url`.
    pub async fn postgres_on(admin_url: &str) -> Result<Self, StoreError> {
        let admin_url = admin_url.to_owned();
        let name = format!("fairgig_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        admin.close().await?;
        let url = replace_database_name(&admin_url, &name);
        Ok(Self { url, _dir: None, postgres_admin: Some((admin_url, name)) })
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Result<Store, StoreError> {
        let store = Store::connect(
            &self.url,
            ConnectOptions { max_connections: 5, ..ConnectOptions::default() },
        )
        .await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Drops a PostgreSQL test database (SQLite folders go with the struct).
    pub async fn cleanup(self) -> Result<(), StoreError> {
        if let Some((admin_url, name)) = &self.postgres_admin {
            let mut admin = PgConnection::connect(admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// Runs `test` on a fresh, migrated SQLite store, then on a fresh PostgreSQL
/// one when `FAIRGIG_TEST_POSTGRES_URL` is set (else prints one SKIP line,
/// past the test harness's capture so it is always seen). Panics on setup
/// failures: this is for tests.
#[allow(clippy::expect_used)]
pub async fn on_every_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = TestDatabase::sqlite().expect("temp dir");
    let store = sqlite.store().await.expect("sqlite store");
    test(store.clone()).await;
    store.close().await;

    match TestDatabase::postgres().await.expect("create postgres test database") {
        Some(postgres) => {
            let store = postgres.store().await.expect("postgres store");
            test(store.clone()).await;
            store.close().await;
            postgres.cleanup().await.expect("drop test database");
        }
        None => {
            static SKIP: Once = Once::new();
            SKIP.call_once(|| {
                let _ = writeln!(std::io::stderr(), "SKIP postgres: {POSTGRES_URL_VAR} unset");
            });
        }
    }
}

/// `postgres://u@h:5432/db?x=y` with `db` replaced by `name`.
fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::replace_database_name;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            replace_database_name("postgres://u@127.0.0.1:5432/postgres", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database_name("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(replace_database_name("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
