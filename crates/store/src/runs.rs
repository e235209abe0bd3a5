//! Runs of pipeline steps over a submission.
//!
//! A run is a small DAG declared in code (the `pipeline` crate passes it in as
//! [`PlannedStep`]s). Each step becomes a durable task, deduplicated by
//! `step:<run>:<name>` so a step is never enqueued twice. Finishing a step and
//! enqueuing the steps it unblocks happen in one transaction, guarded by the
//! worker's lease: a worker that lost its lease cannot record anything.

use std::collections::HashMap;

use fairgig_core::{
    ids::{RunId, SubmissionId, TaskId},
    submission::{RunStatus, StepStatus, SubmissionStatus},
};
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{now, tasks::NewTask, with_pool, BeginWrite, Pool, Store, StoreError};

/// The task kind of pipeline steps.
pub const STEP_TASK: &str = "step";

/// A step as the pipeline declares it.
#[derive(Clone, Debug)]
pub struct PlannedStep {
    pub name: String,
    pub depends_on: Vec<String>,
    pub max_attempts: i32,
    pub priority: i32,
}

/// What a step task carries.
pub fn step_task(run: RunId, step: &PlannedStep, run_after: OffsetDateTime) -> NewTask {
    NewTask {
        kind: STEP_TASK.to_owned(),
        payload: json!({"run": run, "step": step.name}),
        dedupe_key: Some(format!("step:{run}:{}", step.name)),
        run: Some(run),
        priority: step.priority,
        max_attempts: step.max_attempts,
        run_after,
    }
}

/// Inserts a run, its steps, and the tasks of the steps without dependencies,
/// inside the caller's transaction `$tx`.
macro_rules! insert_run {
    ($tx:expr, $run:expr, $submission:expr, $plan:expr, $at:expr) => {{
        sqlx::query("INSERT INTO runs (id, submission_id, status, created_at) VALUES ($1, $2, 'running', $3)")
            .bind($run.as_uuid())
            .bind($submission.as_uuid())
            .bind($at)
            .execute(&mut **$tx)
            .await?;
        for (position, step) in $plan.iter().enumerate() {
            let root = step.depends_on.is_empty();
            sqlx::query("INSERT INTO steps (run_id, name, position, status) VALUES ($1, $2, $3, $4)")
                .bind($run.as_uuid())
                .bind(&step.name)
                .bind(position as i32)
                .bind(if root { "queued" } else { "waiting" })
                .execute(&mut **$tx)
                .await?;
            if root {
                let task = $crate::runs::step_task($run, step, $at);
                $crate::tasks::insert_task!(&mut **$tx, task, $at).await?;
            }
        }
    }};
}
pub(crate) use insert_run;

/// A step's state, as shown to the submission's owner.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub name: String,
    pub status: StepStatus,
    pub attempts: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    /// Milliseconds from first start to finish.
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// What the running step has written so far (a language model's
    /// answer as it is written); only while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: RunId,
    pub status: RunStatus,
    /// Share of steps finished, 0–100.
    pub progress: u8,
    pub steps: Vec<StepView>,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    name: String,
    status: String,
    attempts: i32,
    started_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    error: Option<String>,
    output: Option<String>,
    progress: Option<String>,
}

/// The outcome of recording a finished step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepRecorded {
    /// Recorded; `run_finished` when it was the last step.
    Done { run_finished: bool },
    /// The worker no longer held the task; nothing was recorded.
    LeaseLost,
}

/// Which run and step a step task is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRef {
    pub run: RunId,
    pub step: String,
}

impl StepRef {
    pub fn from_payload(payload: &Value) -> Option<Self> {
        let run = payload.get("run")?.as_str()?.parse().ok()?;
        let step = payload.get("step")?.as_str()?.to_owned();
        Some(Self { run, step })
    }
}

