//! `/embeddings`, the cache, the `embed` step, the OpenAI-compatible provider
//! (against a local server speaking its protocol) and re-embedding after a
//! model change.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::{extract::State, http::StatusCode as AxumStatus, routing::post, Json, Router};
use fairgig_core::config::EmbeddingProvider;
use fairgig_server::startup::{ServeRole, Server};
use fairgig_store::embeddings::EntityKind;
use fairgig_store::test_support::TestDatabase;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    error_code, finished, models_dir, spawn_app, spawn_on, spawn_with, step, submit_job, TestApp,
};

async fn embed(app: &TestApp, token: &str, texts: &[&str]) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/embeddings"))
        .bearer_auth(token)
        .json(&json!({ "texts": texts }))
        .send()
        .await
        .expect("request")
}

fn vectors(body: &Value) -> Vec<Vec<f32>> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|item| {
            item["embedding"]
                .as_array()
                .expect("embedding")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect()
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn the_local_model_embeds_and_caches() {
    let app = spawn_with(|settings| {
        settings.embedding.provider = EmbeddingProvider::Local;
        settings.embedding.models_dir = models_dir();
    })
    .await;
    let user = app.register("client@example.org").await;
    let texts = [
        "We need a Rust developer for a payments backend.",
        "Looking for a backend engineer who writes Rust.",
        "Watercolour illustrations of garden birds for a children's book.",
    ];
    let response = embed(&app, &user.access, &texts).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["model"], "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!((body["dimensions"].as_u64(), body["cached"].as_u64()), (Some(384), Some(0)));
    let v = vectors(&body);
    assert_eq!(v.len(), 3);
    assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-4, "unit length");
    assert!(
        dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.3,
        "related jobs are closer than unrelated ones"
    );

    // Same texts again (whitespace differs): all from the cache, same vectors.
    let again: Value = embed(
        &app,
        &user.access,
        &["We need a Rust developer   for a payments backend.", texts[2]],
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(again["cached"], 2);
    let w = vectors(&again);
    assert!(dot(&w[0], &v[0]) > 0.99999 && dot(&w[1], &v[2]) > 0.99999);
}

#[tokio::test]
async fn bad_embedding_requests_are_refused_clearly() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let sixty_five: Vec<String> = (0..65).map(|i| format!("text {i}")).collect();
    let sixty_five: Vec<&str> = sixty_five.iter().map(String::as_str).collect();
    let huge = "a".repeat(16 * 1024 + 1);
    for texts in [vec![], sixty_five, vec!["fine", "  \n "], vec![huge.as_str()]] {
        let (status, code, field) = error_code(embed(&app, &user.access, &texts).await).await;
        assert_eq!(
            (status, code.as_str(), field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", Some("texts"))
        );
    }
    let response = app
        .client
        .post(app.url("/api/v1/embeddings"))
        .bearer_auth(&user.access)
        .json(&json!({"texts": "not a list"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a malformed body");

    // A read-only API key may not spend compute; a write key may.
    let (_, read_key) = app.api_key(&user, &["read"]).await;
    assert_eq!(embed(&app, &read_key, &["hello"]).await.status(), StatusCode::FORBIDDEN);
    let (_, write_key) = app.api_key(&user, &["read", "write"]).await;
    assert_eq!(embed(&app, &write_key, &["hello"]).await.status(), StatusCode::OK);
    assert_eq!(embed(&app, "nonsense", &["hello"]).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_embed_step_stores_the_submission_vector_once() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let id = submit_job(&app, &user, "Rust developer", "Build a payments backend in Rust.").await;
    let done = finished(&app, &user, &id).await;
    assert_eq!(done["run"]["status"], "succeeded", "{done}");
    let step = step(&done, "embed");
    assert_eq!(step["output"]["model"], "fairgig/hashing-v1", "{step}");
    assert_eq!(step["output"]["embedded"], true);

    let uuid: uuid::Uuid = id.parse().expect("uuid");
    let stored = app
        .store
        .entity_embedding(EntityKind::Submission, uuid)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.text, "Rust developer Build a payments backend in Rust.");
    assert_eq!(stored.vector, fairgig_embed::hashing::embed(&stored.text));

    // Deleting the submission deletes its vector.
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/submissions/{id}")))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("request");
    assert!(deleted.status().is_success());
    assert!(app.store.entity_embedding(EntityKind::Submission, uuid).await.expect("get").is_none());
}

/// An OpenAI-compatible `/v1/embeddings` that fails its first `fail_first`
/// requests with 503 and then answers with hashing vectors.
#[derive(Clone, Default)]
struct FakeOpenAi {
    requests: Arc<AtomicUsize>,
    fail_first: Arc<AtomicUsize>,
}

async fn fake_embeddings(
    State(fake): State<FakeOpenAi>,
    Json(body): Json<Value>,
) -> (AxumStatus, Json<Value>) {
    let n = fake.requests.fetch_add(1, Ordering::SeqCst);
    if n < fake.fail_first.load(Ordering::SeqCst) {
        return (
            AxumStatus::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"message": "overloaded"}})),
        );
    }
    let inputs = body["input"].as_array().cloned().unwrap_or_default();
    // Answer out of order: the client must put vectors back by index.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, text)| json!({"index": i, "object": "embedding", "embedding": fairgig_embed::hashing::embed(text.as_str().unwrap_or(""))}))
        .collect();
    (AxumStatus::OK, Json(json!({"object": "list", "data": data, "model": body["model"]})))
}

