//! Applications to jobs, hiring, completing a job, and reviews.
//!
//! Hiring moves the job to `in_progress` in the same transaction, so a job
//! is never half-hired; completing it counts the job on each hired
//! freelancer's profile (the "newcomer" exposure group is those with none).
//! A review counts towards its subject's rating only once it is published:
//! at once when its text passed the bias check, else after a moderator's
//! decision.

use fairgig_core::{
    ids::{ApplicationId, JobId, ReviewId, UserId},
    marketplace::{ApplicationStatus, ReviewStatus},
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    feedback::{record_funnel_in, FunnelStep},
    now, with_pool, BeginWrite, Store, StoreError,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    pub id: ApplicationId,
    pub job: JobId,
    pub freelancer: UserId,
    pub cover_letter: String,
    pub proposed_rate_minor: Option<i64>,
    pub currency: Option<String>,
    pub status: ApplicationStatus,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct TitledApplicationRow {
    #[sqlx(flatten)]
    application: ApplicationRow,
    title: String,
}

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    id: Uuid,
    job_id: Uuid,
    freelancer_id: Uuid,
    cover_letter: String,
    proposed_rate_minor: Option<i64>,
    currency: Option<String>,
    status: String,
    created_at: OffsetDateTime,
}

impl ApplicationRow {
    fn into_application(self) -> Result<Application, StoreError> {
        let status = self.status.parse().map_err(|_| {
            StoreError::Corrupt(format!("application {} status {:?}", self.id, self.status))
        })?;
        let row = self;
        Ok(Application {
            id: ApplicationId::from_uuid(row.id),
            job: JobId::from_uuid(row.job_id),
            freelancer: UserId::from_uuid(row.freelancer_id),
            cover_letter: row.cover_letter,
            proposed_rate_minor: row.proposed_rate_minor,
            currency: row.currency,
            status,
            created_at: row.created_at,
        })
    }
}

const APPLICATION_COLUMNS: &str =
    "id, job_id, freelancer_id, cover_letter, proposed_rate_minor, currency, status, created_at";

/// A review to store.
#[derive(Clone, Debug)]
pub struct NewReview {
    pub job: JobId,
    pub author: UserId,
    pub subject: UserId,
    pub rating: i32,
    pub sub_ratings: Value,
    pub body: String,
    pub bias_report: Value,
    /// Published at once, or pending moderation.
    pub published: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub id: ReviewId,
    pub job: JobId,
    pub author: UserId,
    pub subject: UserId,
    pub rating: i32,
    pub sub_ratings: Value,
    pub body: String,
    pub bias_report: Value,
    pub status: ReviewStatus,
    pub created_at: OffsetDateTime,
    /// How many users marked it helpful (counted where reviews are listed
    /// for readers; 0 elsewhere).
    pub helpful: i64,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: Uuid,
    job_id: Uuid,
    author_id: Uuid,
    subject_id: Uuid,
    rating: i32,
    sub_ratings: String,
    body: String,
    bias_report: String,
    status: String,
    created_at: OffsetDateTime,
    #[sqlx(default)]
    helpful: i64,
}

impl ReviewRow {
    fn into_review(self) -> Result<Review, StoreError> {
        let parse = |text: &str| {
            serde_json::from_str(text)
                .map_err(|err| StoreError::Corrupt(format!("review {}: {err}", self.id)))
        };
        let status = self.status.parse().map_err(|_| {
            StoreError::Corrupt(format!("review {} status {:?}", self.id, self.status))
        })?;
        Ok(Review {
            id: ReviewId::from_uuid(self.id),
            job: JobId::from_uuid(self.job_id),
            author: UserId::from_uuid(self.author_id),
            subject: UserId::from_uuid(self.subject_id),
            rating: self.rating,
            sub_ratings: parse(&self.sub_ratings)?,
            body: self.body.clone(),
            bias_report: parse(&self.bias_report)?,
            status,
            created_at: self.created_at,
            helpful: self.helpful,
        })
    }
}

