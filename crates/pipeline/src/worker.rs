//! Workers: claim a task, run its step under a lease, record the outcome.
//!
//! `Worker::run` keeps up to `concurrency` steps in flight (a semaphore) and
//! runs the lease monitor. Tasks reach it one of two ways: it polls the
//! database, waking on [`Worker::wake`] (in-process enqueues) or every
//! `poll_interval` (enqueues by other processes); or, with
//! [`WorkerConfig::amqp`], it consumes task ids from RabbitMQ
//! ([`crate::amqp`]) while a [`crate::amqp::Relay`] publishes them. On shutdown it
//! stops claiming and gives in-flight steps `shutdown_grace` to finish; any
//! still running then keep their task `running` until the lease expires and
//! the monitor (of any node) requeues it. Nothing is lost either way.

use std::{sync::Arc, time::Duration};

use fairgig_core::ids::TaskId;
use fairgig_store::{
    runs::{StepRecorded, StepRef, STEP_TASK},
    tasks::Task,
    Store, StoreError,
};
use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    amqp::AmqpConfig,
    plan::{Pipeline, StepContext, StepError},
};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Names this worker in task rows (`host:pid:n`), for debugging.
    pub id: String,
    pub concurrency: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    pub poll_interval: Duration,
    pub monitor_interval: Duration,
    pub shutdown_grace: Duration,
    /// Consume task ids from RabbitMQ instead of polling the database.
    pub amqp: Option<AmqpConfig>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            id: format!("worker-{}", std::process::id()),
            concurrency: 4,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(250),
            monitor_interval: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
            amqp: None,
        }
    }
}

/// What one call of [`Worker::try_execute_task`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// Nothing was ready.
    Idle,
    Succeeded {
        step: String,
    },
    /// Failed; queued again after a back-off.
    Retrying {
        step: String,
        error: String,
    },
    /// Failed for good: dead-lettered.
    Failed {
        step: String,
        error: String,
    },
    /// The lease was lost mid-step; another worker owns the task now.
    LeaseLost,
    /// The task's submission is gone or cancelled; nothing to do.
    Skipped,
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub(crate) store: Store,
    pipeline: Arc<Pipeline>,
    pub(crate) config: WorkerConfig,
    pub(crate) wake: Arc<Notify>,
    /// Notified when this worker records the last step of a run (succeeded
    /// or failed), so whoever announces outcomes need not wait for a poll.
    run_finished: Option<Arc<Notify>>,
}

impl Worker {
    pub fn new(store: Store, pipeline: Arc<Pipeline>, config: WorkerConfig) -> Self {
        Self { store, pipeline, config, wake: Arc::new(Notify::new()), run_finished: None }
    }

    /// Notifies `finished` whenever a run this worker works on ends.
    pub fn with_run_finished(mut self, finished: Arc<Notify>) -> Self {
        self.run_finished = Some(finished);
        self
    }

    fn announce_if_finished(&self, recorded: &StepRecorded) {
        if let (StepRecorded::Done { run_finished: true }, Some(finished)) =
            (recorded, &self.run_finished)
        {
            finished.notify_one();
        }
    }

