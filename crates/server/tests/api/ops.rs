//! Health, readiness, metrics, request ids, headers, docs and fallbacks.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.status(), StatusCode::OK);
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["migrations"], "current");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.store.close().await;
    // Closing our second handle leaves the app's own pool open; closing the
    // app's is not reachable from here, so remove the schema instead.
    let other = fairgig_store::Store::connect(&app.database_url, Default::default())
        .await
        .expect("connect");
    if let fairgig_store::Pool::Sqlite(pool) = other.pool() {
        sqlx::query("DELETE FROM _sqlx_migrations").execute(pool).await.expect("forget migrations");
    }
    let response = app.client.get(app.url("/readyz")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["migrations"], "not_current");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.client.get(app.url("/healthz")).send().await.expect("request");
    app.client.get(app.url("/api/v1/me")).send().await.expect("request");
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/healthz""#), "{text}");
    assert!(text.contains(r#"route="/api/v1/me""#) && text.contains(r#"status="401""#), "{text}");
    assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("db_pool_connections"), "{text}");
}

/// The `http_requests_total` series in an exposition text.
fn request_series(text: &str) -> Vec<&str> {
    text.lines().filter(|line| line.starts_with("http_requests_total{")).collect()
}

#[tokio::test]
async fn hostile_methods_and_paths_add_no_metric_series() {
    let app = spawn_app().await;
    let metrics = || async {
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("text")
    };
    // One round to create the series a hostile client can reach at all.
    let hostile = |round: usize| {
        let client = app.client.clone();
        let base = app.address.clone();
        async move {
            for i in 0..50 {
                let method = reqwest::Method::from_bytes(
                    format!("X{round}Y{i}{}", "Z".repeat(i * 7)).as_bytes(),
                )
                .expect("a token method");
                for path in [format!("/random/{round}/{i}"), "/api/v1/auth/login".to_owned()] {
                    let response = client
                        .request(method.clone(), format!("{base}{path}"))
                        .send()
                        .await
                        .expect("request");
                    assert!(
                        response.status().is_client_error(),
                        "{method} {path}: {}",
                        response.status()
                    );
                }
            }
        }
    };
    hostile(0).await;
    hostile(1).await;
    let after = metrics().await;
    // The recorder is shared by every test in this process (others send odd
    // methods too), so count only the series this test can reach: unknown
    // methods on an unknown path and on one route. However many distinct
    // methods and paths were sent, they are a few fixed series.
    let ours = request_series(&after)
        .into_iter()
        .filter(|line| {
            line.contains(r#"method="other""#)
                && (line.contains(r#"route="unmatched""#)
                    || line.contains(r#"route="/api/v1/auth/login""#))
        })
        .count();
    assert!((1..=4).contains(&ours), "unknown methods fold into a few series: {after}");
    for line in request_series(&after) {
        assert!(
            !line.contains("/random/") && !line.contains("X1Y"),
            "a raw value became a label: {line}"
        );
    }
}

#[tokio::test]
async fn metrics_can_require_a_bearer_token() {
    let app = crate::helpers::spawn_with(|settings| {
        settings.server.metrics_token = Some("scrape-secret".to_owned().into());
    })
    .await;
    let open = app.client.get(app.url("/metrics")).send().await.expect("request");
    assert_eq!(open.status(), StatusCode::UNAUTHORIZED);
    let wrong =
        app.client.get(app.url("/metrics")).bearer_auth("nope").send().await.expect("request");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .await
        .expect("request");
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.expect("text").contains("http_requests_total"));
}

#[tokio::test]
async fn request_ids_are_generated_or_echoed() {
    let app = spawn_app().await;
    let generated = app.client.get(app.url("/healthz")).send().await.expect("request");
    let id =
        generated.headers().get("x-request-id").expect("generated id").to_str().expect("ascii");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("request");
    assert_eq!(echoed.headers().get("x-request-id").expect("echoed"), "abc-123");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/v1/me")).send().await.expect("request");
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
}

#[tokio::test]
async fn nothing_carrying_a_token_or_secret_may_be_cached() {
    let app = spawn_app().await;
    let user = app.register("ada@example.org").await;
    let login = app.login("ada@example.org", crate::helpers::PASSWORD).await;
    let refresh = app
        .post_json("/api/v1/auth/refresh", &serde_json::json!({"refresh_token": user.refresh}))
        .await;
    let me = app.get_as("/api/v1/me", &user.access).await;
    let (_, key) = app.api_key(&user, &["read"]).await;
    let keys = app.get_as("/api/v1/me/api-keys", &key).await;
    for (what, response) in [("login", login), ("refresh", refresh), ("me", me), ("api keys", keys)]
    {
        assert!(response.status().is_success(), "{what}: {}", response.status());
        assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    }
    let docs = app.client.get(app.url("/docs/")).send().await.expect("request");
    let policy = docs.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-eval"), "{policy}");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let missing = app.client.get(app.url("/api/v1/nothing-here")).send().await.expect("request");
    assert_eq!(error_code(missing).await.1, "not_found");
    let wrong_method =
        app.client.delete(app.url("/api/v1/auth/login")).send().await.expect("request");
    assert_eq!(
        error_code(wrong_method).await,
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".into(), None)
    );
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_documents_every_operation() {
    let app = spawn_app().await;
    let spec: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().expect("paths");
    for expected in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/api-keys",
        "/api/v1/me/api-keys/{id}",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{id}/role",
        "/api/v1/admin/users/{id}/disable",
        "/api/v1/audit",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(expected), "{expected} missing from the spec");
    }
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("item") {
            assert!(
                operation["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
        }
    }
    let docs = app.client.get(app.url("/docs/")).send().await.expect("request");
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.expect("html").contains("swagger"), "interactive docs page");
}
