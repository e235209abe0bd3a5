//! The RabbitMQ transport against a real broker (`FAIRGIG_TEST_AMQP_URL`,
//! e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`): runs complete with each
//! step run once, delayed retries wait in holding queues, failures and
//! unreadable messages reach the dead-letter queue, and a dropped broker
//! connection mid-run loses nothing. Each test uses its own queue prefix on
//! a fresh database, and deletes its queues afterwards.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use fairgig_core::{
    ids::SubmissionId,
    submission::{RunStatus, StepStatus},
};
use fairgig_pipeline::{
    amqp::{delete_topology, AmqpConfig, Relay},
    Pipeline, RetryPolicy, StepContext, StepError, StepHandler, StepSpec, Worker, WorkerConfig,
};
use fairgig_store::{test_support::on_every_backend, Store};
use lapin::{
    options::{BasicPublishOptions, QueueDeclareOptions},
    types::FieldTable,
    BasicProperties, Connection, ConnectionProperties,
};
use serde_json::{json, Value};
use support::{diamond, submit};
use tokio::{net::TcpListener, sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

mod support;

fn broker_url() -> Option<String> {
    let url = std::env::var("FAIRGIG_TEST_AMQP_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        println!("SKIP: FAIRGIG_TEST_AMQP_URL is not set; the RabbitMQ transport is not tested");
    }
    url
}

/// When each (run, step) ran, every time it ran.
type Calls = HashMap<(String, String), Vec<Instant>>;

/// Counts how often each (run, step) ran, with when; can fail, sleep or
/// fail for good by step name.
#[derive(Clone, Default)]
struct Ledger {
    calls: Arc<Mutex<Calls>>,
    /// Step name → retryable failures before it succeeds.
    flaky: HashMap<&'static str, usize>,
    doomed: Option<&'static str>,
    slow: Option<(&'static str, Duration)>,
}

impl Ledger {
    fn runs_of(&self, step: &str) -> Vec<usize> {
        let calls = self.calls.lock().expect("lock");
        calls.iter().filter(|((_, name), _)| name == step).map(|(_, at)| at.len()).collect()
    }

    fn total(&self) -> usize {
        self.calls.lock().expect("lock").values().map(Vec::len).sum()
    }
}

#[async_trait]
impl StepHandler for Ledger {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let count = {
            let mut calls = self.calls.lock().expect("lock");
            let entry = calls.entry((context.run.to_string(), context.step.clone())).or_default();
            entry.push(Instant::now());
            entry.len()
        };
        if let Some((step, pause)) = self.slow {
            if step == context.step {
                tokio::time::sleep(pause).await;
            }
        }
        if self.doomed == Some(context.step.as_str()) {
            return Err(StepError::Permanent("doomed".to_owned()));
        }
        if self.flaky.get(context.step.as_str()).is_some_and(|failures| count <= *failures) {
            return Err(StepError::Retryable(format!("flaky attempt {count}")));
        }
        Ok(json!({"step": context.step}))
    }
}

/// A relay and a worker on `url` under `prefix`, stopped by the token.
struct Node {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    fn start(store: &Store, pipeline: Pipeline, config: &AmqpConfig, concurrency: usize) -> Self {
        let wake = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        let relay = Relay::new(store.clone(), config.clone(), Arc::clone(&wake));
        let worker = Worker::new(
            store.clone(),
            Arc::new(pipeline),
            WorkerConfig {
                id: format!("amqp-test-{}", uuid::Uuid::now_v7().simple()),
                concurrency,
                lease: Duration::from_secs(30),
                amqp: Some(config.clone()),
                ..WorkerConfig::default()
            },
        )
        .with_wake(wake);
        let tasks =
            vec![tokio::spawn(relay.run(stop.clone())), tokio::spawn(worker.run(stop.clone()))];
        Self { stop, tasks }
    }

    async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            task.await.expect("node task");
        }
    }
}

fn test_config(url: &str) -> AmqpConfig {
    AmqpConfig::new(url, format!("fairgig-test-{}", uuid::Uuid::now_v7().simple()))
}

async fn messages_in(url: &str, queue: &str) -> u32 {
    let connection =
        Connection::connect(url, ConnectionProperties::default()).await.expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() },
            FieldTable::default(),
        )
        .await
        .expect("queue exists");
    let _ = connection.close(200, "done".into()).await;
    declared.message_count()
}

