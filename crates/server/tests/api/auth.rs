//! Accounts and sessions, end to end.

use fairgig_core::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_on_postgres, TestApp, PASSWORD};

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_as("/api/v1/me", token).await
}

#[tokio::test]
async fn a_registered_user_is_signed_in_and_sees_themselves() {
    let app = spawn_app().await;
    let user = app.register_as("ada@example.org", Role::Freelancer).await;
    let response = me(&app, &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["email"], "ada@example.org");
    assert_eq!(body["role"], "freelancer");
    assert!(body.get("password_hash").is_none());
}

#[tokio::test]
async fn the_whole_account_flow_works_on_postgres() {
    let Some(app) = spawn_on_postgres().await else { return };
    let user = app.register("pg@example.org").await;
    assert_eq!(me(&app, &user.access).await.status(), StatusCode::OK);
    let login = app.login("pg@example.org", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let refreshed =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh})).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let reused =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh})).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert!(app.store.verify_audit().await.expect("verify").is_intact());
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = spawn_app().await;
    app.register("ada@example.org").await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ADA@Example.org", "display_name": "Ada", "password": PASSWORD, "role": "client"}),
        )
        .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "conflict".into(), Some("email".into()))
    );
}

#[tokio::test]
async fn nobody_registers_as_admin() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "eve@example.org", "display_name": "Eve", "password": PASSWORD, "role": "admin"}),
        )
        .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into(), Some("role".into()))
    );
}

#[tokio::test]
async fn login_failures_do_not_reveal_whether_the_account_exists() {
    let app = spawn_app().await;
    app.register("ada@example.org").await;
    let wrong_password = error_code(app.login("ada@example.org", "not the password").await).await;
    let unknown_email = error_code(app.login("nobody@example.org", "not the password").await).await;
    let malformed_email = error_code(app.login("not an email", "not the password").await).await;
    let expected = (StatusCode::UNAUTHORIZED, "invalid_credentials".to_owned(), None);
    assert_eq!(wrong_password, expected);
    assert_eq!(unknown_email, expected);
    assert_eq!(malformed_email, expected);

    let ok = app.login("ADA@example.org", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_session() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;

    let first =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let pair: Value = first.json().await.expect("json");
    let new_access = pair["access_token"].as_str().expect("access").to_owned();
    let new_refresh = pair["refresh_token"].as_str().expect("refresh").to_owned();
    assert_ne!(new_refresh, user.refresh);
    assert_eq!(me(&app, &new_access).await.status(), StatusCode::OK);

    // The old token again: theft is assumed, the whole family dies.
    let reuse =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh})).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    let successor =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": new_refresh})).await;
    assert_eq!(successor.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&app, &new_access).await.status(),
        StatusCode::UNAUTHORIZED,
        "access tokens of the session die too"
    );

    let audit = app
        .store
        .list_audit(
            &fairgig_store::audit::AuditFilter {
                action: Some("auth.refresh_reuse_detected".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &user.access).await.status(), StatusCode::UNAUTHORIZED);
    let refresh =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh})).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let other: Value = app.login("ada@example.org", PASSWORD).await.json().await.expect("json");
    let other_access = other["access_token"].as_str().expect("token");

    let wrong = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&user.access)
        .json(&json!({"current_password": "not it at all", "new_password": "a brand new secret"}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(wrong).await,
        (StatusCode::UNAUTHORIZED, "invalid_credentials".into(), Some("current_password".into()))
    );

    let changed = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&user.access)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new secret"}))
        .send()
        .await
        .expect("request");
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &user.access).await.status(), StatusCode::OK, "this session stays");
    assert_eq!(me(&app, other_access).await.status(), StatusCode::UNAUTHORIZED, "others end");
    assert_eq!(app.login("ada@example.org", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ada@example.org", "a brand new secret").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn profile_updates_change_only_what_is_sent() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let patch = |body: Value| {
        app.client.patch(app.url("/api/v1/me")).bearer_auth(&user.access).json(&body).send()
    };
    let response = patch(json!({"region": "us-ca"})).await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["region"], "US-CA");
    assert_eq!(body["display_name"], "Test User");

    let body: Value = patch(json!({"display_name": "Ada L."}))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["display_name"], "Ada L.");
    assert_eq!(body["region"], "US-CA", "absent fields stay");

    let body: Value =
        patch(json!({"region": null})).await.expect("request").json().await.expect("json");
    assert_eq!(body["region"], Value::Null, "null clears");
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_everywhere() {
    let app = spawn_app().await;
    let admin = app.admin("admin@example.org").await;
    let user = app.register("ada@example.org").await;
    let (_, key) = app.api_key(&user, &["read"]).await;

    let response = app
        .client
        .post(app.url(&format!("/api/v1/admin/users/{}/disable", user.id)))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);

    assert_eq!(me(&app, &user.access).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &key).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ada@example.org", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let refresh =
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh})).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_keys_work_within_their_scopes_until_revoked() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let (id, key) = app.api_key(&user, &["read"]).await;
    assert!(key.starts_with("fg_"));

    // Either header works.
    assert_eq!(me(&app, &key).await.status(), StatusCode::OK);
    let via_header = app
        .client
        .get(app.url("/api/v1/me"))
        .header("x-api-key", &key)
        .send()
        .await
        .expect("request");
    assert_eq!(via_header.status(), StatusCode::OK);

    let write = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&key)
        .json(&json!({"display_name": "via key"}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(write).await.0, StatusCode::FORBIDDEN, "read-only key cannot write");

    let listed: Value =
        app.get_as("/api/v1/me/api-keys", &user.access).await.json().await.expect("json");
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(listed[0].get("api_key").is_none() && listed[0].get("key_hash").is_none(), "{listed}");

    // A key cannot revoke itself, whatever its scopes.
    let (writer_id, writer) = app.api_key(&user, &["read", "write"]).await;
    let itself = app
        .client
        .delete(app.url(&format!("/api/v1/me/api-keys/{writer_id}")))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(itself).await.0, StatusCode::FORBIDDEN);
    assert_eq!(me(&app, &writer).await.status(), StatusCode::OK, "still valid");

    let revoke = app
        .client
        .delete(app.url(&format!("/api/v1/me/api-keys/{id}")))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("request");
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_eq!(me(&app, &key).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_forged_or_altered_key_is_refused() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let (_, key) = app.api_key(&user, &["read"]).await;
    let mut altered = key.clone();
    let last = altered.pop().expect("non-empty");
    altered.push(if last == 'a' { 'b' } else { 'a' });
    assert_eq!(me(&app, &altered).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, "fg_nonsense").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, "eyJhbGciOiJub25lIn0.e30.").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn weak_new_passwords_are_refused_with_the_reason_next_to_the_field() {
    let app = spawn_app().await;
    for (password, reason) in [
        ("password1", "most common"),
        ("          ", "only spaces"),
        ("grace.hopper-2024", "email"),
        ("aaaaaaaaaaaa", "easy to guess"),
    ] {
        let response = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "grace.hopper@example.org", "display_name": "Grace", "password": password, "role": "client"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{password:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["field"], "password", "{body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(reason), "{password:?}: {message}");
    }
    let user = app.register("grace.hopper@example.org").await;
    let change = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&user.access)
        .json(&json!({"current_password": PASSWORD, "new_password": "qwertyuiop"}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(change).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into(), Some("new_password".into()))
    );
}
