//! The dispatcher against a real store (SQLite, and PostgreSQL when
//! `FAIRGIG_TEST_POSTGRES_URL` is set) and local HTTP endpoints that fail in
//! the ways real ones do: 500 forever, hanging, redirecting inside.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{http::StatusCode, routing::post, Json, Router};
use fairgig_core::{
    user::{DisplayName, Email, Role},
    work::NotificationStatus,
};
use fairgig_notify::{
    channel::{telegram::TelegramChannel, webhook::WebhookChannel},
    dispatch::{Channels, DispatchConfig, Dispatcher, Event},
    guard::AddressPolicy,
    template::Templates,
    NotificationKind,
};
use fairgig_store::{
    notifications::Notification, test_support::on_every_backend, users::NewUser, Store,
};
use serde_json::json;

/// Bodies posted to `/record`.
static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Texts the fake Bot API accepted, and whether it has refused one yet.
static TELEGRAM: Mutex<(Vec<String>, bool)> = Mutex::new((Vec::new(), false));

/// A Bot API `sendMessage` that answers flood control once, on the second
/// message it is sent, and accepts everything else.
async fn flaky_telegram(
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    let mut seen = TELEGRAM.lock().expect("lock");
    if seen.0.len() == 1 && !seen.1 {
        seen.1 = true;
        let flood = json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 0", "parameters": {"retry_after": 0}});
        return (StatusCode::TOO_MANY_REQUESTS, Json(flood));
    }
    seen.0.push(body["text"].as_str().unwrap_or_default().to_owned());
    (StatusCode::OK, Json(json!({"ok": true, "result": {"message_id": seen.0.len()}})))
}

