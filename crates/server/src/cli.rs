//! The `fairgig` command line. Scripts drive it, so the documented forms
//! (`user create --email E --name N --role R --password P`, …) are stable.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand};
use fairgig_core::{
    api_key::Scope,
    audit::{Actor, RequestContext},
    config::{LogFormat, Settings},
    ids::ApiKeyId,
    user::{Email, Role, User},
};

use fairgig_engine::{
    accounts::{self, AccountInput},
    background::{self, Duties},
    Engine,
};

use crate::startup::{shutdown_signal, ServeRole, Server};

#[derive(Debug, Parser)]
#[command(
    name = "fairgig",
    version,
    about = "Fair, AI-assisted freelance work: one binary for the whole platform."
)]
pub struct Cli {
    /// Configuration file (default: ./fairgig.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log format: json (default) or pretty.
    #[arg(long, global = true, value_parser = ["json", "pretty"])]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and, unless --role api, the pipeline workers (migrates first).
    Serve(ServeArgs),
    /// Run pipeline workers only (scale-out: pair with `serve --role api`).
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Prune finished records past their retention period now (the
    /// scheduled job does it every `retention.every_hours`).
    Prune,
    /// Back up the deployment (its database and object store) into an
    /// empty folder or S3 prefix, with a manifest of checksums; `backup
    /// verify PLACE` checks one.
    Backup(BackupArgs),
    /// Restore a verified backup into an empty deployment (no SQLite file
    /// yet, or a PostgreSQL database without tables).
    Restore {
        /// A folder, or s3://BUCKET/PREFIX (reached with storage.s3_*).
        #[arg(long, value_name = "PLACE")]
        from: String,
    },
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys (`apikey` is kept as an alias for older scripts).
    #[command(subcommand, alias = "apikey")]
    ApiKey(ApiKeyCommand),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Rankers: train from recorded feedback.
    #[command(subcommand)]
    Model(ModelCommand),
    /// The platform's pages: export them as a static site, import Markdown.
    #[command(subcommand)]
    Content(ContentCommand),
    /// Load the demo marketplace (300 freelancers, 40 job posts from ESCO)
    /// into a fresh database, run the posts through the pipeline and print
    /// their top matches with explanations and the fairness report.
    Demo {
        /// Job posts whose matches are printed.
        #[arg(long, default_value_t = 3)]
        show: usize,
    },
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Run a benchmark and print its figures.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Measure quality on third-party data and print it next to its goal.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Print the version and exit.
    Version,
    /// Ask `url` (default: `/readyz` of this configuration's `server.bind`)
    /// and exit 0 on a 2xx answer within 5 s, else 1: a container's health
    /// check needs no curl.
    Probe { url: Option<String> },
    /// Print a shell completion script: `fairgig completions bash >
    /// /etc/bash_completion.d/fairgig` (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `fairgig man | man -l -`.
    Man,
    /// The configuration: check what is in force, or print every key.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration file and environment as `serve` would
    /// (short of connecting) and print the configuration in force as TOML,
    /// secrets redacted (exit 1 if invalid).
    Check,
    /// Print every key with its default as TOML (unset keys as comments):
    /// a starting `fairgig.toml`, the same as `fairgig.example.toml`.
    Example,
}

#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Write the published pages as a static site into an empty folder:
    /// pages per locale, their Markdown, tag indexes, Atom feeds,
    /// sitemap.xml, robots.txt and llms.txt; links between files relative.
    Export {
        dir: std::path::PathBuf,
        /// The site's address, for the sitemap and feeds (default: the
        /// server's public_url).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Load Markdown files with YAML front matter (every `.md` under DIR)
    /// as pages: new ones created, changed ones saved as a new version.
    Import { dir: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Train a ranker on the recorded lists and feedback (oldest part) and
    /// compare it with v1 on the newest part.
    Train {
        /// Share of the newest lists held out for evaluation.
        #[arg(long, default_value_t = 0.2)]
        held_out: f64,
    },
    /// Versions of a kind with their aliases.
    List {
        #[arg(long, value_enum, default_value_t = RegistryKind::Ranker)]
        kind: RegistryKind,
    },
    /// One version in full: parameters, metrics, lineage (JSON).
    Show {
        /// A version as `model list` prints it.
        version: String,
    },
    /// Promote the kind's challenger if it passes its gate (exit 1 if not).
    Promote {
        #[arg(long, value_enum, default_value_t = RegistryKind::Ranker)]
        kind: RegistryKind,
    },
    /// Restore the kind's previous champion.
    Rollback {
        #[arg(long, value_enum, default_value_t = RegistryKind::Ranker)]
        kind: RegistryKind,
    },
    /// Score the serving embedder on an STS-B file (tab-separated pairs with
    /// human scores, e.g. the benchmark's sts-dev.csv) and record the
    /// Spearman correlation in its registry version.
    EvaluateEmbedder {
        /// The STS-B file.
        #[arg(long)]
        sts: std::path::PathBuf,
    },
    /// Register an organisation bias rule pack (TOML) as challenger and
    /// print its evaluation and the gate's verdict.
    RegisterRules {
        /// The pack file.
        file: std::path::PathBuf,
    },
}

/// The model registry's kinds, as the CLI names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RegistryKind {
    Ranker,
    #[value(name = "bias_rules")]
    BiasRules,
    Embedder,
}

impl RegistryKind {
    fn name(self) -> &'static str {
        match self {
            Self::Ranker => fairgig_engine::training::RANKER,
            Self::BiasRules => fairgig_engine::bias_rules::BIAS_RULES,
            Self::Embedder => fairgig_engine::embedding_registry::EMBEDDER,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides server.bind).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<std::net::SocketAddr>,
    /// `all`: API and workers; `api`: API only.
    #[arg(long, value_enum, default_value = "all")]
    pub role: ServeRole,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Serve `/healthz`, `/readyz` and `/metrics` here (for probes and
    /// Prometheus); nothing is served without it.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account of any role.
    Create {
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// client, freelancer or admin.
        #[arg(long)]
        role: Role,
        #[arg(long)]
        password: String,
        /// Region code, e.g. DE or US-CA.
        #[arg(long)]
        region: Option<String>,
    },
    /// List accounts, oldest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Change an account's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
    /// Disable an account; its sessions and keys stop working.
    Disable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for a user and print it on stdout (shown only this once).
    Create {
        #[arg(long)]
        email: String,
        /// read, write or admin; repeat for several (default: read and write).
        #[arg(long = "scope")]
        scopes: Vec<Scope>,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the key expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Revoke a user's key by id.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        id: ApiKeyId,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Queue throughput (1, 2, 8 workers) and 40-step chain latency, on a
    /// fresh SQLite database and, with --postgres, a fresh PostgreSQL one;
    /// with --amqp, whole runs per second and the chain through RabbitMQ too.
    Queue {
        /// Tasks per throughput measurement.
        #[arg(long, default_value_t = 5000)]
        tasks: usize,
        /// A PostgreSQL server where a scratch database may be created
        /// (default: $FAIRGIG_TEST_POSTGRES_URL when set).
        #[arg(long, env = "FAIRGIG_TEST_POSTGRES_URL")]
        postgres: Option<String>,
        /// A RabbitMQ to compare the database queue with, under a scratch
        /// queue prefix (default: $FAIRGIG_TEST_AMQP_URL when set).
        #[arg(long, env = "FAIRGIG_TEST_AMQP_URL")]
        amqp: Option<String>,
    },
    /// Bias-check throughput (MB/s, one core) over a synthetic job-ad corpus.
    Bias {
        #[arg(long, default_value_t = 20)]
        megabytes: usize,
    },
    /// Local speech-to-text model: real-time factor on espeak-ng speech,
    /// load time, peak memory and word error rate.
    Asr {
        /// Timed transcriptions (the median is reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Local language model: brief latency, tokens/s, answers that passed
    /// their checks, load time and peak memory.
    Llm {
        /// Rounds over the fixed requests.
        #[arg(long, default_value_t = 2)]
        rounds: usize,
    },
    /// Local embedding model: sentences/s in batches of 64 short and long texts.
    Embed {
        /// Timed batches of each length.
        #[arg(long, default_value_t = 20)]
        batches: usize,
    },
    /// Vector index: build time, memory, the calibrated search width,
    /// queries/s on one core and recall@10, on 384-d unit vectors.
    Index {
        /// Index sizes to measure.
        #[arg(long, value_delimiter = ',', default_value = "100000")]
        points: Vec<usize>,
        /// Vectors to measure on: `random` (uniform on the sphere, the worst
        /// case), `clustered` (a mixture of topics, like embedded texts) and
        /// `embedded` (profile-like texts through the local model; embedding
        /// them takes minutes per 100,000).
        #[arg(long, value_delimiter = ',', default_value = "random,clustered")]
        data: Vec<fairgig_bench::IndexVectors>,
        /// Links per node (HNSW's M; default: the index's own).
        #[arg(long)]
        connections: Option<usize>,
        /// Candidate list width while adding (default: the index's own).
        #[arg(long)]
        ef_construction: Option<usize>,
    },
    /// Match latency (p50/p99, top 10, fair re-rank) and training time for
    /// 100,000 feedback events.
    Match {
        #[arg(long, default_value_t = 10_000)]
        profiles: usize,
        #[arg(long, default_value_t = 50)]
        queries: usize,
    },
    /// Notification deliveries per second to a local webhook receiver (and
    /// SMTP server, when given), and recorded → received latency p50/p95.
    Notify {
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// An SMTP server to measure too (default: $FAIRGIG_TEST_SMTP_URL when set).
        #[arg(long, env = "FAIRGIG_TEST_SMTP_URL")]
        smtp: Option<String>,
    },
    /// Server time of the portal's heaviest pages (dashboard, a request's
    /// results, a job's page with live matches) at a steady rate.
    Portal {
        #[arg(long, default_value_t = 10_000)]
        jobs: usize,
        #[arg(long, default_value_t = 100_000)]
        profiles: usize,
        /// Requests per second to each page.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Searching open jobs by words and meaning, with and without filters:
    /// index build time and memory, p50/p99 per query.
    Search {
        #[arg(long, default_value_t = 100_000)]
        jobs: usize,
        #[arg(long, default_value_t = 100_000)]
        profiles: usize,
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
    /// Submission of a 2-page PDF to `analyse` done: p50/p95 latency.
    Pipeline {
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Job search relevance on ESCO occupations: nDCG@10 for words alone,
    /// meaning alone and the fused ranking.
    Search {
        /// The folder with ESCO v1.1.1's classification and relations zips.
        #[arg(long, default_value = "../shared/data/skills/esco-v1.1.1")]
        esco: std::path::PathBuf,
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
    /// Matching relevance on ESCO occupations, both directions: nDCG@10,
    /// P@10 and R@10 of semantic similarity, BM25, the champion and a
    /// challenger learned on the train split, with and without fair
    /// re-ranking.
    Matching {
        /// The folder with ESCO v1.1.1's classification and relations zips.
        #[arg(long, default_value = "../shared/data/skills/esco-v1.1.1")]
        esco: std::path::PathBuf,
        /// Most test (and train) queries per direction.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Also write the test lists' features and grades here: the
        /// relevance set the promotion gate ships with
        /// (crates/engine/data/relevance-set.tsv).
        #[arg(long)]
        write_relevance_set: Option<std::path::PathBuf>,
        /// Also write every pool's features and grades and every skill
        /// label's embedding into this folder, for studying a feature
        /// offline (tools/matching_study.py).
        #[arg(long)]
        write_pools: Option<std::path::PathBuf>,
    },
    /// The bias checker per protected ground on a labelled set of job-ad
    /// sentences: precision and recall next to the floors a test holds.
    Bias {
        /// Also print every sentence judged differently from its label.
        #[arg(long)]
        mistakes: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    /// A folder (created; must be empty) or s3://BUCKET/PREFIX (empty;
    /// reached with storage.s3_* or the AWS_* variables).
    #[arg(long, value_name = "PLACE")]
    to: Option<String>,
    #[command(subcommand)]
    command: Option<BackupCommand>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Check every file of a backup against its manifest; exit 1 naming
    /// each difference.
    Verify {
        /// A folder or s3://BUCKET/PREFIX.
        place: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 0 when intact, 1 naming each broken entry.
    Verify,
}

impl Cli {
    pub fn log_format(&self, settings: &Settings) -> LogFormat {
        match self.log_format.as_deref() {
            Some("pretty") => LogFormat::Pretty,
            Some(_) => LogFormat::Json,
            None => settings.log.format,
        }
    }
}

/// Runs a parsed command. Returns the process exit code.
pub async fn run(cli: Cli, mut settings: Settings) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(args) => {
            if let Some(bind) = args.bind {
                settings.server.bind = bind;
            }
            let app = Server::build(settings, args.role).await?;
            tracing::info!(address = %app.local_addr()?, role = ?args.role, "fairgig listening");
            app.run_until_stopped(shutdown_signal()).await?;
            Ok(0)
        }
        Command::Worker(args) => {
            let metrics = crate::metrics::prometheus_handle();
            let engine = ready_engine(settings).await?;
            background::prepare(&engine).await?;
            let stop = tokio_util::sync::CancellationToken::new();
            if let Some(bind) = args.bind {
                let state = crate::state::AppState { engine: engine.clone(), metrics };
                let address = crate::startup::serve_probes(state, bind, stop.clone()).await?;
                tracing::info!(%address, "worker probes and metrics listening");
            }
            let tasks = background::start(&engine, Duties::Worker, &stop).await;
            shutdown_signal().await;
            background::stop_and_join(tasks, &stop).await;
            Ok(0)
        }
        Command::Demo { show } => {
            // Forty job posts are the marketplace's to match; their briefs
            // come from the rules so the demo takes seconds, not minutes
            // (submissions made after `make run` get the model's).
            let mut settings = settings;
            settings.llm.provider = fairgig_core::config::LlmProvider::Off;
            let engine = ready_engine(settings).await?;
            engine.embeddings.start().await.context("starting the embedding provider")?;
            let bars = crate::progress::Bars::new("demo");
            fairgig_engine::demo::run(&engine, show, &bars).await?;
            drop(bars);
            Ok(0)
        }
        Command::Migrate => {
            // The database alone: no secret file, no Redis, no SMTP, no model.
            let options = fairgig_store::connect::ConnectOptions {
                max_connections: settings.database.max_connections,
                acquire_timeout: Some(std::time::Duration::from_secs(
                    settings.database.acquire_timeout_secs.max(1),
                )),
            };
            let store = fairgig_store::Store::connect(&settings.database_url(), options)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("migrating the database")?;
            println!("database is up to date");
            Ok(0)
        }
        Command::User(command) => run_user(command, settings).await,
        Command::ApiKey(command) => run_api_key(command, settings).await,
        Command::Model(command) => {
            let engine = ready_engine(settings).await?;
            let store = &engine.store;
            match command {
                ModelCommand::Train { held_out } => {
                    fairgig_engine::training::train_command(store, held_out).await?
                }
                ModelCommand::List { kind: RegistryKind::Ranker } => {
                    fairgig_engine::training::list_command(store).await?
                }
                ModelCommand::List { kind } => {
                    fairgig_engine::training::list_kind_command(store, kind.name()).await?
                }
                ModelCommand::Show { version } => {
                    if !fairgig_engine::training::show_command(store, &version).await? {
                        eprintln!("no model version {version} (see `fairgig model list --kind …`)");
                        return Ok(1);
                    }
                }
                ModelCommand::Promote { kind: RegistryKind::Ranker } => {
                    if !fairgig_engine::training::promote_command(store).await? {
                        return Ok(1);
                    }
                }
                ModelCommand::Promote { kind: RegistryKind::BiasRules } => {
                    let promotion = fairgig_engine::bias_rules::promote_pack(
                        store,
                        &engine.storage,
                        &engine.bias,
                        fairgig_core::audit::Actor::Cli,
                    )
                    .await?;
                    promotion.reasons.iter().for_each(|reason| println!("{reason}"));
                    let outcome =
                        if promotion.promoted { "is the champion" } else { "stays challenger" };
                    println!("{} {outcome}", promotion.version);
                    if !promotion.promoted {
                        return Ok(1);
                    }
                }
                ModelCommand::Rollback { kind: RegistryKind::Ranker } => {
                    fairgig_engine::training::rollback_command(store).await?
                }
                ModelCommand::Rollback { kind: RegistryKind::BiasRules } => {
                    let (_, restored) = fairgig_engine::bias_rules::rollback_pack(
                        store,
                        &engine.storage,
                        &engine.bias,
                        fairgig_core::audit::Actor::Cli,
                    )
                    .await?;
                    println!(
                        "in use: {}",
                        restored.as_deref().unwrap_or("the shipped packs alone")
                    );
                }
                ModelCommand::Promote { kind: RegistryKind::Embedder }
                | ModelCommand::Rollback { kind: RegistryKind::Embedder } => {
                    eprintln!("the embedder is chosen by configuration ([embedding]); the registry records each one that served");
                    return Ok(1);
                }
                ModelCommand::EvaluateEmbedder { sts } => {
                    let text = std::fs::read_to_string(&sts)
                        .with_context(|| format!("reading {}", sts.display()))?;
                    let pairs = fairgig_embed::quality::parse_sts(&text)
                        .with_context(|| format!("{} is no STS-B file", sts.display()))?;
                    let provider =
                        format!("{:?}", engine.settings.embedding.provider).to_lowercase();
                    let source = sts.file_name().map_or_else(
                        || sts.display().to_string(),
                        |name| name.to_string_lossy().into_owned(),
                    );
                    let scored = fairgig_engine::embedding_registry::evaluate_serving(
                        store,
                        &engine.embeddings,
                        &provider,
                        &pairs,
                        &source,
                        fairgig_core::audit::Actor::Cli,
                    )
                    .await?;
                    println!(
                        "{}: Spearman {:.2} on {} pairs of {source}; recorded in the registry",
                        scored.version, scored.spearman, scored.pairs
                    );
                }
                ModelCommand::RegisterRules { file } => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let registered = fairgig_engine::bias_rules::register_pack(
                        store,
                        &engine.storage,
                        &text,
                        "fairgig model register-rules",
                    )
                    .await?;
                    let e = &registered.evaluation;
                    println!(
                        "registered {} ({} rules) as challenger; on {} reference texts its rules found {}",
                        registered.version, registered.rules, e.texts, e.findings
                    );
                    for reason in fairgig_engine::bias_rules::judge(e).1 {
                        println!("{reason}");
                    }
                }
            }
            Ok(0)
        }
        Command::Content(ContentCommand::Export { dir, base_url }) => {
            let engine = ready_engine(settings).await?;
            let base = base_url.unwrap_or_else(|| engine.settings.notifications.public_url.clone());
            let exported = fairgig_engine::pages::export::export(&engine, &dir, &base).await?;
            println!(
                "exported {} pages in {} locales ({}) to {}: {} files",
                exported.pages,
                exported.locales.len(),
                exported.locales.join(", "),
                dir.display(),
                exported.files
            );
            Ok(0)
        }
        Command::Content(ContentCommand::Import { dir }) => {
            let engine = ready_engine(settings).await?;
            let imported = fairgig_engine::pages::import::import(&engine, &dir).await?;
            println!(
                "imported from {}: {} created, {} updated (a new version), {} unchanged",
                dir.display(),
                imported.created,
                imported.updated,
                imported.unchanged
            );
            Ok(0)
        }
        Command::Prune => {
            let engine = ready_engine(settings).await?;
            let pruned =
                fairgig_engine::retention::prune_now(&engine.store, &engine.settings.retention)
                    .await?;
            println!(
                "pruned: {} notifications, {} sessions/tokens/links, {} embedding cache entries, \
                 {} feedback events, {} step outputs (the audit log is kept)",
                pruned.notifications,
                pruned.sessions,
                pruned.embedding_cache,
                pruned.feedback,
                pruned.step_outputs
            );
            Ok(0)
        }
        Command::Backup(BackupArgs { command: Some(BackupCommand::Verify { place }), .. }) => {
            let location = fairgig_engine::backup::Location::parse(&place, &settings)?;
            let bars = crate::progress::Bars::new("verify");
            let verified = fairgig_engine::backup::verify(&location, &bars).await;
            drop(bars);
            match verified {
                Ok(manifest) => {
                    println!(
                        "backup intact: {} files ({} objects), written {} by fairgig {}",
                        manifest.files.len(),
                        manifest.objects(),
                        manifest.created_at,
                        manifest.fairgig
                    );
                    Ok(0)
                }
                Err(err) => {
                    println!("backup NOT intact: {err}");
                    Ok(1)
                }
            }
        }
        Command::Backup(BackupArgs { to: Some(place), command: None }) => {
            let location = fairgig_engine::backup::Location::parse(&place, &settings)?;
            let engine = ready_engine(settings).await?;
            let bars = crate::progress::Bars::new("backup");
            let manifest = fairgig_engine::backup::backup(&engine, &location, &bars).await?;
            drop(bars);
            println!(
                "backed up to {}: the database and {} objects ({} files, manifest.json)",
                location.describe(),
                manifest.objects(),
                manifest.files.len()
            );
            Ok(0)
        }
        Command::Backup(BackupArgs { to: None, command: None }) => {
            anyhow::bail!(
                "say where: fairgig backup --to DIR|s3://BUCKET/PREFIX (or fairgig backup verify \
                 PLACE)"
            )
        }
        Command::Restore { from } => {
            let location = fairgig_engine::backup::Location::parse(&from, &settings)?;
            let bars = crate::progress::Bars::new("restore");
            let manifest = fairgig_engine::backup::restore(&settings, &location, &bars).await?;
            drop(bars);
            println!(
                "restored the database and {} objects from {} (written {}); \
                 search and candidate indexes are rebuilt on start",
                manifest.objects(),
                location.describe(),
                manifest.created_at
            );
            Ok(0)
        }
        Command::Audit(AuditCommand::Verify) => {
            let engine = ready_engine(settings).await?;
            let verification = engine.store.verify_audit().await?;
            for problem in &verification.problems {
                println!("BROKEN: {problem}");
            }
            if verification.is_intact() {
                println!("audit log intact: {} entries", verification.entries_checked);
                Ok(0)
            } else {
                println!(
                    "audit log NOT intact: {} problem(s) in {} entries",
                    verification.problems.len(),
                    verification.entries_checked
                );
                Ok(1)
            }
        }
        Command::Bench(BenchCommand::Queue { tasks, postgres, amqp }) => {
            fairgig_bench::queue(tasks, postgres, amqp).await?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Bias { megabytes }) => {
            fairgig_bench::bias(megabytes)?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Asr { rounds }) => {
            fairgig_bench::asr::run(&settings, rounds)?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Llm { rounds }) => {
            fairgig_bench::llm::run(&settings, rounds).await?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Embed { batches }) => {
            fairgig_bench::embed(&settings, batches.max(1))?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Index { points, data, connections, ef_construction }) => {
            let defaults = fairgig_embed::index::IndexConfig::new(384);
            let config = fairgig_embed::index::IndexConfig {
                max_connections: connections.unwrap_or(defaults.max_connections).max(2),
                ef_construction: ef_construction.unwrap_or(defaults.ef_construction).max(1),
                ..defaults
            };
            let bars = crate::progress::Bars::new("bench index");
            fairgig_bench::index(&settings, &points, &data, &config, &bars)?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Match { profiles, queries }) => {
            fairgig_bench::matching(profiles.max(1), queries.max(1)).await?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Notify { count, smtp }) => {
            fairgig_bench::notify::run(&settings, count.max(1), smtp).await?;
            Ok(0)
        }
        Command::Eval(EvalCommand::Search { esco, queries }) => {
            fairgig_bench::eval::search_relevance(&settings, &esco, queries.max(1)).await?;
            Ok(0)
        }
        Command::Eval(EvalCommand::Bias { mistakes }) => {
            fairgig_bench::eval::bias_grounds(mistakes)?;
            Ok(0)
        }
        Command::Eval(EvalCommand::Matching {
            esco,
            queries,
            write_relevance_set,
            write_pools,
        }) => {
            let outputs = fairgig_bench::eval::matching::Outputs {
                relevance_set: write_relevance_set.as_deref(),
                pools: write_pools.as_deref(),
            };
            fairgig_bench::eval::matching_relevance(&settings, &esco, queries.max(1), outputs)
                .await?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Search { jobs, profiles, queries }) => {
            fairgig_bench::search::run(&settings, jobs.max(1), profiles, queries.max(1)).await?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Portal { jobs, profiles, rate, seconds }) => {
            crate::bench::run(&settings, jobs.max(1), profiles.max(1), rate, seconds.max(1))
                .await?;
            Ok(0)
        }
        Command::Bench(BenchCommand::Pipeline { runs }) => {
            fairgig_bench::pipeline(&settings, runs.max(1)).await?;
            Ok(0)
        }
        Command::Openapi => {
            println!("{}", crate::routes::openapi().to_pretty_json()?);
            Ok(0)
        }
        Command::Version => {
            println!("fairgig {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Command::Probe { url } => {
            let url = url.unwrap_or_else(|| {
                let bind = settings.server.bind;
                let host = if bind.ip().is_unspecified() {
                    std::net::IpAddr::from([127, 0, 0, 1])
                } else {
                    bind.ip()
                };
                format!("http://{}/readyz", std::net::SocketAddr::new(host, bind.port()))
            });
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .context("building the probe's HTTP client")?;
            match client.get(&url).send().await {
                Ok(answer) if answer.status().is_success() => Ok(0),
                Ok(answer) => {
                    eprintln!("{url}: {}", answer.status());
                    Ok(1)
                }
                Err(err) => {
                    eprintln!("{url}: {err}");
                    Ok(1)
                }
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "fairgig", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(0)
        }
        Command::Config(ConfigCommand::Example) => {
            print!("{}", crate::settings::example()?);
            Ok(0)
        }
        Command::Config(ConfigCommand::Check) => {
            // Reading the file and environment already passed (main); the
            // engine refuses the rest of what `serve` would refuse.
            if let Err(err) = fairgig_engine::check_settings(&settings) {
                eprintln!("invalid configuration: {err:#}");
                return Ok(1);
            }
            print!("{}", crate::settings::to_toml(&settings)?);
            eprintln!("configuration is valid");
            Ok(0)
        }
    }
}

/// State for a one-shot command on a migrated database.
async fn ready_engine(settings: Settings) -> anyhow::Result<Engine> {
    let engine = Engine::build(settings).await?;
    engine.store.migrate().await.context("migrating the database")?;
    Ok(engine)
}

async fn user_by_email(engine: &Engine, email: &str) -> anyhow::Result<User> {
    let email = Email::parse(email)?;
    engine
        .store
        .find_user_by_email(&email)
        .await?
        .with_context(|| format!("no user with email {email}"))
}

fn cli_context() -> RequestContext {
    RequestContext {
        user_agent: Some(format!("fairgig-cli/{}", env!("CARGO_PKG_VERSION"))),
        ..Default::default()
    }
}

async fn run_user(command: UserCommand, settings: Settings) -> anyhow::Result<i32> {
    let engine = ready_engine(settings).await?;
    match command {
        UserCommand::Create { email, name, role, password, region } => {
            let input = AccountInput {
                email: &email,
                display_name: &name,
                password: &password,
                role,
                region: region.as_deref(),
            };
            let user = accounts::create_user(&engine, input, Actor::Cli, cli_context())
                .await
                .map_err(explain)?;
            println!("{}", user.id);
        }
        UserCommand::List { limit } => {
            let mut after = None;
            let mut shown = 0;
            while shown < limit {
                let page = engine.store.list_users(after, (limit - shown).min(200)).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                for user in &page {
                    let status = if user.is_disabled() { "disabled" } else { "active" };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        user.id, user.email, user.role, status, user.display_name
                    );
                }
                shown += u32::try_from(page.len()).unwrap_or(u32::MAX);
            }
        }
        UserCommand::SetRole { email, role } => {
            let user = user_by_email(&engine, &email).await?;
            accounts::set_role(&engine, user.id, role, Actor::Cli, cli_context())
                .await
                .map_err(explain)?;
            println!("{email} is now {role}");
        }
        UserCommand::Disable { email } => {
            let user = user_by_email(&engine, &email).await?;
            accounts::disable_user(&engine, user.id, Actor::Cli, cli_context())
                .await
                .map_err(explain)?;
            println!("{email} is disabled");
        }
    }
    Ok(0)
}

async fn run_api_key(command: ApiKeyCommand, settings: Settings) -> anyhow::Result<i32> {
    let engine = ready_engine(settings).await?;
    match command {
        ApiKeyCommand::Create { email, scopes, name, expires_in_days } => {
            let user = user_by_email(&engine, &email).await?;
            let scopes = if scopes.is_empty() { Scope::DEFAULT.to_vec() } else { scopes };
            let expires_at = expires_in_days.map(|days| {
                time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days))
            });
            let created = accounts::create_api_key(
                &engine,
                &user,
                &name,
                scopes,
                expires_at,
                Actor::Cli,
                cli_context(),
            )
            .await
            .map_err(explain)?;
            eprintln!(
                "key {} for {email} (id {}); it is shown only now",
                created.key.prefix, created.key.id
            );
            println!("{}", created.api_key);
        }
        ApiKeyCommand::Revoke { email, id } => {
            let user = user_by_email(&engine, &email).await?;
            accounts::revoke_api_key(&engine, user.id, id, Actor::Cli, cli_context())
                .await
                .map_err(explain)?;
            println!("key {id} revoked");
        }
    }
    Ok(0)
}

/// API errors as plain sentences for the terminal.
fn explain(err: fairgig_engine::Error) -> anyhow::Error {
    match err {
        fairgig_engine::Error::Refused { message, field: Some(field), .. } => {
            anyhow::anyhow!("{field}: {message}")
        }
        fairgig_engine::Error::Refused { message, .. } => anyhow::anyhow!(message),
        other => anyhow::Error::new(other),
    }
}
