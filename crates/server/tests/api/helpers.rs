//! Spawning the app and typed request helpers.

use std::{io::Write, sync::Once};

use fairgig_core::{config::Settings, ids::UserId, user::Role};
use fairgig_server::startup::{ServeRole, Server};
use fairgig_store::{test_support::TestDatabase, Store};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    pub database_url: String,
    /// A second handle on the same database, for arranging and inspecting.
    pub store: Store,
    _database: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Writes past the test harness's output capture, once per message.
pub fn say_once(once: &'static Once, message: &str) {
    once.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{message}");
    });
}

/// A fresh bucket on the S3-compatible server `.ci/run` starts (moto):
/// its endpoint and name, or `None` after a SKIP line when
/// `FAIRGIG_TEST_S3_URL` is unset.
pub async fn s3_bucket() -> Option<(String, String)> {
    static SKIP: Once = Once::new();
    let Ok(endpoint) = std::env::var("FAIRGIG_TEST_S3_URL") else {
        say_once(&SKIP, "SKIP s3: FAIRGIG_TEST_S3_URL unset");
        return None;
    };
    let bucket = format!("fairgig-test-{}", uuid::Uuid::now_v7().simple());
    // moto accepts any credentials; creating the bucket is a plain PUT.
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("S3 server answers");
    assert!(created.status().is_success(), "create bucket: {}", created.status());
    Some((endpoint, bucket))
}

fn init_logs() {
    static LOGS: Once = Once::new();
    LOGS.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            // No endpoint: nothing to flush, so the guard may go.
            let _telemetry = fairgig_server::telemetry::init(
                fairgig_core::config::LogFormat::Pretty,
                "debug",
                &fairgig_core::config::TracingSettings::default(),
                std::io::stdout,
            );
        }
    });
}

/// The app on a fresh SQLite database, rate limits off (tests that check
/// limits turn them on).
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Where `make models` put the embedding model (or `FAIRGIG_MODELS_DIR`).
pub fn models_dir() -> std::path::PathBuf {
    std::env::var_os("FAIRGIG_MODELS_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
    })
}

/// An app embedding with the local model, for tests of meaning.
pub async fn spawn_with_model() -> TestApp {
    spawn_with(|settings| {
        settings.embedding.provider = fairgig_core::config::EmbeddingProvider::Local;
        settings.embedding.models_dir = models_dir();
    })
    .await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::sqlite().expect("temp dir");
    spawn_on(database, configure).await
}

/// The API alone, without an in-process worker (`serve --role api`).
pub async fn spawn_api_only_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::sqlite().expect("temp dir");
    spawn_as(ServeRole::Api, database, configure).await
}

/// A RabbitMQ to run the queue on (`FAIRGIG_TEST_AMQP_URL`), under a queue
/// prefix of its own.
pub struct AmqpTransport {
    pub url: String,
    pub prefix: String,
}

/// `None` (after one SKIP line) when `FAIRGIG_TEST_AMQP_URL` is unset.
pub fn amqp_transport() -> Option<AmqpTransport> {
    static SKIP: Once = Once::new();
    match std::env::var("FAIRGIG_TEST_AMQP_URL") {
        Ok(url) if !url.is_empty() => Some(AmqpTransport {
            url,
            prefix: format!("fairgig-test-{}", uuid::Uuid::now_v7().simple()),
        }),
        _ => {
            say_once(&SKIP, "SKIP rabbitmq: FAIRGIG_TEST_AMQP_URL unset");
            None
        }
    }
}

impl AmqpTransport {
    pub fn configure(&self, settings: &mut Settings) {
        settings.queue.amqp_url = Some(self.url.clone().into());
        settings.queue.amqp_prefix = self.prefix.clone();
    }

    /// Removes this test's queues from the broker.
    pub async fn delete(&self) {
        let config = fairgig_pipeline::amqp::AmqpConfig::new(&self.url, &self.prefix);
        fairgig_pipeline::amqp::delete_topology(&config).await.expect("delete test queues");
    }
}

/// The app on a fresh PostgreSQL database, or `None` (after one SKIP line)
/// when `FAIRGIG_TEST_POSTGRES_URL` is unset.
pub async fn spawn_on_postgres() -> Option<TestApp> {
    spawn_on_postgres_with(|_| {}).await
}