impl Store {
    pub async fn submission_of_run(&self, run: RunId) -> Result<SubmissionId, StoreError> {
        let id: Option<Uuid> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT submission_id FROM runs WHERE id = $1")
                .bind(run.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        id.map(SubmissionId::from_uuid).ok_or(StoreError::NotFound)
    }

    /// The latest run of a submission with its steps in plan order.
    pub async fn run_of_submission(&self, submission: SubmissionId) -> Result<RunView, StoreError> {
        let run: Option<(Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, status FROM runs WHERE submission_id = $1 ORDER BY id DESC LIMIT 1")
                .bind(submission.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        let (id, status) = run.ok_or(StoreError::NotFound)?;
        let status: RunStatus = status
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("run {id} status {status:?}")))?;
        let rows: Vec<StepRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, status, attempts, started_at, finished_at, error, output, progress \
                 FROM steps WHERE run_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let steps: Vec<StepView> = rows
            .into_iter()
            .map(|row| {
                let status = row
                    .status
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("step status {:?}", row.status)))?;
                Ok(StepView {
                    duration_ms: match (row.started_at, row.finished_at) {
                        (Some(start), Some(end)) => Some((end - start).whole_milliseconds() as i64),
                        _ => None,
                    },
                    name: row.name,
                    status,
                    attempts: row.attempts,
                    started_at: row.started_at,
                    finished_at: row.finished_at,
                    error: row.error,
                    output: row.output.and_then(|text| serde_json::from_str(&text).ok()),
                    progress: row.progress.filter(|_| status == StepStatus::Running),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let finished = steps.iter().filter(|step| step.status.is_final()).count();
        let progress = if steps.is_empty() { 100 } else { (finished * 100 / steps.len()) as u8 };
        Ok(RunView { id: RunId::from_uuid(id), status, progress, steps })
    }

    /// The outputs of a run's succeeded steps, by step name (inputs for later steps).
    pub async fn step_outputs(&self, run: RunId) -> Result<HashMap<String, Value>, StoreError> {
        let rows: Vec<(String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT name, output FROM steps WHERE run_id = $1 AND status = 'succeeded'")
                .bind(run.as_uuid())
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(name, output)| Some((name, serde_json::from_str(&output?).ok()?)))
            .collect())
    }

    /// What a running step has written so far; ignored once it is not
    /// running (a late write cannot outlive its step).
    pub async fn record_step_progress(&self, step: &StepRef, text: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE steps SET progress = $3 WHERE run_id = $1 AND name = $2 AND status = 'running'",
            )
            .bind(step.run.as_uuid())
            .bind(&step.step)
            .bind(text)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks a claimed step running (and its submission processing).
    pub async fn start_step(&self, step: &StepRef, attempts: i32) -> Result<(), StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE steps SET status = 'running', attempts = $3, started_at = COALESCE(started_at, $4), \
                 progress = NULL \
                 WHERE run_id = $1 AND name = $2 AND status NOT IN ('succeeded', 'cancelled')",
            )
            .bind(step.run.as_uuid())
            .bind(&step.step)
            .bind(attempts)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE submissions SET status = 'processing', updated_at = $2 \
                 WHERE id = (SELECT submission_id FROM runs WHERE id = $1) AND status = 'received'",
            )
            .bind(step.run.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a succeeded step and enqueues the steps it unblocks, in one
    /// transaction, provided `worker` still holds `task`.
    pub async fn finish_step(
        &self,
        task: TaskId,
        worker: &str,
        step: &StepRef,
        output: &Value,
        plan: &[PlannedStep],
    ) -> Result<StepRecorded, StoreError> {
        let at = now();
        // Sibling steps that finish at once must not both decide that the
        // other is unfinished (and so never enqueue their join): the run row
        // is locked before the steps are read. SQLite already serialises
        // writers from the first UPDATE on.
        let run_status_sql = match self.pool {
            Pool::Sqlite(_) => "SELECT status FROM runs WHERE id = $1",
            Pool::Postgres(_) => "SELECT status FROM runs WHERE id = $1 FOR UPDATE",
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let held = sqlx::query(
                "UPDATE tasks SET status = 'done', lease_until = NULL, updated_at = $3 \
                 WHERE id = $1 AND worker = $2 AND status = 'running'",
            )
            .bind(task.as_uuid())
            .bind(worker)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if held == 0 {
                return Ok(StepRecorded::LeaseLost);
            }
            sqlx::query(
                "UPDATE steps SET status = 'succeeded', output = $3, error = NULL, finished_at = $4, progress = NULL \
                 WHERE run_id = $1 AND name = $2",
            )
            .bind(step.run.as_uuid())
            .bind(&step.step)
            .bind(output.to_string())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let run_status: String = sqlx::query_scalar(run_status_sql)
                .bind(step.run.as_uuid())
                .fetch_one(&mut *tx)
                .await?;
            if run_status != "running" {
                tx.commit().await?;
                return Ok(StepRecorded::Done { run_finished: false });
            }
            let statuses: HashMap<String, String> =
                sqlx::query_as::<_, (String, String)>("SELECT name, status FROM steps WHERE run_id = $1")
                    .bind(step.run.as_uuid())
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
            let succeeded = |name: &str| statuses.get(name).is_some_and(|s| s == "succeeded");
            for next in plan {
                let waiting = statuses.get(&next.name).is_some_and(|s| s == "waiting");
                if waiting && next.depends_on.iter().all(|dep| succeeded(dep)) {
                    sqlx::query("UPDATE steps SET status = 'queued' WHERE run_id = $1 AND name = $2")
                        .bind(step.run.as_uuid())
                        .bind(&next.name)
                        .execute(&mut *tx)
                        .await?;
                    let task = step_task(step.run, next, at);
                    crate::tasks::insert_task!(&mut *tx, task, at).await?;
                }
            }
            let run_finished = plan.iter().all(|planned| succeeded(&planned.name));
            if run_finished {
                sqlx::query("UPDATE runs SET status = 'succeeded', finished_at = $2 WHERE id = $1")
                    .bind(step.run.as_uuid())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                set_submission_status!(&mut *tx, step.run, SubmissionStatus::Completed, at);
            }
            tx.commit().await?;
            Ok(StepRecorded::Done { run_finished })
        })
    }

