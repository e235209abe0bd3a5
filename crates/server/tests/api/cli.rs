//! The command line, as scripts use it.

use std::process::Output;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{fairgig, spawn_app};

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "fairgig failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn users_created_on_the_command_line_can_sign_in() {
    let app = spawn_app().await;
    let id = stdout(
        &fairgig(
            &app,
            &[
                "user",
                "create",
                "--email",
                "ops@example.org",
                "--name",
                "Ops",
                "--role",
                "admin",
                "--password",
                "a long password",
            ],
        )
        .await,
    );
    assert!(id.parse::<uuid::Uuid>().is_ok(), "prints the new id: {id}");
    let login = app.login("ops@example.org", "a long password").await;
    assert_eq!(login.status(), StatusCode::OK);

    let listed = stdout(&fairgig(&app, &["user", "list"]).await);
    assert!(listed.contains("ops@example.org\tadmin\tactive"), "{listed}");

    stdout(
        &fairgig(&app, &["user", "set-role", "--email", "ops@example.org", "--role", "freelancer"])
            .await,
    );
    stdout(&fairgig(&app, &["user", "disable", "--email", "ops@example.org"]).await);
    let listed = stdout(&fairgig(&app, &["user", "list"]).await);
    assert!(listed.contains("ops@example.org\tfreelancer\tdisabled"), "{listed}");
    assert_eq!(
        app.login("ops@example.org", "a long password").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn api_keys_printed_by_the_command_line_work_against_the_api() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let key = stdout(
        &fairgig(&app, &["api-key", "create", "--email", "ada@example.org", "--scope", "read"])
            .await,
    );
    assert!(key.starts_with("fg_"), "only the key on stdout: {key}");
    let me: Value = app.get_as("/api/v1/me", &key).await.json().await.expect("json");
    assert_eq!(me["id"], user.id.to_string());

    let keys: Value =
        app.get_as("/api/v1/me/api-keys", &user.access).await.json().await.expect("json");
    let id = keys[0]["id"].as_str().expect("id").to_owned();
    stdout(&fairgig(&app, &["api-key", "revoke", "--email", "ada@example.org", "--id", &id]).await);
    assert_eq!(app.get_as("/api/v1/me", &key).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn command_line_mistakes_fail_with_a_reason() {
    let app = spawn_app().await;
    let bad_role = fairgig(
        &app,
        &[
            "user",
            "create",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--role",
            "root",
            "--password",
            "long enough",
        ],
    )
    .await;
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("role"));

    let short_password = fairgig(
        &app,
        &[
            "user",
            "create",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--role",
            "client",
            "--password",
            "short",
        ],
    )
    .await;
    assert!(!short_password.status.success());
    assert!(String::from_utf8_lossy(&short_password.stderr).contains("password"));

    // `apikey` is the old spelling, kept as an alias.
    let unknown_user = fairgig(&app, &["apikey", "create", "--email", "nobody@example.org"]).await;
    assert!(!unknown_user.status.success());
    assert!(String::from_utf8_lossy(&unknown_user.stderr).contains("no user with email"));
}

#[tokio::test]
async fn help_and_version_are_there_at_every_level() {
    let app = spawn_app().await;
    assert!(stdout(&fairgig(&app, &["version"]).await).starts_with("fairgig "));
    for args in [
        &["--help"][..],
        &["user", "--help"],
        &["user", "create", "--help"],
        &["api-key", "--help"],
        &["audit", "verify", "--help"],
    ] {
        let help = stdout(&fairgig(&app, args).await);
        assert!(help.contains("Usage"), "{args:?}: {help}");
    }
}

#[tokio::test]
async fn serve_refuses_a_database_from_a_newer_fairgig() {
    let app = spawn_app().await;
    if let fairgig_store::Pool::Sqlite(pool) = app.store.pool() {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'from the future', TRUE, X'00', 0)",
        )
        .execute(pool)
        .await
        .expect("fake a newer migration");
    }
    let output = fairgig(&app, &["serve", "--bind", "127.0.0.1:0"]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("newer fairgig"), "{stderr}");
}

