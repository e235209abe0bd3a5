//! `fairgig bench notify`: deliveries per second to a local webhook
//! receiver (and to an SMTP server when one is given); the time from
//! recording a notification to its arrival with the send loop running; and
//! the time from a run's completion to its `run_completed` webhook arriving,
//! through the whole app (worker, announcer, dispatcher), p50/p95.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use fairgig_core::{
    ids::UserId,
    user::{DisplayName, Email, Role},
};
use fairgig_notify::{
    channel::{email::EmailChannel, webhook::WebhookChannel},
    dispatch::{Channels, DispatchConfig, Dispatcher, Event},
    guard::AddressPolicy,
    template::Templates,
    NotificationKind,
};
use fairgig_store::{test_support::TestDatabase, users::NewUser, Store};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One request the receiver got.
struct Arrival {
    webhook_id: String,
    body: Bytes,
    at: Instant,
    wall: time::OffsetDateTime,
}

type Arrivals = mpsc::UnboundedReceiver<Arrival>;

pub async fn run(
    settings: &fairgig_core::config::Settings,
    count: usize,
    smtp: Option<String>,
) -> anyhow::Result<()> {
    let database = TestDatabase::sqlite().context("temporary directory")?;
    let store = database.store().await?;
    let (url, mut arrivals) = receiver().await?;
    let email = smtp
        .as_deref()
        .map(|url| EmailChannel::new(url, "bench <bench@fairgig.example>"))
        .transpose()?;
    let policy = AddressPolicy::new(&["127.0.0.1".into()])?;
    let channels = Channels {
        email,
        webhook: WebhookChannel::new(policy, Duration::from_secs(10))?,
        telegram: None,
        sms: None,
    };
    let config = DispatchConfig { batch: 64, ..DispatchConfig::default() };
    let dispatcher = Arc::new(Dispatcher::new(store.clone(), Templates::new()?, channels, config));

    let webhook_user = user(&store, "webhook@bench.example", "webhook", Some(&url)).await?;
    let rate = throughput(&dispatcher, webhook_user, count, "webhook").await?;
    while arrivals.try_recv().is_ok() {}
    println!("webhook: {count} deliveries in one drain: {rate:.0} deliveries/s");
    let (p50, p95) = latency(&dispatcher, webhook_user, &mut arrivals, 200).await?;
    println!("webhook: recorded → received, send loop running: p50 {p50:.1} ms, p95 {p95:.1} ms");

    let (p50, p95) = run_completion_latency(settings, 50).await?;
    println!("run completed → run_completed webhook received (whole app, 50 runs): p50 {p50:.1} ms, p95 {p95:.1} ms");

    if smtp.is_some() {
        let email_user = user(&store, "mailbox@bench.example", "email", None).await?;
        let rate = throughput(&dispatcher, email_user, count, "email").await?;
        println!("smtp: {count} deliveries in one drain: {rate:.0} deliveries/s (accepted by the server)");
    } else {
        println!("smtp: skipped (pass --smtp smtp://127.0.0.1:2525 with e.g. `python3 -m aiosmtpd -n -l 127.0.0.1:2525`)");
    }
    store.close().await;
    Ok(())
}

/// A receiver answering 204 and reporting each `webhook-id`'s arrival.
async fn receiver() -> anyhow::Result<(String, Arrivals)> {
    let (sender, arrivals) = mpsc::unbounded_channel();
    let sender = Arc::new(Mutex::new(sender));
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let sender = Arc::clone(&sender);
            async move {
                let (at, wall) = (Instant::now(), time::OffsetDateTime::now_utc());
                let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                if let Ok(sender) = sender.lock() {
                    let _ = sender.send(Arrival { webhook_id: id.to_owned(), body, at, wall });
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, arrivals))
}

/// A user whose only channel is a webhook to `url` or email to their address.
async fn user(
    store: &Store,
    email: &str,
    channel: &str,
    url: Option<&str>,
) -> anyhow::Result<UserId> {
    let user = store
        .create_user(NewUser {
            email: Email::parse(email)?,
            display_name: DisplayName::parse("Bench")?,
            role: Role::Client,
            region: None,
            password_hash: "x".into(),
        })
        .await?;
    let address = match url {
        Some(url) => {
            store.create_webhook_endpoint(user.id, url, "whsec_YmVuY2g=", &[]).await?.id.to_string()
        }
        None => email.to_owned(),
    };
    let preferences = json!({"channels": [{"channel": channel, "address": address}]});
    store.set_notification_preferences(user.id, &preferences).await?;
    Ok(user.id)
}

fn event(user: UserId, source: String) -> Event {
    Event {
        user,
        email: "bench@fairgig.example".into(),
        recipient_name: "Bench".into(),
        kind: NotificationKind::RunCompleted,
        source,
        context: json!({"submission": {"id": source_id(), "kind": "request", "title": "Benchmark"}}),
    }
}

