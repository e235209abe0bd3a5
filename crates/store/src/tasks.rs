//! The durable task queue: rows claimed under a lease.
//!
//! A task is `queued` until a worker claims it in one statement (PostgreSQL:
//! `FOR UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite: the
//! same `UPDATE … RETURNING` under its single writer). The claim sets a lease;
//! the worker extends it with heartbeats. A monitor returns tasks whose lease
//! ran out to the queue, or dead-letters them once `max_attempts` claims have
//! been spent (a task that keeps crashing its worker must not loop forever).
//! `attempts` counts claims, so a crash counts as an attempt too.

use fairgig_core::{
    ids::{RunId, TaskId},
    work::TaskStatus,
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{now, with_pool, BeginWrite, Pool, Store, StoreError};

/// A task to enqueue.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub kind: String,
    pub payload: Value,
    /// At most one task per key ever exists; enqueueing a duplicate is a no-op.
    pub dedupe_key: Option<String>,
    /// The pipeline run this task serves, if any.
    pub run: Option<RunId>,
    /// Higher runs first.
    pub priority: i32,
    pub max_attempts: i32,
    pub run_after: OffsetDateTime,
}

impl NewTask {
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            dedupe_key: None,
            run: None,
            priority: 0,
            max_attempts: 5,
            run_after: now(),
        }
    }
}

/// A claimed task.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub id: TaskId,
    pub kind: String,
    pub payload: Value,
    /// Claims so far, this one included.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The trace context of the span that queued it ([`fairgig_trace`]).
    pub trace_parent: Option<String>,
}

/// A dead-lettered task, for the admin API.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DeadTask {
    pub id: TaskId,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// Queue figures for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
    /// Age of the oldest ready task, seconds.
    pub oldest_ready_secs: f64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: Uuid,
    kind: String,
    payload: String,
    attempts: i32,
    max_attempts: i32,
    trace_parent: Option<String>,
}

impl TaskRow {
    pub(crate) fn into_task(self) -> Task {
        Task {
            id: TaskId::from_uuid(self.id),
            kind: self.kind,
            payload: serde_json::from_str(&self.payload).unwrap_or(Value::Null),
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            trace_parent: self.trace_parent,
        }
    }
}

pub(crate) const INSERT_TASK: &str = "INSERT INTO tasks \
    (id, kind, payload, dedupe_key, run_id, priority, status, attempts, max_attempts, run_after, created_at, updated_at, trace_parent) \
    VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8, $9, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING";

/// Binds a [`NewTask`] to [`INSERT_TASK`] and runs it on `$executor`, with
/// the trace context of the current span: whatever queues a task (a
/// request, a step enqueuing its successors) is where its trace goes on.
macro_rules! insert_task {
    ($executor:expr, $task:expr, $at:expr) => {
        sqlx::query($crate::tasks::INSERT_TASK)
            .bind(uuid::Uuid::now_v7())
            .bind(&$task.kind)
            .bind($task.payload.to_string())
            .bind($task.dedupe_key.as_deref())
            .bind($task.run.map(|run: fairgig_core::ids::RunId| run.as_uuid()))
            .bind($task.priority)
            .bind($task.max_attempts)
            .bind($task.run_after)
            .bind($at)
            .bind(fairgig_trace::current())
            .execute($executor)
    };
}
pub(crate) use insert_task;

/// Records a failed attempt of a task the worker still holds: back to the
/// queue at `$5` when `$4`, else dead. Binds: id, worker, error, retry?, retry_at, now.
pub(crate) const FAIL_TASK: &str =
    "UPDATE tasks SET status = CASE WHEN $4 THEN 'queued' ELSE 'dead' END, \
    run_after = COALESCE($5, run_after), lease_until = NULL, last_error = $3, updated_at = $6, \
    published_at = NULL \
    WHERE id = $1 AND worker = $2 AND status = 'running'";

pub(crate) const CLAIM_COLUMNS: &str = "id, kind, payload, attempts, max_attempts, trace_parent";

impl Store {
    /// Enqueues a task; `false` when its dedupe key already exists.
    pub async fn enqueue(&self, task: &NewTask) -> Result<bool, StoreError> {
        let at = now();
        let inserted =
            with_pool!(self, pool => insert_task!(pool, task, at).await?.rows_affected());
        Ok(inserted > 0)
    }

