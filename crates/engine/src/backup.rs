//! Backups of a deployment (its database and object store), their
//! verification, and restoring one into an empty deployment.
//!
//! A backup folder holds the database — `database.sqlite` (a consistent
//! `VACUUM INTO` copy) or `database.pgdump` (`pg_dump`'s custom format, one
//! consistent snapshot) —, `objects/<key>` (every stored file) and
//! `manifest.json` with each file's size and SHA-256, written last: a
//! folder without a manifest is an unfinished backup. Search and candidate
//! indexes are not copied; a restored deployment rebuilds them on start.
//! Point-in-time recovery of a large PostgreSQL site is WAL archiving's
//! job (see the README), not this.

use std::path::{Path, PathBuf};

use fairgig_core::{config::Settings, progress::Progress};
use fairgig_store::{objects::ObjectError, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Engine;

const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "database.sqlite";
const DATABASE_PG: &str = "database.pgdump";
const OBJECTS: &str = "objects";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Refused(String),
    #[error("the backup does not match its manifest: {}", .0.join("; "))]
    Damaged(Vec<String>),
    #[error("reading or writing the backup: {0}")]
    Io(#[from] std::io::Error),
    #[error("the manifest: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Objects(#[from] ObjectError),
    #[error("{program} failed: {message}")]
    Tool { program: &'static str, message: String },
}

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// This format's version.
    pub format: u32,
    /// The fairgig that wrote it.
    pub fairgig: String,
    /// RFC 3339.
    pub created_at: String,
    pub files: Vec<Entry>,
}

/// One file of a backup, by its path inside the folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// How many stored objects it holds.
    pub fn objects(&self) -> usize {
        self.files.iter().filter(|entry| object_key(&entry.path).is_some()).count()
    }
}