/// Waits until no run is `running` (or fails after `limit`).
async fn wait_for_runs(store: &Store, ids: &[SubmissionId], limit: Duration) -> Vec<RunStatus> {
    let started = Instant::now();
    loop {
        let mut statuses = Vec::new();
        for id in ids {
            statuses.push(store.run_of_submission(*id).await.expect("run").status);
        }
        if statuses.iter().all(|status| *status != RunStatus::Running) {
            return statuses;
        }
        assert!(started.elapsed() < limit, "runs still running after {limit:?}: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn runs_complete_through_rabbitmq_with_each_step_run_once() {
    let Some(url) = broker_url() else { return };
    on_every_backend(|store| {
        let url = url.clone();
        async move {
            let config = test_config(&url);
            let ledger = Ledger::default();
            let pipeline = diamond(&ledger);
            let mut ids = Vec::new();
            for _ in 0..20 {
                ids.push(submit(&store, &pipeline).await);
            }
            let node = Node::start(&store, pipeline, &config, 4);
            let statuses = wait_for_runs(&store, &ids, Duration::from_secs(60)).await;
            node.stop().await;
            assert!(statuses.iter().all(|status| *status == RunStatus::Succeeded), "{statuses:?}");
            assert_eq!(ledger.total(), 20 * 4, "every step of every run ran exactly once");
            assert!(ledger.runs_of("reply").iter().all(|n| *n == 1));
            assert_eq!(messages_in(&url, &config.work_queue()).await, 0, "every message acked");
            delete_topology(&config).await.expect("delete queues");
        }
    })
    .await;
}

#[tokio::test]
async fn retries_wait_in_holding_queues_and_failures_are_dead_lettered() {
    let Some(url) = broker_url() else { return };
    on_every_backend(|store| {
        let url = url.clone();
        async move {
            let config = test_config(&url);
            let ledger = Ledger {
                flaky: HashMap::from([("analyse", 1)]),
                doomed: Some("bias_check"),
                ..Ledger::default()
            };
            let backoff = Duration::from_millis(600);
            let retry = RetryPolicy { max_attempts: 3, base: backoff * 2, max: backoff * 2 };
            let pipeline = Pipeline::new()
                .step(StepSpec::new("extract"), ledger.clone())
                .and_then(|p| {
                    p.step(
                        StepSpec::new("analyse").after(&["extract"]).retry(retry),
                        ledger.clone(),
                    )
                })
                .and_then(|p| {
                    p.step(StepSpec::new("bias_check").after(&["extract"]), ledger.clone())
                })
                .expect("valid plan");
            let id = submit(&store, &pipeline).await;
            let node = Node::start(&store, pipeline, &config, 2);

            // A message that names no task goes to the dead-letter queue, and
            // the worker carries on.
            let connection =
                Connection::connect(&url, ConnectionProperties::default()).await.expect("connect");
            let channel = connection.create_channel().await.expect("channel");
            let seen = &ledger;
            wait_until(|| async move { seen.total() > 0 }).await; // the queues exist
            channel
                .basic_publish(
                    "".into(),
                    config.work_queue().into(),
                    BasicPublishOptions::default(),
                    b"not a task id",
                    BasicProperties::default(),
                )
                .await
                .expect("publish")
                .await
                .expect("confirm");

            let statuses = wait_for_runs(&store, &[id], Duration::from_secs(30)).await;
            assert_eq!(statuses, [RunStatus::Failed], "bias_check fails for good");
            // The failed run still finishes the retry that was in progress.
            let analyse = |store: Store| async move {
                let run = store.run_of_submission(id).await.expect("run");
                let step = run.steps.into_iter().find(|s| s.name == "analyse").expect("analyse");
                (run.id, step)
            };
            let store_ref = &store;
            wait_until(|| async move {
                analyse(store_ref.clone()).await.1.status == StepStatus::Succeeded
            })
            .await;
            let (run_id, step) = analyse(store.clone()).await;
            assert_eq!(step.attempts, 2, "one retry, then success");
            let calls = ledger.calls.lock().expect("lock").clone();
            let attempts = &calls[&(run_id.to_string(), "analyse".to_owned())];
            assert!(
                attempts[1] - attempts[0] >= backoff,
                "the retry waited its back-off (at least {backoff:?}): {:?}",
                attempts[1] - attempts[0]
            );
            // The doomed step's message and the unreadable one.
            let (url_ref, dead_queue) = (url.as_str(), config.dead_queue());
            let dead_queue = dead_queue.as_str();
            wait_until(|| async move { messages_in(url_ref, dead_queue).await == 2 }).await;
            node.stop().await;
            let _ = connection.close(200, "done".into()).await;
            delete_topology(&config).await.expect("delete queues");
        }
    })
    .await;
}

async fn wait_until<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < Duration::from_secs(20), "condition not met in 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP proxy in front of the broker that can cut every connection.
struct Proxy {
    port: u16,
    cut: Arc<Mutex<Vec<JoinHandle<()>>>>,
    refusing: Arc<std::sync::atomic::AtomicBool>,
    /// Connections passed through to the broker.
    accepted: Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (links, refuse, count) =
            (Arc::clone(&cut), Arc::clone(&refusing), Arc::clone(&accepted));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if refuse.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection close
                }
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let target = target.clone();
                links.lock().expect("lock").push(tokio::spawn(async move {
                    if let Ok(mut broker) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
                    }
                }));
            }
        });
        Self { port, cut, refusing, accepted }
    }

    /// Severs every open connection and refuses new ones for `pause`.
    async fn drop_connections_for(&self, pause: Duration) {
        self.refusing.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.cut.lock().expect("lock").drain(..) {
            link.abort();
        }
        tokio::time::sleep(pause).await;
        self.refusing.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `amqp://user:pass@host:port/vhost` → (the host:port, the URL with `via` instead).
fn route_through(url: &str, via: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (userinfo, rest) = match rest.rsplit_once('@') {
        Some((userinfo, rest)) => (format!("{userinfo}@"), rest),
        None => (String::new(), rest),
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let authority =
        if authority.contains(':') { authority.to_owned() } else { format!("{authority}:5672") };
    (authority, format!("{scheme}://{userinfo}{via}/{path}"))
}

#[tokio::test]
async fn a_dropped_broker_connection_mid_run_loses_nothing() {
    let Some(url) = broker_url() else { return };
    on_every_backend(|store| {
        let url = url.clone();
        async move {
            let (broker, _) = route_through(&url, "unused");
            let proxy = Proxy::start(broker).await;
            let (_, proxied) = route_through(&url, &format!("127.0.0.1:{}", proxy.port));
            let config = test_config(&proxied);
            let ledger =
                Ledger { slow: Some(("analyse", Duration::from_millis(300))), ..Ledger::default() };
            let pipeline = diamond(&ledger);
            let mut ids = Vec::new();
            for _ in 0..10 {
                ids.push(submit(&store, &pipeline).await);
            }
            let node = Node::start(&store, pipeline, &config, 4);
            // Cut the broker off while steps are in flight.
            let seen = &ledger;
            wait_until(|| async move { seen.runs_of("analyse").len() >= 3 }).await;
            let before = proxy.accepted.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(before, 2, "the relay's and the worker's connections");
            proxy.drop_connections_for(Duration::from_secs(1)).await;

            let statuses = wait_for_runs(&store, &ids, Duration::from_secs(60)).await;
            node.stop().await;
            assert!(statuses.iter().all(|status| *status == RunStatus::Succeeded), "{statuses:?}");
            let counts =
                ledger.calls.lock().expect("lock").values().map(Vec::len).collect::<Vec<_>>();
            assert_eq!(counts.len(), 10 * 4, "every step ran");
            assert!(counts.iter().all(|n| *n == 1), "and none twice: {counts:?}");
            assert_eq!(messages_in(&url, &config.work_queue()).await, 0);
            let after = proxy.accepted.load(std::sync::atomic::Ordering::SeqCst);
            assert!(after >= 4, "both reconnected ({after} connections in all)");
            delete_topology(&config).await.expect("delete queues");
        }
    })
    .await;
}

#[test]
fn broker_urls_are_rerouted_through_the_proxy() {
    assert_eq!(
        route_through("amqp://guest:guest@127.0.0.1:5672/%2f", "127.0.0.1:9"),
        ("127.0.0.1:5672".to_owned(), "amqp://guest:guest@127.0.0.1:9/%2f".to_owned())
    );
    assert_eq!(
        route_through("amqp://rabbit", "h:1"),
        ("rabbit:5672".to_owned(), "amqp://h:1/".to_owned())
    );
}
