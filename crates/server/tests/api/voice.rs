//! Voice requests over HTTP with the real Whisper model: speech made by
//! espeak-ng (never recorded by hand) goes in as a client would upload it,
//! and its words come out in `extract` and on through analysis, the bias
//! check, the embedding and matching.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::StatusCode as AxumStatus;
use axum::{routing::post, Router};

use fairgig_asr::testing::{convert, speak, speech_tools};
use fairgig_core::user::Role;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{finished_within, send, spawn_app, spawn_with, step, TestApp, TestUser};

/// Longest a voice run may take here (the model loads on the first one).
const VOICE_RUN: Duration = Duration::from_secs(180);

/// A submission with no text, only a recording.
async fn submit_voice(
    app: &TestApp,
    user: &TestUser,
    kind: &str,
    title: &str,
    file: &Path,
) -> Value {
    let bytes = std::fs::read(file).expect("the recording reads");
    let name = file.file_name().and_then(|n| n.to_str()).expect("a file name").to_owned();
    let form = Form::new()
        .text("submission", json!({"kind": kind, "title": title, "text": ""}).to_string())
        .part("voice", Part::bytes(bytes).file_name(name));
    let response = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    finished_within(app, user, created["id"].as_str().expect("id"), VOICE_RUN).await
}

#[tokio::test]
async fn a_voice_only_request_is_transcribed_and_read_like_typed_text() {
    if !speech_tools() {
        return;
    }
    // The whole answer, offline: Whisper hears it, SmolLM2 writes the brief
    // and the offer's words, the rules price it and draw the prototype.
    let app = spawn_with(|settings| {
        settings.llm.provider = fairgig_core::config::LlmProvider::Local;
        // CI runs other tests beside this one on two cores.
        settings.llm.timeout_secs = 300;
    })
    .await;
    let user = app.register("client@example.org").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let said = "We need a developer to build an online shop with Python and PostgreSQL.";
    let wav = speak(said, "en-us", dir.path(), "shop");
    // What a browser's recorder uploads: Opus in WebM.
    let webm = convert(&wav, "webm", &["-codec:a", "libopus", "-b:a", "32k"]);

    let done = submit_voice(&app, &user, "request", "Online shop", &webm).await;
    assert_eq!(done["status"], "completed", "{done}");
    let extract = &step(&done, "extract")["output"];
    let note = &extract["voice"][0];
    assert_eq!(note["transcription"], "transcribed", "{extract}");
    assert_eq!(note["filename"], "shop.webm");
    assert_eq!(note["language"], "en");
    assert!(note["model"].as_str().is_some_and(|m| m.starts_with("whisper-base")), "{note}");
    assert!(note["segments"][0]["end_secs"].as_f64().is_some_and(|end| end > 1.0), "{note}");
    let heard = note["text"].as_str().expect("a transcript").to_lowercase();
    assert!(heard.contains("online shop") && heard.contains("python"), "{heard}");
    // The transcript is the submission's text for every later step.
    assert!(extract["text"].as_str().is_some_and(|t| t.to_lowercase().contains("online shop")));
    let skills = step(&done, "analyse")["output"]["skills"].to_string();
    assert!(skills.contains("Python"), "{skills}");
    assert_eq!(step(&done, "embed")["status"], "succeeded");

    let heard_request = format!("Online shop\n{}", extract["text"].as_str().unwrap_or(""));
    let brief = &step(&done, "brief")["output"];
    assert!(brief["made_by"].as_str().is_some_and(|m| m.starts_with("local:SmolLM2")), "{brief}");
    assert!(brief.get("fallback").is_none(), "the model's brief passed its checks: {brief}");
    assert_eq!(brief["prompt"], "brief@v1");
    assert!(brief["usage"]["completion_tokens"].as_u64().is_some_and(|t| t > 0), "{brief}");
    assert!(!brief["goals"].as_array().expect("goals").is_empty(), "{brief}");
    for quote in brief.to_string().split("\"quote\":\"").skip(1) {
        let quote = quote.split('"').next().unwrap_or_default();
        assert!(heard_request.contains(quote), "{quote:?} is not in {heard_request:?}");
    }
    let offer = &step(&done, "offer")["output"];
    assert_eq!(offer["tiers"].as_array().map(Vec::len), Some(3), "{offer}");
    assert!(
        offer["prose_by"]["model"].as_str().is_some_and(|m| m.starts_with("local:")),
        "{offer}"
    );
    let prose = offer["prose"].to_string();
    assert!(
        offer["prose"]["introduction"].as_str().is_some_and(|t| !t.trim().is_empty()),
        "{offer}"
    );
    assert!(!prose.chars().any(|c| c.is_ascii_digit()), "no number in the model's words: {prose}");
    let prototype = &step(&done, "prototype")["output"];
    let link = prototype["path"].as_str().expect("a prototype link");
    let page = app.client.get(app.url(link)).send().await.expect("the prototype");
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_job_described_by_voice_gets_explained_matches() {
    if !speech_tools() {
        return;
    }
    let app = spawn_app().await;
    for i in 0..3 {
        let dev = app.register_as(&format!("dev{i}@example.org"), Role::Freelancer).await;
        let body =
            crate::marketplace::profile("Python and SQL developer", &["Python", "SQL"], 60, 4.0);
        send(&app, Method::PUT, &dev, "/api/v1/me/profile", Some(body)).await;
    }
    let client = app.register_as("client@example.org", Role::Client).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let wav = speak(
        "We need a developer with Python and SQL experience to build our reporting data pipeline.",
        "en-us",
        dir.path(),
        "pipeline",
    );
    let m4a = convert(&wav, "m4a", &["-codec:a", "aac", "-b:a", "64k"]);

    let done = submit_voice(&app, &client, "job", "Data pipeline developer", &m4a).await;
    assert_eq!(done["status"], "completed", "{done}");
    let published = &step(&done, "publish_job")["output"];
    let required = published["required_skills"].to_string();
    assert!(required.contains("Python"), "{published}");
    let matched = &step(&done, "match")["output"];
    assert_eq!(matched["matches"].as_array().map(Vec::len), Some(3), "{matched}");
    // Every match says why: what fits and what is missing against the
    // skills heard in the recording.
    for m in matched["matches"].as_array().into_iter().flatten() {
        let explained = format!("{} {}", m["strengths"], m["gaps"]);
        assert!(explained.contains("required skills"), "{m}");
    }
}

#[tokio::test]
async fn a_recording_that_does_not_decode_fails_its_run_once_with_its_name() {
    if !speech_tools() {
        return;
    }
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    // An OGG page header (so the upload is accepted as audio) over noise.
    let mut bytes = b"OggS\x00\x02".to_vec();
    bytes.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    let broken = dir.path().join("broken.ogg");
    std::fs::write(&broken, bytes).expect("writes");

    let done = submit_voice(&app, &user, "request", "Broken", &broken).await;
    assert_eq!(done["status"], "failed", "{done}");
    let extract = step(&done, "extract");
    let error = extract["error"].as_str().expect("an error");
    assert!(error.contains("broken.ogg") && error.contains("not a readable recording"), "{error}");
    assert_eq!(extract["attempts"], 1, "a broken recording is not retried");
}

#[tokio::test]
async fn with_speech_to_text_off_a_recording_is_kept_and_marked_unavailable() {
    let app = spawn_with(|settings| {
        settings.transcription.provider = fairgig_core::config::TranscriptionProvider::Off;
    })
    .await;
    let user = app.register("client@example.org").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let memo = dir.path().join("memo.wav");
    std::fs::write(&memo, crate::helpers::silent_wav()).expect("writes");

    let done = submit_voice(&app, &user, "request", "Memo", &memo).await;
    assert_eq!(done["status"], "completed", "{done}");
    let note = &step(&done, "extract")["output"]["voice"][0];
    assert_eq!(note["transcription"], "unavailable");
    assert!(note["reason"].as_str().is_some_and(|r| r.contains("switched off")), "{note}");
}

/// An OpenAI-compatible `/v1/audio/transcriptions` that answers 503 first,
/// then a `verbose_json` transcript; it keeps the form fields it was sent.
#[derive(Clone, Default)]
struct FakeTranscriptions {
    requests: Arc<AtomicUsize>,
    fields: Arc<Mutex<Vec<(String, String)>>>,
}

async fn fake_transcriptions(
    State(fake): State<FakeTranscriptions>,
    headers: axum::http::HeaderMap,
    mut form: Multipart,
) -> (AxumStatus, axum::Json<Value>) {
    let mut fields = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let value = match field.file_name() {
            Some(file) => format!("file:{file}"),
            None => field.text().await.unwrap_or_default(),
        };
        fields.push((name, value));
    }
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    fields.push(("authorization".into(), authorization.to_owned()));
    *fake.fields.lock().expect("fields") = fields;
    if fake.requests.fetch_add(1, Ordering::SeqCst) == 0 {
        return (
            AxumStatus::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": {"message": "busy"}})),
        );
    }
    let answer = json!({
        "task": "transcribe",
        "language": "english",
        "duration": 4.2,
        "text": "We need a Python developer for our online shop.",
        "segments": [{"id": 0, "start": 0.0, "end": 4.2, "text": " We need a Python developer for our online shop."}],
    });
    (AxumStatus::OK, axum::Json(answer))
}