async fn start_fake(fail_first: usize) -> (String, FakeOpenAi) {
    let fake = FakeOpenAi::default();
    fake.fail_first.store(fail_first, Ordering::SeqCst);
    let app = Router::new().route("/v1/embeddings", post(fake_embeddings)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}/v1", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, fake)
}

fn use_openai(settings: &mut fairgig_core::config::Settings, base_url: &str) {
    settings.embedding.provider = EmbeddingProvider::Openai;
    settings.embedding.openai.base_url = base_url.to_owned();
    settings.embedding.openai.model = "test-model".into();
    settings.embedding.openai.max_attempts = 3;
    settings.embedding.openai.breaker_threshold = 2;
    settings.embedding.openai.breaker_cooldown_secs = 60;
}

#[tokio::test]
async fn the_openai_provider_retries_then_opens_its_circuit() {
    let (base, fake) = start_fake(2).await;
    let app = spawn_with(|settings| use_openai(settings, &base)).await;
    let user = app.register("client@example.org").await;

    // Two 503s, then an answer: one call, three requests, vectors in order.
    let response = embed(&app, &user.access, &["first text", "second text"]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["model"], "openai:test-model");
    assert_eq!(fake.requests.load(Ordering::SeqCst), 3);
    assert!(dot(&vectors(&body)[1], &fairgig_embed::hashing::embed("second text")) > 0.99999);

    // Now it fails for good: two calls exhaust their retries, the circuit
    // opens, and the third call is refused without a request.
    fake.fail_first.store(usize::MAX, Ordering::SeqCst);
    for text in ["a", "b"] {
        let (status, code, _) = error_code(embed(&app, &user.access, &[text]).await).await;
        assert_eq!((status, code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
    }
    let sent = fake.requests.load(Ordering::SeqCst);
    assert_eq!(sent, 3 + 2 * 3);
    let (status, _, _) = error_code(embed(&app, &user.access, &["c"]).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(fake.requests.load(Ordering::SeqCst), sent, "an open circuit sends nothing");
}

#[tokio::test]
async fn a_model_change_re_embeds_stored_vectors_in_the_background() {
    let database = TestDatabase::sqlite().expect("temp dir");
    let url = database.url.clone();
    let app = spawn_on(database, |_| {}).await;
    let user = app.register("client@example.org").await;
    let id = submit_job(&app, &user, "Translator", "German to English, legal texts.").await;
    finished(&app, &user, &id).await;
    let uuid: uuid::Uuid = id.parse().expect("uuid");
    let before = app
        .store
        .entity_embedding(EntityKind::Submission, uuid)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(before.model_id, "fairgig/hashing-v1");

    // The same database served with another model.
    let (base, _fake) = start_fake(0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings =
        fairgig_core::config::Settings { data_dir: dir.path().to_path_buf(), ..Default::default() };
    settings.database.url = Some(fairgig_core::config::SecretUrl::new(url));
    settings.server.bind = "127.0.0.1:0".parse().expect("address");
    use_openai(&mut settings, &base);
    settings.transcription.model_dir = crate::helpers::models_dir().join("whisper-base");
    settings.llm.provider = fairgig_core::config::LlmProvider::Off;
    let second = Server::build(settings, ServeRole::All).await.expect("build");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(second.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let mut after = before.clone();
    for _ in 0..100 {
        after = app
            .store
            .entity_embedding(EntityKind::Submission, uuid)
            .await
            .expect("get")
            .expect("stored");
        if after.model_id != before.model_id {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(after.model_id, "openai:test-model");
    assert_eq!(after.text, before.text);
    let _ = stop.send(());
    let _ = server.await;
}

#[tokio::test]
async fn serve_without_the_model_says_how_to_fetch_it() {
    let empty = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings =
        fairgig_core::config::Settings { data_dir: dir.path().to_path_buf(), ..Default::default() };
    settings.server.bind = "127.0.0.1:0".parse().expect("address");
    settings.embedding.models_dir = empty.path().to_path_buf();
    settings.llm.provider = fairgig_core::config::LlmProvider::Off;
    let error = Server::build(settings, ServeRole::All).await.expect_err("no model");
    let message = format!("{error:#}");
    assert!(message.contains("make models"), "{message}");
}
