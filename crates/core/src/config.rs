//! Typed configuration. Every key has a default so an empty configuration runs
//! the embedded single-machine setup; unknown keys are refused by name so a
//! typo never silently falls back to a default.
//!
//! Loading (defaults < `fairgig.toml` < environment) happens in the binary;
//! this module only says what can be configured. The README lists every key.

use std::{fmt, net::SocketAddr, path::PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the embedded defaults keep their files (SQLite database, secrets).
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub storage: StorageSettings,
    pub worker: WorkerSettings,
    pub queue: QueueSettings,
    pub submissions: SubmissionSettings,
    pub embedding: EmbeddingSettings,
    pub transcription: TranscriptionSettings,
    pub offers: OfferSettings,
    pub prototypes: PrototypeSettings,
    pub llm: LlmSettings,
    pub notifications: NotificationSettings,
    pub training: TrainingSettings,
    pub fairness: FairnessSettings,
    pub retention: RetentionSettings,
    pub tracing: TracingSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            rate_limit: RateLimitSettings::default(),
            redis: RedisSettings::default(),
            log: LogSettings::default(),
            storage: StorageSettings::default(),
            worker: WorkerSettings::default(),
            queue: QueueSettings::default(),
            submissions: SubmissionSettings::default(),
            embedding: EmbeddingSettings::default(),
            transcription: TranscriptionSettings::default(),
            offers: OfferSettings::default(),
            prototypes: PrototypeSettings::default(),
            llm: LlmSettings::default(),
            notifications: NotificationSettings::default(),
            training: TrainingSettings::default(),
            fairness: FairnessSettings::default(),
            retention: RetentionSettings::default(),
            tracing: TracingSettings::default(),
        }
    }
}

impl Settings {
    /// The database URL in force: the configured one, else a SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("fairgig.db").display()),
        }
    }
}

impl Settings {
    /// The object storage URL in force: the configured one, else `data_dir/objects`.
    pub fn storage_url(&self) -> String {
        match &self.storage.url {
            Some(url) => url.clone(),
            None => format!("file://{}", absolute(&self.data_dir.join("objects")).display()),
        }
    }
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `file:///dir` or `s3://bucket[/prefix]`; default `file://<data_dir>/objects`.
    pub url: Option<String>,
    /// S3 endpoint for S3-compatible services (MinIO, …); AWS when unset.
    pub s3_endpoint: Option<String>,
    /// S3 region (default from `AWS_REGION`).
    pub s3_region: Option<String>,
    /// S3 credentials; default from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub s3_access_key_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub s3_secret_access_key: Option<SecretString>,
    /// An uploaded file no submission refers to (its request died before
    /// committing) is deleted once it is this old; the sweep runs every
    /// quarter of it.
    pub orphan_grace_secs: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            orphan_grace_secs: 3600,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerSettings {
    /// Steps run at once per process.
    pub concurrency: usize,
    /// How long a claimed task stays claimed without a heartbeat.
    pub lease_secs: u64,
    /// How often an idle worker looks for tasks enqueued by other processes.
    pub poll_interval_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self { concurrency: 4, lease_secs: 30, poll_interval_ms: 250 }
    }
}

/// How tasks reach workers. The database is always the source of truth for
/// task state; RabbitMQ, when configured, only carries task ids to workers.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSettings {
    /// `amqp://user:pass@host:5672/vhost` (or `amqps://`): deliver tasks
    /// through RabbitMQ. Unset: workers poll the database. Also read from `AMQP_URL`.
    #[serde(serialize_with = "redacted")]
    pub amqp_url: Option<SecretString>,
    /// Prefix of every exchange and queue name, so deployments can share a broker.
    pub amqp_prefix: String,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self { amqp_url: None, amqp_prefix: "fairgig".to_owned() }
    }
}

/// Scheduled ranker training: every `every_hours`, if at least
/// `min_new_feedback` feedback events arrived since the newest ranker was
/// trained, a ranker is trained and registered as challenger; with
/// `auto_promote` the promotion gate then decides whether it serves.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingSettings {
    /// 0 turns scheduled training off (`fairgig model train` still works).
    pub every_hours: u64,
    pub min_new_feedback: u64,
    /// Share of the newest lists held out for evaluation.
    pub held_out: f64,
    pub auto_promote: bool,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self { every_hours: 24, min_new_feedback: 200, held_out: 0.2, auto_promote: true }
    }
}

