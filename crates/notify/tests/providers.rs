//! Telegram, SMS (Twilio) and Slack against a local HTTP server that speaks
//! each provider's documented requests, answers and errors (the providers
//! themselves are not reachable from here).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Form, Path},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use fairgig_notify::{
    channel::{slack, sms::SmsChannel, telegram::TelegramChannel, webhook::WebhookChannel},
    guard::AddressPolicy,
    SendError,
};
use secrecy::SecretString;
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, text: String) {
        self.0.lock().expect("lock").push(text);
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().expect("lock").clone()
    }
}

const TOKEN: &str = "123:secret";

/// A fake Bot API: `chat not found` for chat 404, flood control for 429.
async fn telegram(
    Path(bot): Path<String>,
    seen: Seen,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if bot != format!("bot{TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        );
    }
    match body["chat_id"].as_str().unwrap_or_default() {
        "404" => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
            ),
        ),
        "429" => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}),
            ),
        ),
        _ => {
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            seen.push(text);
            let id = seen.all().len();
            (
                StatusCode::OK,
                Json(json!({"ok": true, "result": {"message_id": id, "chat": {"id": 1}}})),
            )
        }
    }
}

/// A fake Twilio Messages resource.
async fn twilio(
    Path(account): Path<String>,
    headers: HeaderMap,
    seen: Seen,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    // Basic auth "AC123:token".
    let expected = "Basic QUMxMjM6dG9rZW4=";
    if account != "AC123"
        || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        );
    }
    match form.get("To").map(String::as_str) {
        Some("+15005550001") => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "status": 400}),
            ),
        ),
        Some("+15005550009") => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"code": 20503, "message": "Service unavailable", "status": 503})),
        ),
        _ => {
            seen.push(format!("{} from {}: {}", form["To"], form["From"], form["Body"]));
            (StatusCode::CREATED, Json(json!({"sid": "SM0123456789abcdef", "status": "queued"})))
        }
    }
}

async fn start() -> (String, Seen, Seen, Seen) {
    let (chats, texts, slacks) = (Seen::default(), Seen::default(), Seen::default());
    let (c, t, s) = (chats.clone(), texts.clone(), slacks.clone());
    let app = Router::new()
        .route("/{bot}/sendMessage", post(move |path, body| telegram(path, c.clone(), body)))
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(move |path, headers, form| twilio(path, headers, t.clone(), form)),
        )
        .route(
            "/services/ok",
            post(move |Json(body): Json<Value>| {
                let s = s.clone();
                async move {
                    s.push(body["text"].as_str().unwrap_or_default().to_owned());
                    "ok"
                }
            }),
        )
        .route("/services/archived", post(|| async { (StatusCode::GONE, "channel_is_archived") }))
        .route(
            "/services/busy",
            post(|| async {
                (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "30")], "rate_limited")
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, chats, texts, slacks)
}

#[tokio::test]
async fn telegram_sends_splits_and_classifies_errors() {
    let (base, chats, _, _) = start().await;
    let channel = TelegramChannel::new(&base, SecretString::from(TOKEN), Duration::from_secs(5))
        .expect("client");
    let id = channel.send("42", "Your job is ready").await.expect("sent");
    assert_eq!(id, "telegram:1");
    let long = format!("{}\n{}", "a".repeat(4000), "b".repeat(200));
    assert_eq!(channel.send("42", &long).await.expect("sent"), "telegram:2,3");
    assert_eq!(chats.all()[1..], ["a".repeat(4000), "b".repeat(200)]);

    let missing = channel.send("404", "x").await;
    assert_eq!(missing, Err(SendError::Permanent("Telegram: Bad Request: chat not found".into())));
    let flood = channel.send("429", "x").await;
    assert!(
        matches!(flood, Err(SendError::Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(7)),
        "{flood:?}"
    );
    let wrong = TelegramChannel::new(&base, SecretString::from("nope"), Duration::from_secs(5))
        .expect("client");
    let err = wrong.send("42", "x").await;
    assert!(
        matches!(&err, Err(SendError::Permanent(reason)) if !reason.contains("nope")),
        "no token in reasons: {err:?}"
    );
}

#[tokio::test]
async fn sms_sends_form_encoded_with_basic_auth_and_classifies_errors() {
    let (base, _, texts, _) = start().await;
    let channel = SmsChannel::new(
        &base,
        "AC123",
        SecretString::from("token"),
        "+15005550006",
        Duration::from_secs(5),
    )
    .expect("client");
    let sid = channel.send("+4915112345678", "Done: your translation").await.expect("sent");
    assert_eq!(sid, "SM0123456789abcdef");
    assert_eq!(texts.all(), ["+4915112345678 from +15005550006: Done: your translation"]);

    let invalid = channel.send("+15005550001", "x").await;
    assert!(
        matches!(&invalid, Err(SendError::Permanent(reason)) if reason.contains("21211")),
        "{invalid:?}"
    );
    let down = channel.send("+15005550009", "x").await;
    assert!(matches!(down, Err(SendError::Transient { .. })), "{down:?}");
    let malformed = channel.send("0151 1234", "x").await;
    assert!(matches!(malformed, Err(SendError::Permanent(_))));
    let wrong = SmsChannel::new(
        &base,
        "AC123",
        SecretString::from("bad"),
        "+15005550006",
        Duration::from_secs(5),
    )
    .expect("client");
    assert!(matches!(wrong.send("+4915112345678", "x").await, Err(SendError::Permanent(_))));
}

#[tokio::test]
async fn slack_posts_text_and_reads_its_error_words() {
    let (base, _, _, slacks) = start().await;
    let local = AddressPolicy::new(&["127.0.0.1".into()]).expect("policy");
    let client = WebhookChannel::new(local, Duration::from_secs(5)).expect("client");
    let sent = slack::send(&client, &format!("{base}/services/ok"), "Hello *team*").await;
    assert_eq!(sent, Ok("slack:ok".into()));
    assert_eq!(slacks.all(), ["Hello *team*"]);
    let archived = slack::send(&client, &format!("{base}/services/archived"), "x").await;
    assert!(
        matches!(&archived, Err(SendError::Permanent(reason)) if reason.contains("channel_is_archived")),
        "{archived:?}"
    );
    let busy = slack::send(&client, &format!("{base}/services/busy"), "x").await;
    assert!(
        matches!(busy, Err(SendError::Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(30)),
        "{busy:?}"
    );

    // Without the allow-list, the same local URL is refused before connecting.
    let guarded =
        WebhookChannel::new(AddressPolicy::default(), Duration::from_secs(5)).expect("client");
    let refused = slack::send(&guarded, &format!("{base}/services/ok"), "x").await;
    assert!(matches!(refused, Err(SendError::Permanent(_))), "{refused:?}");
}
