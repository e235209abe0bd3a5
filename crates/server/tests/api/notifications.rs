//! Notifications end to end: a submission's receipt and result reach a
//! signed webhook, a failing endpoint falls back to the next channel, the
//! inbox shows every delivery, and bad preferences or internal webhook
//! targets are refused.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use fairgig_notify::channel::webhook::verify;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, spawn_with, TestApp, TestUser};

/// A local webhook receiver: records every request, answers `status`.
struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Receiver {
        let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(204));
        let (log, answer) = (Arc::clone(&received), Arc::clone(&status));
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let (log, answer) = (Arc::clone(&log), Arc::clone(&answer));
                async move {
                    log.lock().expect("lock").push((headers, body));
                    StatusCode::from_u16(answer.load(Ordering::SeqCst))
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { address, received, status }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// The `type`s of the payloads received so far.
    fn types(&self) -> Vec<String> {
        let received = self.received.lock().expect("lock");
        received
            .iter()
            .filter_map(|(_, body)| serde_json::from_slice::<Value>(body).ok())
            .filter_map(|payload| payload["type"].as_str().map(str::to_owned))
            .collect()
    }
}

async fn webhook_app() -> TestApp {
    spawn_with(|settings| {
        settings.notifications.webhook_allow = vec!["127.0.0.1".into()];
        settings.notifications.retry_delays_secs = vec![0];
    })
    .await
}