/// How long finished records are kept; one lease-guarded job prunes the
/// rest every `every_hours` (0: never; `fairgig prune` runs it now). A
/// period of 0 keeps that kind forever. The audit log is always kept.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    pub every_hours: u64,
    /// Notifications sent, given up on a channel, or dead, by last change.
    pub notifications_days: u64,
    /// Revoked sessions, expired refresh tokens and expired account links.
    pub sessions_days: u64,
    /// The embedding cache (a cache: entries are embedded again on demand).
    pub embedding_cache_days: u64,
    /// Feedback events (the ranker's training data): kept by default.
    pub feedback_days: u64,
    /// The text a finished run read (the `extract` step's output: every
    /// document's text and voice transcript), by when the run finished.
    /// The results (analysis, brief, offer, matches) and the files stay
    /// with the submission; a failed run keeps it to be run again.
    pub step_outputs_days: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            every_hours: 24,
            notifications_days: 180,
            sessions_days: 30,
            embedding_cache_days: 90,
            feedback_days: 0,
            step_outputs_days: 180,
        }
    }
}

/// The deployment's fair re-ranking policy. A match request may override
/// the algorithm, the attribute, the target shares and the amortisation.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FairnessSettings {
    pub algorithm: crate::marketplace::FairAlgorithm,
    /// `newcomer` (no completed job yet; needs no self-declaration) or a
    /// self-declared profile attribute such as `gender`.
    pub attribute: String,
    /// Desired share per group name (`newcomer = 0.3`); groups not named
    /// share the rest by their share of the qualified pool.
    pub targets: std::collections::BTreeMap<String, f64>,
    /// The group FA*IR protects under a self-declared attribute.
    pub protected: Option<String>,
    /// Correct each list's target by the exposure its groups are owed
    /// from the lists of the last `window_days`.
    pub amortise: bool,
    pub window_days: u32,
    /// The most one list's target moves to repay a deficit, as a share of
    /// the list's exposure.
    pub max_correction: f64,
}

impl Default for FairnessSettings {
    fn default() -> Self {
        Self {
            algorithm: crate::marketplace::FairAlgorithm::DetConstSort,
            attribute: "newcomer".to_owned(),
            targets: std::collections::BTreeMap::new(),
            protected: None,
            amortise: true,
            window_days: 28,
            max_correction: 0.25,
        }
    }
}

/// How messages reach people.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationSettings {
    /// `smtp://user:pass@host:port` (plain; add `?tls=required` for STARTTLS,
    /// `?tls=opportunistic` to use it when offered) or `smtps://…` (TLS).
    /// Unset: email is off and new users' messages go to the log channel.
    /// Also read from `FAIRGIG_SMTP_URL`.
    #[serde(serialize_with = "redacted")]
    pub smtp_url: Option<SecretString>,
    /// The `From` of every email. Also read from `FAIRGIG_SMTP_FROM`.
    pub smtp_from: String,
    /// A PEM file of CA certificates to trust for the SMTP relay besides the
    /// system's (a relay with a private CA). Also `FAIRGIG_SMTP_CA_FILE`.
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// This fairgig's public base URL, as people reach it: links in
    /// messages (portal pages, password-reset and verification links) use it.
    pub public_url: String,
    /// Internal addresses or CIDR ranges webhooks may reach anyway
    /// (everything internal is refused by default).
    pub webhook_allow: Vec<String>,
    pub webhook_timeout_secs: u64,
    /// Waits before each retry on one channel; then the next channel.
    pub retry_delays_secs: Vec<u64>,
    /// Telegram bot token; unset: the Telegram channel is off.
    #[serde(serialize_with = "redacted")]
    pub telegram_bot_token: Option<SecretString>,
    /// The Bot API server (a self-hosted one, or a test double).
    pub telegram_base_url: String,
    /// Twilio-compatible SMS account; unset: the SMS channel is off.
    pub sms_account_sid: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub sms_auth_token: Option<SecretString>,
    /// The sending number (E.164) or messaging service.
    pub sms_from: String,
    pub sms_base_url: String,
    /// How old an undelivered announcement (a submission's receipt) must be
    /// before the worker's sweep delivers it: the request that wrote it
    /// delivers it at once, so the sweep only finds those a crash or a lost
    /// connection left behind.
    pub announcement_grace_secs: u64,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            smtp_from: "fairgig <fairgig@localhost>".to_owned(),
            smtp_ca_file: None,
            public_url: "http://127.0.0.1:8080".to_owned(),
            webhook_allow: Vec::new(),
            webhook_timeout_secs: 10,
            retry_delays_secs: vec![30, 120, 300, 900],
            telegram_bot_token: None,
            telegram_base_url: "https://api.telegram.org".to_owned(),
            sms_account_sid: None,
            sms_auth_token: None,
            sms_from: String::new(),
            sms_base_url: "https://api.twilio.com".to_owned(),
            announcement_grace_secs: 10,
        }
    }
}

