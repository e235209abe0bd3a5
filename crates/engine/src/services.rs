//! [`Engine`]: every service the use cases share, built once from settings.
//! The API and the portal hold one and call the use cases with it.

use std::sync::Arc;

use anyhow::Context;
use fairgig_ai::analyse::SkillIndex;
use fairgig_core::config::Settings;
use fairgig_pipeline::Pipeline;
use fairgig_store::objects::{ObjectError, ObjectStorage, S3Options};
use fairgig_store::{connect::ConnectOptions, Store};
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use crate::{
    accounts::{passwords::PasswordHasher, tokens::TokenIssuer},
    bias_rules::LiveBias,
    candidates::{JobIndex, ProfileIndex},
    embedding::EmbeddingService,
    limits::{expensive::ExpensiveWork, redis_store::RedisStore, LocalStore, Quotas, RateLimiter},
    matching::FairnessPolicy,
};

#[derive(Clone, Debug)]
pub struct Engine {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub passwords: PasswordHasher,
    pub tokens: TokenIssuer,
    /// Request quotas and sign-in lockouts, in-process or in Redis.
    pub limiter: RateLimiter,
    pub quotas: Quotas,
    /// A few expensive requests per caller at once.
    pub expensive: Arc<ExpensiveWork>,
    /// Uploaded files.
    pub storage: ObjectStorage,
    /// The steps every submission runs through.
    pub pipeline: Arc<Pipeline>,
    /// Wakes this process's worker when a use case enqueues work.
    pub wake: Arc<Notify>,
    /// The bias checker in use: the shipped packs and the champion
    /// organisation pack ([`crate::bias_rules`]).
    pub bias: Arc<LiveBias>,
    /// The skills list (ESCO-derived): analysis and suggestions as people type.
    pub skills: Arc<SkillIndex>,
    /// The embedding provider behind the database cache.
    pub embeddings: EmbeddingService,
    /// Speech to text for voice recordings.
    pub transcription: crate::transcription::TranscriptionService,
    /// The matcher's candidate index (built by `serve` and `worker`).
    pub profile_index: Arc<ProfileIndex>,
    /// The open jobs, for "jobs for me" (built by `serve`).
    pub job_index: Arc<JobIndex>,
    /// The open jobs' full-text index (built by `serve`).
    pub job_search: Arc<crate::search::JobSearch>,
    /// The public pages' full-text index (built by `serve`).
    pub page_search: Arc<crate::search::PageSearch>,
    /// The full-text index of freelancers open to work.
    pub profile_search: Arc<crate::search::ProfileSearch>,
    /// The deployment's fair re-ranking policy (`[fairness]`).
    pub fairness: Arc<FairnessPolicy>,
    /// Enqueues (and, in worker-running processes, sends) notifications.
    pub notifier: Arc<fairgig_notify::dispatch::Dispatcher>,
    /// Notified by this process's worker when a run ends: its outcome is
    /// announced at once instead of at the next poll.
    pub runs_finished: Arc<Notify>,
    /// The site footer's links per locale, briefly cached
    /// ([`crate::pages::footer`]).
    pub footer: Arc<crate::pages::footer::FooterCache>,
}

