//! A worker process killed with SIGKILL in the middle of a step loses
//! nothing: the lease expires, another worker takes the task, and every step
//! is recorded exactly once. Workers polling the database and workers fed by
//! RabbitMQ (`FAIRGIG_TEST_AMQP_URL`) both.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fairgig_ai::extract::samples::pdf;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::helpers::{amqp_transport, spawn_api_only_with, AmqpTransport, TestApp};

/// `fairgig worker` on the app's database, and on its RabbitMQ if it has one.
pub fn worker_process(app: &TestApp, amqp: Option<&AmqpTransport>) -> Child {
    worker_process_with(app, amqp, &[])
}

/// [`worker_process`] with more arguments after `worker`.
pub fn worker_process_with(app: &TestApp, amqp: Option<&AmqpTransport>, args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fairgig"));
    if let Some(amqp) = amqp {
        command.env("AMQP_URL", &amqp.url).env("FAIRGIG_QUEUE__AMQP_PREFIX", &amqp.prefix);
    }
    command
        .arg("worker")
        .args(args)
        .env("FAIRGIG_DATA_DIR", app.data_dir.path())
        .env("DATABASE_URL", &app.database_url)
        .env("FAIRGIG_WORKER__LEASE_SECS", "3")
        .env("FAIRGIG_WORKER__POLL_INTERVAL_MS", "20")
        .env("FAIRGIG_LOG__LEVEL", "warn")
        .env("FAIRGIG_EMBEDDING__PROVIDER", "hashing")
        .env("FAIRGIG_TRANSCRIPTION__MODEL_DIR", crate::helpers::models_dir().join("whisper-base"))
        .env("FAIRGIG_LLM__PROVIDER", "off")
        .current_dir(app.data_dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker process")
}

async fn detail(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_as(&format!("/api/v1/submissions/{id}"), token).await.json().await.expect("json")
}

fn step_status(detail: &Value, name: &str) -> String {
    detail["run"]["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .and_then(|s| s["status"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_worker_killed_mid_step_loses_nothing_and_duplicates_nothing() {
    killed_mid_step(None).await;
}

#[tokio::test]
async fn a_worker_fed_by_rabbitmq_killed_mid_step_loses_nothing_and_duplicates_nothing() {
    let Some(amqp) = amqp_transport() else { return };
    killed_mid_step(Some(&amqp)).await;
    amqp.delete().await;
}

async fn killed_mid_step(amqp: Option<&AmqpTransport>) {
    let app = spawn_api_only_with(|settings| {
        if let Some(amqp) = amqp {
            amqp.configure(settings);
        }
    })
    .await;
    let user = app.register("client@example.org").await;
    // Long enough to extract that the kill lands inside the step.
    let pages: Vec<String> =
        (0..1500).map(|i| format!("Page {i} of a long brief about Kubernetes")).collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    let form = Form::new()
        .text(
            "submission",
            json!({"kind": "request", "title": "Long", "text": "See the file."}).to_string(),
        )
        .part("files", Part::bytes(pdf(&pages)).file_name("long.pdf"));
    let created: Value = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .multipart(form)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();

    let mut first = worker_process(&app, amqp);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if step_status(&detail(&app, &user.access, &id).await, "extract") == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the worker never started the step");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let after_kill = detail(&app, &user.access, &id).await;
    assert_eq!(step_status(&after_kill, "extract"), "running", "killed mid-step: {after_kill}");

    let mut second = worker_process(&app, amqp);
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let current = detail(&app, &user.access, &id).await;
        if current["run"]["status"] != "running" {
            break current;
        }
        assert!(Instant::now() < deadline, "the run never finished: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.kill().expect("stop the second worker");
    second.wait().expect("reaped");

    assert_eq!(done["status"], "completed", "{done}");
    let steps = done["run"]["steps"].as_array().expect("steps");
    let extract = steps.iter().find(|s| s["name"] == "extract").expect("extract");
    assert_eq!(extract["attempts"], 2, "the killed attempt and the one that finished");
    assert!(
        extract["output"]["text"].as_str().expect("text").contains("Page 199 "),
        "read up to the page limit"
    );
    assert_eq!(extract["output"]["documents"][0]["truncated"], true);
    let analyse = steps.iter().find(|s| s["name"] == "analyse").expect("analyse");
    assert_eq!(analyse["attempts"], 1, "the next step ran once");

    // Exactly one task per step ever existed, and each is done.
    let fairgig_store::Pool::Sqlite(pool) = app.store.pool() else { return };
    let mut tasks: Vec<(String, String)> = sqlx::query_as(
        "SELECT json_extract(payload, '$.step'), status FROM tasks WHERE run_id = \
         (SELECT id FROM runs WHERE submission_id = (SELECT id FROM submissions LIMIT 1)) ORDER BY created_at",
    )
    .fetch_all(pool)
    .await
    .expect("tasks");
    tasks.sort();
    let expected: Vec<(String, String)> = [
        "analyse",
        "bias_check",
        "brief",
        "embed",
        "extract",
        "match",
        "offer",
        "prototype",
        "publish_job",
    ]
    .iter()
    .map(|step| (step.to_string(), "done".to_owned()))
    .collect();
    assert_eq!(tasks, expected);
}

/// Cuts the app's PostgreSQL database off (no new connections, every open
/// one terminated) or lets it back, from the server's admin database.
async fn cut_off(app: &TestApp, admin_url: &str, cut: bool) {
    let database = app.database_url.rsplit('/').next().expect("database name").to_owned();
    let admin = sqlx::PgPool::connect(admin_url).await.expect("admin connection");
    sqlx::query(&format!("ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS {cut}", cut = !cut))
        .execute(&admin)
        .await
        .expect("alter database");
    if cut {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&database)
        .execute(&admin)
        .await
        .expect("terminate");
    }
    admin.close().await;
}

/// A database that goes away mid-flight is a 503 with `Retry-After`, never
/// a bare 500, for reads and writes; a write refused so loses nothing
/// (nothing was committed), and everything works again once it is back.
#[tokio::test]
async fn a_lost_database_is_a_503_with_retry_after_and_then_recovers() {
    let Ok(admin_url) = std::env::var("FAIRGIG_TEST_POSTGRES_URL") else {
        eprintln!("SKIP database loss: FAIRGIG_TEST_POSTGRES_URL unset");
        return;
    };
    let Some(app) = crate::helpers::spawn_on_postgres_with(|settings| {
        settings.database.acquire_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let user = app.register("steady@example.org").await;
    let list = |app: &TestApp| {
        let token = user.access.clone();
        let request = app.client.get(app.url("/api/v1/submissions")).bearer_auth(token);
        async move { request.send().await.expect("request") }
    };
    assert_eq!(list(&app).await.status(), reqwest::StatusCode::OK);

    cut_off(&app, &admin_url, true).await;
    let read = list(&app).await;
    assert_eq!(read.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(read.headers()["retry-after"], "5");
    let body: Value = read.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let write = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .json(
            &json!({"kind": "job", "title": "Lost", "text": "Written while the database is away."}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(write.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(write.headers().contains_key("retry-after"));

    cut_off(&app, &admin_url, false).await;
    let back = list(&app).await;
    assert_eq!(back.status(), reqwest::StatusCode::OK);
    let listed: Value = back.json().await.expect("json");
    assert_eq!(listed["submissions"], json!([]), "the refused write left nothing");
}
