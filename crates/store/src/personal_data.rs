//! Erasing an account at its owner's request (GDPR Art. 17): every row
//! that holds the person's data is deleted or stripped in one transaction.
//!
//! Rows that other people rely on stay, emptied of the person: the user
//! row (pseudonymised) so that reviews they wrote and the audit log still
//! point at one account; their published reviews (rating kept, text gone),
//! so a freelancer's reputation does not change because a client left;
//! their jobs (title, text and skills gone, closed) so other people's
//! applications and reviews keep their job; their profile (emptied and
//! unavailable) and their jobs' and profile's vectors (zeroed, not
//! deleted), so that every index, which follows row changes, drops them
//! at its next look instead of keeping a stale copy.
//!
//! The audit log is kept as it is: it holds the account's id, never its
//! email, name or texts, and editing it would break its chain.

use fairgig_core::ids::UserId;
use serde::Serialize;

use crate::{now, with_pool, BeginWrite, Pool, Store, StoreError};

/// What an erasure did, for its audit entry and for the caller's last
/// steps outside the database.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// Stored objects (uploads and prototypes) whose rows are gone: the
    /// caller deletes their bytes.
    #[serde(skip)]
    #[schema(ignore)]
    pub object_keys: Vec<String>,
    /// The texts that were embedded for the account's submissions, jobs and
    /// profile: the caller drops their cached vectors.
    #[serde(skip)]
    #[schema(ignore)]
    pub embedded_texts: Vec<String>,
    pub submissions_deleted: u64,
    pub jobs_anonymised: u64,
    pub applications_anonymised: u64,
    pub reviews_written_anonymised: u64,
    pub reviews_written_deleted: u64,
    pub reviews_received_deleted: u64,
    pub notifications_deleted: u64,
    pub feedback_deleted: u64,
}

/// The name an erased account shows wherever others still see it.
pub const ERASED_NAME: &str = "Erased user";
/// The title an erased account's jobs show to those who applied to them.
pub const ERASED_JOB_TITLE: &str = "Erased job";

/// The email an erased account keeps: unique (the column is), reserved
/// (`.invalid` can never be delivered) and free of the person.
pub fn erased_email(user: UserId) -> String {
    format!("erased-{}@erased.invalid", user.as_uuid().simple())
}