/// Processes starting together on a fresh SQLite file (an API and a
/// worker) migrate it once between them: the second waits for the first.
#[tokio::test]
async fn processes_migrating_a_fresh_sqlite_file_at_once_both_succeed() {
    for round in 0..3 {
        let place = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", place.path().join("fairgig.db").display());
        let migrate = || crate::helpers::fairgig_at(place.path(), &url, &["migrate"]);
        let (first, second, third) = tokio::join!(migrate(), migrate(), migrate());
        for output in [first, second, third] {
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let store = fairgig_store::Store::connect(&url, Default::default()).await.expect("open");
        store.check_migrations_current().await.expect("every migration, once");
    }
}

#[tokio::test]
async fn the_demo_fills_a_fresh_database_and_prints_explained_matches() {
    let app = spawn_app().await;
    let printed = stdout(&fairgig(&app, &["demo", "--show", "2"]).await);
    assert!(printed.contains("ESCO"), "the attribution is shown: {printed}");
    assert!(printed.contains("300 freelancers"), "{printed}");
    assert!(printed.contains("40 job posts went through the pipeline"), "{printed}");
    assert_eq!(printed.matches("\n== ").count(), 2, "{printed}");
    assert!(printed.contains("#1 ") && printed.contains("covers "), "{printed}");
    assert!(printed.contains("fairness (det_const_sort"), "{printed}");

    // The accounts work, and the jobs went through the pipeline into the
    // marketplace with their matches.
    let login = app.login("client@demo.fairgig.example", "fairgig-demo-password").await;
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let submissions: Value =
        app.get_as("/api/v1/submissions?limit=50", &token).await.json().await.expect("json");
    let items = submissions["submissions"].as_array().expect("submissions");
    assert_eq!(items.len(), 40, "{submissions}");
    let first = items[0]["id"].as_str().expect("id");
    let one: Value = app
        .get_as(&format!("/api/v1/submissions/{first}"), &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["run"]["status"], "succeeded", "{one}");

    // A second run refuses instead of doubling the data.
    let again = fairgig(&app, &["demo"]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds the demo"));
}

#[tokio::test]
async fn the_registry_commands_cover_bias_rules_and_the_embedder() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");

    // An STS-B file: the serving embedder is scored and the figure recorded.
    let sts = dir.path().join("sts.csv");
    std::fs::write(
        &sts,
        "g\tf\ty\t1\t5.0\tA man is playing a guitar.\tA man is playing a guitar.\n\
         g\tf\ty\t2\t0.0\tA man is playing a guitar.\tStock markets fell sharply.\n",
    )
    .expect("write");
    let sts = sts.to_string_lossy().into_owned();
    let scored = stdout(&fairgig(&app, &["model", "evaluate-embedder", "--sts", &sts]).await);
    assert!(scored.contains("Spearman 100.00 on 2 pairs of sts.csv"), "{scored}");
    let listed = stdout(&fairgig(&app, &["model", "list", "--kind", "embedder"]).await);
    assert!(listed.contains("[champion"), "{listed}");
    std::fs::write(dir.path().join("bad.csv"), "not\tsts").expect("write");
    let bad = dir.path().join("bad.csv").to_string_lossy().into_owned();
    let refused = fairgig(&app, &["model", "evaluate-embedder", "--sts", &bad]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 1"), "{refused:?}");

    // A rule pack from a file, through the gate, and back out.
    let pack = dir.path().join("acme.toml");
    std::fs::write(
        &pack,
        "[pack]\nname = \"acme\"\n\n[[rule]]\nid = \"acme-ninja\"\ncategory = \"jargon\"\n\
         severity = \"warning\"\ntype = \"basic\"\npatterns = [\"code monkey\"]\nsource = \"ACME\"\n",
    )
    .expect("write");
    let pack = pack.to_string_lossy().into_owned();
    let registered = stdout(&fairgig(&app, &["model", "register-rules", &pack]).await);
    assert!(registered.contains("as challenger") && registered.contains("passed"), "{registered}");
    let promoted = stdout(&fairgig(&app, &["model", "promote", "--kind", "bias_rules"]).await);
    assert!(promoted.contains("is the champion"), "{promoted}");
    let rolled = stdout(&fairgig(&app, &["model", "rollback", "--kind", "bias_rules"]).await);
    assert!(rolled.contains("the shipped packs alone"), "{rolled}");
    let embedder = fairgig(&app, &["model", "promote", "--kind", "embedder"]).await;
    assert_eq!(embedder.status.code(), Some(1));
}

#[tokio::test]
async fn migrate_touches_the_database_alone() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fairgig"));
    command
        .arg("migrate")
        .env("FAIRGIG_DATA_DIR", data.path())
        .env("FAIRGIG_LOG__LEVEL", "warn")
        .env_remove("DATABASE_URL")
        .current_dir(data.path());
    let output = tokio::task::spawn_blocking(move || command.output().expect("run fairgig"))
        .await
        .expect("the CLI thread");
    assert!(stdout(&output).contains("database is up to date"));
    assert!(data.path().join("fairgig.db").exists(), "the database was created");
    assert!(!data.path().join("jwt.secret").exists(), "no secret is made to migrate");
}

/// What the shell and `man` are given is generated from the command
/// definitions: the bash script parses and knows the subcommands, the
/// manual page is roff naming them.
#[tokio::test]
async fn shell_completions_and_the_manual_page_come_from_the_commands() {
    let run = |args: &'static [&'static str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fairgig"));
        command.args(args).env("FAIRGIG_LOG__LEVEL", "warn");
        tokio::task::spawn_blocking(move || command.output().expect("run fairgig"))
    };
    let script = stdout(&run(&["completions", "bash"]).await.expect("the CLI thread"));
    for subcommand in ["serve", "api-key", "completions", "bench"] {
        assert!(script.contains(subcommand), "{subcommand} is completed");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fairgig.bash");
    std::fs::write(&path, &script).expect("write");
    let syntax = std::process::Command::new("bash").arg("-n").arg(&path).output().expect("bash");
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));
    for shell in ["zsh", "fish"] {
        let args: &'static [&'static str] =
            if shell == "zsh" { &["completions", "zsh"] } else { &["completions", "fish"] };
        assert!(!stdout(&run(args).await.expect("the CLI thread")).is_empty(), "{shell}");
    }
    let manual = stdout(&run(&["man"]).await.expect("the CLI thread"));
    assert!(manual.contains(".TH fairgig 1"), "{manual}");
    assert!(manual.contains("serve") && manual.contains("migrate"), "{manual}");
    let unknown = run(&["completions", "tcsh"]).await.expect("the CLI thread");
    assert!(!unknown.status.success(), "an unknown shell is refused");
}

