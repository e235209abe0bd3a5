//! Queue benchmarks, printed by `fairgig bench queue` (figures, not asserts).
//!
//! - throughput: no-op tasks claimed and completed per second, by N workers
//!   each claiming one task per statement;
//! - chain latency: a 40-step sequential run of no-op steps, from submission
//!   to the last step recorded, with one in-process worker.

use std::{sync::Arc, time::Instant};

use async_trait::async_trait;
use fairgig_core::{
    ids::SubmissionId,
    submission::SubmissionKind,
    user::{DisplayName, Email, Role},
};
use fairgig_store::{
    submissions::NewSubmission, tasks::NewTask, users::NewUser, Store, StoreError,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::{Pipeline, StepContext, StepError, StepHandler, StepSpec, Worker, WorkerConfig};

/// No-op tasks per second through claim → complete, with `workers` loops.
pub async fn throughput(store: &Store, workers: usize, tasks: usize) -> Result<f64, StoreError> {
    let run_tag = uuid::Uuid::now_v7();
    for i in 0..tasks {
        let mut task = NewTask::new("bench.noop", json!({"i": i}));
        task.dedupe_key = Some(format!("bench:{run_tag}:{i}"));
        store.enqueue(&task).await?;
    }
    let started = Instant::now();
    let mut loops = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        loops.push(tokio::spawn(async move {
            let id = format!("bench-{w}");
            let lease = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
            let mut done = 0usize;
            loop {
                let claimed = store.claim_tasks(&id, 1, lease).await?;
                if claimed.is_empty() {
                    return Ok::<usize, StoreError>(done);
                }
                for task in claimed {
                    store.complete_task(task.id, &id).await?;
                    done += 1;
                }
            }
        }));
    }
    let mut done = 0;
    for handle in loops {
        done += handle.await.map_err(|err| StoreError::Corrupt(err.to_string()))??;
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

struct Noop;

#[async_trait]
impl StepHandler for Noop {
    async fn run(&self, _: &StepContext) -> Result<Value, StepError> {
        Ok(Value::Null)
    }
}

const STEP_NAMES: [&str; 40] = [
    "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", "s12", "s13",
    "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26",
    "s27", "s28", "s29", "s30", "s31", "s32", "s33", "s34", "s35", "s36", "s37", "s38", "s39",
    "s40",
];

/// A pipeline of `STEP_NAMES.len()` no-op steps, each after the previous.
pub fn sequential_noop_pipeline() -> Pipeline {
    let mut pipeline = Pipeline::new();
    let mut previous: Option<&'static str> = None;
    for name in STEP_NAMES {
        let spec = match previous {
            Some(before) => StepSpec::new(name).after(&[before]),
            None => StepSpec::new(name),
        };
        // Names are unique and each depends only on the one before: cannot fail.
        pipeline = match pipeline.step(spec, Noop) {
            Ok(pipeline) => pipeline,
            Err(err) => unreachable!("static plan is valid: {err}"),
        };
        previous = Some(name);
    }
    pipeline
}

/// Seconds from submission to the last of 40 sequential no-op steps.
pub async fn chain_latency(store: &Store) -> Result<f64, StoreError> {
    let pipeline = Arc::new(sequential_noop_pipeline());
    let owner = store
        .create_user(NewUser {
            email: Email::parse(&format!("bench-{}@example.org", uuid::Uuid::now_v7().simple()))
                .map_err(|err| StoreError::Corrupt(err.to_string()))?,
            display_name: DisplayName::parse("Bench")
                .map_err(|err| StoreError::Corrupt(err.to_string()))?,
            role: Role::Client,
            region: None,
            password_hash: String::new(),
        })
        .await?;
    let worker = Worker::new(
        store.clone(),
        Arc::clone(&pipeline),
        WorkerConfig { concurrency: 1, ..WorkerConfig::default() },
    );
    let wake = worker.wake();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let id = SubmissionId::new();
    let started = Instant::now();
    store
        .create_submission(
            &NewSubmission {
                id,
                owner: owner.id,
                kind: SubmissionKind::Request,
                title: "chain".to_owned(),
                body: String::new(),
                budget: None,
                deadline: None,
                region: None,
                contact: None,
                idempotency_key: None,
                request_hash: None,
                files: Vec::new(),
            },
            pipeline.plan(),
        )
        .await?;
    wake.notify_one();
    loop {
        let run = store.run_of_submission(id).await?;
        if run.status != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    shutdown.cancel();
    let _ = running.await;
    Ok(elapsed)
}