impl Store {
    /// Erases `user` in one transaction (see the module docs for what goes
    /// and what stays). The bias reports of their jobs and reviews quote
    /// their words, so they become `{}`, the report of an unchecked text.
    /// `NotFound` when there is no such account or it was erased already.
    pub async fn erase_user(&self, user: UserId) -> Result<Erasure, StoreError> {
        let at = now();
        let id = user.as_uuid();
        // A vector of zeros as long as the one it replaces: the row stays
        // (so its change reaches the indexes) but says nothing of the text.
        let zeros = match &self.pool {
            Pool::Sqlite(_) => "zeroblob(length(vector))",
            Pool::Postgres(_) => "decode(repeat('00', length(vector)), 'hex')",
        };
        let zero_vectors = format!(
            "UPDATE entity_embeddings SET text = '', vector = {zeros}, updated_at = $2 \
             WHERE (entity_kind = 'job' AND entity_id IN (SELECT id FROM jobs WHERE owner_id = $1)) \
                OR (entity_kind = 'profile' AND entity_id = $1)"
        );
        let mut erasure = Erasure::default();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let erased = sqlx::query(
                "UPDATE users SET email = $2, display_name = $3, region = NULL, password_hash = '!', \
                   email_verified_at = NULL, disabled_at = COALESCE(disabled_at, $4), erased_at = $4, \
                   updated_at = $4 \
                 WHERE id = $1 AND erased_at IS NULL",
            )
            .bind(id)
            .bind(erased_email(user))
            .bind(ERASED_NAME)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if erased == 0 {
                return Err(StoreError::NotFound);
            }

            let owned = "SELECT id FROM submissions WHERE owner_id = $1";
            erasure.object_keys = sqlx::query_scalar(&format!(
                "SELECT object_key FROM submission_files WHERE submission_id IN ({owned}) \
                 UNION ALL SELECT object_key FROM prototypes WHERE owner = $1"
            ))
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            erasure.embedded_texts = sqlx::query_scalar(&format!(
                "SELECT text FROM entity_embeddings WHERE \
                   (entity_kind = 'submission' AND entity_id IN ({owned})) \
                   OR (entity_kind = 'job' AND entity_id IN (SELECT id FROM jobs WHERE owner_id = $1)) \
                   OR (entity_kind = 'profile' AND entity_id = $1)"
            ))
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "UPDATE tasks SET status = 'cancelled', updated_at = $2 WHERE status IN ('queued', 'dead') \
                 AND run_id IN (SELECT id FROM runs WHERE submission_id IN ({owned}))"
            ))
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM entity_embeddings WHERE entity_kind = 'submission' AND entity_id IN ({owned})"
            ))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            // Files, runs, steps and prototypes go with them (cascade).
            erasure.submissions_deleted = sqlx::query("DELETE FROM submissions WHERE owner_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();

            sqlx::query(&zero_vectors).bind(id).bind(at).execute(&mut *tx).await?;
            erasure.jobs_anonymised = sqlx::query(
                "UPDATE jobs SET title = $2, description = '', required_skills = '[]', \
                   preferred_skills = '[]', max_hourly_minor = NULL, region = NULL, \
                   utc_offset_minutes = NULL, bias_report = '{}', needs_review = FALSE, \
                   status = CASE WHEN status IN ('completed', 'cancelled') THEN status ELSE 'cancelled' END, \
                   updated_at = $3 \
                 WHERE owner_id = $1",
            )
            .bind(id)
            .bind(ERASED_JOB_TITLE)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE profiles SET headline = '', bio = '', skills = '[]', hourly_rate_minor = NULL, \
                   currency = NULL, region = NULL, utc_offset_minutes = NULL, availability = 'unavailable', \
                   years_experience = 0, languages = '[]', portfolio = '[]', group_attributes = '{}', \
                   completed_jobs = 0, rating_sum = 0, rating_count = 0, updated_at = $2 \
                 WHERE user_id = $1",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            erasure.applications_anonymised = sqlx::query(
                "UPDATE applications SET cover_letter = '', \
                   status = CASE WHEN status IN ('applied', 'shortlisted') THEN 'withdrawn' ELSE status END, \
                   updated_at = $2 \
                 WHERE freelancer_id = $1",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();

            // Reviews about them are about a person who is gone; reviews
            // they wrote that never counted go too; published ones keep
            // their rating (someone's reputation) and lose their words.
            erasure.reviews_received_deleted = sqlx::query("DELETE FROM reviews WHERE subject_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            erasure.reviews_written_deleted = sqlx::query(
                "DELETE FROM reviews WHERE author_id = $1 AND status <> 'published'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            erasure.reviews_written_anonymised = sqlx::query(
                "UPDATE reviews SET body = '', bias_report = '{}', updated_at = $2 WHERE author_id = $1",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();

            erasure.notifications_deleted = sqlx::query("DELETE FROM notifications WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            erasure.feedback_deleted = sqlx::query("DELETE FROM feedback WHERE actor_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for table in [
                "announcements WHERE user_id = $1",
                "notification_preferences WHERE user_id = $1",
                "webhook_endpoints WHERE user_id = $1",
                "review_votes WHERE voter_id = $1",
                "job_views WHERE viewer_id = $1",
                "refresh_tokens WHERE user_id = $1",
                "sessions WHERE user_id = $1",
                "api_keys WHERE user_id = $1",
                "account_links WHERE user_id = $1",
                "page_editors WHERE user_id = $1",
            ] {
                sqlx::query(&format!("DELETE FROM {table}")).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(erasure)
    }

    /// Drops the cached vectors of these texts (by digest, every model).
    pub async fn forget_cached_embeddings(&self, digests: &[[u8; 32]]) -> Result<u64, StoreError> {
        let mut forgotten = 0;
        for digest in digests {
            forgotten += with_pool!(self, pool => {
                sqlx::query("DELETE FROM embedding_cache WHERE text_sha256 = $1")
                    .bind(digest.as_slice())
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        Ok(forgotten)
    }
}

/// One thing the account did with a match list (for its export).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct FeedbackGiven {
    pub match_list_id: uuid::Uuid,
    pub freelancer_id: uuid::Uuid,
    pub kind: String,
    pub rank: i32,
    pub rating: Option<i32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// One sign-in session of the account (for its export).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: uuid::Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
    pub revoked_why: Option<String>,
}

impl Store {
    /// Everything `user` did with match lists, oldest first.
    pub async fn feedback_given(&self, user: UserId) -> Result<Vec<FeedbackGiven>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT match_list_id, freelancer_id, kind, rank, rating, created_at \
                 FROM feedback WHERE actor_id = $1 ORDER BY created_at, id",
            )
            .bind(user.as_uuid())
            .fetch_all(pool)
            .await?
        }))
    }

    /// The account's sign-in sessions, oldest first.
    pub async fn sessions_of(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, created_at, revoked_at, revoked_why FROM sessions \
                 WHERE user_id = $1 ORDER BY created_at, id",
            )
            .bind(user.as_uuid())
            .fetch_all(pool)
            .await?
        }))
    }

    /// How many admin accounts can still sign in: the last one may not be
    /// erased, or nobody could run the deployment from the web.
    pub async fn active_admins(&self) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
            )
            .fetch_one(pool)
            .await?
        }))
    }
}