/// Which embedding provider turns texts into vectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingProvider {
    /// all-MiniLM-L6-v2 in-process (`make models` fetches it).
    #[default]
    Local,
    /// An OpenAI-compatible `/v1/embeddings` service.
    Openai,
    /// Hashed words: deterministic, no model, for tests only.
    Hashing,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingSettings {
    pub provider: EmbeddingProvider,
    /// Folder `make models` fills (`all-MiniLM-L6-v2/`, `onnxruntime/`).
    pub models_dir: PathBuf,
    /// Cores the local model uses at once; 0 means all.
    pub threads: usize,
    pub openai: OpenAiSettings,
}

impl Default for EmbeddingSettings {
    fn default() -> Self {
        Self {
            provider: EmbeddingProvider::Local,
            models_dir: PathBuf::from("./models"),
            threads: 0,
            openai: OpenAiSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAiSettings {
    /// Base URL; `/embeddings` is appended.
    pub base_url: String,
    #[serde(serialize_with = "redacted")]
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Vector width; sent as `dimensions` when `send_dimensions` is on.
    pub dimensions: usize,
    pub send_dimensions: bool,
    pub timeout_secs: u64,
    /// Attempts per call, retried with exponential backoff on timeouts, 429 and 5xx.
    pub max_attempts: u32,
    /// Failed calls in a row that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses calls before one trial.
    pub breaker_cooldown_secs: u64,
}

impl Default for OpenAiSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            model: "text-embedding-3-small".into(),
            dimensions: 384,
            send_dimensions: true,
            timeout_secs: 30,
            max_attempts: 4,
            breaker_threshold: 5,
            breaker_cooldown_secs: 30,
        }
    }
}

/// How a request's offer is priced when its numbers cannot come from the
/// marketplace.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfferSettings {
    /// The currency of an offer for a request with no budget (ISO 4217).
    pub currency: String,
    /// Hourly rate (minor units of `currency`) used when no qualified
    /// freelancer states a rate in the request's currency.
    pub reference_hourly_rate_minor: i64,
}

impl Default for OfferSettings {
    fn default() -> Self {
        Self { currency: "EUR".into(), reference_hourly_rate_minor: 6_000 }
    }
}

/// Which language model writes the brief (`off`: the rules do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// No language model: briefs and offers are made by rules.
    Off,
    /// SmolLM2-135M-Instruct (GGUF), in process, from `make models`.
    #[default]
    Local,
    /// An OpenAI-compatible `/v1/chat/completions` service.
    Openai,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmSettings {
    pub provider: LlmProvider,
    /// The local model's GGUF file.
    pub model_path: PathBuf,
    /// Base URL; `/chat/completions` is appended.
    pub base_url: String,
    #[serde(serialize_with = "redacted")]
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout_secs: u64,
    /// Attempts per call, retried with exponential backoff on timeouts, 429 and 5xx.
    pub max_attempts: u32,
    pub breaker_threshold: u32,
    pub breaker_cooldown_secs: u64,
    /// Tokens (read and written, retries included) that the language-model
    /// calls of one run may use together: the brief's first, then the
    /// offer's words from what is left; past it a step keeps the rules'
    /// words and says why.
    pub max_tokens_per_run: u32,
    /// The most tokens one answer may write.
    pub max_tokens_per_answer: u32,
    /// Prices per 1,000 tokens, to record each call's cost (unset: not recorded).
    pub input_price_per_1k: Option<f64>,
    pub output_price_per_1k: Option<f64>,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            provider: LlmProvider::Local,
            model_path: PathBuf::from("./models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"),
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            model: "gpt-4o-mini".into(),
            timeout_secs: 60,
            max_attempts: 3,
            breaker_threshold: 5,
            breaker_cooldown_secs: 30,
            max_tokens_per_run: 8000,
            max_tokens_per_answer: 1500,
            input_price_per_1k: None,
            output_price_per_1k: None,
        }
    }
}