async fn endpoints() -> String {
    let app = Router::new()
        .route("/fail", post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "database on fire") }))
        .route(
            "/hang",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route(
            "/redirect",
            post(|| async {
                (StatusCode::FOUND, [("location", "http://169.254.169.254/latest/")])
            }),
        )
        .route("/ok", post(|| async { StatusCode::NO_CONTENT }))
        .route("/botflaky/sendMessage", post(flaky_telegram))
        .route(
            "/record",
            post(|body: String| async move {
                RECORDED.lock().expect("lock").push(body);
                StatusCode::NO_CONTENT
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn dispatcher(store: &Store, config: DispatchConfig) -> Dispatcher {
    dispatcher_with(store, config, None)
}

fn dispatcher_with(
    store: &Store,
    config: DispatchConfig,
    telegram: Option<TelegramChannel>,
) -> Dispatcher {
    let policy = AddressPolicy::new(&["127.0.0.1".into()]).expect("policy");
    let webhook = WebhookChannel::new(policy, Duration::from_millis(800)).expect("client");
    let channels = Channels { email: None, webhook, telegram, sms: None };
    Dispatcher::new(store.clone(), Templates::new().expect("templates"), channels, config)
}

/// A user whose channels are: each of `urls` as a webhook, then `log`.
async fn user_with_webhooks(
    store: &Store,
    email: &str,
    urls: &[String],
) -> fairgig_core::ids::UserId {
    let user = store
        .create_user(NewUser {
            email: Email::parse(email).expect("email"),
            display_name: DisplayName::parse("Ada").expect("name"),
            role: Role::Client,
            region: None,
            password_hash: "x".into(),
        })
        .await
        .expect("user");
    let mut channels = Vec::new();
    for url in urls {
        let endpoint = store
            .create_webhook_endpoint(user.id, url, "whsec_c2VjcmV0", &[])
            .await
            .expect("endpoint");
        channels.push(json!({"channel": "webhook", "address": endpoint.id.to_string()}));
    }
    channels.push(json!({"channel": "log", "address": "fallback"}));
    store
        .set_notification_preferences(user.id, &json!({"channels": channels}))
        .await
        .expect("preferences");
    user.id
}

fn event(user: fairgig_core::ids::UserId, source: &str) -> Event {
    Event {
        user,
        email: "unused@example.org".into(),
        recipient_name: "Ada".into(),
        kind: NotificationKind::RunCompleted,
        source: source.into(),
        context: json!({"submission": {"id": "s1", "kind": "request", "title": "Flyer"}}),
    }
}

/// Sends rounds until nothing is due (at most `rounds`).
async fn drain(dispatcher: &Dispatcher, rounds: usize) {
    for _ in 0..rounds {
        if dispatcher.deliver_due().await.expect("round") == 0 {
            return;
        }
    }
}

async fn log_of(store: &Store, user: fairgig_core::ids::UserId) -> Vec<Notification> {
    let mut rows = store.notifications_for_user(user, 50, 0).await.expect("inbox");
    rows.sort_by_key(|row| row.channel_rank);
    rows
}

#[tokio::test]
async fn a_failing_webhook_retries_then_falls_back_and_bad_targets_get_a_reason() {
    let base = endpoints().await;
    on_every_backend(|store| {
        let base = base.clone();
        async move {
            let config = DispatchConfig {
                retry_delays: vec![Duration::ZERO, Duration::ZERO],
                breaker_threshold: 100,
                ..DispatchConfig::default()
            };
            let dispatcher = dispatcher(&store, config);

            // 500 forever: three attempts, then the log channel takes over.
            let user = user_with_webhooks(&store, "a@example.org", &[format!("{base}/fail")]).await;
            dispatcher.notify(event(user, "run/1")).await.expect("notify").expect("recorded");
            assert!(
                dispatcher.notify(event(user, "run/1")).await.expect("again").is_none(),
                "deduped"
            );
            drain(&dispatcher, 10).await;
            let rows = log_of(&store, user).await;
            let summary: Vec<_> =
                rows.iter().map(|r| (r.channel.as_str(), r.status.as_str(), r.attempts)).collect();
            assert_eq!(summary, [("webhook", "failed", 3), ("log", "sent", 1)]);
            let reason = rows[0].last_error.as_deref().unwrap_or_default();
            assert!(reason.contains("500") && reason.contains("database on fire"), "{reason}");

            // Hanging: the attempt times out and is scheduled again; nobody waits 30 s.
            let config = DispatchConfig {
                retry_delays: vec![Duration::from_secs(3600)],
                ..DispatchConfig::default()
            };
            let dispatcher = self::dispatcher(&store, config);
            let user = user_with_webhooks(&store, "b@example.org", &[format!("{base}/hang")]).await;
            dispatcher.notify(event(user, "run/2")).await.expect("notify");
            let started = Instant::now();
            drain(&dispatcher, 3).await;
            assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
            let row = &log_of(&store, user).await[0];
            assert_eq!(row.status, NotificationStatus::Retrying);
            assert_eq!(row.last_error.as_deref(), Some("the endpoint did not answer in time"));

            // A redirect inside is not followed: no retry, straight to the next channel.
            let user =
                user_with_webhooks(&store, "c@example.org", &[format!("{base}/redirect")]).await;
            dispatcher.notify(event(user, "run/3")).await.expect("notify");
            drain(&dispatcher, 5).await;
            let rows = log_of(&store, user).await;
            assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("failed", 1));
            let reason = rows[0].last_error.as_deref().unwrap_or_default();
            assert!(
                reason.contains("redirects are not followed") && reason.contains("169.254.169.254"),
                "{reason}"
            );
            assert_eq!(rows[1].status, NotificationStatus::Sent);
        }
    })
    .await;
}

#[tokio::test]
async fn an_open_circuit_hands_deliveries_back_without_spending_attempts() {
    let base = endpoints().await;
    on_every_backend(|store| {
        let base = base.clone();
        async move {
            let config = DispatchConfig {
                retry_delays: vec![Duration::ZERO; 5],
                breaker_threshold: 1,
                breaker_cooldown: Duration::from_secs(3600),
                ..DispatchConfig::default()
            };
            let dispatcher = dispatcher(&store, config);
            let user = user_with_webhooks(&store, "d@example.org", &[format!("{base}/fail")]).await;
            dispatcher.notify(event(user, "run/1")).await.expect("notify");
            dispatcher.deliver_due().await.expect("round");
            // The failure opened the endpoint's circuit: the retry is postponed, untried.
            dispatcher.deliver_due().await.expect("round");
            let row = &log_of(&store, user).await[0];
            assert_eq!((row.status.as_str(), row.attempts), ("retrying", 1));
            assert!(
                row.next_attempt_at > time::OffsetDateTime::now_utc() + time::Duration::minutes(30)
            );

            // Another user's endpoint has its own circuit.
            let other = user_with_webhooks(&store, "e@example.org", &[format!("{base}/ok")]).await;
            dispatcher.notify(event(other, "run/9")).await.expect("notify");
            dispatcher.deliver_due().await.expect("round");
            assert_eq!(log_of(&store, other).await[0].status, NotificationStatus::Sent);
        }
    })
    .await;
}

#[tokio::test]
async fn a_split_telegram_message_resumes_after_the_parts_already_delivered() {
    let base = endpoints().await;
    on_every_backend(|store| {
        let base = base.clone();
        async move {
            *TELEGRAM.lock().expect("lock") = (Vec::new(), false);
            let config =
                DispatchConfig { retry_delays: vec![Duration::ZERO], ..DispatchConfig::default() };
            let telegram = TelegramChannel::new(&base, "flaky".into(), Duration::from_secs(5));
            let dispatcher = dispatcher_with(&store, config, Some(telegram.expect("client")));
            let user = user_with_webhooks(&store, "t@example.org", &[]).await;
            let channels = json!([{"channel": "telegram", "address": "42"}]);
            store
                .set_notification_preferences(user, &json!({"channels": channels}))
                .await
                .expect("preferences");
            let mut long = event(user, "run/long");
            long.context["submission"]["title"] = json!("word ".repeat(1000));

            dispatcher.notify(long).await.expect("notify").expect("recorded");
            drain(&dispatcher, 3).await;

            // The second part met flood control; the retry sent only that part.
            let row = &log_of(&store, user).await[0];
            assert_eq!((row.status.as_str(), row.attempts), ("sent", 2), "{row:?}");
            assert_eq!(row.provider_id.as_deref(), Some("telegram:1,2"));
            let (texts, refused) = TELEGRAM.lock().expect("lock").clone();
            assert!(refused);
            assert_eq!(texts.len(), 2, "{texts:?}");
            assert!(texts[1].contains("/api/v1/submissions/s1"), "{texts:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn digest_items_wait_for_their_time_and_go_out_as_one_message() {
    let base = endpoints().await;
    on_every_backend(|store| {
        let base = base.clone();
        async move {
            let dispatcher = dispatcher(&store, DispatchConfig::default());
            let user =
                user_with_webhooks(&store, "f@example.org", &[format!("{base}/record")]).await;
            let mut preferences =
                store.notification_preferences(user).await.expect("read").expect("saved");
            preferences["kinds"] = json!({"run_completed": "digest"});
            preferences["digest_at"] = json!("06:00");
            store.set_notification_preferences(user, &preferences).await.expect("save");
            let marker = uuid::Uuid::now_v7().to_string();
            for i in 0..3 {
                let mut event = event(user, &format!("run/{marker}/{i}"));
                event.context["submission"]["title"] = json!(format!("{marker} #{i}"));
                dispatcher.notify(event).await.expect("notify").expect("recorded");
            }
            assert_eq!(
                dispatcher.deliver_due().await.expect("round"),
                0,
                "not before 06:00 UTC tomorrow"
            );
            let rows = log_of(&store, user).await;
            assert!(rows.iter().all(|row| row.digest && row.status == NotificationStatus::Pending));

            // The digest time comes (moved here rather than waited for).
            if let fairgig_store::Pool::Sqlite(pool) = store.pool() {
                sqlx::query("UPDATE notifications SET next_attempt_at = $1")
                    .bind(time::OffsetDateTime::now_utc())
                    .execute(pool)
                    .await
                    .expect("move");
            }
            if let fairgig_store::Pool::Postgres(pool) = store.pool() {
                sqlx::query("UPDATE notifications SET next_attempt_at = $1")
                    .bind(time::OffsetDateTime::now_utc())
                    .execute(pool)
                    .await
                    .expect("move");
            }
            drain(&dispatcher, 3).await;
            let rows = log_of(&store, user).await;
            assert!(rows.iter().all(|row| row.status == NotificationStatus::Sent), "{rows:?}");
            let ids: std::collections::HashSet<_> =
                rows.iter().map(|row| row.provider_id.clone()).collect();
            assert_eq!(ids.len(), 1, "one message for all three");
            let bodies: Vec<String> = RECORDED
                .lock()
                .expect("lock")
                .iter()
                .filter(|b| b.contains(&marker))
                .cloned()
                .collect();
            assert_eq!(bodies.len(), 1, "{bodies:?}");
            let payload: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json");
            assert_eq!(payload["type"], "digest");
            assert_eq!(payload["data"]["subject"], "Your fairgig digest: 3 updates");
            for i in 0..3 {
                assert!(bodies[0].contains(&format!("{marker} #{i}")), "{}", bodies[0]);
            }
        }
    })
    .await;
}
