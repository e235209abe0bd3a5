//! A person's data rights end to end: the export archive holds their
//! records and files; erasure leaves no table holding their email, name or
//! texts, deletes their files, signs them out for good, keeps the ratings
//! others earned, and keeps the audit chain intact. On SQLite and, when
//! configured, PostgreSQL.

use std::io::Read;

use fairgig_core::user::Role;
use reqwest::{
    multipart::{Form, Part},
    Method, StatusCode,
};
use serde_json::{json, Value};

use crate::helpers::{
    error_code, finished, send, spawn_app, spawn_on_postgres, TestApp, TestUser, PASSWORD,
};

/// What only the erased client wrote: none of it may survive the erasure.
const CLIENT_EMAIL: &str = "erin.quill@example.org";
const CLIENT_NAME: &str = "Erin Quillfeather";
const REQUEST_TEXT: &str = "Irrigation planner for our quince orchard near the marmalade works.";
const JOB_TEXT: &str = "Maintain the zephyrine greenhouse sensors written in Rust.";
const REVIEW_TEXT: &str = "Lapidary attention to detail, delivered early.";
const WEBHOOK_URL: &str = "https://hooks.example.org/quillfeather";
const FILE_BYTES: &[u8] = b"orchard survey: 41 quince trees, row spacing 5 m, drip lines planned";

/// And the freelancer, erased by an admin afterwards.
const FREELANCER_EMAIL: &str = "fenn.ostrander@example.org";
const FREELANCER_NAME: &str = "Fenn Ostrander";
const HEADLINE: &str = "Greenhouse telemetry engineer (Rust, sensors)";
const COVER_LETTER: &str = "I have wired forty greenhouses with ostrander-grade sensor meshes.";

/// The client and freelancer do what people do: a request with a file, a
/// job, an application, a hire, reviews both ways, a webhook endpoint.
async fn a_marketplace_with_history(app: &TestApp) -> (TestUser, TestUser, String) {
    let client = app.register_named(CLIENT_EMAIL, CLIENT_NAME, Role::Client).await;
    let freelancer = app.register_named(FREELANCER_EMAIL, FREELANCER_NAME, Role::Freelancer).await;

    let submission =
        json!({"kind": "request", "title": "Orchard irrigation", "text": REQUEST_TEXT});
    let form = Form::new()
        .text("submission", submission.to_string())
        .part("files", Part::bytes(FILE_BYTES.to_vec()).file_name("survey.txt"));
    let response = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&client.access)
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    let submission_id = created["id"].as_str().expect("id").to_owned();
    finished(app, &client, &submission_id).await;

    let profile = json!({
        "headline": HEADLINE, "bio": "Sensors, dashboards and alerts for growers.",
        "skills": [{"name": "Rust", "level": "expert"}],
        "hourly_rate": {"amount_minor": 7000, "currency": "EUR"},
        "availability": "available", "years_experience": 7.0, "languages": ["English"],
    });
    let (status, saved) =
        send(app, Method::PUT, &freelancer, "/api/v1/me/profile", Some(profile)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let job = json!({
        "title": "Greenhouse sensor upkeep", "description": JOB_TEXT,
        "required_skills": ["Rust"], "preferred_skills": [],
        "max_hourly": {"amount_minor": 9000, "currency": "EUR"},
    });
    let (status, job) = send(app, Method::POST, &client, "/api/v1/jobs", Some(job)).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let job_id = job["id"].as_str().expect("id").to_owned();
    let letter = json!({"cover_letter": COVER_LETTER});
    let applications = format!("/api/v1/jobs/{job_id}/applications");
    let (status, application) =
        send(app, Method::POST, &freelancer, &applications, Some(letter)).await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    let decide = format!("/api/v1/applications/{}/status", application["id"].as_str().expect("id"));
    let (status, _) =
        send(app, Method::POST, &client, &decide, Some(json!({"status": "hired"}))).await;
    assert_eq!(status, StatusCode::OK);
    let done = json!({"status": "completed"});
    let (status, _) =
        send(app, Method::POST, &client, &format!("/api/v1/jobs/{job_id}/status"), Some(done))
            .await;
    assert_eq!(status, StatusCode::OK);
    let reviews = format!("/api/v1/jobs/{job_id}/reviews");
    let (status, review) =
        send(app, Method::POST, &client, &reviews, Some(json!({"rating": 5, "text": REVIEW_TEXT})))
            .await;
    assert_eq!((status, review["status"].as_str()), (StatusCode::CREATED, Some("published")));
    let (status, _) = send(
        app,
        Method::POST,
        &freelancer,
        &reviews,
        Some(json!({"rating": 4, "text": "Clear brief, paid on time."})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, hook) =
        send(app, Method::POST, &client, "/api/v1/me/webhooks", Some(json!({"url": WEBHOOK_URL})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    (client, freelancer, submission_id)
}

async fn download_export(
    app: &TestApp,
    user: &TestUser,
    path: &str,
) -> zip::ZipArchive<std::io::Cursor<Vec<u8>>> {
    let response = app.get_as(path, &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("attachment; filename=\"fairgig-export-"), "{disposition}");
    let bytes = response.bytes().await.expect("body").to_vec();
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive")
}

fn read_entry(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut entry = archive.by_name(name).unwrap_or_else(|_| panic!("{name} in the archive"));
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).expect("read");
    bytes
}

/// How many rows of any table hold `needle` in any column.
async fn rows_holding(app: &TestApp, needle: &str) -> Vec<String> {
    let pattern = format!("%{needle}%");
    let mut found = Vec::new();
    if app.database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.database_url).await.expect("connect");
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'jsonb', 'json')",
        )
        .fetch_all(&pool)
        .await
        .expect("columns");
        for (table, column) in columns {
            let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\"::text LIKE $1");
            let count: i64 =
                sqlx::query_scalar(&sql).bind(&pattern).fetch_one(&pool).await.expect("count");
            if count > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
    } else {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.expect("connect");
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
        )
        .fetch_all(&pool)
        .await
        .expect("columns");
        for (table, column) in columns {
            let sql = format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
            );
            let count: i64 =
                sqlx::query_scalar(&sql).bind(&pattern).fetch_one(&pool).await.expect("count");
            if count > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
    }
    found
}