/// [`spawn_on_postgres`] with settings changed by `configure`.
pub async fn spawn_on_postgres_with(configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    static SKIP: Once = Once::new();
    match TestDatabase::postgres().await.expect("create postgres test database") {
        Some(database) => Some(spawn_on(database, configure).await),
        None => {
            say_once(&SKIP, "SKIP postgres: FAIRGIG_TEST_POSTGRES_URL unset");
            None
        }
    }
}

pub async fn spawn_on(database: TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_as(ServeRole::All, database, configure).await
}

async fn spawn_as(
    role: ServeRole,
    database: TestDatabase,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    init_logs();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings { data_dir: data_dir.path().to_path_buf(), ..Settings::default() };
    settings.database.url = Some(fairgig_core::config::SecretUrl::new(database.url.clone()));
    settings.server.bind = "127.0.0.1:0".parse().expect("address");
    settings.rate_limit.enabled = false;
    // The model is tested in `embeddings.rs`; other tests need no model.
    settings.embedding.provider = fairgig_core::config::EmbeddingProvider::Hashing;
    // Loaded on the first recording only.
    settings.transcription.model_dir = models_dir().join("whisper-base");
    // Briefs by rules unless a test asks for the model (`language_model.rs`).
    settings.llm.provider = fairgig_core::config::LlmProvider::Off;
    settings.llm.model_path = models_dir().join("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf");
    // Tests train when they say so (`scheduled_training::round` directly).
    settings.training.every_hours = 0;
    configure(&mut settings);
    let app = Server::build(settings, role).await.expect("build app");
    let address = format!("http://{}", app.local_addr().expect("bound"));
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let store = database.store().await.expect("second store handle");
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        data_dir,
        database_url: database.url.clone(),
        store,
        _database: database,
        shutdown: Some(shutdown),
    }
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: UserId,
    pub access: String,
    pub refresh: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn register_as(&self, email: &str, role: Role) -> TestUser {
        self.register_named(email, "Test User", role).await
    }

    /// Registers `email` under the display name `name`.
    pub async fn register_named(&self, email: &str, name: &str, role: Role) -> TestUser {
        let response = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "display_name": name, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {email}");
        let body: Value = response.json().await.expect("json");
        TestUser {
            id: body["user"]["id"].as_str().expect("id").parse().expect("uuid"),
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    pub async fn register(&self, email: &str) -> TestUser {
        self.register_as(email, Role::Client).await
    }

    /// An admin: registered as a client, promoted through the store.
    pub async fn admin(&self, email: &str) -> TestUser {
        let user = self.register(email).await;
        self.store.set_role(user.id, Role::Admin).await.expect("promote");
        user
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/login", &json!({"email": email, "password": password})).await
    }

    /// Creates an API key for `user` with these scopes; returns (id, key).
    pub async fn api_key(&self, user: &TestUser, scopes: &[&str]) -> (String, String) {
        let response = self
            .client
            .post(self.url("/api/v1/me/api-keys"))
            .bearer_auth(&user.access)
            .json(&json!({"name": "test", "scopes": scopes}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        (
            body["id"].as_str().expect("id").to_owned(),
            body["api_key"].as_str().expect("key").to_owned(),
        )
    }
}

/// The error code of an error response.
pub async fn error_code(response: Response) -> (StatusCode, String, Option<String>) {
    let status = response.status();
    let body: Value = response.json().await.expect("error body is JSON");
    (
        status,
        body["error"]["code"].as_str().expect("error.code").to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

/// Sends `body` (if any) as `user`; the status and the JSON answer (`null` if none).
pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    user: &TestUser,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(&user.access);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Runs the `fairgig` binary against this app's database and data folder.
pub async fn fairgig(app: &TestApp, args: &[&str]) -> std::process::Output {
    fairgig_at(app.data_dir.path(), &app.database_url, args).await
}

/// `fairgig` on the deployment in `data_dir` with its database at
/// `database_url`.
pub async fn fairgig_at(
    data_dir: &std::path::Path,
    database_url: &str,
    args: &[&str],
) -> std::process::Output {
    fairgig_at_with(data_dir, database_url, &[], args).await
}

/// [`fairgig_at`] with more environment variables (`(name, value)`).
pub async fn fairgig_at_with(
    data_dir: &std::path::Path,
    database_url: &str,
    environment: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fairgig"));
    command
        .envs(environment.iter().copied())
        .args(args)
        .env("FAIRGIG_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("FAIRGIG_LOG__LEVEL", "warn")
        .env("FAIRGIG_EMBEDDING__PROVIDER", "hashing")
        .env("FAIRGIG_TRANSCRIPTION__MODEL_DIR", crate::helpers::models_dir().join("whisper-base"))
        .env("FAIRGIG_LLM__PROVIDER", "off")
        .current_dir(data_dir);
    // Off the test's runtime: the app under test runs on it and must keep
    // answering (and finishing its SQLite transactions) while the CLI runs.
    tokio::task::spawn_blocking(move || command.output().expect("run fairgig"))
        .await
        .expect("the CLI thread")
}

/// Polls a submission until its run leaves `running` (at most ~20 s).
pub async fn finished(app: &TestApp, user: &TestUser, id: &str) -> Value {
    finished_within(app, user, id, std::time::Duration::from_secs(20)).await
}

/// [`finished`] for runs that take longer (a recording to transcribe).
pub async fn finished_within(
    app: &TestApp,
    user: &TestUser,
    id: &str,
    limit: std::time::Duration,
) -> Value {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        let body: Value = app
            .get_as(&format!("/api/v1/submissions/{id}"), &user.access)
            .await
            .json()
            .await
            .expect("json");
        if body["run"]["status"] != "running" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("submission {id} did not finish");
}

/// One step of a submission's run, by name.
pub fn step<'a>(detail: &'a Value, name: &str) -> &'a Value {
    detail["run"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .expect("step")
}

/// Submits a `job` as JSON; returns its id.
pub async fn submit_job(app: &TestApp, user: &TestUser, title: &str, text: &str) -> String {
    let created: Value = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .json(&json!({"kind": "job", "title": title, "text": text}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    created["id"].as_str().expect("id").to_owned()
}

/// The SMTP server `.ci/run` starts (aiosmtpd writing to a maildir), for
/// tests that follow an emailed link; `None` (with a SKIP line) when unset.
pub struct Mailbox {
    pub url: String,
    maildir: std::path::PathBuf,
}

pub fn mailbox() -> Option<Mailbox> {
    match (std::env::var("FAIRGIG_TEST_SMTP_URL"), std::env::var("FAIRGIG_TEST_SMTP_MAILDIR")) {
        (Ok(url), Ok(dir)) => Some(Mailbox { url, maildir: dir.into() }),
        _ => {
            println!("SKIP: FAIRGIG_TEST_SMTP_URL / FAIRGIG_TEST_SMTP_MAILDIR not set");
            None
        }
    }
}

impl Mailbox {
    /// The SMTP server's URL, for a `fairgig` process's environment.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends this app's email through the test SMTP server.
    pub fn configure(&self, settings: &mut Settings) {
        settings.notifications.smtp_url = Some(self.url.clone().into());
    }

    /// The token of the link to `page` mailed to `to`, waiting up to 10 s
    /// (the maildir is the only sign of arrival there is to wait on).
    pub async fn link_token(&self, to: &str, page: &str) -> String {
        let needle = format!("{page}?token=");
        for _ in 0..100 {
            for folder in ["new", "cur"] {
                let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else { continue };
                for entry in entries.flatten() {
                    let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    if !raw.lines().any(|line| line.starts_with("To:") && line.contains(to)) {
                        continue;
                    }
                    // Undo quoted-printable soft line breaks and `=3D`.
                    let text = raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
                    if let Some(at) = text.find(&needle) {
                        let token: String = text[at + needle.len()..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                            .collect();
                        return token;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} with a link to {page} arrived");
    }
}

/// A file that says it is a PDF but is not one: its extraction fails for
/// good (no retry), which dead-letters the step and fails the run.
pub fn corrupt_pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend_from_slice(&[0x8f; 2048]);
    bytes
}

/// One second of 16 kHz, 16-bit mono silence as a WAV file.
pub fn silent_wav() -> Vec<u8> {
    let data = vec![0u8; 32_000];
    let mut wav = Vec::with_capacity(44 + data.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    // PCM, mono, 16 kHz, 32000 bytes/s, 2-byte frames, 16 bits.
    for field in [16u32.to_le_bytes().as_slice(), &1u16.to_le_bytes(), &1u16.to_le_bytes()] {
        wav.extend_from_slice(field);
    }
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    wav
}
