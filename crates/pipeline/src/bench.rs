//! Queue benchmarks, printed by `fairgig bench queue` (figures, not asserts).
//!
//! - throughput: no-op tasks claimed and completed per second, by N workers
//!   each claiming one task per statement;
//! - chain latency: a 40-step sequential run of no-op steps, from submission
//!   to the last step recorded, with one in-process worker;
//! - run throughput: one-step runs per second through the whole worker path,
//!   on the database queue and on RabbitMQ.

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
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    amqp::{AmqpConfig, Relay},
    Pipeline, StepContext, StepError, StepHandler, StepSpec, Worker, WorkerConfig,
};

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

/// A worker (and, on RabbitMQ, a relay) running until the token is cancelled.
struct Running {
    wake: Arc<Notify>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    fn start(
        store: &Store,
        pipeline: &Arc<Pipeline>,
        concurrency: usize,
        amqp: Option<&AmqpConfig>,
    ) -> Self {
        let worker = Worker::new(
            store.clone(),
            Arc::clone(pipeline),
            WorkerConfig { concurrency, amqp: amqp.cloned(), ..WorkerConfig::default() },
        );
        let wake = worker.wake();
        let stop = CancellationToken::new();
        let mut tasks = vec![tokio::spawn(worker.run(stop.clone()))];
        if let Some(config) = amqp {
            let relay = Relay::new(store.clone(), config.clone(), Arc::clone(&wake));
            tasks.push(tokio::spawn(relay.run(stop.clone())));
        }
        Self { wake, stop, tasks }
    }

    async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn bench_owner(store: &Store) -> Result<fairgig_core::ids::UserId, StoreError> {
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
    Ok(owner.id)
}

async fn submit(
    store: &Store,
    owner: fairgig_core::ids::UserId,
    pipeline: &Pipeline,
) -> Result<SubmissionId, StoreError> {
    let id = SubmissionId::new();
    let submission = NewSubmission {
        id,
        owner,
        kind: SubmissionKind::Request,
        title: "bench".to_owned(),
        body: String::new(),
        budget: None,
        deadline: None,
        region: None,
        contact: None,
        idempotency_key: None,
        request_hash: None,
        files: Vec::new(),
        audit: None,
        receipt: None,
    };
    store.create_submission(&submission, pipeline.plan()).await?;
    Ok(id)
}

async fn wait_until_finished(store: &Store, id: SubmissionId) -> Result<(), StoreError> {
    while store.run_of_submission(id).await?.status == fairgig_core::submission::RunStatus::Running
    {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Ok(())
}

/// Seconds from submission to the last of 40 sequential no-op steps, with
/// one worker polling the database or, with `amqp`, fed by RabbitMQ.
pub async fn chain_latency(store: &Store, amqp: Option<&AmqpConfig>) -> Result<f64, StoreError> {
    let pipeline = Arc::new(sequential_noop_pipeline());
    let owner = bench_owner(store).await?;
    let running = Running::start(store, &pipeline, 1, amqp);
    let started = Instant::now();
    let id = submit(store, owner, &pipeline).await?;
    running.wake.notify_one();
    wait_until_finished(store, id).await?;
    let elapsed = started.elapsed().as_secs_f64();
    running.stop().await;
    Ok(elapsed)
}

/// Whole runs of one no-op step per second (submission, claim, step
/// records, completion), `runs` of them queued first, with `concurrency`
/// steps at once: the database queue and RabbitMQ compared like for like.
pub async fn run_throughput(
    store: &Store,
    amqp: Option<&AmqpConfig>,
    concurrency: usize,
    runs: usize,
) -> Result<f64, StoreError> {
    let pipeline = Pipeline::new().step(StepSpec::new("noop"), Noop);
    let pipeline = Arc::new(pipeline.map_err(|err| StoreError::Corrupt(err.to_string()))?);
    let owner = bench_owner(store).await?;
    let mut ids = Vec::with_capacity(runs);
    for _ in 0..runs {
        ids.push(submit(store, owner, &pipeline).await?);
    }
    let started = Instant::now();
    let running = Running::start(store, &pipeline, concurrency, amqp);
    for id in ids {
        wait_until_finished(store, id).await?;
    }
    let per_second = runs as f64 / started.elapsed().as_secs_f64();
    running.stop().await;
    Ok(per_second)
}