/// `fairgig config example` is the checked-in `fairgig.example.toml` (so
/// the file stays current), `config check` reads it back as the defaults,
/// shows set secrets as redacted, and refuses an unknown key by name.
#[tokio::test]
async fn the_example_configuration_is_current_and_checks_clean() {
    let example_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fairgig.example.toml");
    let run = |args: Vec<&'static str>, env: Vec<(&'static str, &'static str)>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fairgig"));
        command.env_clear().args(args).envs(env);
        tokio::task::spawn_blocking(move || command.output().expect("run fairgig"))
    };
    let generated = run(vec!["config", "example"], vec![]).await.expect("the CLI thread");
    assert!(generated.status.success());
    let checked_in = std::fs::read_to_string(example_file).expect("fairgig.example.toml");
    assert_eq!(
        String::from_utf8_lossy(&generated.stdout),
        checked_in,
        "fairgig.example.toml is stale: run `fairgig config example > fairgig.example.toml`"
    );
    let defaults = checked_in.split_once("\n\n").map(|(_, body)| body).unwrap_or_default();
    let checked =
        run(vec!["--config", example_file, "config", "check"], vec![]).await.expect("CLI thread");
    assert_eq!(stdout(&checked), defaults.trim(), "the example reads back as the defaults");

    let secrets = vec![
        ("FAIRGIG_AUTH__JWT_SECRET", "a jwt secret of at least thirty-two bytes"),
        ("DATABASE_URL", "postgres://app:hunter22@db.example.org/fairgig"),
    ];
    let shown = stdout(&run(vec!["config", "check"], secrets).await.expect("CLI thread"));
    assert!(shown.contains("jwt_secret = \"[redacted]\""), "{shown}");
    assert!(shown.contains("postgres://app:***@db.example.org/fairgig"), "{shown}");
    assert!(!shown.contains("hunter22") && !shown.contains("thirty-two"), "{shown}");

    let typo = run(vec!["config", "check"], vec![("FAIRGIG_SERVER__BINDD", "0.0.0.0:1")])
        .await
        .expect("CLI thread");
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("bindd"), "names the key");
    // What `serve` would refuse beyond the shape: a short JWT key.
    let short = run(vec!["config", "check"], vec![("FAIRGIG_AUTH__JWT_SECRET", "too short")])
        .await
        .expect("CLI thread");
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("jwt_secret"), "names the key");
}

