//! Bad input gets a clear 4xx naming the field, never a 5xx.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_with, PASSWORD};

#[tokio::test]
async fn malformed_bodies_get_clear_errors() {
    let app = spawn_app().await;
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/register"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        (
            "{\"email\": ",
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_json",
            None,
            "truncated JSON",
        ),
        ("not json", "application/json", StatusCode::BAD_REQUEST, "invalid_json", None, "not JSON"),
        ("[]", "application/json", StatusCode::BAD_REQUEST, "invalid_body", None, "an array"),
        (
            r#"{"email": 5, "display_name": "A", "password": "xxxxxxxx", "role": "client"}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_body",
            Some("email"),
            "wrong type",
        ),
        (
            r#"{"email": "a@example.org", "display_name": "A", "password": "xxxxxxxx", "role": "client", "is_admin": true}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_body",
            Some("is_admin"),
            "unknown field",
        ),
        (
            r#"{"email": "a@example.org", "display_name": "A", "password": "xxxxxxxx", "role": "root"}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_body",
            Some("role"),
            "unknown enum value",
        ),
        (
            r#"{"email": "a@example.org"}"#,
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
            "not JSON content type",
        ),
    ];
    for (body, content_type, status, code, field, why) in cases {
        let response = send(body, content_type).await.expect("request");
        assert_eq!(
            error_code(response).await,
            (status, code.to_owned(), field.map(str::to_owned)),
            "{why}"
        );
    }
}

#[tokio::test]
async fn invalid_values_are_refused_by_field() {
    let app = spawn_app().await;
    let register = |email: &str, name: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/auth/register"))
            .json(&json!({"email": email, "display_name": name, "password": password, "role": "client"}))
            .send()
    };
    let long_name = "n".repeat(101);
    let cases = [
        ("not-an-email", "Ada", PASSWORD, "email"),
        ("ada@example.org", "", PASSWORD, "display_name"),
        ("ada@example.org", long_name.as_str(), PASSWORD, "display_name"),
        ("ada@example.org", "Ada\u{0}", PASSWORD, "display_name"),
        ("ada@example.org", "Ada", "short", "password"),
    ];
    for (email, name, password, field) in cases {
        let response = register(email, name, password).await.expect("request");
        assert_eq!(
            error_code(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into(), Some(field.to_owned())),
            "{field}: {email:?} {name:?}"
        );
    }
}

#[tokio::test]
async fn oversize_bodies_are_refused_before_parsing() {
    let app = spawn_with(|settings| settings.server.body_limit_bytes = 4096).await;
    let huge = json!({"email": "a@example.org", "display_name": "x".repeat(10_000), "password": PASSWORD, "role": "client"});
    let response = app.post_json("/api/v1/auth/register", &huge).await;
    assert_eq!(error_code(response).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn malformed_paths_and_queries_are_client_errors() {
    let app = spawn_app().await;
    let admin = app.admin("admin@example.org").await;
    let cases = [
        ("/api/v1/admin/users?limit=0", "invalid_query"),
        ("/api/v1/admin/users?limit=abc", "invalid_query"),
        ("/api/v1/admin/users?after=not-a-uuid", "invalid_query"),
        ("/api/v1/audit?from=yesterday", "invalid_query"),
        ("/api/v1/audit?bogus=1", "invalid_query"),
    ];
    for (path, code) in cases {
        let (status, actual, _) = error_code(app.get_as(path, &admin.access).await).await;
        assert_eq!((status, actual.as_str()), (StatusCode::BAD_REQUEST, code), "{path}");
    }
    let bad_id = app
        .client
        .delete(app.url("/api/v1/me/api-keys/not-a-uuid"))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(bad_id).await.1, "invalid_path");
}

fn naughty_strings() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/robustness/blns-2.0.4.base64.json"
    );
    let text =
        std::fs::read_to_string(path).expect("blns data beside the project (../shared/data)");
    let encoded: Vec<String> = serde_json::from_str(&text).expect("a JSON list");
    encoded
        .iter()
        .filter_map(|item| STANDARD.decode(item).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect()
}

/// Every naughty string into every text field of register, login and
/// profile update: only 2xx or 4xx, never a 5xx or a dropped connection.
#[tokio::test]
async fn naughty_strings_never_cause_a_server_error() {
    // Cheap hashing: this test is about input handling, and hashes ~1,000 passwords.
    let app = spawn_with(|settings| {
        settings.auth.argon2_memory_kib = 256;
        settings.auth.argon2_iterations = 1;
    })
    .await;
    let user = app.register("owner@example.org").await;
    let strings = naughty_strings();
    assert!(strings.len() > 400, "expected the whole list, got {}", strings.len());
    for (i, naughty) in strings.iter().enumerate() {
        let requests = [
            app.client.post(app.url("/api/v1/auth/register")).json(&json!({
                "email": naughty, "display_name": "N", "password": PASSWORD, "role": "client"
            })),
            app.client.post(app.url("/api/v1/auth/register")).json(&json!({
                "email": format!("n{i}@example.org"), "display_name": naughty, "password": format!("{naughty}{PASSWORD}"),
                "role": "freelancer", "region": naughty
            })),
            app.client.post(app.url("/api/v1/auth/login")).json(&json!({"email": naughty, "password": naughty})),
            app.client.patch(app.url("/api/v1/me")).bearer_auth(&user.access).json(&json!({"display_name": naughty})),
            app.client.patch(app.url("/api/v1/me")).bearer_auth(&user.access).json(&json!({"region": naughty})),
        ];
        for request in requests {
            let response = request.send().await.expect("the server answers");
            let status = response.status();
            assert!(!status.is_server_error(), "string #{i} {naughty:?} gave {status}");
            if status.is_client_error() {
                let body: Value = response.json().await.expect("errors are JSON");
                assert!(body["error"]["code"].is_string(), "{body}");
            }
        }
    }
    let me: Value = app.get_as("/api/v1/me", &user.access).await.json().await.expect("json");
    assert_eq!(me["email"], "owner@example.org", "the account survived");
}