impl Engine {
    /// Connects to the database (without migrating) and builds every service.
    pub async fn build(settings: Settings) -> anyhow::Result<Engine> {
        let url = settings.database_url();
        let store = Store::connect(
            &url,
            ConnectOptions {
                max_connections: settings.database.max_connections,
                acquire_timeout: Some(std::time::Duration::from_secs(
                    settings.database.acquire_timeout_secs.max(1),
                )),
            },
        )
        .await
        .with_context(|| {
            format!("opening the database at {}", fairgig_core::config::redact_url_password(&url))
        })?;
        let secret = jwt_secret(&settings)?;
        let tokens = TokenIssuer::new(
            &secret,
            time::Duration::seconds(
                i64::try_from(settings.auth.access_token_ttl_secs).unwrap_or(900),
            ),
            time::Duration::days(i64::try_from(settings.auth.refresh_token_ttl_days).unwrap_or(30)),
        );
        orphan_grace(&settings)?;
        let passwords = password_hasher(&settings)?;
        let limiter = match &settings.redis.url {
            Some(url) => RateLimiter::Redis(
                RedisStore::connect(
                    url.expose(),
                    &format!("{}:ratelimit", settings.redis.key_prefix),
                )
                .await
                .with_context(|| format!("connecting to Redis at {}", url.redacted()))?,
            ),
            None => RateLimiter::Local(LocalStore::default()),
        };
        let storage = object_storage(&settings)
            .with_context(|| format!("opening object storage at {}", settings.storage_url()))?;
        let bias = LiveBias::new();
        let embeddings = EmbeddingService::new(&settings.embedding, store.clone());
        let transcription =
            crate::transcription::TranscriptionService::new(&settings.transcription);
        let index_dir = settings.data_dir.join("index");
        let search_dir = settings.data_dir.join("search");
        let profile_index =
            ProfileIndex::new(embeddings.model_id(), embeddings.dimensions(), Some(&index_dir));
        let job_index =
            JobIndex::new(embeddings.model_id(), embeddings.dimensions(), Some(&index_dir));
        let fairness = Arc::new(fairness_policy(&settings)?);
        let skills = Arc::new(SkillIndex::builtin());
        let pipeline = Arc::new(crate::steps::pipeline(crate::steps::StepServices {
            store: store.clone(),
            storage: storage.clone(),
            transcription: transcription.clone(),
            skills: Arc::clone(&skills),
            bias: Arc::clone(&bias),
            embeddings: embeddings.clone(),
            profiles: Arc::clone(&profile_index),
            fairness: Arc::clone(&fairness),
            offers: settings.offers.clone(),
            prototypes_per_day: settings.prototypes.per_client_per_day,
            llm: language_model(&settings.llm)?,
        }));
        let notifier = Arc::new(
            crate::notifications::dispatcher(store.clone(), &settings.notifications)
                .context("configuring notifications")?,
        );
        Ok(Engine {
            notifier,
            runs_finished: Arc::new(Notify::new()),
            footer: Arc::default(),
            storage,
            pipeline,
            skills,
            job_search: crate::search::JobSearch::new(Some(search_dir.join("jobs"))),
            page_search: crate::search::PageSearch::new(Some(search_dir.join("pages"))),
            profile_search: crate::search::ProfileSearch::new(Some(search_dir.join("profiles"))),
            wake: Arc::new(Notify::new()),
            bias,
            embeddings,
            transcription,
            profile_index,
            job_index,
            fairness,
            store,
            quotas: Quotas::from_settings(&settings.rate_limit),
            expensive: ExpensiveWork::new(settings.rate_limit.expensive_per_caller),
            settings: Arc::new(settings),
            passwords,
            tokens,
            limiter,
        })
    }
}