    /// Claims up to `limit` ready tasks for `worker` until `lease_until`.
    pub async fn claim_tasks(
        &self,
        worker: &str,
        limit: u32,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<Task>, StoreError> {
        let at = now();
        // Identical but for the row lock: SQLite has one writer and no SKIP LOCKED.
        let lock = match self.pool {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE tasks SET status = 'running', attempts = attempts + 1, lease_until = $2, \
               worker = $1, updated_at = $3 \
             WHERE id IN (SELECT id FROM tasks WHERE status = 'queued' AND run_after <= $3 \
               ORDER BY priority DESC, run_after, id LIMIT $4 {lock}) \
             RETURNING {CLAIM_COLUMNS}"
        );
        let rows: Vec<TaskRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(worker)
                .bind(lease_until)
                .bind(at)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(TaskRow::into_task).collect())
    }

    /// Extends a lease. `false` means the task is no longer this worker's
    /// (the lease ran out and someone else has it): stop and drop the result.
    pub async fn heartbeat(
        &self,
        task: TaskId,
        worker: &str,
        lease_until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE tasks SET lease_until = $3, updated_at = $4 \
                 WHERE id = $1 AND worker = $2 AND status = 'running'",
            )
            .bind(task.as_uuid())
            .bind(worker)
            .bind(lease_until)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Marks a task done; `false` if the worker had lost it.
    pub async fn complete_task(&self, task: TaskId, worker: &str) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE tasks SET status = 'done', lease_until = NULL, updated_at = $3 \
                 WHERE id = $1 AND worker = $2 AND status = 'running'",
            )
            .bind(task.as_uuid())
            .bind(worker)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Records a failure: back to the queue at `retry_at`, or dead when `None`.
    pub async fn fail_task(
        &self,
        task: TaskId,
        worker: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                FAIL_TASK,
            )
            .bind(task.as_uuid())
            .bind(worker)
            .bind(error)
            .bind(retry_at.is_some())
            .bind(retry_at)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Returns tasks whose lease expired to the queue, or dead-letters those
    /// that used up their attempts. Returns the requeued ids and the dead
    /// tasks' ids with payloads (their owners may need to know).
    pub async fn requeue_expired(&self) -> Result<(Vec<TaskId>, Vec<(TaskId, Value)>), StoreError> {
        let at = now();
        let (requeued, dead): (Vec<Uuid>, Vec<(Uuid, String)>) = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let dead: Vec<(Uuid, String)> = sqlx::query_as(
                "UPDATE tasks SET status = 'dead', lease_until = NULL, updated_at = $1, \
                   last_error = 'worker lost (lease expired) on every attempt' \
                 WHERE status = 'running' AND lease_until < $1 AND attempts >= max_attempts RETURNING id, payload",
            )
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            let requeued: Vec<Uuid> = sqlx::query_scalar(
                "UPDATE tasks SET status = 'queued', lease_until = NULL, worker = NULL, updated_at = $1, \
                   last_error = 'worker lost (lease expired)', published_at = NULL \
                 WHERE status = 'running' AND lease_until < $1 RETURNING id",
            )
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            (requeued, dead)
        });
        let dead = dead
            .into_iter()
            .map(|(id, payload)| {
                (TaskId::from_uuid(id), serde_json::from_str(&payload).unwrap_or(Value::Null))
            })
            .collect();
        Ok((requeued.into_iter().map(TaskId::from_uuid).collect(), dead))
    }

    pub async fn dead_tasks(&self, limit: u32) -> Result<Vec<DeadTask>, StoreError> {
        let rows: Vec<(Uuid, String, String, i32, Option<String>, OffsetDateTime)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, kind, payload, attempts, last_error, updated_at FROM tasks \
                 WHERE status = 'dead' ORDER BY updated_at DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, kind, payload, attempts, last_error, updated_at)| DeadTask {
                id: TaskId::from_uuid(id),
                kind,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                attempts,
                last_error,
                updated_at,
            })
            .collect())
    }

    pub async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let at = now();
        let counts: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT status, COUNT(*) FROM tasks WHERE status IN ('queued', 'running', 'dead') GROUP BY status",
            )
            .fetch_all(pool)
            .await?
        });
        let oldest: Option<OffsetDateTime> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT run_after FROM tasks WHERE status = 'queued' AND run_after <= $1 \
                 ORDER BY run_after LIMIT 1",
            )
            .bind(at)
            .fetch_optional(pool)
            .await?
        });
        let mut stats = QueueStats {
            oldest_ready_secs: oldest.map_or(0.0, |since| (at - since).as_seconds_f64()),
            ..QueueStats::default()
        };
        for (status, count) in counts {
            let parsed = status
                .parse::<TaskStatus>()
                .map_err(|_| StoreError::Corrupt(format!("task status {status:?}")))?;
            match parsed {
                TaskStatus::Queued => stats.queued = count,
                TaskStatus::Running => stats.running = count,
                TaskStatus::Dead => stats.dead = count,
                TaskStatus::Done | TaskStatus::Cancelled => {}
            }
        }
        Ok(stats)
    }
}
