//! The brief written by a language model through an OpenAI-compatible
//! chat-completions service (an in-test one): the schema asked for, an
//! answer with a quote not in the request sent back once with the error,
//! tokens and cost recorded, and the rules' brief when the model fails.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::{routing::post, Json, Router};
use serde_json::{json, Value};

use crate::helpers::{finished, spawn_with, step, TestApp, TestUser};

/// Answers in order (then the last one again); keeps every request.
#[derive(Clone, Default)]
struct FakeChat {
    answers: Arc<Mutex<VecDeque<String>>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn chat(State(fake): State<FakeChat>, Json(body): Json<Value>) -> Json<Value> {
    fake.requests.lock().expect("requests").push(body);
    let mut answers = fake.answers.lock().expect("answers");
    let answer = if answers.len() > 1 { answers.pop_front() } else { answers.front().cloned() };
    Json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.unwrap_or_default()}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50},
    }))
}

async fn start(answers: &[String]) -> (String, FakeChat) {
    let fake = FakeChat::default();
    fake.answers.lock().expect("answers").extend(answers.iter().cloned());
    let router = Router::new().route("/v1/chat/completions", post(chat)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/v1", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, fake)
}

async fn app_with_model(base: &str) -> TestApp {
    let base = base.to_owned();
    spawn_with(move |settings| {
        let llm = &mut settings.llm;
        llm.provider = fairgig_core::config::LlmProvider::Openai;
        llm.base_url = base;
        llm.model = "test-llm".into();
        llm.max_tokens_per_run = 900;
        llm.input_price_per_1k = Some(0.5);
        llm.output_price_per_1k = Some(1.5);
    })
    .await
}

const TEXT: &str = "We need a website for our bakery. It must have an online order form.";

async fn brief_of(app: &TestApp, user: &TestUser) -> Value {
    let created: Value = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .json(&json!({"kind": "request", "title": "Bakery website", "text": TEXT}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let done = finished(app, user, created["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "completed", "{done}");
    step(&done, "brief")["output"].clone()
}

fn brief_citing(quote: &str) -> String {
    json!({
        "goals": [{"text": "A website for a bakery", "source": {"from": "request", "quote": "a website for our bakery"}}],
        "deliverables": [{"text": "An online order form", "source": {"from": "request", "quote": quote}}],
        "constraints": [],
        "open_questions": ["What is your budget?"],
        "risks": [],
    })
    .to_string()
}

#[tokio::test]
async fn a_brief_with_a_quote_not_in_the_request_is_sent_back_once_and_then_used() {
    let (base, fake) =
        start(&[brief_citing("a beautiful order form"), brief_citing("an online order form")])
            .await;
    let app = app_with_model(&base).await;
    let user = app.register("client@example.org").await;

    let brief = brief_of(&app, &user).await;
    assert_eq!(brief["made_by"], "openai:test-llm", "{brief}");
    assert_eq!(brief["prompt"], "brief@v1");
    assert_eq!(brief["deliverables"][0]["source"]["quote"], "an online order form");
    assert_eq!(brief["usage"]["prompt_tokens"], 200, "two calls: {brief}");
    assert_eq!(brief["usage"]["completion_tokens"], 100);
    let cost = brief["usage"]["cost"].as_f64().expect("a cost");
    assert!((cost - (0.2 * 0.5 + 0.1 * 1.5)).abs() < 1e-9, "{cost}");

    let requests = fake.requests.lock().expect("requests").clone();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first["model"], "test-llm");
    assert_eq!(first["max_tokens"], 900);
    assert_eq!(first["response_format"]["type"], "json_schema");
    assert_eq!(first["response_format"]["json_schema"]["name"], "brief");
    assert!(first["messages"][1]["content"].as_str().is_some_and(|c| c.contains(TEXT)));
    let retry = requests[1]["messages"].as_array().expect("messages");
    let complaint = retry.last().and_then(|m| m["content"].as_str()).unwrap_or_default();
    assert!(complaint.contains("a beautiful order form"), "the error goes back: {complaint}");
}

#[tokio::test]
async fn a_model_that_answers_nonsense_twice_leaves_the_rules_brief_with_the_reason() {
    let (base, fake) = start(&["Sure! Here is your brief: <b>great</b>".to_owned()]).await;
    let app = app_with_model(&base).await;
    let user = app.register("client@example.org").await;

    let brief = brief_of(&app, &user).await;
    assert_eq!(brief["made_by"], "rules", "{brief}");
    assert_eq!(brief["prompt"], "brief@v1");
    assert!(brief["fallback"].as_str().is_some_and(|f| f.contains("invalid twice")), "{brief}");
    assert_eq!(brief["usage"]["prompt_tokens"], 200);
    assert!(brief["deliverables"].to_string().contains("online order form"));
    assert_eq!(fake.requests.lock().expect("requests").len(), 2);
}