/// The inbox once `done` holds, leaving out the address verification every
/// sign-up sends (it goes to the account's address whatever the preferences).
async fn inbox_until(
    app: &TestApp,
    user: &TestUser,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..150 {
        let (_, inbox) =
            send(app, Method::GET, user, "/api/v1/me/notifications?limit=50", None).await;
        items = inbox.as_array().cloned().unwrap_or_default();
        items.retain(|item| item["kind"] != "email_verification");
        if done(&items) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    items
}

fn statuses(items: &[Value], kind: &str) -> Vec<(String, String)> {
    items
        .iter()
        .filter(|item| item["kind"] == kind)
        .map(|item| {
            (
                item["channel"].as_str().unwrap_or_default().to_owned(),
                item["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_submission_is_announced_on_a_signed_webhook_once_per_event() {
    let app = webhook_app().await;
    let receiver = Receiver::start().await;
    let user = app.register("hooked@example.org").await;
    let (status, endpoint) = send(
        &app,
        Method::POST,
        &user,
        "/api/v1/me/webhooks",
        Some(json!({"url": receiver.url(), "events": ["submission_received", "run_completed"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    let secret = endpoint["secret"].as_str().expect("secret shown once").to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = endpoint["id"].as_str().expect("id");
    let (_, listed) = send(&app, Method::GET, &user, "/api/v1/me/webhooks", None).await;
    assert!(listed[0].get("secret").is_none(), "never shown again: {listed}");

    let preferences = json!({"channels": [
        {"channel": "webhook", "address": id},
        {"channel": "log", "address": "fallback"},
    ]});
    let (status, saved) =
        send(&app, Method::PUT, &user, "/api/v1/me/notification-preferences", Some(preferences))
            .await;
    assert_eq!(status, StatusCode::OK, "{saved}");

    let submitted = crate::helpers::submit_job(
        &app,
        &user,
        "Translate a flyer",
        "Translate a one-page flyer from English to German.",
    )
    .await;
    let items = inbox_until(&app, &user, |items| {
        items.iter().filter(|item| item["status"] == "sent").count() >= 2
    })
    .await;
    assert_eq!(statuses(&items, "submission_received"), [("webhook".into(), "sent".into())]);
    assert_eq!(statuses(&items, "run_completed"), [("webhook".into(), "sent".into())]);
    assert_eq!(receiver.types(), ["submission_received", "run_completed"], "each event once");

    // Every request verifies with the secret, per Standard Webhooks.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (headers, body) in receiver.received.lock().expect("lock").iter() {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        let timestamp: i64 = header("webhook-timestamp").parse().expect("timestamp");
        let verified = verify(
            &secret,
            header("webhook-id"),
            timestamp,
            header("webhook-signature"),
            body,
            now,
        );
        assert_eq!(verified, Ok(()));
        let payload: Value = serde_json::from_slice(body).expect("json");
        assert_eq!(payload["data"]["context"]["submission"]["id"], submitted.as_str());
    }

    // Announcing again (as a second process would) sends nothing new.
    let store = app.store.clone();
    let notifier = fairgig_engine::notifications::dispatcher(store.clone(), &Default::default())
        .expect("dispatcher");
    let run = store.runs_to_notify(10).await.expect("runs");
    assert!(run.is_empty(), "the run is marked announced");
    fairgig_engine::notifications::notify_user(
        &store,
        &notifier,
        user.id,
        fairgig_notify::NotificationKind::SubmissionReceived,
        format!("submission/{submitted}"),
        json!({}),
    )
    .await
    .expect("notify");
    let (_, inbox) = send(&app, Method::GET, &user, "/api/v1/me/notifications", None).await;
    assert_eq!(statuses(inbox.as_array().expect("list"), "submission_received").len(), 1);
}

#[tokio::test]
async fn a_refusing_endpoint_falls_back_to_the_next_channel_and_an_admin_can_retry() {
    let app = webhook_app().await;
    let receiver = Receiver::start().await;
    receiver.status.store(410, Ordering::SeqCst);
    let user = app.register("gone@example.org").await;
    let (_, endpoint) = send(
        &app,
        Method::POST,
        &user,
        "/api/v1/me/webhooks",
        Some(json!({"url": receiver.url()})),
    )
    .await;
    let preferences = json!({"channels": [
        {"channel": "webhook", "address": endpoint["id"]},
        {"channel": "log", "address": "ops"},
    ], "kinds": {"run_completed": "off", "run_failed": "off"}});
    send(&app, Method::PUT, &user, "/api/v1/me/notification-preferences", Some(preferences)).await;
    crate::helpers::submit_job(&app, &user, "Logo", "A small logo for a bakery.").await;

    let items = inbox_until(&app, &user, |items| items.iter().any(|i| i["status"] == "sent")).await;
    let mut seen = statuses(&items, "submission_received");
    seen.sort();
    assert_eq!(seen, [("log".into(), "sent".into()), ("webhook".into(), "failed".into())]);
    let failed = items.iter().find(|i| i["status"] == "failed").expect("failed");
    assert!(failed["last_error"].as_str().unwrap_or("").contains("410"), "{failed}");
    assert_eq!(statuses(&items, "run_completed"), [], "switched off");

    // The endpoint recovers; an admin re-sends the failed delivery.
    receiver.status.store(200, Ordering::SeqCst);
    let admin = app.admin("notify-admin@example.org").await;
    let path = format!("/api/v1/admin/notifications/{}/retry", failed["id"].as_str().expect("id"));
    assert_eq!(send(&app, Method::POST, &user, &path, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, Method::POST, &admin, &path, None).await.0, StatusCode::ACCEPTED);
    assert_eq!(send(&app, Method::POST, &admin, &path, None).await.0, StatusCode::NOT_FOUND);
    let items = inbox_until(&app, &user, |items| {
        items.iter().filter(|i| i["status"] == "sent").count() == 2
    })
    .await;
    let mut seen = statuses(&items, "submission_received");
    seen.sort();
    assert_eq!(seen, [("log".into(), "sent".into()), ("webhook".into(), "sent".into())]);
}

#[tokio::test]
async fn internal_targets_and_bad_preferences_are_refused() {
    let app = spawn_app().await;
    let user = app.register("careful@example.org").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "ftp://example.org/",
        "https://user:pw@example.org/",
    ] {
        let (status, body) =
            send(&app, Method::POST, &user, "/api/v1/me/webhooks", Some(json!({"url": url}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
    }
    let (status, _) = send(
        &app,
        Method::POST,
        &user,
        "/api/v1/me/webhooks",
        Some(json!({"url": "https://hooks.example.org/x", "events": ["nonsense"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, defaults) =
        send(&app, Method::GET, &user, "/api/v1/me/notification-preferences", None).await;
    assert_eq!(status, StatusCode::OK);
    // No SMTP configured: the development log channel, to the account address.
    assert_eq!(defaults["channels"], json!([{"channel": "log", "address": "careful@example.org"}]));
    for bad in [
        json!({"channels": [{"channel": "email", "address": "not-an-address"}]}),
        json!({"channels": [{"channel": "webhook", "address": uuid::Uuid::now_v7()}]}),
        json!({"channels": [], "kinds": {"security_notice": "off"}}),
        json!({"channels": [], "kinds": {"security_notice": "digest"}}),
        json!({"channels": [], "timezone": "Nowhere/Special"}),
        json!({"channels": [], "quiet_hours": {"start": "22:00"}}),
        json!({"channels": [{"channel": "pigeon", "address": "x"}]}),
        json!({"channels": "email"}),
        json!([]),
    ] {
        let (status, body) = send(
            &app,
            Method::PUT,
            &user,
            "/api/v1/me/notification-preferences",
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, _) =
        send(&app, Method::GET, &user, "/api/v1/me/notifications?limit=0", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn admins_preview_every_template() {
    let app = spawn_app().await;
    let admin = app.admin("templates@example.org").await;
    for kind in fairgig_notify::NotificationKind::ALL {
        let path = format!("/api/v1/admin/notification-templates/{}/preview", kind.as_str());
        let (status, preview) = send(&app, Method::GET, &admin, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}");
        assert!(preview["text"].as_str().is_some_and(|t| t.contains("Ada Lovelace")), "{preview}");
        assert!(preview["chat"].as_str().is_some_and(|t| !t.is_empty()), "{preview}");
        for channel in ["telegram", "sms", "slack"] {
            let text = preview["channels"][channel].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{channel}: {preview}");
        }
    }
    let path = "/api/v1/admin/notification-templates/run_failed/preview";
    let (_, failed) = send(&app, Method::GET, &admin, path, None).await;
    let sms = failed["channels"]["sms"].as_str().unwrap_or_default();
    assert!(sms.starts_with("fairgig: ") && sms != failed["chat"], "{failed}");
    let path = "/api/v1/admin/notification-templates/run_completed/preview?locale=de";
    let (_, german) = send(&app, Method::GET, &admin, path, None).await;
    assert!(german["subject"].as_str().is_some_and(|s| s.ends_with("ist fertig")), "{german}");
    let missing = "/api/v1/admin/notification-templates/nonsense/preview";
    assert_eq!(send(&app, Method::GET, &admin, missing, None).await.0, StatusCode::NOT_FOUND);
    let user = app.register("curious@example.org").await;
    let path = "/api/v1/admin/notification-templates/hired/preview";
    assert_eq!(send(&app, Method::GET, &user, path, None).await.0, StatusCode::FORBIDDEN);
}

/// Makes every new notification fail, as a database connection lost right
/// after a submission's commit would: a trigger on `notifications`.
async fn refuse_notifications(app: &TestApp, refuse: bool) {
    match app.store.pool() {
        fairgig_store::Pool::Sqlite(pool) => {
            let sql = if refuse {
                "CREATE TRIGGER refuse_notifications BEFORE INSERT ON notifications \
                 BEGIN SELECT RAISE(ABORT, 'connection lost'); END"
            } else {
                "DROP TRIGGER refuse_notifications"
            };
            sqlx::query(sql).execute(pool).await.expect("trigger");
        }
        fairgig_store::Pool::Postgres(pool) => {
            let statements: &[&str] = if refuse {
                &[
                    "CREATE FUNCTION refuse_notification() RETURNS trigger AS \
                     $$ BEGIN RAISE EXCEPTION 'connection lost'; END $$ LANGUAGE plpgsql",
                    "CREATE TRIGGER refuse_notifications BEFORE INSERT ON notifications \
                     FOR EACH ROW EXECUTE FUNCTION refuse_notification()",
                ]
            } else {
                &["DROP TRIGGER refuse_notifications ON notifications"]
            };
            for sql in statements {
                sqlx::query(sql).execute(pool).await.expect("trigger");
            }
        }
    }
}

/// `POST /submissions` with an `Idempotency-Key`; the status and body.
async fn submit_keyed(app: &TestApp, user: &TestUser, key: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .header("idempotency-key", key)
        .json(&json!({"kind": "job", "title": "Receipt", "text": "A flyer for a street party."}))
        .send()
        .await
        .expect("request");
    (response.status(), response.json().await.expect("json"))
}

async fn receipts_left(app: &TestApp, submission: &str) -> usize {
    app.store
        .announcements_from(&format!("submission/{submission}"))
        .await
        .expect("announcements")
        .len()
}

/// The receipt is written in the submission's transaction. When the
/// database fails after the commit, the submission, its run and its audit
/// entry are all there and the receipt waits as an announcement; a retry
/// with the same `Idempotency-Key` delivers it, once.
async fn a_receipt_lost_after_commit_is_delivered_by_the_retry(app: TestApp) {
    let user = app.register("receipt@example.org").await;
    refuse_notifications(&app, true).await;
    let (status, created) = submit_keyed(&app, &user, "party-1").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let audited = app
        .store
        .list_audit(
            &fairgig_store::audit::AuditFilter {
                action: Some("submission.created".into()),
                target: Some(format!("submission:{id}")),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1, "audited in the same transaction");
    assert_eq!(receipts_left(&app, &id).await, 1, "the receipt waits");
    let (_, inbox) = send(&app, Method::GET, &user, "/api/v1/me/notifications", None).await;
    assert_eq!(statuses(inbox.as_array().expect("list"), "submission_received"), []);

    refuse_notifications(&app, false).await;
    for _ in 0..2 {
        let (status, replayed) = submit_keyed(&app, &user, "party-1").await;
        assert_eq!((status, &replayed["id"]), (StatusCode::CREATED, &created["id"]), "{replayed}");
    }
    assert_eq!(receipts_left(&app, &id).await, 0);
    let (_, inbox) = send(&app, Method::GET, &user, "/api/v1/me/notifications", None).await;
    assert_eq!(statuses(inbox.as_array().expect("list"), "submission_received").len(), 1);
}

#[tokio::test]
async fn a_receipt_lost_after_commit_is_delivered_by_the_retry_on_sqlite() {
    // The sweep waits an hour here, so only the retry can deliver.
    let app = spawn_with(|settings| settings.notifications.announcement_grace_secs = 3600).await;
    a_receipt_lost_after_commit_is_delivered_by_the_retry(app).await;
}

#[tokio::test]
async fn a_receipt_lost_after_commit_is_delivered_by_the_retry_on_postgres() {
    let Some(app) = crate::helpers::spawn_on_postgres_with(|settings| {
        settings.notifications.announcement_grace_secs = 3600;
    })
    .await
    else {
        return;
    };
    a_receipt_lost_after_commit_is_delivered_by_the_retry(app).await;
}

/// Without a retry, the worker's sweep delivers a receipt left behind.
#[tokio::test]
async fn a_receipt_nobody_retried_is_delivered_by_the_sweep() {
    let app = spawn_with(|settings| settings.notifications.announcement_grace_secs = 0).await;
    let user = app.register("swept@example.org").await;
    refuse_notifications(&app, true).await;
    let (status, created) = submit_keyed(&app, &user, "party-2").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    assert_eq!(receipts_left(&app, id).await, 1, "the sweep cannot deliver either");
    refuse_notifications(&app, false).await;
    let items = inbox_until(&app, &user, |items| {
        items.iter().any(|item| item["kind"] == "submission_received")
    })
    .await;
    assert_eq!(statuses(&items, "submission_received").len(), 1, "{items:?}");
    assert_eq!(receipts_left(&app, id).await, 0);
}
