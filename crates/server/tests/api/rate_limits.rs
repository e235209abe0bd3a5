//! Rate limits: 429 with Retry-After and RateLimit-* headers, login lockout,
//! and limits shared through a real Redis.

use std::sync::Once;

use reqwest::StatusCode;

use crate::helpers::{error_code, say_once, spawn_app, spawn_with, PASSWORD};

#[tokio::test]
async fn requests_past_the_per_ip_limit_get_429_with_retry_after() {
    let app = spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.per_ip_per_minute = 60;
        settings.rate_limit.burst = 3;
    })
    .await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..4 {
        let response = app.client.get(app.url("/healthz")).send().await.expect("request");
        statuses.push(response.status());
        last = Some(response);
    }
    assert_eq!(statuses[..3], [StatusCode::OK; 3]);
    let limited = last.expect("four responses");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = limited.headers();
    let retry_after: u64 =
        headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(headers["ratelimit-limit"], "3");
    assert_eq!(headers["ratelimit-remaining"], "0");
    assert_eq!(error_code(limited).await.1, "rate_limited");
}

#[tokio::test]
async fn allowed_responses_report_the_remaining_quota() {
    let app = spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.burst = 10;
    })
    .await;
    let first = app.client.get(app.url("/healthz")).send().await.expect("request");
    let second = app.client.get(app.url("/healthz")).send().await.expect("request");
    let remaining = |response: &reqwest::Response| -> u32 {
        response.headers()["ratelimit-remaining"].to_str().expect("ascii").parse().expect("number")
    };
    assert_eq!(remaining(&first), 9);
    assert_eq!(remaining(&second), 8);
}

#[tokio::test]
async fn repeated_login_failures_lock_the_account_even_for_the_right_password() {
    let app = spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.login_failures_per_15_minutes = 3;
    })
    .await;
    app.register("ada@example.org").await;
    for _ in 0..3 {
        assert_eq!(
            app.login("ada@example.org", "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = app.login("ada@example.org", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn successful_logins_do_not_count_as_failures() {
    let app = spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.login_failures_per_15_minutes = 2;
    })
    .await;
    app.register("ada@example.org").await;
    for _ in 0..4 {
        assert_eq!(app.login("ada@example.org", PASSWORD).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn rate_limits_are_off_when_disabled() {
    let app = spawn_app().await;
    for _ in 0..100 {
        assert_eq!(
            app.client.get(app.url("/healthz")).send().await.expect("request").status(),
            StatusCode::OK
        );
    }
}

/// Two API nodes on one Redis share one limit.
#[tokio::test]
async fn limits_are_shared_between_nodes_through_redis() {
    static SKIP: Once = Once::new();
    let Ok(redis_url) = std::env::var("FAIRGIG_TEST_REDIS_URL") else {
        say_once(&SKIP, "SKIP redis: FAIRGIG_TEST_REDIS_URL unset");
        return;
    };
    // A key space of its own, so parallel runs never share counters.
    let prefix = format!("fairgig-test-{}", uuid::Uuid::now_v7().simple());
    let configure = |settings: &mut fairgig_core::config::Settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.per_ip_per_minute = 1;
        settings.rate_limit.burst = 4;
        settings.redis.url = Some(fairgig_core::config::SecretUrl::new(redis_url.clone()));
        settings.redis.key_prefix = prefix.clone();
    };
    let node_a = spawn_with(configure).await;
    let node_b = spawn_with(configure).await;
    let mut statuses = Vec::new();
    for node in [&node_a, &node_b, &node_a, &node_b, &node_a] {
        statuses
            .push(node.client.get(node.url("/healthz")).send().await.expect("request").status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "a burst of 4 across both nodes, then 429"
    );
}