/// Whether any stored object under the data folder holds exactly `bytes`.
fn stored_anywhere(app: &TestApp, bytes: &[u8]) -> bool {
    fn walk(dir: &std::path::Path, bytes: &[u8]) -> bool {
        std::fs::read_dir(dir).into_iter().flatten().flatten().any(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, bytes)
            } else {
                std::fs::read(&path).is_ok_and(|held| held == bytes)
            }
        })
    }
    walk(&app.data_dir.path().join("objects"), bytes)
}

async fn export_and_erase(app: &TestApp) {
    let (client, freelancer, submission_id) = a_marketplace_with_history(app).await;

    // The export holds the account's records and its file, byte for byte.
    let mut archive = download_export(app, &client, "/api/v1/me/export").await;
    let data: Value =
        serde_json::from_slice(&read_entry(&mut archive, "data.json")).expect("data.json");
    assert_eq!(data["format"], "fairgig-export/1");
    assert_eq!(
        (data["account"]["email"].as_str(), data["account"]["display_name"].as_str()),
        (Some(CLIENT_EMAIL), Some(CLIENT_NAME))
    );
    let submission = &data["submissions"][0];
    assert_eq!(submission["submission"]["text"], REQUEST_TEXT);
    assert_eq!(submission["run"]["status"], "succeeded", "{submission}");
    let path = submission["files_in_archive"][0]["path"].as_str().expect("path").to_owned();
    assert!(
        path.starts_with(&format!("files/{submission_id}/")) && path.ends_with("-survey.txt"),
        "{path}"
    );
    assert_eq!(read_entry(&mut archive, &path), FILE_BYTES);
    assert_eq!(data["jobs"][0]["description"], JOB_TEXT);
    assert_eq!(data["reviews_written"][0]["text"], REVIEW_TEXT);
    assert_eq!(data["reviews_received"][0]["rating"], 4);
    assert_eq!(data["webhook_endpoints"][0]["url"], WEBHOOK_URL);
    assert!(data["webhook_endpoints"][0].get("secret").is_none(), "no secrets in the archive");
    assert!(!data["notifications"].as_array().expect("notifications").is_empty());
    let actions: Vec<&str> = data["audit_entries"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert!(actions.contains(&"user.registered"), "{actions:?}");
    assert!(String::from_utf8(read_entry(&mut archive, "README.txt"))
        .expect("text")
        .contains("data.json"));
    // Someone else's data is not theirs to download; an API key may not.
    let other = format!("/api/v1/admin/users/{}/export", freelancer.id);
    assert_eq!(app.get_as(&other, &client.access).await.status(), StatusCode::FORBIDDEN);
    let (_, key) = app.api_key(&client, &["read", "write"]).await;
    let by_key = app
        .client
        .get(app.url("/api/v1/me/export"))
        .header("X-API-Key", &key)
        .send()
        .await
        .expect("request");
    assert_eq!(by_key.status(), StatusCode::FORBIDDEN);

    // Erasure asks for the password, and a key cannot do it.
    let erase = |password: &str| json!({"password": password});
    let (status, code, field) = error_code(
        app.client
            .delete(app.url("/api/v1/me"))
            .bearer_auth(&client.access)
            .json(&erase("wrong password"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!((status, field.as_deref()), (StatusCode::UNAUTHORIZED, Some("password")), "{code}");
    let by_key = app
        .client
        .delete(app.url("/api/v1/me"))
        .header("X-API-Key", &key)
        .json(&erase(PASSWORD))
        .send()
        .await
        .expect("request");
    assert_eq!(by_key.status(), StatusCode::FORBIDDEN);
    let missing = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&client.access)
        .send()
        .await
        .expect("request");
    assert!(missing.status().is_client_error(), "{}", missing.status());
    assert!(stored_anywhere(app, FILE_BYTES), "the upload is stored until the erasure");
    // The scan below finds what is there: before, the texts are in several tables.
    for needle in [CLIENT_EMAIL, REQUEST_TEXT, JOB_TEXT] {
        assert!(rows_holding(app, needle).await.len() >= 2, "{needle:?} is held before");
    }

    let (status, erased) =
        send(app, Method::DELETE, &client, "/api/v1/me", Some(erase(PASSWORD))).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(
        (
            erased["submissions_deleted"].as_u64(),
            erased["jobs_anonymised"].as_u64(),
            erased["reviews_written_anonymised"].as_u64(),
            erased["reviews_received_deleted"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1)),
        "{erased}"
    );

    // Gone for good: the session, the password, the file, every trace.
    assert_eq!(app.get_as("/api/v1/me", &client.access).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(CLIENT_EMAIL, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert!(!stored_anywhere(app, FILE_BYTES), "the upload was deleted");
    for needle in [CLIENT_EMAIL, CLIENT_NAME, REQUEST_TEXT, JOB_TEXT, REVIEW_TEXT, WEBHOOK_URL] {
        assert_eq!(
            rows_holding(app, needle).await,
            Vec::<String>::new(),
            "{needle:?} is still held"
        );
    }
    // The freelancer keeps the rating the client gave, without its words.
    let admin = app.register_named("ada.admin@example.org", "Ada Admin", Role::Client).await;
    app.store.set_role(admin.id, Role::Admin).await.expect("promote");
    let (_, profile) =
        send(app, Method::GET, &admin, &format!("/api/v1/profiles/{}", freelancer.id), None).await;
    assert_eq!(
        (profile["rating_count"].as_i64(), profile["rating"].as_f64()),
        (Some(1), Some(5.0)),
        "{profile}"
    );

    // An admin erases the freelancer at their request (no password).
    let mut archive =
        download_export(app, &admin, &format!("/api/v1/admin/users/{}/export", freelancer.id))
            .await;
    let data: Value =
        serde_json::from_slice(&read_entry(&mut archive, "data.json")).expect("data.json");
    assert_eq!(data["applications"][0]["cover_letter"], COVER_LETTER);
    assert_eq!(data["profile"]["headline"], HEADLINE);
    let (status, _) =
        send(app, Method::DELETE, &admin, &format!("/api/v1/admin/users/{}", freelancer.id), None)
            .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        send(app, Method::DELETE, &admin, &format!("/api/v1/admin/users/{}", freelancer.id), None)
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "erased already");
    for needle in [FREELANCER_EMAIL, FREELANCER_NAME, HEADLINE, COVER_LETTER] {
        assert_eq!(
            rows_holding(app, needle).await,
            Vec::<String>::new(),
            "{needle:?} is still held"
        );
    }
    let (status, _) =
        send(app, Method::GET, &admin, &format!("/api/v1/profiles/{}", freelancer.id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) =
        send(app, Method::GET, &admin, "/api/v1/profiles?q=greenhouse%20telemetry", None).await;
    assert_eq!(found["profiles"].as_array().map(Vec::len), Some(0), "{found}");

    // The last admin stays; the audit chain holds, with both erasures in it.
    let (status, code, _) = error_code(
        app.client
            .delete(app.url("/api/v1/me"))
            .bearer_auth(&admin.access)
            .json(&erase(PASSWORD))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{code}");
    let verification = app.store.verify_audit().await.expect("verify");
    assert!(verification.is_intact(), "{:?}", verification.problems);
    let filter = fairgig_store::audit::AuditFilter {
        action: Some("user.erased".into()),
        ..Default::default()
    };
    assert_eq!(app.store.list_audit(&filter, 10).await.expect("audit").len(), 2);
}

#[tokio::test]
async fn an_account_exports_everything_and_erasure_leaves_nothing_of_it() {
    export_and_erase(&spawn_app().await).await;
}

#[tokio::test]
async fn an_account_exports_everything_and_erasure_leaves_nothing_of_it_on_postgres() {
    if let Some(app) = spawn_on_postgres().await {
        export_and_erase(&app).await;
    }
}
