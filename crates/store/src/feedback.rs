//! Match lists as shown, and feedback on them: the learning system's data.

use fairgig_core::ids::{JobId, MatchListId, UserId};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::{append_audit_in, AuditRow},
    exposure::{book_exposure_in, GroupExposure},
    now, with_pool, BeginWrite, Store, StoreError,
};
use fairgig_core::audit::{AuditEntry, NewAuditEntry};
use time::Date;

const INSERT_MATCH_LIST: &str = "INSERT INTO match_lists \
     (id, job_id, ranker, embedding_model, algorithm, items, fairness, created_at, \
      viewer_id, list_hash, last_viewed_unix) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// One more view of the newest list `viewer` was shown for a job with the
/// same hash since a moment: one row updated in place, nothing added.
const COUNT_REPEAT_VIEW: &str = "UPDATE match_lists SET views = views + 1, last_viewed_unix = $1 \
     WHERE id = (SELECT id FROM match_lists \
                 WHERE job_id = $2 AND viewer_id = $3 AND list_hash = $4 AND last_viewed_unix >= $5 \
                 ORDER BY last_viewed_unix DESC LIMIT 1) \
     RETURNING id";

/// Adds a shown list's freelancers by position (`match_list_items`), so
/// later funnel steps find the list and position they came from.
const INSERT_LIST_ITEM: &str = "INSERT INTO match_list_items (match_list_id, freelancer_id, rank) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// One step of the hiring funnel, recorded as feedback on the newest list
/// that showed the freelancer for the job (nothing when none did). Binds:
/// id, actor, freelancer, kind, rating, now, job.
pub(crate) const FUNNEL_FOR_JOB: &str = "INSERT INTO feedback \
     (id, actor_id, match_list_id, freelancer_id, kind, rank, rating, created_at) \
     SELECT $1, $2, i.match_list_id, i.freelancer_id, $4, i.rank, $5, $6 \
     FROM match_list_items i JOIN match_lists m ON m.id = i.match_list_id \
     WHERE m.job_id = $7 AND i.freelancer_id = $3 \
     ORDER BY m.created_at DESC LIMIT 1 \
     ON CONFLICT (actor_id, match_list_id, freelancer_id, kind) DO NOTHING";

/// A freelancer's profile opened by someone who was shown them in a list
/// since a moment: a click on the newest such list. Binds: id, actor,
/// freelancer, kind, rating, now, since.
const FUNNEL_FOR_VIEWER: &str = "INSERT INTO feedback \
     (id, actor_id, match_list_id, freelancer_id, kind, rank, rating, created_at) \
     SELECT $1, $2, i.match_list_id, i.freelancer_id, $4, i.rank, $5, $6 \
     FROM match_list_items i JOIN match_lists m ON m.id = i.match_list_id \
     WHERE m.viewer_id = $2 AND i.freelancer_id = $3 AND m.created_at >= $7 \
     ORDER BY m.created_at DESC LIMIT 1 \
     ON CONFLICT (actor_id, match_list_id, freelancer_id, kind) DO NOTHING";

/// A step of the hiring funnel: who acted, on which freelancer, how.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FunnelStep {
    pub actor: UserId,
    pub freelancer: UserId,
    /// `click`, `apply`, `shortlist`, `hire`, `reject` or `rating`.
    pub kind: &'static str,
    /// For `rating`: 1–5.
    pub rating: Option<i32>,
}