    /// Shares `wake` with the code that enqueues (the API in the same process).
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// Notify this to make an idle worker look for tasks at once.
    pub fn wake(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    pub(crate) fn lease_until(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.config.lease
    }

    /// Claims and runs at most one task (tests drain the queue with this).
    pub async fn try_execute_task(&self) -> Result<ExecutionOutcome, StoreError> {
        let mut claimed = self.store.claim_tasks(&self.config.id, 1, self.lease_until()).await?;
        match claimed.pop() {
            Some(task) => self.execute(task).await,
            None => Ok(ExecutionOutcome::Idle),
        }
    }

    /// Runs `task` in a span that continues the trace of whatever queued
    /// it (the request, the step before), so the successors it enqueues
    /// and the notifications it addresses carry that trace on.
    pub(crate) async fn execute(&self, task: Task) -> Result<ExecutionOutcome, StoreError> {
        let step = StepRef::from_payload(&task.payload);
        let name = step.as_ref().map_or(task.kind.as_str(), |step| step.step.as_str());
        let span = tracing::info_span!(
            "step",
            otel.name = %format_args!("step {name}"),
            run = %step.as_ref().map(|step| step.run.to_string()).unwrap_or_default(),
            step = %name,
            attempt = task.attempts,
            trace_id = tracing::field::Empty,
        );
        fairgig_trace::continue_from(&span, task.trace_parent.as_deref());
        self.execute_traced(task).instrument(span).await
    }

    async fn execute_traced(&self, task: Task) -> Result<ExecutionOutcome, StoreError> {
        let worker = self.config.id.as_str();
        let step = match (task.kind.as_str(), StepRef::from_payload(&task.payload)) {
            (STEP_TASK, Some(step)) => step,
            _ => {
                let error = format!("unknown task kind {:?} or payload", task.kind);
                self.store.fail_task(task.id, worker, &error, None).await?;
                return Ok(ExecutionOutcome::Failed { step: task.kind, error });
            }
        };
        let (Some(spec), Some(handler)) =
            (self.pipeline.spec(&step.step), self.pipeline.handler(&step.step))
        else {
            let error = format!("this worker has no step {:?}", step.step);
            self.store.fail_step(task.id, worker, &step, &error, None).await?;
            return Ok(ExecutionOutcome::Failed { step: step.step, error });
        };
        let submission = match self.store.submission_of_run(step.run).await {
            Ok(id) => self.store.get_submission(id).await,
            Err(err) => Err(err),
        };
        let submission = match submission {
            Ok(submission)
                if submission.status != fairgig_core::submission::SubmissionStatus::Cancelled =>
            {
                submission
            }
            Ok(_) | Err(StoreError::NotFound) => {
                self.store.complete_task(task.id, worker).await?;
                return Ok(ExecutionOutcome::Skipped);
            }
            Err(err) => return Err(err),
        };
        self.store.start_step(&step, task.attempts).await?;
        let context = StepContext {
            run: step.run,
            step: step.step.clone(),
            attempt: task.attempts,
            submission,
            outputs: self.store.step_outputs(step.run).await?,
        };
        let started = std::time::Instant::now();
        let result = tokio::select! {
            result = tokio::time::timeout(spec.timeout, handler.run(&context)) => result,
            () = self.heartbeat_until_lost(task.id) => {
                tracing::warn!(run = %step.run, step = %step.step, "lease lost mid-step; dropping the result");
                return Ok(ExecutionOutcome::LeaseLost);
            }
        };
        let attempt = match result {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(StepError::Permanent(error))) => Err((error, false)),
            Ok(Err(StepError::Retryable(error))) => Err((error, true)),
            Err(_) => Err((format!("timed out after {} s", spec.timeout.as_secs()), true)),
        };
        let (outcome, outcome_label) = match attempt {
            Ok(output) => {
                let recorded = self
                    .store
                    .finish_step(task.id, worker, &step, &output, self.pipeline.plan())
                    .await?;
                self.announce_if_finished(&recorded);
                let outcome = match recorded {
                    StepRecorded::Done { .. } => {
                        ExecutionOutcome::Succeeded { step: step.step.clone() }
                    }
                    StepRecorded::LeaseLost => ExecutionOutcome::LeaseLost,
                };
                (outcome, "succeeded")
            }
            Err((error, retryable)) => {
                let retry_at = (retryable && task.attempts < task.max_attempts)
                    .then(|| OffsetDateTime::now_utc() + spec.retry.backoff(task.attempts));
                let label = if retry_at.is_some() { "retrying" } else { "failed" };
                tracing::warn!(run = %step.run, step = %step.step, attempt = task.attempts, error = %error, outcome = label, "step failed");
                let recorded =
                    self.store.fail_step(task.id, worker, &step, &error, retry_at).await?;
                self.announce_if_finished(&recorded);
                let outcome = match recorded {
                    StepRecorded::LeaseLost => ExecutionOutcome::LeaseLost,
                    StepRecorded::Done { .. } if retry_at.is_some() => {
                        ExecutionOutcome::Retrying { step: step.step.clone(), error }
                    }
                    StepRecorded::Done { .. } => {
                        ExecutionOutcome::Failed { step: step.step.clone(), error }
                    }
                };
                (outcome, label)
            }
        };
        let labels = [("step", step.step.clone()), ("outcome", outcome_label.to_owned())];
        metrics::histogram!("pipeline_step_duration_seconds", &labels)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("pipeline_steps_total", &labels).increment(1);
        Ok(outcome)
    }