#[tokio::test]
async fn the_openai_provider_sends_the_recording_retries_and_records_its_model() {
    let fake = FakeTranscriptions::default();
    let router = Router::new()
        .route("/v1/audio/transcriptions", post(fake_transcriptions))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/v1", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = spawn_with(|settings| {
        let transcription = &mut settings.transcription;
        transcription.provider = fairgig_core::config::TranscriptionProvider::Openai;
        transcription.openai.base_url = base.clone();
        transcription.openai.model = "test-whisper".into();
        transcription.openai.api_key = Some("sk-test".to_owned().into());
    })
    .await;
    let user = app.register("client@example.org").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let memo = dir.path().join("memo.wav");
    std::fs::write(&memo, crate::helpers::silent_wav()).expect("writes");

    let done = submit_voice(&app, &user, "request", "Shop", &memo).await;
    assert_eq!(done["status"], "completed", "{done}");
    let note = &step(&done, "extract")["output"]["voice"][0];
    assert_eq!(note["transcription"], "transcribed", "{note}");
    assert_eq!(note["model"], "openai:test-whisper");
    assert_eq!(note["language"], "en", "the service's language name becomes its code");
    assert_eq!(note["text"], "We need a Python developer for our online shop.");
    assert_eq!(fake.requests.load(Ordering::SeqCst), 2, "a 503 is retried");
    let fields = fake.fields.lock().expect("fields").clone();
    for expected in [
        ("file", "file:memo.wav"),
        ("model", "test-whisper"),
        ("response_format", "verbose_json"),
        ("authorization", "Bearer sk-test"),
    ] {
        assert!(
            fields.iter().any(|(k, v)| k == expected.0 && v == expected.1),
            "{expected:?} in {fields:?}"
        );
    }
    let skills = step(&done, "analyse")["output"]["skills"].to_string();
    assert!(skills.contains("Python"), "{skills}");
}