/// Records `$step` for `$job` on `$tx`, in the caller's transaction.
macro_rules! record_funnel_in {
    ($tx:ident, $job:expr, $step:expr) => {{
        let step: &$crate::feedback::FunnelStep = $step;
        sqlx::query($crate::feedback::FUNNEL_FOR_JOB)
            .bind(uuid::Uuid::now_v7())
            .bind(step.actor.as_uuid())
            .bind(step.freelancer.as_uuid())
            .bind(step.kind)
            .bind(step.rating)
            .bind($crate::now())
            .bind($job)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use record_funnel_in;

/// A ranked list to record.
#[derive(Clone, Debug)]
pub struct NewMatchList {
    pub job: JobId,
    pub ranker: String,
    pub embedding_model: String,
    pub algorithm: String,
    /// `[{freelancer, rank, relevance_rank, score, newcomer, features}]`.
    pub items: Value,
    pub fairness: Value,
    /// Who was shown it (`None`: the pipeline), and a hash of what was
    /// shown: the same viewer shown the same list again soon is counted on
    /// this row ([`Store::count_repeat_view`]).
    pub viewer: Option<UserId>,
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredMatchList {
    pub id: MatchListId,
    pub job: JobId,
    pub ranker: String,
    pub items: Value,
    pub created_at: OffsetDateTime,
}

/// One piece of feedback.
#[derive(Clone, Debug, PartialEq)]
pub struct NewFeedback {
    pub actor: UserId,
    pub match_list: MatchListId,
    pub freelancer: UserId,
    /// `impression`, `click`, `shortlist`, `apply`, `hire`, `reject` or `rating`.
    pub kind: String,
    pub rank: i32,
    pub rating: Option<i32>,
}

/// A recorded list with its feedback, for training and fairness reports.
#[derive(Clone, Debug)]
pub struct MatchListWithFeedback {
    pub created_at: OffsetDateTime,
    pub items: Value,
    /// The fairness report it was shown with.
    pub fairness: Value,
    /// (freelancer, kind, rating) of every feedback on the list.
    pub feedback: Vec<(Uuid, String, Option<i32>)>,
}

impl Store {
    /// Recorded lists shown since `since`, oldest first; only those somebody
    /// reacted to when `with_feedback_only` (the others carry no preference
    /// to learn from).
    pub async fn match_lists_with_feedback(
        &self,
        since: OffsetDateTime,
        with_feedback_only: bool,
    ) -> Result<Vec<MatchListWithFeedback>, StoreError> {
        let lists: Vec<(Uuid, OffsetDateTime, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, created_at, items, fairness FROM match_lists WHERE created_at >= $1 \
                 AND ($2 = FALSE OR id IN (SELECT match_list_id FROM feedback)) ORDER BY created_at, id",
            )
            .bind(since)
            .bind(with_feedback_only)
            .fetch_all(pool)
            .await?
        });
        let rows: Vec<(Uuid, Uuid, String, Option<i32>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT f.match_list_id, f.freelancer_id, f.kind, f.rating FROM feedback f \
                 JOIN match_lists m ON m.id = f.match_list_id WHERE m.created_at >= $1",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        let mut by_list: std::collections::HashMap<Uuid, Vec<(Uuid, String, Option<i32>)>> =
            std::collections::HashMap::new();
        for (list, freelancer, kind, rating) in rows {
            by_list.entry(list).or_default().push((freelancer, kind, rating));
        }
        let parse = |id: Uuid, text: &str| -> Result<Value, StoreError> {
            serde_json::from_str(text)
                .map_err(|err| StoreError::Corrupt(format!("match list {id}: {err}")))
        };
        lists
            .into_iter()
            .map(|(id, created_at, items, fairness)| {
                Ok(MatchListWithFeedback {
                    created_at,
                    items: parse(id, &items)?,
                    fairness: parse(id, &fairness)?,
                    feedback: by_list.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Records a shown list, adds its exposure to the ledger of `attribute`
    /// on `day` and appends the audit entry `audit(list id)`, in one
    /// transaction: a list is kept with its ledger entry and its audit
    /// record or not at all (and one commit costs less than three).
    /// Counts a view of the newest list with `hash` that `viewer` was shown
    /// for `job` at or after `since_unix`, as one more view of it; its id,
    /// or `None` when there is no such list (record a new one).
    pub async fn count_repeat_view(
        &self,
        job: JobId,
        viewer: UserId,
        hash: &str,
        (now_unix, since_unix): (i64, i64),
    ) -> Result<Option<MatchListId>, StoreError> {
        let id: Option<(Uuid,)> = with_pool!(self, pool => {
            sqlx::query_as(COUNT_REPEAT_VIEW)
                .bind(now_unix)
                .bind(job.as_uuid())
                .bind(viewer.as_uuid())
                .bind(hash)
                .bind(since_unix)
                .fetch_optional(pool)
                .await?
        });
        Ok(id.map(|(id,)| MatchListId::from_uuid(id)))
    }

    /// How often the list `id` was viewed (1 when shown once).
    pub async fn match_list_views(&self, id: MatchListId) -> Result<i64, StoreError> {
        let views: Option<(i64,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT views FROM match_lists WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        views.map(|(views,)| views).ok_or(StoreError::NotFound)
    }

    pub async fn insert_match_list(
        &self,
        list: &NewMatchList,
        exposure: Option<(&str, Date, &[GroupExposure])>,
        audit: impl FnOnce(MatchListId) -> NewAuditEntry,
    ) -> Result<(MatchListId, AuditEntry), StoreError> {
        let id = MatchListId::new();
        let entry = audit(id);
        let row: AuditRow = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(INSERT_MATCH_LIST)
                .bind(id.as_uuid())
                .bind(list.job.as_uuid())
                .bind(&list.ranker)
                .bind(&list.embedding_model)
                .bind(&list.algorithm)
                .bind(list.items.to_string())
                .bind(list.fairness.to_string())
                .bind(now())
                .bind(list.viewer.map(|viewer| viewer.as_uuid()))
                .bind(&list.hash)
                .bind(now().unix_timestamp())
                .execute(&mut *tx)
                .await?;
            for (freelancer, rank) in list_items(&list.items) {
                sqlx::query(INSERT_LIST_ITEM)
                    .bind(id.as_uuid())
                    .bind(freelancer)
                    .bind(rank)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some((attribute, day, groups)) = exposure {
                book_exposure_in!(tx, attribute, day, groups);
            }
            let row = append_audit_in!(tx, entry);
            tx.commit().await?;
            row
        });
        Ok((id, row.into_entry()))
    }

    pub async fn match_list(&self, id: MatchListId) -> Result<StoredMatchList, StoreError> {
        let row: Option<(Uuid, Uuid, String, String, OffsetDateTime)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, job_id, ranker, items, created_at FROM match_lists WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        let (id, job, ranker, items, created_at) = row.ok_or(StoreError::NotFound)?;
        Ok(StoredMatchList {
            id: MatchListId::from_uuid(id),
            job: JobId::from_uuid(job),
            ranker,
            items: serde_json::from_str(&items)
                .map_err(|err| StoreError::Corrupt(format!("match list {id}: {err}")))?,
            created_at,
        })
    }

    /// Records `step` as a click when its actor was shown the freelancer in
    /// a list since `since`; whether it was (a profile opened again is one click).
    pub async fn record_profile_opened(
        &self,
        step: &FunnelStep,
        since: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let inserted = with_pool!(self, pool => {
            sqlx::query(FUNNEL_FOR_VIEWER)
                .bind(Uuid::now_v7())
                .bind(step.actor.as_uuid())
                .bind(step.freelancer.as_uuid())
                .bind(step.kind)
                .bind(step.rating)
                .bind(now())
                .bind(since)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(inserted > 0)
    }

    /// Records feedback once per (actor, list, freelancer, kind); `false`
    /// when it was already recorded.
    pub async fn record_feedback(&self, feedback: &NewFeedback) -> Result<bool, StoreError> {
        let inserted = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO feedback (id, actor_id, match_list_id, freelancer_id, kind, rank, rating, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (actor_id, match_list_id, freelancer_id, kind) DO NOTHING",
            )
            .bind(Uuid::now_v7())
            .bind(feedback.actor.as_uuid())
            .bind(feedback.match_list.as_uuid())
            .bind(feedback.freelancer.as_uuid())
            .bind(&feedback.kind)
            .bind(feedback.rank)
            .bind(feedback.rating)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(inserted > 0)
    }
}

/// `(freelancer, rank)` of each item of a list's JSON; items without
/// either are skipped (the list itself keeps them).
fn list_items(items: &Value) -> Vec<(Uuid, i64)> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let freelancer = item["freelancer"].as_str()?.parse().ok()?;
            Some((freelancer, item["rank"].as_i64()?))
        })
        .collect()
}
