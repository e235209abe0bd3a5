//! Traces over OTLP: a request's span continues through the queue into
//! every step and notification delivery. The app runs as real processes
//! (`fairgig serve`, and `serve --role api` + `fairgig worker` over
//! RabbitMQ) exporting to an OTLP/HTTP receiver inside the test, which
//! decodes the protobuf the way a collector does.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{body::Bytes, extract::State, routing::post, Router};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::helpers::{amqp_transport, mailbox, models_dir, AmqpTransport, PASSWORD};

/// One span as the receiver got it.
#[derive(Clone, Debug)]
struct Received {
    name: String,
    service: String,
    trace: String,
    id: String,
    parent: String,
}

#[derive(Default)]
struct Receiver {
    spans: Mutex<Vec<Received>>,
    arrived: Notify,
}

impl Receiver {
    /// Listens on a random port; returns its base URL.
    async fn start() -> (Arc<Receiver>, String) {
        let receiver = Arc::new(Receiver::default());
        let app =
            Router::new().route("/v1/traces", post(Self::export)).with_state(Arc::clone(&receiver));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (receiver, url)
    }

    async fn export(State(receiver): State<Arc<Receiver>>, body: Bytes) -> Vec<u8> {
        let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
        let mut spans = receiver.spans.lock().expect("lock");
        for resource in request.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(Received {
                    name: span.name,
                    service: service.clone(),
                    trace: hex(&span.trace_id),
                    id: hex(&span.span_id),
                    parent: hex(&span.parent_span_id),
                });
            }
        }
        receiver.arrived.notify_waiters();
        // An empty ExportTraceServiceResponse.
        Vec::new()
    }

    /// Waits (on each arrival, up to 30 s) until `done` holds for the spans.
    async fn until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let arrived = self.arrived.notified();
            let spans = self.spans.lock().expect("lock").clone();
            if done(&spans) {
                return spans;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{what}; received {spans:#?}");
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `span`'s parent chain (within the received spans) reaches `root`.
fn descends_from(spans: &[Received], span: &Received, root: &Received) -> bool {
    let by_id: HashMap<&str, &Received> = spans.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut at = span;
    for _ in 0..spans.len() {
        if at.id == root.id {
            return true;
        }
        match by_id.get(at.parent.as_str()) {
            Some(parent) => at = parent,
            None => return false,
        }
    }
    false
}

/// A `fairgig` process on `database`, tracing to `otlp`; killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Deployment {
    data_dir: tempfile::TempDir,
    database_url: String,
    otlp: String,
    amqp: Option<AmqpTransport>,
    smtp: Option<String>,
}

impl Deployment {
    fn start(&self, args: &[&str], service: &str, bind: Option<&str>) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fairgig"));
        if let Some(amqp) = &self.amqp {
            command.env("AMQP_URL", &amqp.url).env("FAIRGIG_QUEUE__AMQP_PREFIX", &amqp.prefix);
        }
        if let Some(smtp) = &self.smtp {
            command.env("FAIRGIG_SMTP_URL", smtp);
        }
        if let Some(bind) = bind {
            command.env("FAIRGIG_SERVER__BIND", bind);
        }
        let log = std::fs::File::create(self.data_dir.path().join(format!("{service}.log")))
            .expect("log file");
        let child = command
            .args(args)
            .env("FAIRGIG_DATA_DIR", self.data_dir.path())
            .env("DATABASE_URL", &self.database_url)
            .env("FAIRGIG_TRACING__OTLP_ENDPOINT", &self.otlp)
            .env("FAIRGIG_TRACING__SERVICE_NAME", service)
            // Export within 100 ms, not the default 5 s.
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("FAIRGIG_LOG__LEVEL", "info,tower_http=debug,sqlx=debug")
            .env("FAIRGIG_RATE_LIMIT__ENABLED", "false")
            .env("FAIRGIG_WORKER__POLL_INTERVAL_MS", "20")
            .env("FAIRGIG_EMBEDDING__PROVIDER", "hashing")
            .env("FAIRGIG_LLM__PROVIDER", "off")
            .env("FAIRGIG_TRANSCRIPTION__MODEL_DIR", models_dir().join("whisper-base"))
            .env("FAIRGIG_TRAINING__EVERY_HOURS", "0")
            .current_dir(self.data_dir.path())
            .stderr(Stdio::from(log.try_clone().expect("log file")))
            .stdout(Stdio::from(log))
            .spawn()
            .expect("start fairgig");
        Process(child)
    }

    fn log(&self, service: &str) -> String {
        std::fs::read_to_string(self.data_dir.path().join(format!("{service}.log")))
            .unwrap_or_default()
    }
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").to_string()
}

