//! Submissions and their files.

use fairgig_core::{
    audit::NewAuditEntry,
    ids::{FileId, RunId, SubmissionId, UserId},
    submission::{Budget, ContactPreference, SubmissionKind, SubmissionStatus},
};
use serde::Serialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    announcements::{insert_announcement_in, NewAnnouncement},
    audit::append_audit_in,
    now,
    runs::{insert_run, PlannedStep},
    with_pool, BeginWrite, Store, StoreError,
};

/// A stored file of a submission (the bytes are in object storage).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StoredFile {
    pub id: FileId,
    /// `attachment` or `voice`.
    pub role: String,
    pub filename: String,
    /// Sniffed from the bytes, not taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[serde(skip)]
    pub object_key: String,
}

/// A submission to store.
#[derive(Clone, Debug)]
pub struct NewSubmission {
    pub id: SubmissionId,
    pub owner: UserId,
    pub kind: SubmissionKind,
    pub title: String,
    pub body: String,
    pub budget: Option<Budget>,
    pub deadline: Option<Date>,
    pub region: Option<String>,
    pub contact: Option<ContactPreference>,
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request, to tell a replay from a different request with the same key.
    pub request_hash: Option<String>,
    pub files: Vec<StoredFile>,
    /// Written in the submission's transaction: a submission never exists
    /// without its audit entry.
    pub audit: Option<NewAuditEntry>,
    /// The "received" notification, written in the submission's
    /// transaction as an announcement (see [`crate::announcements`]).
    pub receipt: Option<NewAnnouncement>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Submission {
    pub id: SubmissionId,
    #[serde(skip)]
    pub owner: UserId,
    pub kind: SubmissionKind,
    pub title: String,
    pub text: String,
    pub budget: Option<Budget>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(with = "fairgig_core::dates::iso_date::option")]
    pub deadline: Option<Date>,
    pub region: Option<String>,
    pub contact: Option<ContactPreference>,
    pub status: SubmissionStatus,
    pub files: Vec<StoredFile>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SubmissionRow {
    id: Uuid,
    owner_id: Uuid,
    kind: String,
    title: String,
    body: String,
    budget_minor: Option<i64>,
    budget_currency: Option<String>,
    deadline: Option<Date>,
    region: Option<String>,
    contact: Option<String>,
    status: String,
    request_hash: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: Uuid,
    role: String,
    filename: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    object_key: String,
}

impl From<FileRow> for StoredFile {
    fn from(row: FileRow) -> Self {
        StoredFile {
            id: FileId::from_uuid(row.id),
            role: row.role,
            filename: row.filename,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            object_key: row.object_key,
        }
    }
}

impl SubmissionRow {
    fn into_submission(self, files: Vec<StoredFile>) -> Result<Submission, StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("submission {}: bad {what}", self.id));
        Ok(Submission {
            id: SubmissionId::from_uuid(self.id),
            owner: UserId::from_uuid(self.owner_id),
            kind: self.kind.parse().map_err(|_| corrupt("kind"))?,
            title: self.title.clone(),
            text: self.body.clone(),
            budget: match (self.budget_minor, &self.budget_currency) {
                (Some(amount_minor), Some(currency)) => {
                    Some(Budget { amount_minor, currency: currency.clone() })
                }
                _ => None,
            },
            deadline: self.deadline,
            region: self.region.clone(),
            contact: self
                .contact
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("contact"))?,
            status: self.status.parse().map_err(|_| corrupt("status"))?,
            files,
            created_at: self.created_at,
            updated_at: self.updated_at,
            request_hash: self.request_hash,
        })
    }
}

const SUBMISSION_COLUMNS: &str = "id, owner_id, kind, title, body, budget_minor, budget_currency, \
    deadline, region, contact, status, request_hash, created_at, updated_at";
const FILE_COLUMNS: &str = "id, role, filename, content_type, size_bytes, sha256, object_key";

/// Filters for listing a user's submissions.
#[derive(Clone, Debug, Default)]
pub struct SubmissionFilter {
    pub status: Option<SubmissionStatus>,
    pub kind: Option<SubmissionKind>,
    /// Cursor: only submissions older than this one.
    pub before: Option<SubmissionId>,
    /// Words that must all appear in the title or the text, in any case
    /// (SQLite folds the case of ASCII letters only). At most
    /// [`MAX_SEARCH_WORDS`] are used.
    pub text: Option<String>,
}

/// Words of [`SubmissionFilter::text`] that are matched; the rest are ignored.
pub const MAX_SEARCH_WORDS: usize = 8;