/// Landing-page prototypes for requests that describe a site or an app.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrototypeSettings {
    /// Prototypes one client may have made in 24 hours; 0 makes none.
    pub per_client_per_day: u32,
}

impl Default for PrototypeSettings {
    fn default() -> Self {
        Self { per_client_per_day: 2 }
    }
}

/// Which speech-to-text provider transcribes voice recordings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TranscriptionProvider {
    /// Whisper base in-process through CTranslate2 (`make models` fetches it).
    #[default]
    Local,
    /// An OpenAI-compatible `/v1/audio/transcriptions` service.
    Openai,
    /// No transcription: recordings are kept and marked "unavailable".
    Off,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscriptionSettings {
    pub provider: TranscriptionProvider,
    /// The CTranslate2 Whisper folder `make models` fills.
    pub model_dir: PathBuf,
    /// Cores one transcription uses; 0 means all.
    pub threads: usize,
    /// 1 decodes greedily (fastest); 5 is Whisper's own default.
    pub beam_size: usize,
    /// ISO 639-1 codes of the languages clients speak: detection chooses
    /// among them. Empty means every language Whisper knows.
    pub languages: Vec<String>,
    /// Minutes of a recording transcribed (1–60); the rest is cut (and said so).
    pub max_minutes: u32,
    pub openai: OpenAiTranscriptionSettings,
}