/// `fairgig prune` deletes finished records past their period and nothing
/// still in use: an old delivered notification and an old revoked session
/// go; a pending notification, the live session and the audit log stay.
#[tokio::test]
async fn prune_deletes_what_is_finished_and_old_and_keeps_what_is_in_use() {
    let app = spawn_app().await;
    let user = app.register("prune@example.org").await;
    let second = app.login("prune@example.org", crate::helpers::PASSWORD).await;
    assert_eq!(second.status(), StatusCode::OK);
    let fairgig_store::Pool::Sqlite(pool) = app.store.pool() else { panic!("sqlite") };
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(400);
    let count = |sql: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await.expect("count");
        n
    };
    // Two notifications a year old: one delivered, one still to send.
    let ids: Vec<(uuid::Uuid,)> =
        sqlx::query_as("SELECT id FROM notifications").fetch_all(pool).await.expect("ids");
    assert!(!ids.is_empty(), "sign-up sent a verification message");
    sqlx::query("UPDATE notifications SET status = 'sent', updated_at = $1 WHERE id = $2")
        .bind(long_ago)
        .bind(ids[0].0)
        .execute(pool)
        .await
        .expect("age");
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, channel, address, source, dedupe_key, \
           context, locale, subject, body_text, status, attempts, channel_rank, digest, \
           next_attempt_at, created_at, updated_at) \
         SELECT $1, user_id, kind, channel, address, source, 'pending-old', context, locale, \
           subject, body_text, 'pending', 0, 0, FALSE, $2, $2, $2 FROM notifications WHERE id = $3",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(long_ago)
    .bind(ids[0].0)
    .execute(pool)
    .await
    .expect("pending");
    // The second sign-in's session was revoked a year ago.
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE id = \
         (SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1)",
    )
    .bind(long_ago)
    .execute(pool)
    .await
    .expect("revoke");
    // A request whose run succeeded a year ago: the text it read goes,
    // its results stay; a run that finished just now keeps both.
    let old = crate::helpers::submit_job(&app, &user, "Old", "A Rust API with PostgreSQL.").await;
    let recent = crate::helpers::submit_job(&app, &user, "New", "A Go service with Redis.").await;
    for id in [&old, &recent] {
        crate::helpers::finished(&app, &user, id).await;
    }
    sqlx::query("UPDATE runs SET finished_at = $1 WHERE submission_id = $2")
        .bind(long_ago)
        .bind(uuid::Uuid::parse_str(&old).expect("id"))
        .execute(pool)
        .await
        .expect("age the run");
    let audit_before = count("SELECT COUNT(*) FROM audit_log").await;

    let output = fairgig(&app, &["prune"]).await;
    let printed = stdout(&output);
    assert!(printed.starts_with("pruned: 1 notifications, 1 sessions/tokens/links"), "{printed}");
    assert!(printed.contains(", 1 step outputs"), "{printed}");
    let (old, recent) = (
        crate::helpers::finished(&app, &user, &old).await,
        crate::helpers::finished(&app, &user, &recent).await,
    );
    assert_eq!(crate::helpers::step(&old, "extract")["output"], Value::Null, "{old}");
    assert!(crate::helpers::step(&old, "analyse")["output"].is_object(), "{old}");
    assert!(crate::helpers::step(&recent, "extract")["output"].is_object(), "{recent}");
    assert_eq!(
        count("SELECT COUNT(*) FROM notifications WHERE dedupe_key = 'pending-old'").await,
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM sessions").await, 1, "the live session stays");
    assert_eq!(count("SELECT COUNT(*) FROM refresh_tokens").await, 1, "and only its token");
    assert!(count("SELECT COUNT(*) FROM audit_log").await >= audit_before, "the audit log is kept");
    let me = app.get_as("/api/v1/me", &user.access).await;
    assert_eq!(me.status(), StatusCode::OK, "still signed in");
}

