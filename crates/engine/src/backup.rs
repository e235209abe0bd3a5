//! Backups of a deployment (its database and object store), their
//! verification, and restoring one into an empty deployment.
//!
//! A backup is kept in a folder or under a prefix of an S3-compatible
//! bucket ([`Location`]). It holds the database, `database.sqlite` (a
//! consistent `VACUUM INTO` copy) or `database.pgdump` (`pg_dump`'s custom
//! format, one consistent snapshot); `objects/<key>` (every stored file);
//! and `manifest.json` with each file's size and SHA-256, written last: a
//! backup without a manifest is unfinished. Search and candidate
//! indexes are not copied; a restored deployment rebuilds them on start.
//! Point-in-time recovery of a large PostgreSQL site is WAL archiving's
//! job (see the README), not this.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use fairgig_core::{config::Settings, progress::Progress};
use fairgig_store::{
    objects::{ObjectError, ObjectStorage},
    StoreError,
};
use futures::TryStreamExt;
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

/// Where a backup is kept: a folder, or a bucket of an S3-compatible
/// service (`s3://bucket/prefix`), which survives the machine.
#[derive(Debug)]
pub enum Location {
    Folder(PathBuf),
    Bucket(ObjectStorage),
}

impl Location {
    /// `s3://BUCKET[/PREFIX]` is a bucket, reached with the object store's
    /// S3 settings (`storage.s3_*`, else the `AWS_*` variables); anything
    /// else a folder.
    pub fn parse(place: &str, settings: &Settings) -> Result<Self, BackupError> {
        if place.starts_with("s3://") {
            let s3 = crate::services::s3_options(settings);
            Ok(Location::Bucket(ObjectStorage::from_url(place, &s3)?))
        } else {
            Ok(Location::Folder(PathBuf::from(place)))
        }
    }

    /// The place as the operator named it.
    pub fn describe(&self) -> String {
        match self {
            Location::Folder(dir) => dir.display().to_string(),
            Location::Bucket(storage) => storage.description().to_owned(),
        }
    }

    /// Nothing is there yet (a folder may also not exist).
    async fn is_empty(&self) -> Result<bool, BackupError> {
        match self {
            Location::Folder(dir) => Ok(!dir.exists() || std::fs::read_dir(dir)?.next().is_none()),
            Location::Bucket(storage) => Ok(storage.all_keys().await?.is_empty()),
        }
    }