impl Default for TranscriptionSettings {
    fn default() -> Self {
        Self {
            provider: TranscriptionProvider::Local,
            model_dir: PathBuf::from("./models/whisper-base"),
            threads: 0,
            beam_size: 1,
            languages: ["en", "de", "fr", "es", "it", "nl", "pt", "pl"].map(String::from).to_vec(),
            max_minutes: 10,
            openai: OpenAiTranscriptionSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAiTranscriptionSettings {
    /// Base URL; `/audio/transcriptions` is appended.
    pub base_url: String,
    #[serde(serialize_with = "redacted")]
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout_secs: u64,
    /// Attempts per recording, retried with exponential backoff on timeouts, 429 and 5xx.
    pub max_attempts: u32,
    /// Failed calls in a row that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses calls before one trial.
    pub breaker_cooldown_secs: u64,
}

impl Default for OpenAiTranscriptionSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            model: "whisper-1".into(),
            timeout_secs: 300,
            max_attempts: 3,
            breaker_threshold: 5,
            breaker_cooldown_secs: 30,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubmissionSettings {
    /// Largest submission request (all parts together).
    pub max_request_bytes: usize,
    /// Largest single file.
    pub max_file_bytes: usize,
    /// Attachments per submission (plus one voice recording).
    pub max_files: usize,
}

impl Default for SubmissionSettings {
    fn default() -> Self {
        Self {
            max_request_bytes: 50 * 1024 * 1024,
            max_file_bytes: 20 * 1024 * 1024,
            max_files: 10,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// A request taking longer than this is answered 408 and dropped.
    pub request_timeout_secs: u64,
    /// Origins allowed by CORS; empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace_secs: u64,
    /// Trust `X-Forwarded-For` for the client IP (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`
    /// (Prometheus: `authorization: {credentials: ...}`); unset, it is open
    /// to whoever reaches the bind address.
    #[serde(serialize_with = "redacted")]
    pub metrics_token: Option<SecretString>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            cors_origins: Vec::new(),
            shutdown_grace_secs: 10,
            trust_forwarded_for: false,
            metrics_token: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://path` or `postgres://…`; `DATABASE_URL` also sets it.
    pub url: Option<SecretUrl>,
    /// Pool size; 0 picks a default per backend.
    pub max_connections: u32,
    /// How long a request waits for a database connection before it is
    /// answered 503 with `Retry-After` (the database is down or full).
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, max_connections: 0, acquire_timeout_secs: 10 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// HMAC key for access tokens. Unset: a random key is created once in
    /// `data_dir/jwt.secret`. Set it (the same on every node) at scale.
    #[serde(serialize_with = "redacted")]
    pub jwt_secret: Option<SecretString>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Argon2id memory cost in KiB (OWASP 2023 baseline: 19 MiB).
    pub argon2_memory_kib: u32,
    /// Argon2id passes over memory.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Sustained requests per minute per client IP (unauthenticated and authenticated).
    pub per_ip_per_minute: u32,
    /// Sustained requests per minute per signed-in user.
    pub per_user_per_minute: u32,
    /// Sustained requests per minute per API key.
    pub per_api_key_per_minute: u32,
    /// Requests allowed in a burst above the sustained rate.
    pub burst: u32,
    /// Failed logins allowed per email and per IP in 15 minutes.
    pub login_failures_per_15_minutes: u32,
    /// Expensive requests (bias checks, embedding batches) one caller may
    /// have running at once; more are answered 429. Applies even when
    /// `enabled` is false: it guards the CPU, not fairness between clients.
    pub expensive_per_caller: usize,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            per_ip_per_minute: 600,
            per_user_per_minute: 600,
            per_api_key_per_minute: 1200,
            burst: 60,
            login_failures_per_15_minutes: 10,
            expensive_per_caller: 2,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// `redis://…`; when set, rate-limit counters are shared through Redis.
    /// `REDIS_URL` also sets it.
    pub url: Option<SecretUrl>,
    /// Prefix of every key fairgig writes, so several deployments can share a Redis.
    pub key_prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self { url: None, key_prefix: "fairgig".to_owned() }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

/// Traces over OTLP/HTTP (protobuf): off unless `otlp_endpoint` is set,
/// and then sent there only. A request's trace continues through the
/// queue into every step and notification delivery; logs carry `trace_id`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingSettings {
    /// The collector's base URL (`http://otel-collector:4318`); spans are
    /// posted to `/v1/traces` under it.
    pub otlp_endpoint: Option<String>,
    /// The spans' `service.name`; a deployment sets one per role
    /// (`fairgig-api`, `fairgig-worker`).
    pub service_name: String,
    /// The share of new traces kept, 0 to 1; a trace continued from a
    /// caller's `traceparent` follows the caller's decision.
    pub sample_ratio: f64,
}

impl Default for TracingSettings {
    fn default() -> Self {
        Self { otlp_endpoint: None, service_name: "fairgig".to_owned(), sample_ratio: 1.0 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` filter directives, e.g. `info,fairgig_server=debug`. `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Json, level: "info".to_owned() }
    }
}

/// A URL that may carry a password. `Debug` shows it with the password replaced,
/// so settings can be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any `user:password@` password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url_password(&self.0)
    }
}

/// Written out (`fairgig config check`) with its password replaced.
impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

/// A secret written out: whether it is set, never what it is.
fn redacted<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str(REDACTED),
        None => serializer.serialize_none(),
    }
}

/// What a set secret is written out as.
pub const REDACTED: &str = "[redacted]";

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretUrl)
    }
}

/// Replaces the password of `scheme://user:password@host…` with `***`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some((user, _password)) = userinfo.split_once(':') else {
        return url.to_owned();
    };
    format!("{scheme}://{user}:***{}", &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://app:s3cret@db:5432/fairgig"),
            "postgres://app:***@db:5432/fairgig"
        );
        assert_eq!(redact_url_password("sqlite://./data/fairgig.db"), "sqlite://./data/fairgig.db");
        assert_eq!(redact_url_password("redis://user@cache:6379"), "redis://user@cache:6379");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let mut settings = Settings::default();
        settings.database.url = Some(SecretUrl::new("postgres://app:hunter22@db/x"));
        settings.auth.jwt_secret = Some(SecretString::from("jwt-secret-value"));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
        assert!(!shown.contains("jwt-secret-value"), "{shown}");
    }

    #[test]
    fn default_database_is_a_sqlite_file_in_the_data_dir() {
        let settings = Settings::default();
        assert_eq!(settings.database_url(), "sqlite://./data/fairgig.db");
    }
}