/// A backup restores into a fresh deployment with every user, submission
/// and file (byte-equal) and an intact audit chain; a changed file is
/// caught by `backup verify`; restoring over a deployment is refused.
#[tokio::test]
async fn a_backup_restores_into_a_fresh_deployment_and_verifies() {
    let place = tempfile::tempdir().expect("dir");
    let fresh = place.path().join("fresh");
    let url = format!("sqlite://{}", fresh.join("fairgig.db").display());
    let kept = BackupPlace::Folder(place.path().join("backup"));
    backup_round_trip(&spawn_app().await, &kept, &fresh, &url, "exists").await;
}

/// The same on PostgreSQL: `pg_dump` into the backup, `pg_restore` into an
/// empty database.
#[tokio::test]
async fn a_postgres_backup_restores_into_an_empty_database_and_verifies() {
    let Some(app) = crate::helpers::spawn_on_postgres().await else { return };
    let empty = fairgig_store::test_support::TestDatabase::postgres()
        .await
        .expect("an empty database")
        .expect("PostgreSQL is configured");
    let place = tempfile::tempdir().expect("dir");
    let kept = BackupPlace::Folder(place.path().join("backup"));
    backup_round_trip(&app, &kept, &place.path().join("fresh"), &empty.url, "has tables").await;
}

/// The same kept in a bucket of a real S3-compatible server (moto, started
/// by `.ci/run`): the database goes up in parts and comes back as a stream.
#[tokio::test]
async fn a_backup_kept_in_s3_restores_and_verifies() {
    let Some((endpoint, bucket)) = crate::helpers::s3_bucket().await else { return };
    let place = tempfile::tempdir().expect("dir");
    let fresh = place.path().join("fresh");
    let url = format!("sqlite://{}", fresh.join("fairgig.db").display());
    let kept = BackupPlace::Bucket { endpoint, bucket, prefix: "nightly/1".to_owned() };
    backup_round_trip(&spawn_app().await, &kept, &fresh, &url, "exists").await;
}

/// Where a round trip keeps its backup.
enum BackupPlace {
    Folder(std::path::PathBuf),
    Bucket { endpoint: String, bucket: String, prefix: String },
}