fn source_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Records `count` notifications, then drains them: deliveries per second.
async fn throughput(
    dispatcher: &Dispatcher,
    user: UserId,
    count: usize,
    label: &str,
) -> anyhow::Result<f64> {
    for i in 0..count {
        dispatcher.notify(event(user, format!("bench/{label}/{i}"))).await?;
    }
    let started = Instant::now();
    while dispatcher.deliver_due().await? > 0 {}
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// One notification at a time with the send loop running: recorded → received.
async fn latency(
    dispatcher: &Arc<Dispatcher>,
    user: UserId,
    arrivals: &mut Arrivals,
    samples: usize,
) -> anyhow::Result<(f64, f64)> {
    let stop = CancellationToken::new();
    let sender = tokio::spawn(Arc::clone(dispatcher).run(stop.clone()));
    let mut recorded: HashMap<String, Instant> = HashMap::new();
    let mut millis = Vec::with_capacity(samples);
    for i in 0..samples {
        let started = Instant::now();
        let delivery = dispatcher
            .notify(event(user, format!("bench/latency/{i}")))
            .await?
            .context("the notification was not recorded")?;
        recorded.insert(format!("msg_{}", delivery.id.as_uuid().simple()), started);
        let arrival = tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
            .await
            .context("no delivery within 10 s")?
            .context("the receiver stopped")?;
        if let Some(start) = recorded.get(&arrival.webhook_id) {
            millis.push(arrival.at.duration_since(*start).as_secs_f64() * 1000.0);
        }
    }
    stop.cancel();
    let _ = sender.await;
    quantiles(millis)
}

fn quantiles(mut millis: Vec<f64>) -> anyhow::Result<(f64, f64)> {
    anyhow::ensure!(!millis.is_empty(), "no delivery arrived");
    millis.sort_by(f64::total_cmp);
    let at = |q: f64| millis[((millis.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.95)))
}

/// Whole app: a request submission runs through the pipeline; measured from
/// the run's last step finishing to its `run_completed` webhook arriving.
async fn run_completion_latency(
    base: &fairgig_core::config::Settings,
    samples: usize,
) -> anyhow::Result<(f64, f64)> {
    use fairgig_core::{config::EmbeddingProvider, submission::SubmissionKind};

    use fairgig_engine::submissions::{self, SubmissionRequest};

    let app = super::ScratchApp::start(base, |settings| {
        settings.embedding.provider = EmbeddingProvider::Hashing;
        // Delivery after completion is measured, not the model's brief.
        settings.llm.provider = fairgig_core::config::LlmProvider::Off;
        settings.notifications.webhook_allow = vec!["127.0.0.1".into()];
    })
    .await?;
    let (engine, caller) = (&app.engine, &app.caller);
    let mut sender = tokio::task::JoinSet::new();
    fairgig_engine::notifications::spawn(
        engine.store.clone(),
        Arc::clone(&engine.notifier),
        std::time::Duration::from_secs(engine.settings.notifications.announcement_grace_secs),
        Arc::clone(&engine.runs_finished),
        &mut sender,
        app.stop.clone(),
    );
    let (url, mut arrivals) = receiver().await?;
    let user = &caller.user;
    let endpoint = engine
        .store
        .create_webhook_endpoint(user.id, &url, "whsec_YmVuY2g=", &["run_completed".into()])
        .await?;
    let preferences =
        json!({"channels": [{"channel": "webhook", "address": endpoint.id.to_string()}]});
    engine.store.set_notification_preferences(user.id, &preferences).await?;
    let mut millis = Vec::with_capacity(samples);
    for i in 0..samples {
        let request = SubmissionRequest {
            kind: SubmissionKind::Request,
            title: format!("Bench {i}"),
            text: "Please translate a one-page flyer from English to German.".to_owned(),
            budget: None,
            deadline: None,
            region: None,
            contact: None,
        };
        let (submission, _) =
            submissions::create(engine, caller, request, Vec::new(), None, Default::default())
                .await
                .map_err(|err| anyhow::anyhow!("submitting: {err}"))?;
        let arrival = tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
            .await
            .context("no run_completed within 30 s")?
            .context("the receiver stopped")?;
        let payload: serde_json::Value = serde_json::from_slice(&arrival.body)?;
        let announced = payload["data"]["context"]["submission"]["id"].as_str().unwrap_or("");
        anyhow::ensure!(announced == submission.id.to_string(), "announced another run");
        let run = engine.store.run_of_submission(submission.id).await?;
        let finished = run.steps.iter().filter_map(|step| step.finished_at).max();
        if let Some(finished) = finished {
            millis.push((arrival.wall - finished).as_seconds_f64() * 1000.0);
        }
    }
    app.stop().await;
    quantiles(millis)
}
