//! `/bias/check` and the pipeline's `bias_check` step.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_code, finished, spawn_app, step, submit_job};

#[tokio::test]
async fn a_biased_job_post_is_flagged_with_spans_and_suggestions() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let text = "We want a young rockstar who is a native English speaker. Competitive salary.";
    let response = app
        .client
        .post(app.url("/api/v1/bias/check"))
        .bearer_auth(&user.access)
        .json(&json!({"kind": "job_post", "text": text}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.expect("json");
    assert_eq!(report["requires_review"], true, "{report}");
    let findings = report["findings"].as_array().expect("findings");
    let rules: Vec<&str> = findings.iter().filter_map(|f| f["rule_id"].as_str()).collect();
    assert!(
        rules.contains(&"age-young") && rules.contains(&"language-native-speaker"),
        "{rules:?}"
    );
    assert!(
        !rules.iter().any(|r| r.contains("competitive")),
        "competitive salary is fine: {rules:?}"
    );
    for finding in findings {
        let (start, end) = (
            finding["start"].as_u64().expect("start") as usize,
            finding["end"].as_u64().expect("end") as usize,
        );
        assert_eq!(&text[start..end], finding["text"].as_str().expect("text"));
    }
    assert!(report["coded"]["verdict"].is_string());
}

#[tokio::test]
async fn bad_bias_requests_are_refused_clearly() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let send = |body: Vec<u8>| {
        app.client
            .post(app.url("/api/v1/bias/check"))
            .bearer_auth(&user.access)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let invalid_utf8 =
        [br#"{"kind": "text", "text": "caf"#.as_slice(), b"\xff\xfe", br#""}"#].concat();
    assert_eq!(
        error_code(send(invalid_utf8).await.expect("request")).await.0,
        StatusCode::BAD_REQUEST
    );
    let unknown_kind = json!({"kind": "poem", "text": "x"}).to_string().into_bytes();
    let (status, _, field) = error_code(send(unknown_kind).await.expect("request")).await;
    assert_eq!((status, field.as_deref()), (StatusCode::BAD_REQUEST, Some("kind")));
    let huge =
        json!({"kind": "text", "text": "a".repeat(11 * 1024 * 1024)}).to_string().into_bytes();
    assert_eq!(
        error_code(send(huge).await.expect("request")).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let empty = json!({"kind": "review", "text": ""}).to_string().into_bytes();
    let report: Value = send(empty).await.expect("request").json().await.expect("json");
    assert_eq!(report["score"], 0);
}

#[tokio::test]
async fn naughty_strings_never_break_the_bias_check() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/robustness/blns-2.0.4.base64.json"
    );
    let encoded: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("blns")).expect("list");
    for (i, item) in encoded.iter().enumerate() {
        let Ok(bytes) = STANDARD.decode(item) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for kind in ["job_post", "review"] {
            let response = app
                .client
                .post(app.url("/api/v1/bias/check"))
                .bearer_auth(&user.access)
                .json(&json!({"kind": kind, "text": text}))
                .send()
                .await
                .expect("the server answers");
            assert_eq!(response.status(), StatusCode::OK, "string #{i} {text:?}");
            let report: Value = response.json().await.expect("json");
            for finding in report["findings"].as_array().expect("findings") {
                let (start, end) = (
                    finding["start"].as_u64().expect("start") as usize,
                    finding["end"].as_u64().expect("end") as usize,
                );
                assert!(
                    text.is_char_boundary(start) && text.is_char_boundary(end) && start < end,
                    "#{i}"
                );
            }
        }
    }
}

#[tokio::test]
async fn job_submissions_are_bias_checked_in_the_pipeline() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let id = submit_job(
        &app,
        &user,
        "Ninja wanted",
        "Young, aggressive, dominant ninja wanted. Max age 30.",
    )
    .await;
    let done = finished(&app, &user, &id).await;
    let step = step(&done, "bias_check");
    assert_eq!(step["status"], "succeeded", "{done}");
    assert_eq!(step["output"]["requires_review"], true);
    assert!(
        step["output"]["categories"]["age"].as_u64().is_some_and(|n| n >= 2),
        "{}",
        step["output"]
    );
}