fn entry(dir: &Path, path: &str) -> Result<Entry, BackupError> {
    let bytes = std::fs::read(dir.join(path))?;
    Ok(Entry {
        path: path.to_owned(),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// An object key as a path inside the backup: refuses anything that could
/// leave the folder.
fn object_path(key: &str) -> Result<String, BackupError> {
    let safe = !key.is_empty()
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if safe {
        Ok(format!("{OBJECTS}/{key}"))
    } else {
        Err(BackupError::Refused(format!("object key {key:?} cannot be a path")))
    }
}

/// The object key a backup path holds (`objects/<key>`), if it is one.
fn object_key(path: &str) -> Option<&str> {
    let key = path.strip_prefix("objects/")?;
    object_path(key).is_ok().then_some(key)
}

/// Writes a backup of `engine`'s database and object store into `dir`
/// (created; it must be empty or missing).
pub async fn backup(
    engine: &Engine,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Manifest, BackupError> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(BackupError::Refused(format!("{} is not empty", dir.display())));
    }
    std::fs::create_dir_all(dir.join(OBJECTS))?;
    progress.stage("database", None);
    let database = if engine.store.snapshot_sqlite(&dir.join(DATABASE)).await?.is_some() {
        DATABASE
    } else {
        let url = engine.settings.database_url();
        let target = dir.join(DATABASE_PG);
        run_pg_tool("pg_dump", &url, |command| {
            command
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(&target);
        })
        .await?;
        DATABASE_PG
    };
    let mut files = vec![entry(dir, database)?];
    let keys = engine.storage.all_keys().await?;
    progress.stage("files", Some(keys.len() as u64));
    for key in keys {
        let path = object_path(&key)?;
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, engine.storage.get(&key).await?)?;
        files.push(entry(dir, &path)?);
        progress.advance(1);
    }
    let manifest = Manifest {
        format: 1,
        fairgig: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        files,
    };
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Reads `dir`'s manifest and checks every file against it.
pub fn verify(dir: &Path, progress: &dyn Progress) -> Result<Manifest, BackupError> {
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(dir.join(MANIFEST))?)?;
    progress.stage("checking", Some(manifest.files.len() as u64));
    let mut problems = Vec::new();
    let databases = manifest.files.iter().filter(|entry| is_database(&entry.path)).count();
    if databases != 1 {
        problems.push(format!("{databases} databases are listed, not one"));
    }
    for listed in &manifest.files {
        if object_key(&listed.path).is_none() && !is_database(&listed.path) {
            problems.push(format!("{} is not a backup path", listed.path));
            continue;
        }
        match entry(dir, &listed.path) {
            Ok(found) if found == *listed => {}
            Ok(_) => problems.push(format!("{} has changed", listed.path)),
            Err(err) => problems.push(format!("{}: {err}", listed.path)),
        }
        progress.advance(1);
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(BackupError::Damaged(problems))
    }
}

fn is_database(path: &str) -> bool {
    path == DATABASE || path == DATABASE_PG
}

/// Restores a verified backup into the empty deployment `settings` names
/// (a SQLite file that does not exist yet, or a PostgreSQL database without
/// tables), on the backend the backup came from; its object store is filled
/// first, the database last.
pub async fn restore(
    settings: &Settings,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Manifest, BackupError> {
    let manifest = verify(dir, progress)?;
    let url = settings.database_url();
    let from_postgres = manifest.files.iter().any(|entry| entry.path == DATABASE_PG);
    let into_sqlite = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    match (from_postgres, into_sqlite) {
        (true, None) => {
            restore_postgres(settings, dir, &manifest, &url, progress).await.map(|()| manifest)
        }
        (false, Some(location)) => {
            restore_sqlite(settings, dir, &manifest, location, progress).await.map(|()| manifest)
        }
        (true, Some(_)) | (false, None) => Err(BackupError::Unsupported(
            "a backup restores onto the backend it came from (SQLite to SQLite, PostgreSQL \
             to PostgreSQL)"
                .into(),
        )),
    }
}

/// Puts the verified `manifest`'s objects into the deployment's store.
async fn fill_object_store(
    settings: &Settings,
    dir: &Path,
    manifest: &Manifest,
    progress: &dyn Progress,
) -> Result<(), BackupError> {
    let storage = crate::services::object_storage(settings)?;
    progress.stage("files", Some(manifest.objects() as u64));
    for listed in &manifest.files {
        if let Some(key) = object_key(&listed.path) {
            storage.put(key, std::fs::read(dir.join(&listed.path))?.into()).await?;
            progress.advance(1);
        }
    }
    Ok(())
}

async fn restore_postgres(
    settings: &Settings,
    dir: &Path,
    manifest: &Manifest,
    url: &str,
    progress: &dyn Progress,
) -> Result<(), BackupError> {
    let store = fairgig_store::Store::connect(url, Default::default()).await?;
    let occupied = store.has_tables().await?;
    store.close().await;
    if occupied {
        return Err(BackupError::Refused(
            "the database has tables: restore only into an empty one".into(),
        ));
    }
    fill_object_store(settings, dir, manifest, progress).await?;
    progress.stage("database", None);
    let dump = dir.join(DATABASE_PG);
    run_pg_tool("pg_restore", url, |command| {
        command
            .args(["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"])
            .arg(&dump);
    })
    .await
}

/// Runs `pg_dump` or `pg_restore` (from PATH) against `url`. The password
/// goes in `PGPASSWORD`, not on the command line where `ps` shows it.
async fn run_pg_tool(
    program: &'static str,
    url: &str,
    arguments: impl FnOnce(&mut tokio::process::Command),
) -> Result<(), BackupError> {
    let failed = |message: String| BackupError::Tool { program, message };
    let mut parsed =
        url::Url::parse(url).map_err(|err| failed(format!("the database URL: {err}")))?;
    let password = parsed.password().map(|password| {
        percent_encoding::percent_decode_str(password).decode_utf8_lossy().into_owned()
    });
    let _ = parsed.set_password(None);
    let mut command = tokio::process::Command::new(program);
    command.arg("--dbname").arg(parsed.as_str());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    arguments(&mut command);
    let output = command.output().await.map_err(|err| {
        failed(format!(
            "{err} (is PostgreSQL's client, e.g. Debian's postgresql-client, installed?)"
        ))
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(String::from_utf8_lossy(&output.stderr).trim().to_owned()))
    }
}

async fn restore_sqlite(
    settings: &Settings,
    dir: &Path,
    manifest: &Manifest,
    location: &str,
    progress: &dyn Progress,
) -> Result<(), BackupError> {
    // `sqlite://path?mode=rwc`: the file is the part before the options.
    let path = PathBuf::from(location.split('?').next().unwrap_or_default());
    if path.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists: restore only into an empty deployment",
            path.display()
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    fill_object_store(settings, dir, manifest, progress).await?;
    progress.stage("database", None);
    // The database last: a deployment with a database has its files.
    std::fs::copy(dir.join(DATABASE), &path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_never_leave_the_backup_folder() {
        assert_eq!(object_path("submissions/a/b").expect("fine"), "objects/submissions/a/b");
        assert_eq!(object_key("objects/submissions/a/b"), Some("submissions/a/b"));
        assert_eq!(object_key("objects/../../x"), None);
        assert_eq!(object_key("database.sqlite"), None);
        for bad in ["", "../etc/passwd", "a/../../b", "/abs", "a//b", "./a"] {
            assert!(object_path(bad).is_err(), "{bad}");
        }
    }
}