/// The JSON a request to one of the processes answers.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("request").json().await.expect("json")
}

async fn ready(client: &reqwest::Client, base: &str, deployment: &Deployment, service: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fairgig at {base} never became ready:\n{}", deployment.log(service));
}

#[tokio::test]
async fn a_request_is_one_trace_through_the_queue_into_each_step_and_delivery() {
    one_trace(None).await;
}

#[tokio::test]
async fn over_rabbitmq_the_trace_crosses_from_the_api_process_to_the_worker() {
    let Some(amqp) = amqp_transport() else { return };
    one_trace(Some(amqp)).await;
}

async fn one_trace(amqp: Option<AmqpTransport>) {
    let (receiver, otlp) = Receiver::start().await;
    let data_dir = tempfile::tempdir().expect("dir");
    let database_url = format!("sqlite://{}", data_dir.path().join("fairgig.db").display());
    let smtp = mailbox().map(|mailbox| mailbox.url().to_owned());
    let deployment = Deployment { data_dir, database_url, otlp, amqp, smtp };
    let bind = free_address();
    let (api_service, step_service) = if deployment.amqp.is_some() {
        ("fairgig-api", "fairgig-worker")
    } else {
        ("fairgig", "fairgig")
    };
    let role: &[&str] =
        if deployment.amqp.is_some() { &["serve", "--role", "api"] } else { &["serve"] };
    let mut processes = vec![deployment.start(role, api_service, Some(&bind))];
    if deployment.amqp.is_some() {
        processes.push(deployment.start(&["worker"], step_service, None));
    }
    let base = format!("http://{bind}");
    let client = reqwest::Client::new();
    ready(&client, &base, &deployment, api_service).await;

    let registered = answer(
        client
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"email": "traced@example.org", "display_name": "Traced", "password": PASSWORD, "role": "client"})),
    )
    .await;
    let token = registered["access_token"].as_str().expect("a token").to_owned();
    // The client's own trace: the request's span continues it.
    let client_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let created = answer(
        client
            .post(format!("{base}/api/v1/submissions"))
            .bearer_auth(&token)
            .header("traceparent", format!("00-{client_trace}-{client_span}-01"))
            .json(&json!({"kind": "job", "title": "Traced API", "text": "A Rust developer for a REST API with PostgreSQL. Budget EUR 4000.", "budget": {"amount_minor": 400000, "currency": "eur"}})),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let detail = loop {
        let detail =
            answer(client.get(format!("{base}/api/v1/submissions/{id}")).bearer_auth(&token)).await;
        if detail["run"]["status"] != "running" {
            break detail;
        }
        assert!(Instant::now() < deadline, "the run never finished: {detail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(detail["run"]["status"], "succeeded", "{detail}");
    let steps: Vec<String> = detail["run"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|step| step["name"].as_str().map(|name| format!("step {name}")))
        .collect();
    assert!(steps.len() >= 5, "{steps:?}");

    let delivery = deployment.smtp.is_some();
    let spans = receiver
        .until("every step (and a delivery) in the request's trace", |spans| {
            let in_trace =
                |name: &str| spans.iter().any(|s| s.trace == client_trace && s.name == name);
            steps.iter().all(|step| in_trace(step))
                && (!delivery
                    || spans
                        .iter()
                        .any(|s| s.trace == client_trace && s.name.starts_with("deliver ")))
        })
        .await;
    let request = spans
        .iter()
        .find(|s| s.name == "POST /api/v1/submissions")
        .expect("the request's span, named by its route");
    assert_eq!((request.trace.as_str(), request.parent.as_str()), (client_trace, client_span));
    assert!(request.service.contains(api_service), "{request:?}");
    for name in &steps {
        let step =
            spans.iter().find(|s| &s.name == name && s.trace == client_trace).expect("a step span");
        assert!(descends_from(&spans, step, request), "{name} does not lead back to the request");
        assert!(step.service.contains(step_service), "{step:?}");
    }
    if delivery {
        let sent = spans
            .iter()
            .find(|s| s.trace == client_trace && s.name.starts_with("deliver "))
            .expect("a delivery span");
        assert!(descends_from(&spans, sent, request), "{sent:?} does not lead back to the request");
    } else {
        println!("SKIP delivery spans: FAIRGIG_TEST_SMTP_URL unset");
    }
    // The logs of the request and of the steps carry the trace id.
    let needle = format!("\"trace_id\":\"{client_trace}\"");
    assert!(deployment.log(api_service).contains(&needle), "no API log line with {needle}");
    assert!(deployment.log(step_service).contains(&needle), "no step log line with {needle}");
    drop(processes);
    if let Some(amqp) = &deployment.amqp {
        amqp.delete().await;
    }
}