const REVIEW_COLUMNS: &str = "id, job_id, author_id, subject_id, rating, sub_ratings, body, \
    bias_report, status, created_at";

/// Adds a published rating to the subject's profile (if they have one).
/// Counters move `updated_at` too: the matcher's candidate index keeps the
/// profile's reputation and follows rows by it.
const COUNT_RATING: &str = "UPDATE profiles SET rating_sum = rating_sum + $2, \
    rating_count = rating_count + 1, updated_at = $3 WHERE user_id = $1";

impl Store {
    /// `Conflict { field: "application" }` when the freelancer already applied.
    /// The application is a step of the hiring funnel (`apply`), recorded
    /// on the newest list that showed the freelancer for the job.
    pub async fn apply(
        &self,
        job: JobId,
        freelancer: UserId,
        cover_letter: &str,
        rate: Option<(i64, &str)>,
    ) -> Result<Application, StoreError> {
        let at = now();
        let sql = format!(
            "INSERT INTO applications (id, job_id, freelancer_id, cover_letter, proposed_rate_minor, \
               currency, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'applied', $7, $7) RETURNING {APPLICATION_COLUMNS}"
        );
        let step = FunnelStep { actor: freelancer, freelancer, kind: "apply", rating: None };
        let row: ApplicationRow = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query_as(&sql)
                .bind(Uuid::now_v7())
                .bind(job.as_uuid())
                .bind(freelancer.as_uuid())
                .bind(cover_letter)
                .bind(rate.map(|(amount, _)| amount))
                .bind(rate.map(|(_, currency)| currency))
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("application"))?;
            record_funnel_in!(tx, job.as_uuid(), &step);
            tx.commit().await?;
            row
        });
        row.into_application()
    }

    pub async fn application(&self, id: ApplicationId) -> Result<Application, StoreError> {
        let sql = format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1");
        let row: Option<ApplicationRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)?.into_application()
    }

    pub async fn applications_for_job(&self, job: JobId) -> Result<Vec<Application>, StoreError> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE job_id = $1 ORDER BY created_at"
        );
        let rows: Vec<ApplicationRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(job.as_uuid()).fetch_all(pool).await?
        });
        rows.into_iter().map(ApplicationRow::into_application).collect()
    }

    /// Applications to `owner`'s jobs made at or after `since`, oldest
    /// first, with each job's title (a client's live events).
    pub async fn applications_to_jobs_of(
        &self,
        owner: UserId,
        since: OffsetDateTime,
    ) -> Result<Vec<(Application, String)>, StoreError> {
        let columns = APPLICATION_COLUMNS
            .split(", ")
            .map(|column| format!("a.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, j.title FROM applications a JOIN jobs j ON j.id = a.job_id \
             WHERE j.owner_id = $1 AND a.created_at >= $2 ORDER BY a.created_at"
        );
        let rows: Vec<TitledApplicationRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(owner.as_uuid()).bind(since).fetch_all(pool).await?
        });
        rows.into_iter().map(|row| Ok((row.application.into_application()?, row.title))).collect()
    }

    /// A freelancer's applications, newest first, with each job's title.
    pub async fn applications_by(
        &self,
        freelancer: UserId,
        limit: u32,
    ) -> Result<Vec<(Application, String)>, StoreError> {
        let columns = APPLICATION_COLUMNS
            .split(", ")
            .map(|column| format!("a.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, j.title FROM applications a JOIN jobs j ON j.id = a.job_id \
             WHERE a.freelancer_id = $1 ORDER BY a.created_at DESC LIMIT $2"
        );
        let rows: Vec<TitledApplicationRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(freelancer.as_uuid()).bind(i64::from(limit)).fetch_all(pool).await?
        });
        rows.into_iter().map(|row| Ok((row.application.into_application()?, row.title))).collect()
    }

    /// Moves an application from one of `from` to `to` on `actor`'s
    /// decision; `Conflict` when it is in none of them. Hiring also moves
    /// its open job to `in_progress`, in the same transaction
    /// (`Conflict { field: "job" }` if the job is no longer open). A
    /// shortlist, hire or rejection is a step of the hiring funnel,
    /// recorded in the same transaction.
    pub async fn set_application_status(
        &self,
        id: ApplicationId,
        from: &[ApplicationStatus],
        to: ApplicationStatus,
        actor: UserId,
    ) -> Result<Application, StoreError> {
        let kind = match to {
            ApplicationStatus::Shortlisted => Some("shortlist"),
            ApplicationStatus::Hired => Some("hire"),
            ApplicationStatus::Rejected => Some("reject"),
            ApplicationStatus::Applied | ApplicationStatus::Withdrawn => None,
        };
        let at = now();
        let sql = format!(
            "UPDATE applications SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4 \
             RETURNING {APPLICATION_COLUMNS}"
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut moved: Option<ApplicationRow> = None;
            for status in from {
                moved = sqlx::query_as(&sql)
                    .bind(id.as_uuid())
                    .bind(to.as_str())
                    .bind(at)
                    .bind(status.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if moved.is_some() {
                    break;
                }
            }
            let row = moved.ok_or(StoreError::Conflict { field: "status" })?;
            if let Some(kind) = kind {
                let freelancer = UserId::from_uuid(row.freelancer_id);
                let step = FunnelStep { actor, freelancer, kind, rating: None };
                record_funnel_in!(tx, row.job_id, &step);
            }
            if to == ApplicationStatus::Hired {
                let started = sqlx::query(
                    "UPDATE jobs SET status = 'in_progress', updated_at = $2 WHERE id = $1 AND status = 'open'",
                )
                .bind(row.job_id)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if started == 0 {
                    return Err(StoreError::Conflict { field: "job" });
                }
            }
            tx.commit().await?;
            row.into_application()
        })
    }

    /// Completes an in-progress job and counts it on every hired
    /// freelancer's profile; `Conflict` when the job is not in progress.
    pub async fn complete_job(&self, job: JobId) -> Result<(), StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE jobs SET status = 'completed', updated_at = $2 WHERE id = $1 AND status = 'in_progress'",
            )
            .bind(job.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { field: "status" });
            }
            sqlx::query(
                "UPDATE profiles SET completed_jobs = completed_jobs + 1, last_active_at = $2, \
                   updated_at = $2 \
                 WHERE user_id IN (SELECT freelancer_id FROM applications WHERE job_id = $1 AND status = 'hired')",
            )
            .bind(job.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// `Conflict { field: "review" }` when the author already reviewed this job.
    pub async fn create_review(&self, review: &NewReview) -> Result<Review, StoreError> {
        let at = now();
        let sql = format!(
            "INSERT INTO reviews (id, job_id, author_id, subject_id, rating, sub_ratings, body, \
               bias_report, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {REVIEW_COLUMNS}"
        );
        let status = if review.published { ReviewStatus::Published } else { ReviewStatus::Pending };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: ReviewRow = sqlx::query_as(&sql)
                .bind(Uuid::now_v7())
                .bind(review.job.as_uuid())
                .bind(review.author.as_uuid())
                .bind(review.subject.as_uuid())
                .bind(review.rating)
                .bind(review.sub_ratings.to_string())
                .bind(&review.body)
                .bind(review.bias_report.to_string())
                .bind(status.as_str())
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("review"))?;
            // A rating of a freelancer shown for this job is the funnel's last step.
            let step = FunnelStep {
                actor: review.author,
                freelancer: review.subject,
                kind: "rating",
                rating: Some(review.rating),
            };
            record_funnel_in!(tx, review.job.as_uuid(), &step);
            if review.published {
                sqlx::query(COUNT_RATING)
                    .bind(review.subject.as_uuid())
                    .bind(f64::from(review.rating))
                    .bind(crate::now())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row.into_review()
        })
    }

    /// Reviews someone wrote, in any status, newest first.
    pub async fn reviews_by(&self, author: UserId, limit: u32) -> Result<Vec<Review>, StoreError> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE author_id = $1 \
             ORDER BY created_at DESC LIMIT $2"
        );
        let rows: Vec<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(author.as_uuid()).bind(i64::from(limit)).fetch_all(pool).await?
        });
        rows.into_iter().map(ReviewRow::into_review).collect()
    }

    /// Published reviews of `subject`, the most helpful first, then the newest.
    pub async fn reviews_of(&self, subject: UserId, limit: u32) -> Result<Vec<Review>, StoreError> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS}, \
               (SELECT COUNT(*) FROM review_votes v WHERE v.review_id = r.id) AS helpful \
             FROM reviews r WHERE subject_id = $1 AND status = 'published' \
             ORDER BY helpful DESC, created_at DESC LIMIT $2"
        );
        let rows: Vec<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(subject.as_uuid()).bind(i64::from(limit)).fetch_all(pool).await?
        });
        rows.into_iter().map(ReviewRow::into_review).collect()
    }

    /// Published reviews written at or after `since`, oldest first (the
    /// reviewer disparity audit).
    pub async fn published_reviews_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<Review>, StoreError> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE status = 'published' AND created_at >= $1 \
             ORDER BY created_at"
        );
        let rows: Vec<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        });
        rows.into_iter().map(ReviewRow::into_review).collect()
    }

    /// One review, in any status.
    pub async fn review(&self, id: ReviewId) -> Result<Review, StoreError> {
        let sql = format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = $1");
        let row: Option<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)?.into_review()
    }

    /// Marks a review helpful for `voter` (once), or takes the mark back;
    /// returns how many find it helpful now.
    pub async fn vote_review(
        &self,
        review: ReviewId,
        voter: UserId,
        helpful: bool,
    ) -> Result<i64, StoreError> {
        let count: i64 = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if helpful {
                sqlx::query(
                    "INSERT INTO review_votes (review_id, voter_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(review.as_uuid())
                .bind(voter.as_uuid())
                .bind(now())
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("DELETE FROM review_votes WHERE review_id = $1 AND voter_id = $2")
                    .bind(review.as_uuid())
                    .bind(voter.as_uuid())
                    .execute(&mut *tx)
                    .await?;
            }
            let count = sqlx::query_scalar("SELECT COUNT(*) FROM review_votes WHERE review_id = $1")
                .bind(review.as_uuid())
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            count
        });
        Ok(count)
    }

    /// The moderation queue, oldest first.
    pub async fn pending_reviews(&self, limit: u32) -> Result<Vec<Review>, StoreError> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE status = 'pending' ORDER BY created_at LIMIT $1"
        );
        let rows: Vec<ReviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(pool).await?
        });
        rows.into_iter().map(ReviewRow::into_review).collect()
    }

    /// Publishes (counting its rating) or rejects a pending review;
    /// `Conflict` when it is not pending.
    pub async fn moderate_review(&self, id: ReviewId, publish: bool) -> Result<Review, StoreError> {
        let sql = format!(
            "UPDATE reviews SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'pending' \
             RETURNING {REVIEW_COLUMNS}"
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<ReviewRow> = sqlx::query_as(&sql)
                .bind(id.as_uuid())
                .bind(if publish { ReviewStatus::Published } else { ReviewStatus::Rejected }.as_str())
                .bind(now())
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.ok_or(StoreError::Conflict { field: "status" })?;
            if publish {
                sqlx::query(COUNT_RATING)
                    .bind(row.subject_id)
                    .bind(f64::from(row.rating))
                    .bind(crate::now())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row.into_review()
        })
    }
}
