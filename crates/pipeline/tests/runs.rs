//! The pipeline on real databases: ordering, parallel branches, retries,
//! dead letters and re-drive, lost leases, cancellation.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use async_trait::async_trait;
use fairgig_core::submission::{RunStatus, StepStatus, SubmissionStatus};
use fairgig_pipeline::{
    ExecutionOutcome, Pipeline, RetryPolicy, StepContext, StepError, StepHandler, StepSpec, Worker,
    WorkerConfig,
};
use fairgig_store::{test_support::on_every_backend, Store};
use serde_json::{json, Value};
use support::{diamond, submit};

mod support;

/// Records the order steps ran in and returns its input plus its name.
#[derive(Clone, Default)]
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl StepHandler for Recorder {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        self.log.lock().expect("lock").push(context.step.clone());
        let seen: Vec<&String> = context.outputs.keys().collect();
        Ok(json!({"step": context.step, "saw": seen.len()}))
    }
}

/// Fails the first `failures` attempts.
struct Flaky {
    failures: usize,
    calls: AtomicUsize,
    permanent: bool,
}

#[async_trait]
impl StepHandler for Flaky {
    async fn run(&self, _: &StepContext) -> Result<Value, StepError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.failures {
            let message = format!("failure #{}", call + 1);
            return Err(if self.permanent {
                StepError::Permanent(message)
            } else {
                StepError::Retryable(message)
            });
        }
        Ok(json!({"calls": call + 1}))
    }
}

fn fast_retries(max_attempts: i32) -> RetryPolicy {
    RetryPolicy { max_attempts, base: Duration::from_millis(1), max: Duration::from_millis(2) }
}

fn worker(store: &Store, pipeline: Pipeline, id: &str) -> Worker {
    Worker::new(
        store.clone(),
        Arc::new(pipeline),
        WorkerConfig {
            id: id.to_owned(),
            lease: Duration::from_secs(30),
            ..WorkerConfig::default()
        },
    )
}