    /// Writes `bytes` as `path`; returns its manifest entry.
    async fn write(&self, path: &str, bytes: Bytes) -> Result<Entry, BackupError> {
        let entry = Entry {
            path: path.to_owned(),
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        };
        match self {
            Location::Folder(dir) => {
                let target = dir.join(path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(target, &bytes)?;
            }
            Location::Bucket(storage) => storage.put(path, bytes).await?,
        }
        Ok(entry)
    }

    /// The size and SHA-256 of `path` as it is stored now, read as a stream.
    async fn measure(&self, path: &str) -> Result<Entry, BackupError> {
        match self {
            Location::Folder(dir) => file_entry(path, &dir.join(path)),
            Location::Bucket(storage) => {
                let mut stream = storage.get_stream(path).await?;
                let (mut hasher, mut bytes) = (Sha256::new(), 0u64);
                while let Some(chunk) = stream.try_next().await? {
                    hasher.update(&chunk);
                    bytes += chunk.len() as u64;
                }
                Ok(Entry { path: path.to_owned(), bytes, sha256: hex::encode(hasher.finalize()) })
            }
        }
    }

    async fn read(&self, path: &str) -> Result<Bytes, BackupError> {
        match self {
            Location::Folder(dir) => Ok(std::fs::read(dir.join(path))?.into()),
            Location::Bucket(storage) => Ok(storage.get(path).await?),
        }
    }

    /// Puts `path` into the local file `to`, as a stream.
    async fn fetch(&self, path: &str, to: &Path) -> Result<(), BackupError> {
        match self {
            Location::Folder(dir) => {
                std::fs::copy(dir.join(path), to)?;
            }
            Location::Bucket(storage) => {
                use std::io::Write;
                let mut stream = storage.get_stream(path).await?;
                let mut file = std::io::BufWriter::new(std::fs::File::create(to)?);
                while let Some(chunk) = stream.try_next().await? {
                    file.write_all(&chunk)?;
                }
                file.flush()?;
            }
        }
        Ok(())
    }
}

/// The manifest entry of the local file at `file`, hashed as it is read.
fn file_entry(path: &str, file: &Path) -> Result<Entry, BackupError> {
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut std::fs::File::open(file)?, &mut hasher)?;
    Ok(Entry { path: path.to_owned(), bytes, sha256: hex::encode(hasher.finalize()) })
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

/// Writes a backup of `engine`'s database and object store to `location`
/// (a folder is created; either must be empty).
pub async fn backup(
    engine: &Engine,
    location: &Location,
    progress: &dyn Progress,
) -> Result<Manifest, BackupError> {
    if !location.is_empty().await? {
        return Err(BackupError::Refused(format!("{} is not empty", location.describe())));
    }
    progress.stage("database", None);
    let database = match location {
        Location::Folder(dir) => {
            std::fs::create_dir_all(dir)?;
            let name = snapshot_database(engine, dir).await?;
            file_entry(name, &dir.join(name))?
        }
        Location::Bucket(storage) => {
            // Made on local disk, then uploaded in parts: never whole in memory.
            let staging = tempfile::tempdir()?;
            let name = snapshot_database(engine, staging.path()).await?;
            let snapshot = staging.path().join(name);
            storage.put_file(name, &snapshot).await?;
            file_entry(name, &snapshot)?
        }
    };
    let mut files = vec![database];
    let keys = engine.storage.all_keys().await?;
    progress.stage("files", Some(keys.len() as u64));
    for key in keys {
        let path = object_path(&key)?;
        files.push(location.write(&path, engine.storage.get(&key).await?).await?);
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
    location.write(MANIFEST, serde_json::to_vec_pretty(&manifest)?.into()).await?;
    Ok(manifest)
}

/// A consistent copy of the database in `dir`: SQLite's `VACUUM INTO`, or
/// `pg_dump`'s custom format. Returns the file's name.
async fn snapshot_database(engine: &Engine, dir: &Path) -> Result<&'static str, BackupError> {
    if engine.store.snapshot_sqlite(&dir.join(DATABASE)).await?.is_some() {
        return Ok(DATABASE);
    }
    let url = engine.settings.database_url();
    let target = dir.join(DATABASE_PG);
    run_pg_tool("pg_dump", &url, |command| {
        command.args(["--format=custom", "--no-owner", "--no-privileges", "--file"]).arg(&target);
    })
    .await?;
    Ok(DATABASE_PG)
}

/// Reads `location`'s manifest and checks every file against it.
pub async fn verify(location: &Location, progress: &dyn Progress) -> Result<Manifest, BackupError> {
    let manifest: Manifest = serde_json::from_slice(&location.read(MANIFEST).await?)?;
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
        match location.measure(&listed.path).await {
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
    location: &Location,
    progress: &dyn Progress,
) -> Result<Manifest, BackupError> {
    let manifest = verify(location, progress).await?;
    let url = settings.database_url();
    let from_postgres = manifest.files.iter().any(|entry| entry.path == DATABASE_PG);
    let into_sqlite = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    match (from_postgres, into_sqlite) {
        (true, None) => {
            restore_postgres(settings, location, &manifest, &url, progress).await.map(|()| manifest)
        }
        (false, Some(file)) => {
            restore_sqlite(settings, location, &manifest, file, progress).await.map(|()| manifest)
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
    location: &Location,
    manifest: &Manifest,
    progress: &dyn Progress,
) -> Result<(), BackupError> {
    let storage = crate::services::object_storage(settings)?;
    progress.stage("files", Some(manifest.objects() as u64));
    for listed in &manifest.files {
        if let Some(key) = object_key(&listed.path) {
            storage.put(key, location.read(&listed.path).await?).await?;
            progress.advance(1);
        }
    }
    Ok(())
}

async fn restore_postgres(
    settings: &Settings,
    location: &Location,
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
    fill_object_store(settings, location, manifest, progress).await?;
    progress.stage("database", None);
    // pg_restore reads a file: a folder's dump where it is, a bucket's
    // fetched to a temporary folder that lives until pg_restore is done.
    let mut staging = None;
    let dump = match location {
        Location::Folder(dir) => dir.join(DATABASE_PG),
        Location::Bucket(_) => {
            let fetched = staging.insert(tempfile::tempdir()?).path().join(DATABASE_PG);
            location.fetch(DATABASE_PG, &fetched).await?;
            fetched
        }
    };
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
    location: &Location,
    manifest: &Manifest,
    file: &str,
    progress: &dyn Progress,
) -> Result<(), BackupError> {
    // `sqlite://path?mode=rwc`: the file is the part before the options.
    let path = PathBuf::from(file.split('?').next().unwrap_or_default());
    if path.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists: restore only into an empty deployment",
            path.display()
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    fill_object_store(settings, location, manifest, progress).await?;
    progress.stage("database", None);
    // The database last: a deployment with a database has its files. It
    // arrives under another name and is renamed, so an interrupted restore
    // never leaves a half-written database where the server would open it.
    let arriving = path.with_extension("restoring");
    location.fetch(DATABASE, &arriving).await?;
    std::fs::rename(&arriving, &path)?;
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