/// The language model the settings name, or `None` when it is off. A local
/// model whose file is missing is a start-up error that says how to fix it;
/// the file is loaded on the first answer.
fn language_model(
    settings: &fairgig_core::config::LlmSettings,
) -> anyhow::Result<Option<fairgig_llm::LanguageModel>> {
    use fairgig_core::config::LlmProvider;
    let timeout = std::time::Duration::from_secs(settings.timeout_secs.max(1));
    let max_tokens = settings.max_tokens_per_answer.max(1);
    let run_budget = settings.max_tokens_per_run.max(1);
    match settings.provider {
        LlmProvider::Off => Ok(None),
        LlmProvider::Local => {
            anyhow::ensure!(
                settings.model_path.is_file(),
                "the language model is missing ({} not found): run `make models`, point \
                 llm.model_path at it, or set llm.provider = \"off\"",
                settings.model_path.display()
            );
            let config = fairgig_llm_local::LocalConfig {
                model_path: settings.model_path.clone(),
                max_tokens,
                timeout,
            };
            let model = fairgig_llm_local::LocalChat::new(config);
            Ok(Some(fairgig_llm::LanguageModel::new(model, run_budget)))
        }
        LlmProvider::Openai => {
            let client = fairgig_llm::ChatClient::new(fairgig_llm::ChatConfig {
                base_url: settings.base_url.clone(),
                api_key: settings.api_key.clone(),
                model: settings.model.clone(),
                timeout,
                retry: fairgig_remote::RetryPolicy {
                    max_attempts: settings.max_attempts.max(1),
                    backoff_base: std::time::Duration::from_millis(200),
                    breaker_threshold: settings.breaker_threshold.max(1),
                    breaker_cooldown: std::time::Duration::from_secs(
                        settings.breaker_cooldown_secs,
                    ),
                },
                max_tokens,
                input_price_per_1k: settings.input_price_per_1k,
                output_price_per_1k: settings.output_price_per_1k,
            })
            .context("configuring the language model")?;
            Ok(Some(fairgig_llm::LanguageModel::new(client, run_budget)))
        }
    }
}

/// The object store `settings` name (the engine's, or a restore's).
pub fn object_storage(settings: &Settings) -> Result<ObjectStorage, ObjectError> {
    ObjectStorage::from_url(&settings.storage_url(), &s3_options(settings))
}

/// The S3 connection details `storage.s3_*` name (for the object store and
/// backups kept in a bucket).
pub fn s3_options(settings: &Settings) -> S3Options {
    S3Options {
        endpoint: settings.storage.s3_endpoint.clone(),
        region: settings.storage.s3_region.clone(),
        access_key_id: settings.storage.s3_access_key_id.clone(),
        secret_access_key: settings
            .storage
            .s3_secret_access_key
            .as_ref()
            .map(|secret| secret.expose_secret().to_owned()),
    }
}

/// What [`Engine::build`] would refuse in `settings`, found without
/// touching the database, the files or the network: a short configured JWT
/// key, password-hashing parameters, the fairness policy, an orphan-upload
/// grace of 0, a transcription length limit out of range. `fairgig config
/// check` asks it.
pub fn check_settings(settings: &Settings) -> anyhow::Result<()> {
    configured_jwt_secret(settings)?;
    password_hasher(settings)?;
    fairness_policy(settings)?;
    orphan_grace(settings)?;
    crate::transcription::check_limits(&settings.transcription)?;
    Ok(())
}

/// An orphan-upload grace of 0 would delete the files of a submission
/// still committing.
fn orphan_grace(settings: &Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.storage.orphan_grace_secs > 0,
        "storage.orphan_grace_secs must be at least 1 (0 would delete uploads whose submission \
         is still being stored; the default is 3600)"
    );
    Ok(())
}

fn password_hasher(settings: &Settings) -> anyhow::Result<PasswordHasher> {
    PasswordHasher::new(&settings.auth).context("configuring password hashing")
}

fn fairness_policy(settings: &Settings) -> anyhow::Result<FairnessPolicy> {
    FairnessPolicy::from_settings(&settings.fairness)
        .context("invalid fairness policy ([fairness] settings)")
}

/// The JWT key set in the configuration, if one is (at least 32 bytes).
fn configured_jwt_secret(settings: &Settings) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(secret) = &settings.auth.jwt_secret else { return Ok(None) };
    let secret = secret.expose_secret().as_bytes().to_vec();
    anyhow::ensure!(secret.len() >= 32, "auth.jwt_secret must be at least 32 bytes");
    Ok(Some(secret))
}

/// The configured JWT key, or one generated once and kept in `data_dir`
/// (mode 0600) so that restarts keep sessions valid.
fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured_jwt_secret(settings)? {
        return Ok(secret);
    }
    let path = settings.data_dir.join("jwt.secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        anyhow::ensure!(
            existing.len() >= 64,
            "{} is too short; delete it to regenerate",
            path.display()
        );
        return Ok(existing.as_bytes().to_vec());
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