/// Runs tasks until none is ready (sleeping briefly for back-offs), at most `limit`.
async fn drain(worker: &Worker, limit: usize) -> Vec<ExecutionOutcome> {
    let mut outcomes = Vec::new();
    let mut idle_rounds = 0;
    while outcomes.len() < limit && idle_rounds < 20 {
        match worker.try_execute_task().await.expect("execute") {
            ExecutionOutcome::Idle => {
                idle_rounds += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            outcome => {
                idle_rounds = 0;
                outcomes.push(outcome);
            }
        }
    }
    outcomes
}

#[tokio::test]
async fn steps_run_in_dependency_order_and_join_after_parallel_branches() {
    on_every_backend(|store| async move {
        let recorder = Recorder::default();
        let pipeline = diamond(&recorder);
        let id = submit(&store, &pipeline).await;
        let worker = worker(&store, pipeline, "w1");
        let outcomes = drain(&worker, 10).await;
        assert_eq!(outcomes.len(), 4, "{outcomes:?}");

        let order = recorder.log.lock().expect("lock").clone();
        assert_eq!(order.first().map(String::as_str), Some("extract"));
        assert_eq!(
            order.last().map(String::as_str),
            Some("reply"),
            "the join runs once, last: {order:?}"
        );

        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Succeeded);
        assert_eq!(run.progress, 100);
        assert!(run.steps.iter().all(|s| s.status == StepStatus::Succeeded && s.attempts == 1));
        let reply = run.steps.iter().find(|s| s.name == "reply").expect("reply");
        assert_eq!(reply.output.as_ref().expect("output")["saw"], 3, "it saw every earlier output");
        let submission = store.get_submission(id).await.expect("submission");
        assert_eq!(submission.status, SubmissionStatus::Completed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_finishing_sibling_steps_still_run_the_join_once() {
    on_every_backend(|store| async move {
        let recorder = Recorder::default();
        let pipeline = diamond(&recorder);
        let mut ids = Vec::new();
        for _ in 0..30 {
            ids.push(submit(&store, &pipeline).await);
        }
        let worker = Worker::new(
            store.clone(),
            Arc::new(pipeline),
            WorkerConfig { id: "pool".to_owned(), concurrency: 8, ..WorkerConfig::default() },
        );
        let stop = tokio_util::sync::CancellationToken::new();
        let running = tokio::spawn(worker.run(stop.clone()));
        let started = std::time::Instant::now();
        for id in &ids {
            loop {
                let run = store.run_of_submission(*id).await.expect("run");
                if run.status != RunStatus::Running {
                    assert_eq!(run.status, RunStatus::Succeeded);
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "a run never finished: {run:?}"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        stop.cancel();
        running.await.expect("worker");
        let log = recorder.log.lock().expect("lock");
        assert_eq!(log.iter().filter(|step| *step == "reply").count(), 30, "one join per run");
    })
    .await;
}

#[tokio::test]
async fn retryable_failures_back_off_and_then_succeed() {
    on_every_backend(|store| async move {
        let flaky = Flaky { failures: 2, calls: AtomicUsize::new(0), permanent: false };
        let pipeline = Pipeline::new()
            .step(StepSpec::new("extract").retry(fast_retries(5)), flaky)
            .expect("plan");
        let id = submit(&store, &pipeline).await;
        let worker = worker(&store, pipeline, "w1");
        let outcomes = drain(&worker, 10).await;
        assert!(matches!(outcomes[0], ExecutionOutcome::Retrying { .. }), "{outcomes:?}");
        assert!(
            matches!(outcomes.last(), Some(ExecutionOutcome::Succeeded { .. })),
            "{outcomes:?}"
        );
        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Succeeded);
        assert_eq!(run.steps[0].attempts, 3);
        assert_eq!(run.steps[0].error, None, "a later success clears the error");
    })
    .await;
}

#[tokio::test]
async fn exhausted_retries_dead_letter_the_step_and_a_redrive_finishes_the_run() {
    on_every_backend(|store| async move {
        let flaky = Flaky { failures: 3, calls: AtomicUsize::new(0), permanent: false };
        let pipeline = Pipeline::new()
            .step(StepSpec::new("extract").retry(fast_retries(2)), flaky)
            .and_then(|p| p.step(StepSpec::new("analyse").after(&["extract"]), Recorder::default()))
            .expect("plan");
        let id = submit(&store, &pipeline).await;
        let worker = worker(&store, pipeline, "w1");
        let outcomes = drain(&worker, 10).await;
        assert!(matches!(outcomes.last(), Some(ExecutionOutcome::Failed { .. })), "{outcomes:?}");
        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.steps[0].status, StepStatus::Failed);
        assert_eq!(run.steps[0].error.as_deref(), Some("failure #2"));
        assert_eq!(run.steps[1].status, StepStatus::Waiting, "nothing after a failed step runs");
        assert_eq!(store.get_submission(id).await.expect("sub").status, SubmissionStatus::Failed);

        let dead = store.dead_tasks(10).await.expect("dead letters");
        assert_eq!(dead.len(), 1);
        let step = store.retry_dead_task(dead[0].id).await.expect("redrive");
        assert_eq!(step.map(|s| s.step).as_deref(), Some("extract"));
        // The third call succeeds (failures: 3 means calls 1-3 fail… the
        // redrive gets two fresh attempts, the second of which is call 4).
        let outcomes = drain(&worker, 10).await;
        assert!(
            matches!(outcomes.last(), Some(ExecutionOutcome::Succeeded { .. })),
            "{outcomes:?}"
        );
        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
        assert_eq!(
            store.get_submission(id).await.expect("sub").status,
            SubmissionStatus::Completed
        );
    })
    .await;
}

#[tokio::test]
async fn permanent_failures_are_not_retried() {
    on_every_backend(|store| async move {
        let flaky = Flaky { failures: 1, calls: AtomicUsize::new(0), permanent: true };
        let pipeline = Pipeline::new()
            .step(StepSpec::new("extract").retry(fast_retries(5)), flaky)
            .expect("plan");
        let id = submit(&store, &pipeline).await;
        let worker = worker(&store, pipeline, "w1");
        let outcomes = drain(&worker, 10).await;
        assert_eq!(outcomes.len(), 1, "{outcomes:?}");
        assert_eq!(store.run_of_submission(id).await.expect("run").steps[0].attempts, 1);
    })
    .await;
}

#[tokio::test]
async fn a_lost_lease_is_requeued_and_the_stale_worker_cannot_record() {
    on_every_backend(|store| async move {
        let pipeline =
            Pipeline::new().step(StepSpec::new("extract"), Recorder::default()).expect("plan");
        let id = submit(&store, &pipeline).await;
        // A worker claims with a lease that is already over, then "crashes".
        let past = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        let claimed = store.claim_tasks("crashed", 1, past).await.expect("claim");
        assert_eq!(claimed.len(), 1);

        let healthy = worker(&store, pipeline, "healthy");
        healthy.monitor_once().await.expect("monitor");
        let outcomes = drain(&healthy, 5).await;
        assert_eq!(outcomes, vec![ExecutionOutcome::Succeeded { step: "extract".into() }]);
        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Succeeded);
        assert_eq!(run.steps[0].attempts, 2, "the crashed claim counts as an attempt");

        assert!(!store.complete_task(claimed[0].id, "crashed").await.expect("late complete"));
    })
    .await;
}

#[tokio::test]
async fn a_task_whose_worker_dies_every_time_is_dead_lettered_with_a_reason() {
    on_every_backend(|store| async move {
        let pipeline = Pipeline::new()
            .step(StepSpec::new("extract").retry(fast_retries(2)), Recorder::default())
            .expect("plan");
        let id = submit(&store, &pipeline).await;
        let monitor = worker(&store, pipeline, "monitor");
        let past = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        for _ in 0..2 {
            assert_eq!(store.claim_tasks("crashy", 1, past).await.expect("claim").len(), 1);
            monitor.monitor_once().await.expect("monitor");
        }
        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Failed);
        assert!(
            run.steps[0].error.as_deref().is_some_and(|e| e.contains("worker lost")),
            "{run:?}"
        );
        assert_eq!(store.dead_tasks(5).await.expect("dead").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn cancelled_submissions_run_no_further_steps() {
    on_every_backend(|store| async move {
        let recorder = Recorder::default();
        let pipeline = Pipeline::new()
            .step(StepSpec::new("extract"), recorder.clone())
            .and_then(|p| p.step(StepSpec::new("analyse").after(&["extract"]), recorder.clone()))
            .expect("plan");
        let id = submit(&store, &pipeline).await;
        assert!(store.cancel_submission(id).await.expect("cancel"));
        assert!(!store.cancel_submission(id).await.expect("cancel twice"), "already cancelled");
        let worker = worker(&store, pipeline, "w1");
        let outcomes = drain(&worker, 5).await;
        assert!(outcomes.is_empty(), "{outcomes:?}");
        assert!(recorder.log.lock().expect("lock").is_empty());
        let run = store.run_of_submission(id).await.expect("run");
        assert_eq!(run.status, RunStatus::Cancelled);
        assert!(run.steps.iter().all(|s| s.status == StepStatus::Cancelled));
    })
    .await;
}

#[tokio::test]
async fn the_running_worker_finishes_a_chain_promptly() {
    on_every_backend(|store| async move {
        let seconds = fairgig_pipeline::bench::chain_latency(&store, None).await.expect("chain");
        assert!(seconds < 60.0, "the chain completed ({seconds:.3} s)");
    })
    .await;
}
