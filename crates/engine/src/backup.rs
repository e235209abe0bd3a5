//! Backups of a one-machine deployment (SQLite and its object store), their
//! verification, and restoring one into an empty deployment.
//!
//! A backup folder holds `database.sqlite` (a consistent `VACUUM INTO`
//! copy), `objects/<key>` (every stored file) and `manifest.json` with each
//! file's size and SHA-256, written last: a folder without a manifest is an
//! unfinished backup. Search and candidate indexes are not copied; a
//! restored deployment rebuilds them on start. PostgreSQL deployments back
//! up with PostgreSQL's own tools (`pg_dump`, WAL archiving; see the
//! README), which this refuses to imitate.

use std::path::{Path, PathBuf};

use fairgig_core::config::Settings;
use fairgig_store::{objects::ObjectError, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Engine;

const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "database.sqlite";
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
pub async fn backup(engine: &Engine, dir: &Path) -> Result<Manifest, BackupError> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(BackupError::Refused(format!("{} is not empty", dir.display())));
    }
    std::fs::create_dir_all(dir.join(OBJECTS))?;
    if engine.store.snapshot_sqlite(&dir.join(DATABASE)).await?.is_none() {
        return Err(BackupError::Unsupported(
            "this deployment runs on PostgreSQL: back it up with pg_dump or WAL archiving \
             (see the README), and its object store with the store's own tools"
                .into(),
        ));
    }
    let mut files = vec![entry(dir, DATABASE)?];
    for key in engine.storage.all_keys().await? {
        let path = object_path(&key)?;
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, engine.storage.get(&key).await?)?;
        files.push(entry(dir, &path)?);
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
pub fn verify(dir: &Path) -> Result<Manifest, BackupError> {
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(dir.join(MANIFEST))?)?;
    let mut problems = Vec::new();
    if !manifest.files.iter().any(|entry| entry.path == DATABASE) {
        problems.push(format!("{DATABASE} is not listed"));
    }
    for listed in &manifest.files {
        if object_key(&listed.path).is_none() && listed.path != DATABASE {
            problems.push(format!("{} is not a backup path", listed.path));
            continue;
        }
        match entry(dir, &listed.path) {
            Ok(found) if found == *listed => {}
            Ok(_) => problems.push(format!("{} has changed", listed.path)),
            Err(err) => problems.push(format!("{}: {err}", listed.path)),
        }
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(BackupError::Damaged(problems))
    }
}

/// Restores a verified backup into the empty deployment `settings` names:
/// its SQLite file must not exist yet, its object store is filled.
pub async fn restore(settings: &Settings, dir: &Path) -> Result<Manifest, BackupError> {
    let manifest = verify(dir)?;
    let url = settings.database_url();
    let Some(location) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Err(BackupError::Unsupported(
            "restoring into PostgreSQL: use pg_restore (see the README)".into(),
        ));
    };
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
    let storage = crate::services::object_storage(settings)?;
    for listed in &manifest.files {
        if let Some(key) = object_key(&listed.path) {
            storage.put(key, std::fs::read(dir.join(&listed.path))?.into()).await?;
        }
    }
    // The database last: a deployment with a database has its files.
    std::fs::copy(dir.join(DATABASE), &path)?;
    Ok(manifest)
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
