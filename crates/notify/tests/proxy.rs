//! Webhook and Slack deliveries never go through a proxy from the
//! environment: a proxy resolves and connects on our behalf, so the address
//! guard would judge the proxy instead of the target. (Its own test binary:
//! it sets proxy variables for the whole process.)

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{routing::post, Router};
use fairgig_notify::{channel::webhook::WebhookChannel, guard::AddressPolicy};

async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new().fallback(post(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "ok" }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("127.0.0.1:{}", address.port()), hits)
}

#[tokio::test]
async fn deliveries_ignore_proxies_in_the_environment() {
    let (proxy, proxied) = counting_server().await;
    for name in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"]
    {
        std::env::set_var(name, format!("http://{proxy}"));
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let (target, delivered) = counting_server().await;
    let port = target.rsplit(':').next().expect("port");

    // Without an allow-list, localhost in any spelling is refused before
    // anything is sent, and nothing reaches the proxy either.
    let guarded =
        WebhookChannel::new(AddressPolicy::default(), Duration::from_secs(5)).expect("client");
    for host in [
        "localhost",
        "LOCALHOST",
        "localhost.",
        "hooks.localhost",
        "127.0.0.1",
        "[::ffff:127.0.0.1]",
        "[2002:7f00:1::]",
    ] {
        let url = format!("http://{host}:{port}/hook");
        assert!(guarded.check_url(&url).is_err(), "{url} must be refused at registration");
        let sent = guarded
            .send("msg_1", &url, &["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], b"{}".to_vec(), 0)
            .await;
        assert!(sent.is_err(), "{url} must not be delivered");
        assert!(guarded.post_unsigned(&url, b"{}".to_vec()).await.is_err(), "{url} (Slack)");
    }
    assert_eq!(delivered.load(Ordering::SeqCst), 0);

    // Allowed on purpose: delivered directly, never through the proxy.
    let allowed = WebhookChannel::new(
        AddressPolicy::new(&["127.0.0.1".into(), "::1".into()]).expect("allow-list"),
        Duration::from_secs(5),
    )
    .expect("client");
    let url = format!("http://localhost:{port}/hook");
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    allowed
        .send("msg_2", &url, &["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], b"{}".to_vec(), timestamp)
        .await
        .expect("delivered");
    allowed.post_unsigned(&url, b"{}".to_vec()).await.expect("delivered (Slack)");
    assert_eq!(delivered.load(Ordering::SeqCst), 2);
    assert_eq!(proxied.load(Ordering::SeqCst), 0, "a delivery went through the proxy");
}