/// `word` as a `LIKE … ESCAPE '\'` pattern that finds it anywhere.
fn contains_pattern(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 2);
    pattern.push('%');
    for c in word.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Stores a submission, its files' metadata, its run and steps, and
    /// enqueues the first steps, all in one transaction: a submission is
    /// either wholly there, ready to be processed, or not at all.
    /// `Conflict { field: "idempotency_key" }` when the owner used the key before.
    pub async fn create_submission(
        &self,
        new: &NewSubmission,
        plan: &[PlannedStep],
    ) -> Result<(Submission, RunId), StoreError> {
        let at = now();
        let run = RunId::new();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO submissions (id, owner_id, kind, title, body, budget_minor, budget_currency, \
                   deadline, region, contact, status, idempotency_key, request_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'received', $11, $12, $13, $13)",
            )
            .bind(new.id.as_uuid())
            .bind(new.owner.as_uuid())
            .bind(new.kind.as_str())
            .bind(&new.title)
            .bind(&new.body)
            .bind(new.budget.as_ref().map(|b| b.amount_minor))
            .bind(new.budget.as_ref().map(|b| b.currency.clone()))
            .bind(new.deadline)
            .bind(new.region.as_deref())
            .bind(new.contact.map(|c| c.as_str()))
            .bind(new.idempotency_key.as_deref())
            .bind(new.request_hash.as_deref())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::conflict_on("idempotency_key"))?;
            for file in &new.files {
                sqlx::query(
                    "INSERT INTO submission_files (id, submission_id, role, filename, content_type, \
                       size_bytes, sha256, object_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(file.id.as_uuid())
                .bind(new.id.as_uuid())
                .bind(&file.role)
                .bind(&file.filename)
                .bind(&file.content_type)
                .bind(file.size_bytes)
                .bind(&file.sha256)
                .bind(&file.object_key)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            insert_run!(&mut tx, run, new.id, plan, at);
            if let Some(receipt) = &new.receipt {
                insert_announcement_in!(&mut *tx, receipt, at);
            }
            // Last: the audit chain's head stays locked until commit.
            if let Some(entry) = new.audit.clone() {
                append_audit_in!(tx, entry);
            }
            tx.commit().await?;
        });
        Ok((self.get_submission(new.id).await?, run))
    }

    /// Which of `keys` a stored submission file refers to (the rest are
    /// orphans: an upload whose submission never committed).
    pub async fn referenced_object_keys(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut referenced = std::collections::HashSet::new();
        for batch in keys.chunks(500) {
            let placeholders: Vec<String> = (1..=batch.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT object_key FROM submission_files WHERE object_key IN ({})",
                placeholders.join(", ")
            );
            let found: Vec<(String,)> = with_pool!(self, pool => {
                let mut query = sqlx::query_as(&sql);
                for key in batch {
                    query = query.bind(key);
                }
                query.fetch_all(pool).await?
            });
            referenced.extend(found.into_iter().map(|(key,)| key));
        }
        Ok(referenced)
    }

    pub async fn get_submission(&self, id: SubmissionId) -> Result<Submission, StoreError> {
        let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = $1");
        let row: Option<SubmissionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        let files = self.submission_files(id).await?;
        row.into_submission(files)
    }

    async fn submission_files(&self, id: SubmissionId) -> Result<Vec<StoredFile>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM submission_files WHERE submission_id = $1 ORDER BY id"
        );
        let rows: Vec<FileRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(StoredFile::from).collect())
    }

    /// The owner's submission made with this idempotency key, if any.
    pub async fn submission_by_idempotency_key(
        &self,
        owner: UserId,
        key: &str,
    ) -> Result<Option<Submission>, StoreError> {
        let id: Option<Uuid> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT id FROM submissions WHERE owner_id = $1 AND idempotency_key = $2")
                .bind(owner.as_uuid())
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        match id {
            Some(id) => Ok(Some(self.get_submission(SubmissionId::from_uuid(id)).await?)),
            None => Ok(None),
        }
    }

    /// The owner's submissions, newest first.
    pub async fn list_submissions(
        &self,
        owner: UserId,
        filter: &SubmissionFilter,
        limit: u32,
    ) -> Result<Vec<Submission>, StoreError> {
        let patterns: Vec<String> = filter
            .text
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .take(MAX_SEARCH_WORDS)
            .map(contains_pattern)
            .collect();
        let words: String = (0..patterns.len())
            .map(|i| format!(" AND LOWER(title || ' ' || body) LIKE ${} ESCAPE '\\'", i + 6))
            .collect();
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE owner_id = $1 \
               AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR id < $4){words} \
             ORDER BY id DESC LIMIT $5"
        );
        let rows: Vec<SubmissionRow> = with_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql)
                .bind(owner.as_uuid())
                .bind(filter.status.map(|s| s.as_str()))
                .bind(filter.kind.map(|k| k.as_str()))
                .bind(filter.before.map(|id| id.as_uuid()))
                .bind(i64::from(limit));
            for pattern in &patterns {
                query = query.bind(pattern);
            }
            query.fetch_all(pool).await?
        });
        let mut submissions = Vec::with_capacity(rows.len());
        for row in rows {
            let files = self.submission_files(SubmissionId::from_uuid(row.id)).await?;
            submissions.push(row.into_submission(files)?);
        }
        Ok(submissions)
    }

    /// Deletes a submission with its run, steps, queued tasks, vector and
    /// prototype; returns the object keys of its files and prototype so the
    /// caller can remove the bytes.
    pub async fn delete_submission(&self, id: SubmissionId) -> Result<Vec<String>, StoreError> {
        let files = self.submission_files(id).await?;
        let prototypes: Vec<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT object_key FROM prototypes WHERE submission_id = $1")
                .bind(id.as_uuid())
                .fetch_all(pool)
                .await?
        });
        let deleted = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE tasks SET status = 'cancelled', updated_at = $2 WHERE status IN ('queued', 'dead') \
                 AND run_id IN (SELECT id FROM runs WHERE submission_id = $1)",
            )
            .bind(id.as_uuid())
            .bind(now())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM entity_embeddings WHERE entity_kind = 'submission' AND entity_id = $1")
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM submissions WHERE id = $1")
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(files
            .into_iter()
            .map(|file| file.object_key)
            .chain(prototypes.into_iter().map(|(key,)| key))
            .collect())
    }
}
