//! Landing-page prototypes: which submission each share token serves, and
//! how many a client made lately (the daily quota is checked and the
//! prototype recorded in one transaction).

use fairgig_core::ids::{SubmissionId, UserId};
use time::{Duration, OffsetDateTime};

use crate::{now, with_pool, BeginWrite, Store, StoreError};

/// A recorded prototype.
#[derive(Clone, Debug, PartialEq)]
pub struct Prototype {
    pub token: String,
    pub submission: SubmissionId,
    pub owner: UserId,
    pub object_key: String,
    pub created_at: OffsetDateTime,
}

/// What recording a prototype came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// Recorded now.
    Created(Prototype),
    /// The submission already has one (a retried step): that one.
    Existing(Prototype),
    /// The owner made `limit` in the window; the next is possible at `next_at`.
    QuotaReached { limit: u32, next_at: OffsetDateTime },
}

type Row = (String, uuid::Uuid, uuid::Uuid, String, OffsetDateTime);

const COLUMNS: &str = "token, submission_id, owner, object_key, created_at";

fn prototype((token, submission, owner, object_key, created_at): Row) -> Prototype {
    Prototype {
        token,
        submission: SubmissionId::from_uuid(submission),
        owner: UserId::from_uuid(owner),
        object_key,
        created_at,
    }
}

impl Store {
    /// Records `submission`'s prototype under `token` unless it has one, or
    /// its owner has made `limit` in the last `window`.
    pub async fn record_prototype(
        &self,
        submission: SubmissionId,
        owner: UserId,
        (token, object_key): (&str, &str),
        (limit, window): (u32, Duration),
    ) -> Result<Recorded, StoreError> {
        let at = now();
        let by_submission = format!("SELECT {COLUMNS} FROM prototypes WHERE submission_id = $1");
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let existing: Option<Row> = sqlx::query_as(&by_submission)
                .bind(submission.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = existing {
                return Ok(Recorded::Existing(prototype(row)));
            }
            let recent: Vec<(OffsetDateTime,)> = sqlx::query_as(
                "SELECT created_at FROM prototypes WHERE owner = $1 AND created_at > $2 \
                 ORDER BY created_at",
            )
            .bind(owner.as_uuid())
            .bind(at - window)
            .fetch_all(&mut *tx)
            .await?;
            if recent.len() >= limit as usize {
                let oldest = recent.first().map_or(at, |(created,)| *created);
                return Ok(Recorded::QuotaReached { limit, next_at: oldest + window });
            }
            sqlx::query(
                "INSERT INTO prototypes (token, submission_id, owner, object_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token)
            .bind(submission.as_uuid())
            .bind(owner.as_uuid())
            .bind(object_key)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(Recorded::Created(Prototype {
            token: token.to_owned(),
            submission,
            owner,
            object_key: object_key.to_owned(),
            created_at: at,
        }))
    }

    /// The prototype a share token serves.
    pub async fn prototype(&self, token: &str) -> Result<Prototype, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM prototypes WHERE token = $1");
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token).fetch_optional(pool).await?
        });
        row.map(prototype).ok_or(StoreError::NotFound)
    }
}
