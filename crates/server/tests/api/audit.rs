//! The audit log through the API and `fairgig audit verify`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{fairgig, spawn_app, PASSWORD};

#[tokio::test]
async fn auth_events_are_audited_and_filterable() {
    let app = spawn_app().await;
    let admin = app.admin("admin@example.org").await;
    let user = app.register("ada@example.org").await;
    assert_eq!(
        app.login("ada@example.org", "wrong password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.login("ada@example.org", PASSWORD).await.status(), StatusCode::OK);

    let failed: Value = app
        .get_as("/api/v1/audit?action=auth.login_failed", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let entries = failed["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["target"], format!("user:{}", user.id));
    assert_eq!(entries[0]["ip"], "127.0.0.1");
    assert!(entries[0]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(entries[0]["hash"].as_str().map(str::len), Some(64));

    let by_actor: Value = app
        .get_as(&format!("/api/v1/audit?actor=user:{}", user.id), &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = by_actor["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["auth.login_succeeded", "user.registered"], "newest first");
}

#[tokio::test]
async fn the_audit_log_pages_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.admin("admin@example.org").await;
    for i in 0..4 {
        app.register(&format!("u{i}@example.org")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?limit=2".to_owned();
    loop {
        let page: Value = app.get_as(&path, &admin.access).await.json().await.expect("json");
        seen.extend(
            page["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| e["seq"].as_i64().expect("seq")),
        );
        match page["next_cursor"].as_i64() {
            Some(cursor) => path = format!("/api/v1/audit?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let total = seen.len() as i64;
    assert_eq!(seen, (1..=total).rev().collect::<Vec<_>>(), "every entry once, newest first");
    assert!(total >= 5);
}

#[tokio::test]
async fn audit_verify_passes_an_intact_chain_and_names_a_tampered_entry() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.register(&format!("u{i}@example.org")).await;
    }
    let intact = fairgig(&app, &["audit", "verify"]).await;
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stdout));
    // Three registrations, and whatever their verification mails added.
    let stdout = String::from_utf8_lossy(&intact.stdout);
    let checked: u64 = stdout
        .split("intact: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    assert!(checked >= 3, "{stdout}");

    if let fairgig_store::Pool::Sqlite(pool) = app.store.pool() {
        sqlx::query("UPDATE audit_log SET details = '{\"role\":\"admin\"}' WHERE seq = 2")
            .execute(pool)
            .await
            .expect("tamper");
    }
    let tampered = fairgig(&app, &["audit", "verify"]).await;
    let stdout = String::from_utf8_lossy(&tampered.stdout);
    assert_eq!(tampered.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("entry 2 was edited"), "{stdout}");
}
