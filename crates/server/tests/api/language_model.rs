//! The brief and the offer's words written by a language model through an
//! OpenAI-compatible chat-completions service (an in-test one that streams
//! its answers as server-sent events): the schema asked for, an answer with
//! a quote not in the request (or a number in the offer's words) sent back
//! once with the error, tokens and cost recorded, the answer shown while it
//! is written, and the rules' output when the model fails.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::{routing::post, Json, Router};
use serde_json::{json, Value};

use crate::helpers::{finished, spawn_with, step, TestApp, TestUser};

/// Answers per prompt (the schema's name) in order, then the last one
/// again; keeps every request.
#[derive(Clone, Default)]
struct FakeChat {
    answers: Arc<Mutex<HashMap<String, VecDeque<String>>>>,
    requests: Arc<Mutex<Vec<Value>>>,
    /// When set, a streamed brief stops after its first half until notified.
    hold_brief: Option<Arc<tokio::sync::Notify>>,
}

impl FakeChat {
    fn requests_for(&self, prompt: &str) -> Vec<Value> {
        let requests = self.requests.lock().expect("requests");
        requests
            .iter()
            .filter(|r| r["response_format"]["json_schema"]["name"] == prompt)
            .cloned()
            .collect()
    }
}

async fn chat(State(fake): State<FakeChat>, Json(body): Json<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let prompt = body["response_format"]["json_schema"]["name"].as_str().unwrap_or("").to_owned();
    let streamed = body["stream"] == true;
    fake.requests.lock().expect("requests").push(body);
    let answer = {
        let mut all = fake.answers.lock().expect("answers");
        let answers = all.entry(prompt.clone()).or_default();
        let answer = if answers.len() > 1 { answers.pop_front() } else { answers.front().cloned() };
        answer.unwrap_or_default()
    };
    let usage = json!({"prompt_tokens": 100, "completion_tokens": 50});
    if !streamed {
        return Json(json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}],
            "usage": usage,
        }))
        .into_response();
    }
    // Two pieces of the answer, the usage, the end; a held brief waits
    // between the pieces.
    let half = first_half(&answer).len();
    let delta = |text: &str| json!({"choices": [{"index": 0, "delta": {"content": text}}]});
    let events = [
        delta(&answer[..half]).to_string(),
        delta(&answer[half..]).to_string(),
        json!({"choices": [], "usage": usage}).to_string(),
        "[DONE]".to_owned(),
    ];
    let hold = fake.hold_brief.clone().filter(|_| prompt == "brief");
    let (sender, receiver) = tokio::sync::mpsc::channel::<String>(4);
    tokio::spawn(async move {
        for (index, event) in events.into_iter().enumerate() {
            if index == 1 {
                if let Some(hold) = &hold {
                    hold.notified().await;
                }
            }
            if sender.send(format!("data: {event}\n\n")).await.is_err() {
                return;
            }
        }
    });
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        let event = receiver.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(event), receiver))
    });
    (
        [(axum::http::header::CONTENT_TYPE, "text/event-stream")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

async fn start(brief: &[String], offer: &[String]) -> (String, FakeChat) {
    start_holding(brief, offer, None).await
}

async fn start_holding(
    brief: &[String],
    offer: &[String],
    hold_brief: Option<Arc<tokio::sync::Notify>>,
) -> (String, FakeChat) {
    let fake = FakeChat { hold_brief, ..FakeChat::default() };
    {
        let mut answers = fake.answers.lock().expect("answers");
        answers.insert("brief".into(), brief.iter().cloned().collect());
        answers.insert("offer".into(), offer.iter().cloned().collect());
    }
    let router = Router::new().route("/v1/chat/completions", post(chat)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/v1", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, fake)
}

async fn app_with_model(base: &str) -> TestApp {
    app_with_budget(base, 900).await
}

/// The in-test service's answers cost 150 tokens each (100 read, 50 written).
async fn app_with_budget(base: &str, run_budget: u32) -> TestApp {
    let base = base.to_owned();
    spawn_with(move |settings| {
        let llm = &mut settings.llm;
        llm.provider = fairgig_core::config::LlmProvider::Openai;
        llm.base_url = base;
        llm.model = "test-llm".into();
        llm.max_tokens_per_run = run_budget;
        llm.max_tokens_per_answer = 400;
        llm.input_price_per_1k = Some(0.5);
        llm.output_price_per_1k = Some(1.5);
    })
    .await
}

const TEXT: &str = "We need a website for our bakery. It must have an online order form.";

/// Submits the bakery request; its id.
async fn submit_request(app: &TestApp, user: &TestUser) -> String {
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
    created["id"].as_str().expect("id").to_owned()
}

/// The first half of `answer` (what a held stream sends before it waits).
fn first_half(answer: &str) -> &str {
    &answer[..answer.char_indices().nth(answer.chars().count() / 2).map_or(0, |(at, _)| at)]
}

/// The brief's and the offer's outputs of a request.
async fn outputs_of(app: &TestApp, user: &TestUser) -> (Value, Value) {
    let id = submit_request(app, user).await;
    let done = finished(app, user, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    (step(&done, "brief")["output"].clone(), step(&done, "offer")["output"].clone())
}

fn offer_prose(introduction: &str) -> String {
    json!({
        "introduction": introduction,
        "tiers": {"essential": "The order form.", "standard": "The whole site.", "complete": "The site, documented and supported."},
    })
    .to_string()
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
async fn answers_that_misquote_or_state_numbers_are_sent_back_once_and_then_used() {
    let (base, fake) = start(
        &[brief_citing("a beautiful order form"), brief_citing("an online order form")],
        &[
            offer_prose("Three ways, from 900 EUR."),
            offer_prose("Three ways to your bakery's site."),
        ],
    )
    .await;
    let app = app_with_model(&base).await;
    let user = app.register("client@example.org").await;

    let (brief, offer) = outputs_of(&app, &user).await;
    assert_eq!(brief["made_by"], "openai:test-llm", "{brief}");
    assert_eq!(brief["prompt"], "brief@v1");
    assert_eq!(brief["deliverables"][0]["source"]["quote"], "an online order form");
    assert_eq!(brief["usage"]["prompt_tokens"], 200, "two calls: {brief}");
    assert_eq!(brief["usage"]["completion_tokens"], 100);
    let cost = brief["usage"]["cost"].as_f64().expect("a cost");
    assert!((cost - (0.2 * 0.5 + 0.1 * 1.5)).abs() < 1e-9, "{cost}");

    // The offer's numbers are the rules'; the model's words hold none.
    assert_eq!(offer["made_by"], "rules", "{offer}");
    assert_eq!(offer["prose"]["introduction"], "Three ways to your bakery's site.", "{offer}");
    assert_eq!(offer["prose_by"]["prompt"], "offer@v2");
    assert_eq!(offer["prose_by"]["model"], "openai:test-llm");
    let complaint = fake.requests_for("offer")[1]["messages"].to_string();
    assert!(complaint.contains("must not contain numbers"), "{complaint}");

    let requests = fake.requests_for("brief");
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first["model"], "test-llm");
    assert_eq!(first["max_tokens"], 400, "the answer's cap");
    assert_eq!(requests[1]["max_tokens"], 400, "750 of the run's budget left");
    assert_eq!(first["response_format"]["type"], "json_schema");
    assert_eq!(first["response_format"]["json_schema"]["name"], "brief");
    assert!(first["messages"][1]["content"].as_str().is_some_and(|c| c.contains(TEXT)));
    let retry = requests[1]["messages"].as_array().expect("messages");
    let complaint = retry.last().and_then(|m| m["content"].as_str()).unwrap_or_default();
    assert!(complaint.contains("a beautiful order form"), "the error goes back: {complaint}");
}

/// A run's calls share its token budget: a brief sent back once spends
/// 300 of 450, so its second call may write 300 at most, and the offer,
/// left 150, gets one call and no second chance.
#[tokio::test]
async fn a_run_spends_its_token_budget_across_its_calls_and_then_keeps_the_rules_words() {
    let (base, fake) = start(
        &[brief_citing("a beautiful order form"), brief_citing("an online order form")],
        &[offer_prose("Three ways, from 900 EUR."), offer_prose("Three ways to your site.")],
    )
    .await;
    let app = app_with_budget(&base, 450).await;
    let user = app.register("client@example.org").await;

    let (brief, offer) = outputs_of(&app, &user).await;
    assert_eq!(brief["made_by"], "openai:test-llm", "{brief}");
    let briefs = fake.requests_for("brief");
    assert_eq!(
        (briefs[0]["max_tokens"].as_u64(), briefs[1]["max_tokens"].as_u64()),
        (Some(400), Some(300))
    );
    let offers = fake.requests_for("offer");
    assert_eq!(offers.len(), 1, "no second call past the budget");
    assert_eq!(offers[0]["max_tokens"], 150);
    assert!(offer["prose"].is_null(), "{offer}");
    let why = offer["prose_by"]["fallback"].as_str().unwrap_or_default();
    assert!(why.contains("budget is spent: 150 of the 150 tokens left"), "{offer}");
    assert!(offer["tiers"].as_array().is_some_and(|t| t.len() == 3), "the numbers stand");

    // Spent by the brief alone: the offer does not call at all.
    let (base, fake) = start(
        &[brief_citing("a beautiful order form"), brief_citing("an online order form")],
        &[offer_prose("Three ways to your site.")],
    )
    .await;
    let app = app_with_budget(&base, 300).await;
    let user = app.register("client@example.org").await;
    let (_, offer) = outputs_of(&app, &user).await;
    assert!(fake.requests_for("offer").is_empty());
    let why = offer["prose_by"]["fallback"].as_str().unwrap_or_default();
    assert!(why.contains("spent before the offer (300 used)"), "{offer}");
}

#[tokio::test]
async fn a_model_that_answers_nonsense_twice_leaves_the_rules_words_with_the_reason() {
    let nonsense = ["Sure! Here is your brief: <b>great</b>".to_owned()];
    let (base, fake) = start(&nonsense, &nonsense).await;
    let app = app_with_model(&base).await;
    let user = app.register("client@example.org").await;

    let (brief, offer) = outputs_of(&app, &user).await;
    assert_eq!(brief["made_by"], "rules", "{brief}");
    assert_eq!(brief["prompt"], "brief@v1");
    assert!(brief["fallback"].as_str().is_some_and(|f| f.contains("invalid twice")), "{brief}");
    assert_eq!(brief["usage"]["prompt_tokens"], 200);
    assert!(brief["deliverables"].to_string().contains("online order form"));
    assert_eq!(fake.requests_for("brief").len(), 2);
    assert!(offer["prose"].is_null(), "{offer}");
    assert!(offer["prose_by"]["fallback"].as_str().is_some_and(|f| f.contains("invalid twice")));
    assert!(offer["tiers"].as_array().is_some_and(|t| t.len() == 3), "the numbers stand");
}

#[tokio::test]
async fn a_brief_is_shown_while_the_model_writes_it() {
    let hold = Arc::new(tokio::sync::Notify::new());
    let answer = brief_citing("an online order form");
    let (base, _fake) = start_holding(
        std::slice::from_ref(&answer),
        &[offer_prose("Three ways.")],
        Some(Arc::clone(&hold)),
    )
    .await;
    let app = app_with_model(&base).await;
    let user = app.register("client@example.org").await;
    let id = submit_request(&app, &user).await;
    // The model has sent half its answer and waits: the API shows that half.
    let half = first_half(&answer);
    let mut shown = Value::Null;
    for _ in 0..200 {
        let detail: Value = app
            .client
            .get(app.url(&format!("/api/v1/submissions/{id}")))
            .bearer_auth(&user.access)
            .send()
            .await
            .expect("detail")
            .json()
            .await
            .expect("json");
        shown = detail["run"]["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|step| step["name"] == "brief"))
            .cloned()
            .unwrap_or_default();
        if shown["progress"].as_str() == Some(half) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(shown["status"], "running", "{shown}");
    assert_eq!(shown["progress"].as_str(), Some(half), "{shown}");
    hold.notify_one();
    let done = finished(&app, &user, &id).await;
    let brief = step(&done, "brief");
    assert!(brief.get("progress").is_none(), "a finished step shows its output only: {brief}");
    assert_eq!(brief["output"]["made_by"], "openai:test-llm", "{brief}");
}
