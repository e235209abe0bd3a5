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

/// Every metric the shipped Grafana dashboard and Prometheus alert rules
/// name (`deploy/`), as written in their expressions.
fn metrics_named_in_deploy() -> std::collections::BTreeSet<String> {
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy.join("grafana/dashboards/fairgig.json"))
            .expect("dashboard"),
    )
    .expect("dashboard JSON");
    let mut expressions: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|panel| panel["datasource"]["type"] == "prometheus")
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|target| target["expr"].as_str().map(str::to_owned))
        .collect();
    let rules = std::fs::read_to_string(deploy.join("prometheus/alerts.yml")).expect("rules");
    expressions.push(rules);
    let names = expressions.iter().flat_map(|expr| {
        expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| {
                ["fairgig_", "http_", "queue_", "pipeline_", "db_pool_"]
                    .iter()
                    .any(|prefix| word.starts_with(prefix))
            })
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    names.collect()
}

/// The dashboards and alerts watch what the app really exports: after a
/// short run (a profile, a job and its matches, a request through the
/// pipeline, a 404), `/metrics` has a series for every metric they name.
#[tokio::test]
async fn every_metric_the_dashboards_and_alerts_name_is_exported() {
    use crate::helpers::{finished, send, PASSWORD};
    use fairgig_core::user::Role;
    use reqwest::Method;
    use serde_json::json;

    let named = metrics_named_in_deploy();
    assert!(named.len() >= 15, "the scan finds the names: {named:?}");
    let app = spawn_app().await;
    let client = app.register_as("watched-client@example.org", Role::Client).await;
    let freelancer = app.register_as("watched-dev@example.org", Role::Freelancer).await;
    let profile = json!({
        "headline": "Rust developer", "bio": "Services and dashboards.",
        "skills": [{"name": "Rust", "level": "expert"}],
        "hourly_rate": {"amount_minor": 8000, "currency": "EUR"},
        "availability": "available", "years_experience": 5.0, "languages": ["English"],
    });
    let (status, _) =
        send(&app, Method::PUT, &freelancer, "/api/v1/me/profile", Some(profile)).await;
    assert_eq!(status, StatusCode::OK);
    let job = json!({"title": "Rust service", "description": "Build a Rust service.", "required_skills": ["Rust"], "preferred_skills": []});
    let (status, job) = send(&app, Method::POST, &client, "/api/v1/jobs", Some(job)).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let matches = format!("/api/v1/jobs/{}/matches", job["id"].as_str().expect("id"));
    assert_eq!(send(&app, Method::GET, &client, &matches, None).await.0, StatusCode::OK);
    let request = json!({"kind": "request", "title": "A shop", "text": "We need an online shop for our bakery."});
    let (status, created) =
        send(&app, Method::POST, &client, "/api/v1/submissions", Some(request)).await;
    assert_eq!(status, StatusCode::CREATED);
    finished(&app, &client, created["id"].as_str().expect("id")).await;
    let _ = app.login("watched-client@example.org", "not the password").await;
    let _ = PASSWORD;

    // Notifications are sent in the background: wait for their series.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let exported = |name: &str| {
            text.lines().any(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
        };
        let missing: Vec<&String> = named.iter().filter(|name| !exported(name)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not exported: {missing:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// `fairgig worker --bind` answers probes and exports its own step
/// metrics, which an API node never sees.
#[tokio::test]
async fn a_worker_serves_its_probes_and_step_metrics() {
    use crate::{crash::worker_process_with, helpers::spawn_api_only_with};
    let app = spawn_api_only_with(|_| {}).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut worker = worker_process_with(&app, None, &["--bind", &bind]);
    let user = app.register("probed@example.org").await;
    let id =
        crate::helpers::submit_job(&app, &user, "A shop", "An online shop for a bakery.").await;
    crate::helpers::finished(&app, &user, &id).await;
    let probe = |path: &str| format!("http://{bind}{path}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let metrics = loop {
        let ready = app.client.get(probe("/readyz")).send().await;
        if let Ok(ready) = ready {
            assert_eq!(ready.status(), StatusCode::OK);
            let text = app.client.get(probe("/metrics")).send().await.expect("metrics");
            break text.text().await.expect("text");
        }
        assert!(tokio::time::Instant::now() < deadline, "the worker's probes never answered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let api = app.client.get(probe("/api/v1/jobs")).send().await.map(|r| r.status());
    let _ = worker.kill();
    let _ = worker.wait();
    assert!(metrics.contains("pipeline_steps_total{"), "{metrics}");
    assert!(metrics.contains("fairgig_ready 1"), "{metrics}");
    assert_eq!(api.ok(), Some(StatusCode::NOT_FOUND), "a worker serves no API");
}