    /// Records a failed attempt: queued again at `retry_at`, or, when `None`,
    /// the task is dead-lettered and the step and run fail.
    pub async fn fail_step(
        &self,
        task: TaskId,
        worker: &str,
        step: &StepRef,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<StepRecorded, StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let held = sqlx::query(
                crate::tasks::FAIL_TASK,
            )
            .bind(task.as_uuid())
            .bind(worker)
            .bind(error)
            .bind(retry_at.is_some())
            .bind(retry_at)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if held == 0 {
                return Ok(StepRecorded::LeaseLost);
            }
            if retry_at.is_some() {
                sqlx::query("UPDATE steps SET status = 'retrying', error = $3, progress = NULL WHERE run_id = $1 AND name = $2")
                    .bind(step.run.as_uuid())
                    .bind(&step.step)
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
            } else {
                mark_failed!(&mut *tx, step, error, at);
            }
            tx.commit().await?;
            Ok(StepRecorded::Done { run_finished: retry_at.is_none() })
        })
    }

    /// After the monitor dead-lettered a step task whose worker vanished on
    /// every attempt: fail its step and run.
    pub async fn fail_abandoned_step(&self, step: &StepRef, error: &str) -> Result<(), StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            mark_failed!(&mut *tx, step, error, at);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The dead step tasks of a run (what a retry of the failed run revives).
    pub async fn dead_tasks_of_run(&self, run: RunId) -> Result<Vec<TaskId>, StoreError> {
        let rows: Vec<(Uuid,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id FROM tasks WHERE run_id = $1 AND status = 'dead'")
                .bind(run.as_uuid())
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(id,)| TaskId::from_uuid(id)).collect())
    }

    /// Gives a dead task a fresh set of attempts. For a pipeline step the
    /// run is re-driven from it: step, run and submission are live again, in
    /// the same transaction. Returns the step, if it was one; `NotFound` when
    /// no dead task has this id.
    pub async fn retry_dead_task(&self, task: TaskId) -> Result<Option<StepRef>, StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let revived: Option<(String, String)> = sqlx::query_as(
                "UPDATE tasks SET status = 'queued', attempts = 0, run_after = $2, updated_at = $2, worker = NULL, \
                   published_at = NULL \
                 WHERE id = $1 AND status = 'dead' RETURNING kind, payload",
            )
            .bind(task.as_uuid())
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            let (kind, payload) = revived.ok_or(StoreError::NotFound)?;
            let step = match kind.as_str() {
                STEP_TASK => Some(
                    serde_json::from_str(&payload)
                        .ok()
                        .as_ref()
                        .and_then(StepRef::from_payload)
                        .ok_or_else(|| StoreError::Corrupt(format!("step task {task} has no run and step")))?,
                ),
                _ => None,
            };
            if let Some(step) = &step {
                sqlx::query(
                    "UPDATE steps SET status = 'queued', finished_at = NULL WHERE run_id = $1 AND name = $2",
                )
                .bind(step.run.as_uuid())
                .bind(&step.step)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE runs SET status = 'running', finished_at = NULL, notified_at = NULL WHERE id = $1")
                    .bind(step.run.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                set_submission_status!(&mut *tx, step.run, SubmissionStatus::Processing, at);
            }
            tx.commit().await?;
            Ok(step)
        })
    }

    /// Cancels a submission's run: queued steps never start; a running one
    /// finishes but unblocks nothing. `false` if it had already ended.
    pub async fn cancel_submission(&self, submission: SubmissionId) -> Result<bool, StoreError> {
        let at = now();
        let changed = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE submissions SET status = 'cancelled', updated_at = $2 \
                 WHERE id = $1 AND status IN ('received', 'processing')",
            )
            .bind(submission.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed > 0 {
                sqlx::query(
                    "UPDATE runs SET status = 'cancelled', finished_at = $2 WHERE submission_id = $1 AND status = 'running'",
                )
                .bind(submission.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE steps SET status = 'cancelled' WHERE status IN ('waiting', 'queued', 'retrying') \
                     AND run_id IN (SELECT id FROM runs WHERE submission_id = $1)",
                )
                .bind(submission.as_uuid())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE tasks SET status = 'cancelled', updated_at = $2 WHERE status = 'queued' \
                     AND run_id IN (SELECT id FROM runs WHERE submission_id = $1)",
                )
                .bind(submission.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            changed
        });
        Ok(changed > 0)
    }
}

