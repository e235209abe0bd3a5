//! Who may call what: every protected endpoint refuses strangers, admin
//! endpoints refuse non-admins, and nobody reaches another user's objects.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app};

/// Every operation of the OpenAPI document: (method, path template, secured).
async fn operations(app: &crate::helpers::TestApp) -> Vec<(Method, String, bool)> {
    let spec: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let method: Method = method.to_uppercase().parse().expect("method");
            let secured = operation
                .get("security")
                .is_some_and(|security| !security.as_array().is_some_and(Vec::is_empty));
            found.push((method, path.clone(), secured));
        }
    }
    found
}

fn concrete(path: &str, id: &str) -> String {
    path.replace("{id}", id)
}

#[tokio::test]
async fn every_secured_operation_refuses_anonymous_callers() {
    let app = spawn_app().await;
    let operations = operations(&app).await;
    let secured: Vec<_> = operations.iter().filter(|(_, _, secured)| *secured).collect();
    assert!(secured.len() >= 10, "the spec should declare its secured operations: {operations:?}");
    let some_id = uuid::Uuid::now_v7().to_string();
    for (method, path, _) in secured {
        let response = app
            .client
            .request(method.clone(), app.url(&concrete(path, &some_id)))
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without credentials"
        );
    }
}

#[tokio::test]
async fn admin_operations_refuse_clients_freelancers_and_unscoped_admin_keys() {
    let app = spawn_app().await;
    let client = app.register("client@example.org").await;
    let freelancer =
        app.register_as("free@example.org", fairgig_core::user::Role::Freelancer).await;
    let admin = app.admin("admin@example.org").await;
    let (_, admin_key_without_admin_scope) = app.api_key(&admin, &["read", "write"]).await;
    let target = client.id.to_string();
    let admin_operations: Vec<_> = operations(&app)
        .await
        .into_iter()
        .filter(|(_, path, _)| {
            path.starts_with("/api/v1/admin") || path.starts_with("/api/v1/audit")
        })
        .collect();
    assert!(admin_operations.len() >= 4, "{admin_operations:?}");
    for token in [&client.access, &freelancer.access, &admin_key_without_admin_scope] {
        for (method, path, _) in &admin_operations {
            let response = app
                .client
                .request(method.clone(), app.url(&concrete(path, &target)))
                .bearer_auth(token)
                .json(&json!({"role": "admin"}))
                .send()
                .await
                .expect("request");
            assert_eq!(error_code(response).await.0, StatusCode::FORBIDDEN, "{method} {path}");
        }
    }
    let still_client: Value =
        app.get_as("/api/v1/me", &client.access).await.json().await.expect("json");
    assert_eq!(still_client["role"], "client", "nothing was changed by the refused calls");
}

#[tokio::test]
async fn users_cannot_reach_each_others_keys() {
    let app = spawn_app().await;
    let alice = app.register("alice@example.org").await;
    let mallory = app.register("mallory@example.org").await;
    let (alice_key_id, alice_key) = app.api_key(&alice, &["read"]).await;

    let revoke = app
        .client
        .delete(app.url(&format!("/api/v1/me/api-keys/{alice_key_id}")))
        .bearer_auth(&mallory.access)
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(revoke).await.0,
        StatusCode::NOT_FOUND,
        "another user's key is not there for you"
    );
    assert_eq!(
        app.get_as("/api/v1/me", &alice_key).await.status(),
        StatusCode::OK,
        "the key still works"
    );

    let listed: Value =
        app.get_as("/api/v1/me/api-keys", &mallory.access).await.json().await.expect("json");
    assert_eq!(listed, json!([]), "mallory sees only her own keys");

    let me: Value = app.get_as("/api/v1/me", &alice_key).await.json().await.expect("json");
    assert_eq!(me["email"], "alice@example.org", "a key speaks only for its owner");
}

#[tokio::test]
async fn api_keys_cannot_mint_keys_or_change_passwords() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let (_, key) = app.api_key(&user, &["read", "write"]).await;
    let mint = app
        .client
        .post(app.url("/api/v1/me/api-keys"))
        .bearer_auth(&key)
        .json(&json!({"name": "child"}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(mint).await.0, StatusCode::FORBIDDEN);
    let password = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&key)
        .json(&json!({"current_password": crate::helpers::PASSWORD, "new_password": "something else"}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(password).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_admins_hold_the_admin_scope() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let response = app
        .client
        .post(app.url("/api/v1/me/api-keys"))
        .bearer_auth(&user.access)
        .json(&json!({"name": "sneaky", "scopes": ["admin"]}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into(), Some("scopes".into()))
    );
}

#[tokio::test]
async fn admins_manage_users_and_see_them_paginated() {
    let app = spawn_app().await;
    let admin = app.admin("admin@example.org").await;
    for i in 0..3 {
        app.register(&format!("user{i}@example.org")).await;
    }
    let first: Value =
        app.get_as("/api/v1/admin/users?limit=2", &admin.access).await.json().await.expect("json");
    assert_eq!(first["users"].as_array().expect("users").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second: Value = app
        .get_as(&format!("/api/v1/admin/users?limit=2&after={cursor}"), &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(second["users"].as_array().expect("users").len(), 2);
    assert!(second.get("next_cursor").is_none(), "last page");

    let target = &second["users"][1]["id"];
    let promoted = app
        .client
        .put(app.url(&format!("/api/v1/admin/users/{}/role", target.as_str().expect("id"))))
        .bearer_auth(&admin.access)
        .json(&json!({"role": "freelancer"}))
        .send()
        .await
        .expect("request");
    assert_eq!(promoted.status(), StatusCode::OK);
    let body: Value = promoted.json().await.expect("json");
    assert_eq!(body["role"], "freelancer");

    let missing = app
        .client
        .put(app.url(&format!("/api/v1/admin/users/{}/role", uuid::Uuid::now_v7())))
        .bearer_auth(&admin.access)
        .json(&json!({"role": "freelancer"}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(missing).await.0, StatusCode::NOT_FOUND);
}