    /// Extends the lease every third of its length; returns only if it is lost.
    async fn heartbeat_until_lost(&self, task: TaskId) {
        let every = self.config.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            match self.store.heartbeat(task, &self.config.id, self.lease_until()).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(err) => tracing::warn!(error.message = %err, "heartbeat failed; will retry"),
            }
        }
    }

    /// Requeues tasks of vanished workers; fails the steps of those that
    /// vanished on every attempt.
    pub async fn monitor_once(&self) -> Result<(), StoreError> {
        let (requeued, dead) = self.store.requeue_expired().await?;
        if !requeued.is_empty() {
            tracing::warn!(count = requeued.len(), "requeued tasks of lost workers");
            self.wake.notify_one();
        }
        for (id, payload) in dead {
            if let Some(step) = StepRef::from_payload(&payload) {
                tracing::error!(task = %id, run = %step.run, step = %step.step, "step dead-lettered: its worker was lost on every attempt");
                self.store
                    .fail_abandoned_step(&step, "worker lost (lease expired) on every attempt")
                    .await?;
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let monitor = {
            let worker = self.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(worker.config.monitor_interval) => {}
                        () = shutdown.cancelled() => return,
                    }
                    if let Err(err) = worker.monitor_once().await {
                        tracing::error!(error.message = %err, error.cause_chain = ?err, "lease monitor failed");
                    }
                }
            })
        };
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        tracing::info!(worker = %self.config.id, concurrency = self.config.concurrency, "worker started");
        // Held until in-flight steps are drained, so they can still ack.
        let broker = match self.config.amqp.clone() {
            Some(amqp) => self.consume(&amqp, &slots, &shutdown).await,
            None => {
                self.poll(&slots, &shutdown).await;
                None
            }
        };
        let all = u32::try_from(self.config.concurrency.max(1)).unwrap_or(u32::MAX);
        let drained =
            tokio::time::timeout(self.config.shutdown_grace, slots.acquire_many(all)).await;
        if drained.is_err() {
            tracing::warn!("shutdown grace over with steps still running; their leases will expire and they will run again");
        }
        monitor.abort();
        if let Some(connection) = broker {
            let _ = connection.close(200, "worker stopped".into()).await;
        }
        tracing::info!(worker = %self.config.id, "worker stopped");
    }

    /// Claims from the database until `shutdown`: one task per free slot,
    /// sleeping when the queue is empty until woken or `poll_interval` passes.
    async fn poll(&self, slots: &Arc<Semaphore>, shutdown: &CancellationToken) {
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                () = shutdown.cancelled() => break,
            };
            match self.store.claim_tasks(&self.config.id, 1, self.lease_until()).await {
                Ok(mut claimed) if !claimed.is_empty() => {
                    let Some(task) = claimed.pop() else { continue };
                    let worker = self.clone();
                    tokio::spawn(async move {
                        if let Err(err) = worker.execute(task).await {
                            tracing::error!(error.message = %err, error.cause_chain = ?err, "recording a step failed; its lease will expire and it will run again");
                        }
                        drop(permit);
                        worker.wake.notify_one();
                    });
                }
                Ok(_) => {
                    drop(permit);
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
                Err(err) => {
                    drop(permit);
                    tracing::error!(error.message = %err, "claiming tasks failed");
                    tokio::select! {
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
            }
        }
    }
}