/// An organisation pack: registered, refused or promoted by the gate, in
/// use at once, audited, rolled back to the shipped packs.
#[tokio::test]
async fn an_organisation_rule_pack_goes_through_the_registry_into_every_check() {
    use crate::helpers::send;
    use reqwest::Method;

    let app = spawn_app().await;
    let admin = app.admin("admin@example.org").await;
    let client = app.register("client@example.org").await;
    let check = async |text: &str| {
        let body = json!({"kind": "job_post", "text": text});
        let (status, report) =
            send(&app, Method::POST, &client, "/api/v1/bias/check", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["rule_id"].as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let text = "Join us as our code wizard.";
    assert!(!check(text).await.iter().any(|id| id == "acme-wizard"));

    let pack = |pattern: &str| {
        format!(
            "[pack]\nname = \"acme\"\napplies_to = [\"job_post\"]\n\n[[rule]]\nid = \"acme-wizard\"\n\
             category = \"jargon\"\nseverity = \"warning\"\ntype = \"basic\"\n\
             patterns = [\"{pattern}\"]\nsuggestions = [\"experienced developer\"]\n\
             source = \"ACME style guide\"\n"
        )
    };
    let register = "/api/v1/admin/models/bias-rules";
    let (status, _) =
        send(&app, Method::POST, &client, register, Some(json!({"pack": pack("code wizard")})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let broken = json!({"pack": pack("code wizard").replace("severity = \"warning\"", "")});
    let (status, error) = send(&app, Method::POST, &admin, register, Some(broken)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(error.to_string().contains("severity"), "{error}");

    // Too broad: the gate refuses it, nothing changes.
    let (status, broad) =
        send(&app, Method::POST, &admin, register, Some(json!({"pack": pack("the")}))).await;
    assert_eq!(status, StatusCode::CREATED, "{broad}");
    assert_eq!(broad["gate"]["passes"], false, "{broad}");
    let promote = "/api/v1/admin/models/promote?kind=bias_rules";
    let (status, refused) = send(&app, Method::POST, &admin, promote, None).await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["promoted"], false, "{refused}");
    assert!(!check(text).await.iter().any(|id| id == "acme-wizard"));

    // Narrow: promoted, and the next check uses it.
    let (status, narrow) =
        send(&app, Method::POST, &admin, register, Some(json!({"pack": pack("code wizard")})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{narrow}");
    assert_eq!(narrow["gate"]["passes"], true, "{narrow}");
    let version = narrow["version"].as_str().expect("version").to_owned();
    let (status, again) =
        send(&app, Method::POST, &admin, register, Some(json!({"pack": pack("code wizard")})))
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "the same pack twice: {again}");
    let (_, promoted) = send(&app, Method::POST, &admin, promote, None).await;
    assert_eq!(promoted["promoted"], true, "{promoted}");
    assert!(check(text).await.iter().any(|id| id == "acme-wizard"));
    let (_, registry) =
        send(&app, Method::GET, &admin, "/api/v1/admin/models?kind=bias_rules", None).await;
    assert_eq!(registry["serving"], version.as_str(), "{registry}");
    assert_eq!(registry["models"].as_array().map(Vec::len), Some(2), "{registry}");
    let (status, _) =
        send(&app, Method::GET, &admin, "/api/v1/admin/models?kind=nonsense", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Rolling back the first pack leaves the shipped packs alone.
    let rollback = "/api/v1/admin/models/rollback?kind=bias_rules";
    let (status, rolled) = send(&app, Method::POST, &admin, rollback, None).await;
    assert_eq!(status, StatusCode::OK, "{rolled}");
    assert_eq!(rolled["serving"], "shipped packs", "{rolled}");
    assert!(!check(text).await.iter().any(|id| id == "acme-wizard"));
    let (status, _) = send(&app, Method::POST, &admin, rollback, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing left to roll back");
    let (_, audit) = send(&app, Method::GET, &admin, "/api/v1/audit?limit=50", None).await;
    let audit = audit.to_string();
    for action in ["model.promotion_refused", "model.promoted", "model.rolled_back"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }

    // The embedder that serves is recorded, and is not promoted by hand.
    let (_, embedders) =
        send(&app, Method::GET, &admin, "/api/v1/admin/models?kind=embedder", None).await;
    let serving = embedders["serving"].as_str().expect("serving").to_owned();
    assert!(
        embedders["models"]
            .as_array()
            .expect("models")
            .iter()
            .any(|m| m["version"] == serving.as_str()
                && m["aliases"].as_array().is_some_and(|a| a.contains(&json!("champion")))),
        "{embedders}"
    );
    let (status, _) =
        send(&app, Method::POST, &admin, "/api/v1/admin/models/promote?kind=embedder", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// 10 MiB of dense findings: seconds of work in a test build.
fn hostile_text() -> String {
    let (_, text) = fairgig_ai::bias::bench::adversarial(10 * 1024 * 1024)
        .into_iter()
        .find(|(name, _)| *name == "many findings")
        .expect("the many-findings shape");
    text
}

#[tokio::test]
async fn a_check_whose_request_timed_out_frees_its_caller_within_a_second() {
    let app = crate::helpers::spawn_with(|settings| {
        settings.server.request_timeout_secs = 1;
        settings.rate_limit.expensive_per_caller = 1;
    })
    .await;
    let user = app.register("client@example.org").await;
    let check = |text: String| {
        app.client
            .post(app.url("/api/v1/bias/check"))
            .bearer_auth(&user.access)
            .json(&json!({"kind": "job_post", "text": text}))
            .send()
    };
    let started = std::time::Instant::now();
    let timed_out = check(hostile_text()).await.expect("request");
    assert_eq!(timed_out.status(), StatusCode::REQUEST_TIMEOUT);
    let answered = started.elapsed();
    // The caller's one slot is held by the check itself: it is free again
    // only once the check has stopped on the blocking pool.
    let freed_within = std::time::Duration::from_secs(1);
    loop {
        let small = check("We want a rockstar.".to_owned()).await.expect("request");
        if small.status() == StatusCode::OK {
            break;
        }
        assert_eq!(small.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            started.elapsed() < answered + freed_within,
            "the timed-out check still ran {:?} after its 408",
            started.elapsed() - answered
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn expensive_requests_beyond_the_callers_share_get_429() {
    let app = crate::helpers::spawn_with(|settings| {
        settings.rate_limit.expensive_per_caller = 1;
    })
    .await;
    let user = app.register("client@example.org").await;
    let other = app.register("other@example.org").await;
    let check = |token: String, text: String| {
        app.client
            .post(app.url("/api/v1/bias/check"))
            .bearer_auth(token)
            .json(&json!({"kind": "job_post", "text": text}))
            .send()
    };
    let long = tokio::spawn(check(user.access.clone(), hostile_text()));
    // Wait until the long check holds the caller's slot.
    let mut refused = None;
    for _ in 0..500 {
        let response = check(user.access.clone(), "A rockstar.".into()).await.expect("request");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let refused = refused.expect("a second check while the first runs is refused");
    assert!(refused.headers().contains_key("retry-after"));
    let (status, code, _) = error_code(refused).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let others = check(other.access.clone(), "A rockstar.".into()).await.expect("request");
    assert_eq!(others.status(), StatusCode::OK, "another caller is not affected");
    let long = long.await.expect("task").expect("request");
    assert_eq!(long.status(), StatusCode::OK);
    // A finding every few bytes: all counted, the first thousand listed.
    let report: Value = long.json().await.expect("json");
    let listed = report["findings"].as_array().expect("findings").len();
    let total = report["findings_total"].as_u64().expect("total");
    assert_eq!(listed, fairgig_ai::bias::MAX_LISTED_FINDINGS);
    assert!(total > 1_000_000, "{total}");
    assert_eq!(report["score"], 100);
}
