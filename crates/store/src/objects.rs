//! Object storage for uploaded files: a local directory by default
//! (`file://…`), any S3-compatible service at scale (`s3://bucket/prefix`),
//! both through the `object_store` crate so the rest of the code does not
//! know which.

use std::sync::Arc;

use bytes::Bytes;
use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path, prefix::PrefixStore, ObjectStore,
};

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("unsupported storage URL {0:?} (expected file://DIR or s3://BUCKET[/PREFIX])")]
    UnsupportedUrl(String),
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("object storage: {0}")]
    Backend(#[from] object_store::Error),
    #[error("creating the storage directory: {0}")]
    Io(#[from] std::io::Error),
}

impl ObjectError {
    /// No object under the key.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ObjectError::Backend(object_store::Error::NotFound { .. }))
    }
}

/// S3 connection details beyond the URL. Unset fields fall back to the
/// standard `AWS_*` environment variables.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// The part size of [`ObjectStorage::put_file`]'s uploads (S3 takes parts
/// of 5 MiB and up).
pub const PART: usize = 8 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct ObjectStorage {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl ObjectStorage {
    pub fn from_url(url: &str, s3: &S3Options) -> Result<Self, ObjectError> {
        if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir)?;
            let local = LocalFileSystem::new_with_prefix(dir)?;
            return Ok(Self { inner: Arc::new(local), description: url.to_owned() });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(ObjectError::UnsupportedUrl(url.to_owned()));
            }
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            if let Some(endpoint) = &s3.endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            if let Some(region) = &s3.region {
                builder = builder.with_region(region);
            }
            if let (Some(key), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                builder = builder.with_access_key_id(key).with_secret_access_key(secret);
            }
            let store = builder.build()?;
            let inner: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
                Arc::new(store)
            } else {
                Arc::new(PrefixStore::new(store, prefix.trim_matches('/')))
            };
            return Ok(Self { inner, description: url.to_owned() });
        }
        Err(ObjectError::UnsupportedUrl(url.to_owned()))
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    fn path(key: &str) -> Result<Path, ObjectError> {
        Path::parse(key).map_err(|_| ObjectError::InvalidKey(key.to_owned()))
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), ObjectError> {
        self.inner.put(&Self::path(key)?, bytes.into()).await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, ObjectError> {
        Ok(self.inner.get(&Self::path(key)?).await?.bytes().await?)
    }

    /// Writes the file at `path` under `key` in parts of [`PART`] bytes, so
    /// a large file (a database snapshot in a backup) is never wholly in
    /// memory.
    pub async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<(), ObjectError> {
        use tokio::io::AsyncReadExt;
        let upload = self.inner.put_multipart(&Self::path(key)?).await?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buffer = vec![0u8; PART];
        let copied: Result<(), ObjectError> = async {
            let mut file = tokio::fs::File::open(path).await?;
            loop {
                let read = file.read(&mut buffer).await?;
                if read == 0 {
                    return Ok(());
                }
                writer.wait_for_capacity(2).await?;
                writer.write(&buffer[..read]);
            }
        }
        .await;
        match copied {
            Ok(()) => {
                writer.finish().await?;
                Ok(())
            }
            Err(err) => {
                // No half-written object, and no parts left to pay for.
                let _ = writer.abort().await;
                Err(err)
            }
        }
    }

    /// The object under `key` as it arrives, chunk by chunk.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<futures::stream::BoxStream<'static, Result<Bytes, ObjectError>>, ObjectError> {
        use futures::StreamExt;
        let stream = self.inner.get(&Self::path(key)?).await?.into_stream();
        Ok(stream.map(|chunk| chunk.map_err(ObjectError::from)).boxed())
    }

    /// Every key in the store (for backups).
    pub async fn all_keys(&self) -> Result<Vec<String>, ObjectError> {
        use futures::TryStreamExt;
        let listed: Vec<object_store::ObjectMeta> = self.inner.list(None).try_collect().await?;
        Ok(listed.into_iter().map(|meta| meta.location.to_string()).collect())
    }

    /// The keys under `prefix` last written before `before`.
    pub async fn keys_older_than(
        &self,
        prefix: &str,
        before: time::OffsetDateTime,
    ) -> Result<Vec<String>, ObjectError> {
        use futures::TryStreamExt;
        let before = epoch_millis(before);
        let mut listing = self.inner.list(Some(&Self::path(prefix)?));
        let mut keys = Vec::new();
        while let Some(meta) = listing.try_next().await? {
            if meta.last_modified.timestamp_millis() < before {
                keys.push(meta.location.to_string());
            }
        }
        Ok(keys)
    }

    /// Deletes an object; one that is already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match self.inner.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

/// Milliseconds since the epoch (`object_store` reports times as chrono's).
fn epoch_millis(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_storage_round_trips_and_deletes_idempotently() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = ObjectStorage::from_url(
            &format!("file://{}", dir.path().display()),
            &S3Options::default(),
        )
        .expect("local");
        storage.put("a/b.txt", Bytes::from_static(b"hello")).await.expect("put");
        assert_eq!(storage.get("a/b.txt").await.expect("get"), Bytes::from_static(b"hello"));
        let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
        assert_eq!(storage.keys_older_than("a", later).await.expect("list"), ["a/b.txt"]);
        let earlier = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        assert!(storage.keys_older_than("a", earlier).await.expect("list").is_empty());
        assert!(storage.keys_older_than("elsewhere", later).await.expect("list").is_empty());
        storage.delete("a/b.txt").await.expect("delete");
        storage.delete("a/b.txt").await.expect("delete again");
        assert!(storage.get("a/b.txt").await.is_err());
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(ObjectStorage::from_url("ftp://x", &S3Options::default()).is_err());
        assert!(ObjectStorage::from_url("s3://", &S3Options::default()).is_err());
    }
}