impl BackupPlace {
    /// As `--to`, `--from` and `verify` take it.
    fn argument(&self) -> String {
        match self {
            BackupPlace::Folder(dir) => dir.to_string_lossy().into_owned(),
            BackupPlace::Bucket { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// What the CLI needs to reach it.
    fn environment(&self) -> Vec<(&'static str, String)> {
        match self {
            BackupPlace::Folder(_) => Vec::new(),
            BackupPlace::Bucket { endpoint, .. } => vec![
                ("FAIRGIG_STORAGE__S3_ENDPOINT", endpoint.clone()),
                ("FAIRGIG_STORAGE__S3_REGION", "us-east-1".to_owned()),
                ("FAIRGIG_STORAGE__S3_ACCESS_KEY_ID", "test".to_owned()),
                ("FAIRGIG_STORAGE__S3_SECRET_ACCESS_KEY", "test".to_owned()),
            ],
        }
    }

    /// Overwrites the backup's file at `path`, as damage would.
    async fn tamper(&self, path: &str) {
        match self {
            BackupPlace::Folder(dir) => {
                std::fs::write(dir.join(path), b"tampered").expect("tamper")
            }
            BackupPlace::Bucket { endpoint, bucket, prefix } => {
                let s3 = fairgig_store::objects::S3Options {
                    endpoint: Some(endpoint.clone()),
                    region: Some("us-east-1".to_owned()),
                    access_key_id: Some("test".to_owned()),
                    secret_access_key: Some("test".to_owned()),
                };
                let url = format!("s3://{bucket}/{prefix}");
                let bucket =
                    fairgig_store::objects::ObjectStorage::from_url(&url, &s3).expect("the bucket");
                bucket.put(path, "tampered".into()).await.expect("tamper");
            }
        }
    }
}

/// Backs `app` up to `kept`, restores into the deployment at `fresh`
/// (database at `fresh_url`), checks what came back, then that a second
/// restore is refused (saying `occupied`) and a changed file is caught.
async fn backup_round_trip(
    app: &crate::helpers::TestApp,
    kept: &BackupPlace,
    fresh: &std::path::Path,
    fresh_url: &str,
    occupied: &str,
) {
    let user = app.register("backup@example.org").await;
    let brief = fairgig_ai::extract::samples::pdf(&["A logo for a bakery"]);
    let form = reqwest::multipart::Form::new()
        .text("submission", r#"{"kind":"job","title":"Logo","text":"See the brief."}"#)
        .part("files", reqwest::multipart::Part::bytes(brief.clone()).file_name("brief.pdf"));
    let created = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .multipart(form)
        .send()
        .await
        .expect("submit");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let id = created["id"].as_str().expect("id");
    // The run publishes the job; the backup takes it, then the audit log.
    let done = crate::helpers::finished(app, &user, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let audited = app.store.verify_audit().await.expect("audit").entries_checked;

    let place = kept.argument();
    let environment = kept.environment();
    let environment: Vec<(&str, &str)> =
        environment.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let at = |dir: &std::path::Path, url: &str, args: Vec<String>| {
        let (dir, url, environment) = (dir.to_owned(), url.to_owned(), environment.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::helpers::fairgig_at_with(&dir, &url, &environment, &args).await
        }
    };
    let in_app = |args: &[&str]| {
        at(app.data_dir.path(), &app.database_url, args.iter().map(|a| a.to_string()).collect())
    };
    let output = in_app(&["backup", "--to", &place]).await;
    let printed = stdout(&output);
    assert!(printed.contains("and 1 objects"), "{printed}");
    // Progress bars are for terminals: a pipe gets the result alone.
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(!errors.contains("backup: files"), "{errors}");
    let again = in_app(&["backup", "--to", &place]).await;
    assert!(!again.status.success(), "a second backup into the same place is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"), "{again:?}");
    let printed = stdout(&in_app(&["backup", "verify", &place]).await);
    assert!(printed.starts_with("backup intact: 2 files (1 objects)"), "{printed}");

    std::fs::create_dir_all(fresh).expect("fresh");
    let in_fresh =
        |args: &[&str]| at(fresh, fresh_url, args.iter().map(|a| a.to_string()).collect());
    let printed = stdout(&in_fresh(&["restore", "--from", &place]).await);
    assert!(printed.starts_with("restored the database and 1 objects"), "{printed}");
    let restored = fairgig_store::Store::connect(fresh_url, Default::default())
        .await
        .expect("open the restored database");
    let owner = restored.get_user(user.id).await.expect("the user came back");
    assert_eq!(owner.email, "backup@example.org");
    let submissions =
        restored.list_submissions(user.id, &Default::default(), 10).await.expect("submissions");
    assert_eq!(submissions.len(), 1);
    let file = &submissions[0].files[0];
    let bytes = std::fs::read(fresh.join("objects").join(&file.object_key)).expect("the file");
    assert_eq!(bytes, brief, "byte-equal");
    let jobs = restored.open_jobs(10).await.expect("jobs");
    assert_eq!(jobs.iter().map(|job| job.input.title.as_str()).collect::<Vec<_>>(), ["Logo"]);
    let verification = restored.verify_audit().await.expect("audit");
    assert!(
        verification.entries_checked >= audited,
        "{} < {audited}",
        verification.entries_checked
    );
    let printed = stdout(&in_fresh(&["audit", "verify"]).await);
    assert!(printed.starts_with("audit log intact"), "{printed}");

    // Over a deployment that exists: refused, nothing touched.
    let again = in_fresh(&["restore", "--from", &place]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains(occupied), "{again:?}");
    // A changed file is caught.
    kept.tamper(&format!("objects/{}", file.object_key)).await;
    let damaged = in_app(&["backup", "verify", &place]).await;
    assert_eq!(damaged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&damaged.stdout).contains("has changed"), "{damaged:?}");
}
