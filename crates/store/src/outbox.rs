//! The task outbox for a message-broker transport (RabbitMQ).
//!
//! The `tasks` table stays the one source of truth; a broker only carries task
//! ids to the workers that should claim them. A relay takes queued tasks that
//! have no message yet ([`Store::take_unpublished`] marks them in the same
//! statement), publishes their ids, and hands back the ones the broker did
//! not confirm ([`Store::unmark_published`]). Everything that returns a task
//! to the queue (a retry, an expired lease, an admin retry) clears the mark,
//! so the task is published again. A worker that receives an id claims that
//! one task ([`Store::claim_task`]); a duplicate or stale message finds it
//! no longer queued and is dropped, so at-least-once delivery of messages
//! still runs each claim exactly once.

use fairgig_core::ids::TaskId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    now,
    tasks::{Task, TaskRow, CLAIM_COLUMNS},
    with_pool, BeginWrite, Pool, Store, StoreError,
};

/// A queued task the relay is to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpublished {
    pub id: TaskId,
    /// When it may run: the relay delays the message until then.
    pub run_after: OffsetDateTime,
    pub priority: i32,
    /// Its trace context, for the message's `traceparent` header.
    pub trace_parent: Option<String>,
}

/// What claiming one task by id found.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskClaim {
    /// It was queued and due; it is this worker's now.
    Claimed(Task),
    /// It is queued but not due yet (the message came early); its publish
    /// mark is cleared so the relay schedules it again.
    NotDue,
    /// Running elsewhere, finished, dead, cancelled or deleted: the message
    /// was a duplicate or is stale.
    Gone,
}

impl Store {
    /// Marks up to `limit` queued, unpublished tasks due by `horizon` as
    /// published now and returns them, soonest first. Concurrent relays take
    /// disjoint sets (PostgreSQL `SKIP LOCKED`; SQLite has one writer).
    pub async fn take_unpublished(
        &self,
        limit: u32,
        horizon: OffsetDateTime,
    ) -> Result<Vec<Unpublished>, StoreError> {
        let lock = match self.pool {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE tasks SET published_at = $1 \
             WHERE id IN (SELECT id FROM tasks WHERE status = 'queued' AND published_at IS NULL \
               AND run_after <= $2 ORDER BY run_after LIMIT $3 {lock}) \
             RETURNING id, run_after, priority, trace_parent"
        );
        let rows: Vec<(Uuid, OffsetDateTime, i32, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(now())
                .bind(horizon)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        let mut taken: Vec<Unpublished> = rows
            .into_iter()
            .map(|(id, run_after, priority, trace_parent)| Unpublished {
                id: TaskId::from_uuid(id),
                run_after,
                priority,
                trace_parent,
            })
            .collect();
        // RETURNING does not keep the subquery's order.
        taken.sort_by_key(|task| (task.run_after, task.id));
        Ok(taken)
    }

    /// Clears the publish mark of tasks whose message the broker did not
    /// confirm, so the relay tries them again.
    pub async fn unmark_published(&self, ids: &[TaskId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for id in ids {
                sqlx::query("UPDATE tasks SET published_at = NULL WHERE id = $1 AND status = 'queued'")
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Claims the task a broker message names, if it is queued and due.
    pub async fn claim_task(
        &self,
        id: TaskId,
        worker: &str,
        lease_until: OffsetDateTime,
    ) -> Result<TaskClaim, StoreError> {
        let at = now();
        let claim_sql = format!(
            "UPDATE tasks SET status = 'running', attempts = attempts + 1, lease_until = $3, \
               worker = $2, updated_at = $4 \
             WHERE id = $1 AND status = 'queued' AND run_after <= $4 RETURNING {CLAIM_COLUMNS}"
        );
        let claimed: Option<TaskRow> = with_pool!(self, pool => {
            sqlx::query_as(&claim_sql)
                .bind(id.as_uuid())
                .bind(worker)
                .bind(lease_until)
                .bind(at)
                .fetch_optional(pool)
                .await?
        });
        if let Some(row) = claimed {
            return Ok(TaskClaim::Claimed(row.into_task()));
        }
        let early = with_pool!(self, pool => {
            sqlx::query("UPDATE tasks SET published_at = NULL WHERE id = $1 AND status = 'queued'")
                .bind(id.as_uuid())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(if early > 0 { TaskClaim::NotDue } else { TaskClaim::Gone })
    }

    /// Clears the mark of queued tasks published at or before `before` and
    /// due since then: their message was lost (a relay died between marking
    /// and publishing, or a broker lost a queue). Call it only when the
    /// broker's ready queue is empty, else a backlog would be published twice.
    pub async fn republish_orphans(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let cleared = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE tasks SET published_at = NULL WHERE status = 'queued' \
                 AND published_at IS NOT NULL AND published_at <= $1 AND run_after <= $1",
            )
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(cleared)
    }
}
