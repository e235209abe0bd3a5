//! Password reset and email verification, following the links mailed
//! through a real SMTP server.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{error_code, mailbox, send, spawn_with, PASSWORD};

#[tokio::test]
async fn a_lost_password_is_replaced_once_through_the_mailed_link() {
    let Some(mailbox) = mailbox() else { return };
    let app = spawn_with(|settings| mailbox.configure(settings)).await;
    let email = format!("reset-{}@example.org", uuid::Uuid::now_v7());
    let user = app.register(&email).await;

    // The same answer for an unknown address; a malformed one is refused.
    for address in [email.as_str(), "nobody-here@example.org"] {
        let response =
            app.post_json("/api/v1/auth/password-reset", &json!({"email": address})).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{address}");
    }
    let response = app.post_json("/api/v1/auth/password-reset", &json!({"email": "nope"})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into(), Some("email".into()))
    );

    let token = mailbox.link_token(&email, "/password/reset").await;
    let confirm = |token: &str, password: &str| {
        let body = json!({"token": token, "new_password": password});
        let request = app.client.post(app.url("/api/v1/auth/password-reset/confirm")).json(&body);
        async move { request.send().await.expect("request") }
    };
    // A weak password is refused without spending the link; a made-up link is refused.
    let (status, _, field) = error_code(confirm(&token, "password").await).await;
    assert_eq!(
        (status, field.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("new_password"))
    );
    let forged = "A".repeat(43);
    let (status, _, field) = error_code(confirm(&forged, "a new and long passphrase").await).await;
    assert_eq!((status, field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("token")));

    let response = confirm(&token, "a new and long passphrase").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // Every session ended; the new password works, the old one not.
    let (status, _) = send(&app, Method::GET, &user, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&email, "a new and long passphrase").await.status(), StatusCode::OK);
    // The link worked once.
    let (status, _, field) = error_code(confirm(&token, "yet another passphrase").await).await;
    assert_eq!((status, field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("token")));

    // The inbox never shows the link, even to the account's own session.
    let response = app.login(&email, "a new and long passphrase").await;
    let tokens: serde_json::Value = response.json().await.expect("json");
    let access = tokens["access_token"].as_str().expect("access");
    let inbox: serde_json::Value =
        app.get_as("/api/v1/me/notifications", access).await.json().await.expect("inbox");
    let text = inbox.to_string();
    assert!(text.contains("password_reset"), "{text}");
    assert!(!text.contains(&token) && !text.contains("token="), "{text}");
}

#[tokio::test]
async fn an_address_is_verified_through_the_link_mailed_at_sign_up() {
    let Some(mailbox) = mailbox() else { return };
    let app = spawn_with(|settings| mailbox.configure(settings)).await;
    let email = format!("verify-{}@example.org", uuid::Uuid::now_v7());
    let user = app.register(&email).await;
    let (_, me) = send(&app, Method::GET, &user, "/api/v1/me", None).await;
    assert!(me["email_verified_at"].is_null(), "{me}");

    let token = mailbox.link_token(&email, "/verify-email").await;
    let response = app.post_json("/api/v1/auth/verify-email", &json!({"token": token})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let verified: serde_json::Value = response.json().await.expect("json");
    assert!(verified["email_verified_at"].is_string(), "{verified}");
    let (_, me) = send(&app, Method::GET, &user, "/api/v1/me", None).await;
    assert!(me["email_verified_at"].is_string(), "{me}");

    // Once only; a verified address gets no new link.
    let response = app.post_json("/api/v1/auth/verify-email", &json!({"token": token})).await;
    assert_eq!(error_code(response).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, resent) =
        send(&app, Method::POST, &user, "/api/v1/auth/verify-email/resend", None).await;
    assert_eq!((status, resent["sent"].as_bool()), (StatusCode::OK, Some(false)));
    let response = app.post_json("/api/v1/auth/verify-email", &json!({"token": "x y"})).await;
    assert_eq!(error_code(response).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}