/// Sets the status of the submission that `$run` belongs to.
macro_rules! set_submission_status {
    ($executor:expr, $run:expr, $status:expr, $at:expr) => {
        sqlx::query(
            "UPDATE submissions SET status = $2, updated_at = $3 \
             WHERE id = (SELECT submission_id FROM runs WHERE id = $1)",
        )
        .bind($run.as_uuid())
        .bind($status.as_str())
        .bind($at)
        .execute($executor)
        .await?
    };
}
use set_submission_status;

/// Fails a step, its run and its submission.
macro_rules! mark_failed {
    ($executor:expr, $step:expr, $error:expr, $at:expr) => {{
        sqlx::query(
            "UPDATE steps SET status = 'failed', error = $3, finished_at = $4, progress = NULL \
             WHERE run_id = $1 AND name = $2",
        )
        .bind($step.run.as_uuid())
        .bind(&$step.step)
        .bind($error)
        .bind($at)
        .execute($executor)
        .await?;
        sqlx::query("UPDATE runs SET status = 'failed', finished_at = $2 WHERE id = $1 AND status = 'running'")
            .bind($step.run.as_uuid())
            .bind($at)
            .execute($executor)
            .await?;
        set_submission_status!($executor, $step.run, SubmissionStatus::Failed, $at);
    }};
}
use mark_failed;
