//! No traffic the operator did not configure: `fairgig serve` on embedded
//! defaults (SQLite, the local model through ONNX Runtime) opens no socket
//! to any address but loopback, and sends nothing through a proxy named in
//! the environment.
//!
//! The process runs under `strace -f`, which records every `connect` and
//! `sendto` of every thread (DNS lookups included) whatever library makes
//! them; a recording proxy in `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` catches
//! libraries that would tunnel instead.

use std::{
    io::Read,
    net::{IpAddr, TcpListener},
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::json;

fn models_dir() -> PathBuf {
    std::env::var_os("FAIRGIG_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// strace, or `None` after a SKIP line (never in CI: there it is a failure).
fn strace() -> Option<PathBuf> {
    let found =
        ["/usr/bin/strace", "/bin/strace"].into_iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "strace is missing; .ci/run must install it");
        eprintln!("SKIP outbound traffic: strace is not installed");
    }
    found
}

/// A proxy that accepts and counts every connection, and answers none.
fn recording_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let mut first = [0u8; 256];
            let read = stream.read(&mut first).unwrap_or(0);
            eprintln!("proxy got: {}", String::from_utf8_lossy(&first[..read]));
        }
    });
    (address, seen)
}

/// How long serve is watched from its start.
const OBSERVE: Duration = Duration::from_secs(25);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Every IPv4/IPv6 address that a traced `connect`/`sendto`/`sendmsg` named.
fn addresses_in(trace: &str) -> Vec<(IpAddr, String)> {
    let mut found = Vec::new();
    for line in trace.lines() {
        for (marker, close) in [("inet_addr(\"", '"'), ("inet_pton(AF_INET6, \"", '"')] {
            let mut rest = line;
            while let Some(at) = rest.find(marker) {
                rest = &rest[at + marker.len()..];
                let Some(end) = rest.find(close) else { break };
                if let Ok(ip) = rest[..end].parse::<IpAddr>() {
                    found.push((ip, line.to_owned()));
                }
                rest = &rest[end..];
            }
        }
    }
    found
}

/// Loopback (also as an IPv4-mapped IPv6 address), or unspecified (a bind).
fn on_this_machine(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    ip.is_loopback() || ip.is_unspecified()
}

#[test]
fn addresses_are_read_from_strace_lines() {
    let trace = r#"12 connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("13.69.109.130")}, 16) = -1 EINPROGRESS
13 sendto(5, "\x01", 1, MSG_NOSIGNAL, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 1"#;
    let found: Vec<IpAddr> = addresses_in(trace).into_iter().map(|(ip, _)| ip).collect();
    assert_eq!(
        found,
        vec!["13.69.109.130".parse::<IpAddr>().expect("ip"), "::1".parse().expect("ip")]
    );
}

#[tokio::test]
async fn serve_on_embedded_defaults_talks_to_no_one() {
    let Some(strace) = strace() else { return };
    let models = models_dir();
    assert!(models.join("all-MiniLM-L6-v2/model.onnx").exists(), "run `make models` first");
    let data = tempfile::tempdir().expect("temp dir");
    let trace_file = data.path().join("strace.txt");
    let port = free_port();
    let (proxy, proxied) = recording_proxy();
    let mut child = Command::new(strace)
        .args([
            "-f",
            "-qq",
            "-e",
            "signal=none",
            "-e",
            "trace=connect,sendto,sendmsg,accept,accept4",
        ])
        .arg("-o")
        .arg(&trace_file)
        .arg(env!("CARGO_BIN_EXE_fairgig"))
        .arg("serve")
        // An operator's shell, not this test's: ONNX Runtime stays quiet
        // when it sees `CI` (or similar) set, which would hide the defect.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", data.path())
        .env("FAIRGIG_DATA_DIR", data.path())
        .env("FAIRGIG_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("FAIRGIG_EMBEDDING__MODELS_DIR", &models)
        .env("FAIRGIG_TRANSCRIPTION__MODEL_DIR", crate::helpers::models_dir().join("whisper-base"))
        .env("FAIRGIG_LLM__MODEL_PATH", models.join("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"))
        .env("FAIRGIG_LOG__LEVEL", "warn")
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("https_proxy", &proxy)
        .env("http_proxy", &proxy)
        .env("all_proxy", &proxy)
        .current_dir(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start strace");

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            if response.status() == StatusCode::OK {
                break;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(120), "serve did not become ready");
        assert!(child.try_wait().expect("wait").is_none(), "serve exited early");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Use the model (an ONNX Runtime session) and the pipeline.
    let registered = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.org", "display_name": "Ada", "password": "correct horse battery", "role": "client"}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let body: serde_json::Value = registered.json().await.expect("json");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let embedded = client
        .post(format!("{base}/api/v1/embeddings"))
        .bearer_auth(&token)
        .json(&json!({"texts": ["Rust developer for a payments backend"]}))
        .send()
        .await
        .expect("embed");
    assert_eq!(embedded.status(), StatusCode::OK);

    // ONNX Runtime's telemetry, when on, looks up its host about 10 s after
    // the runtime starts (measured: DNS for mobile.events.data.microsoft.com
    // at +10.3 s). Nothing signals an absence, so watch for twice that.
    let watched_until = started + OBSERVE;
    while Instant::now() < watched_until {
        assert!(child.try_wait().expect("wait").is_none(), "serve exited early");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Stop serve (strace's child) with SIGTERM; strace ends with it.
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
        .expect("strace's children");
    let serve_pid = children.split_whitespace().next().expect("serve runs under strace").to_owned();
    let killed = Command::new("kill").args(["-TERM", &serve_pid]).status().expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "serve did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let trace = std::fs::read_to_string(&trace_file).expect("trace");
    assert!(trace.contains("accept"), "the trace saw our own requests arrive:\n{trace}");
    let outside: Vec<String> = addresses_in(&trace)
        .into_iter()
        .filter(|(ip, _)| !on_this_machine(*ip))
        .map(|(_, line)| line)
        .collect();
    assert!(outside.is_empty(), "serve reached beyond loopback:\n{}", outside.join("\n"));
    assert_eq!(proxied.load(Ordering::SeqCst), 0, "serve used the proxy in the environment");
}
