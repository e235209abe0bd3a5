//! Submissions end to end: JSON and multipart, the pipeline running in the
//! app's own worker, idempotency, hostile uploads, ownership, live events.

use std::time::Duration;

use fairgig_ai::extract::samples::pdf;
use reqwest::{
    multipart::{Form, Part},
    StatusCode,
};
use serde_json::{json, Value};

use crate::helpers::{error_code, finished, spawn_app, spawn_with, step, TestApp, TestUser};

const BRIEF: &str = "We need a Rust developer to build a REST API with PostgreSQL and Docker. \
                     Budget €4,500, deadline 2027-03-01.";

fn job() -> Value {
    json!({"kind": "job", "title": "Rust API", "text": BRIEF, "budget": {"amount_minor": 450000, "currency": "eur"}})
}

async fn submit_json(app: &TestApp, user: &TestUser, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .json(body)
        .send()
        .await
        .expect("request")
}

fn form(files: Vec<(&'static str, &'static str, Vec<u8>)>) -> Form {
    let mut form = Form::new().text("submission", job().to_string());
    for (field, name, bytes) in files {
        form = form.part(field, Part::bytes(bytes).file_name(name));
    }
    form
}

async fn submit_form(app: &TestApp, user: &TestUser, form: Form) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .multipart(form)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_json_job_is_extracted_and_analysed() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let response = submit_json(&app, &user, &job()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    // The answer shows the submission as it is by then: the in-process
    // worker may already have run it (it often does on a loaded host).
    assert!(
        matches!(created["status"].as_str(), Some("received" | "processing" | "completed")),
        "{created}"
    );
    assert_eq!(created["budget"]["currency"], "EUR");

    let done = finished(&app, &user, created["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["run"]["progress"], 100);
    let analysis = &step(&done, "analyse")["output"];
    assert_eq!(analysis["money"][0]["amount_minor"], 450000);
    assert_eq!(analysis["dates"][0]["date"], "2027-03-01");
    let skills: Vec<&str> = analysis["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert!(skills.contains(&"PostgreSQL") && skills.contains(&"Docker"), "{skills:?}");
    assert!(step(&done, "extract")["duration_ms"].is_number());
}

#[tokio::test]
async fn files_are_stored_sniffed_extracted_and_deleted_with_the_submission() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let wav = crate::helpers::silent_wav();
    let files = vec![
        ("files", "brief.pdf", pdf(&["Kubernetes migration for a shop", "Terraform and AWS"])),
        ("files", "../../notes.md", b"# Notes\n\nMust use **Redis**.".to_vec()),
        ("voice", "memo.wav", wav),
    ];
    let response = submit_form(&app, &user, form(files)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    let stored = created["files"].as_array().expect("files");
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0]["content_type"], "application/pdf");
    assert_eq!(stored[1]["filename"], "notes.md", "paths are stripped");
    assert_eq!(stored[1]["content_type"], "text/markdown");
    assert_eq!(stored[2]["role"], "voice");
    assert_eq!(stored[0]["sha256"].as_str().map(str::len), Some(64));

    let id = created["id"].as_str().expect("id").to_owned();
    let done = finished(&app, &user, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let extract = &step(&done, "extract")["output"];
    assert!(extract["text"].as_str().expect("text").contains("Kubernetes migration"), "{extract}");
    assert_eq!(extract["documents"][0]["pages"], 2);
    // A second of silence: transcribed, and nothing was said.
    assert_eq!(extract["voice"][0]["transcription"], "transcribed", "{extract}");
    assert_eq!(extract["voice"][0]["text"], "");
    let skills = step(&done, "analyse")["output"]["skills"].to_string();
    assert!(skills.contains("Redis") && skills.contains("Terraform"), "{skills}");

    let objects = app.data_dir.path().join("objects");
    assert_eq!(count_files(&objects), 3);
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/submissions/{id}")))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(count_files(&objects), 0, "stored files go with the submission");
    assert_eq!(
        app.get_as(&format!("/api/v1/submissions/{id}"), &user.access).await.status(),
        StatusCode::NOT_FOUND
    );
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| if entry.path().is_dir() { count_files(&entry.path()) } else { 1 })
        .sum()
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_submission_and_refuses_a_different_one() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let send = |body: Value| {
        app.client
            .post(app.url("/api/v1/submissions"))
            .bearer_auth(&user.access)
            .header("idempotency-key", "order-42")
            .json(&body)
            .send()
    };
    let first = send(job()).await.expect("request");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = send(job()).await.expect("request");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);

    let mut different = job();
    different["title"] = json!("Something else");
    let conflict = send(different).await.expect("request");
    assert_eq!(error_code(conflict).await.0, StatusCode::CONFLICT);
    let list: Value =
        app.get_as("/api/v1/submissions", &user.access).await.json().await.expect("json");
    assert_eq!(list["submissions"].as_array().expect("list").len(), 1);
}

#[tokio::test]
async fn hostile_uploads_get_clear_errors_and_store_nothing() {
    let app = spawn_with(|settings| {
        settings.submissions.max_file_bytes = 64 * 1024;
        settings.submissions.max_request_bytes = 256 * 1024;
    })
    .await;
    let user = app.register("client@example.org").await;
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    let cases: Vec<(Form, StatusCode, &str)> = vec![
        (
            form(vec![("files", "invoice.pdf", exe)]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "an executable named .pdf",
        ),
        (
            form(vec![("files", "empty.txt", Vec::new())]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a 0-byte file",
        ),
        (
            form(vec![("files", "big.txt", vec![b'a'; 100 * 1024])]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "a file over the limit",
        ),
        (
            form(vec![("voice", "talk.txt", b"not audio".to_vec())]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text as voice",
        ),
        (
            form(vec![("attachment", "a.txt", b"x".to_vec())]),
            StatusCode::BAD_REQUEST,
            "an unknown part",
        ),
        (
            Form::new().part("files", Part::bytes(b"x".to_vec()).file_name("a.txt")),
            StatusCode::BAD_REQUEST,
            "no submission part",
        ),
        (
            form(vec![]).text("submission", job().to_string()),
            StatusCode::BAD_REQUEST,
            "two submission parts",
        ),
        (
            form(vec![("files", "a.txt", b"hello".to_vec())]).part(
                "files",
                Part::bytes(b"hello".to_vec()).file_name(format!("{}.txt", "n".repeat(10_000))),
            ),
            StatusCode::BAD_REQUEST,
            "an oversized part header",
        ),
        (
            (0..50).fold(form(vec![]), |form, i| {
                form.part("files", Part::bytes(vec![b'a'; 10]).file_name(format!("{i}.txt")))
            }),
            StatusCode::BAD_REQUEST,
            "too many parts",
        ),
    ];
    for (form, status, why) in cases {
        let response = submit_form(&app, &user, form).await;
        assert_eq!(response.status(), status, "{why}");
        let body: Value = response.json().await.expect("JSON error");
        assert!(body["error"]["code"].is_string(), "{why}: {body}");
    }
    // A multipart body cut off mid-part.
    let truncated =
        "--XYZ\r\nContent-Disposition: form-data; name=\"submission\"\r\n\r\n{\"kind\":\"job\"";
    let response = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&user.access)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body(truncated)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let list: Value =
        app.get_as("/api/v1/submissions", &user.access).await.json().await.expect("json");
    assert_eq!(list["submissions"], json!([]), "nothing was stored");
    assert_eq!(count_files(&app.data_dir.path().join("objects")), 0, "no orphaned files");
}

#[tokio::test]
async fn a_corrupt_pdf_fails_its_step_with_a_reason_and_lands_in_dead_letters() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let admin = app.admin("admin@example.org").await;
    let broken = crate::helpers::corrupt_pdf();
    let created: Value = submit_form(&app, &user, form(vec![("files", "broken.pdf", broken)]))
        .await
        .json()
        .await
        .expect("json");
    let done = finished(&app, &user, created["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "failed");
    let extract = step(&done, "extract");
    assert_eq!(extract["status"], "failed");
    assert!(extract["error"].as_str().expect("error").contains("broken.pdf"), "{extract}");
    assert_eq!(extract["attempts"], 1, "a corrupt file is not retried");
    assert_eq!(step(&done, "analyse")["status"], "waiting");

    let dead: Value =
        app.get_as("/api/v1/admin/dead-letters", &admin.access).await.json().await.expect("json");
    let task = dead[0]["id"].as_str().expect("dead task").to_owned();
    let retried = app
        .client
        .post(app.url(&format!("/api/v1/admin/dead-letters/{task}/retry")))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("request");
    assert_eq!(retried.status(), StatusCode::OK);
    let body: Value = retried.json().await.expect("json");
    assert_eq!(body["step"], "extract");
}

#[tokio::test]
async fn others_cannot_see_cancel_or_delete_a_submission() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.org").await;
    let other = app.register("other@example.org").await;
    let created: Value = submit_json(&app, &owner, &job()).await.json().await.expect("json");
    let id = created["id"].as_str().expect("id");
    for (method, path) in [
        (reqwest::Method::GET, format!("/api/v1/submissions/{id}")),
        (reqwest::Method::GET, format!("/api/v1/submissions/{id}/events")),
        (reqwest::Method::POST, format!("/api/v1/submissions/{id}/cancel")),
        (reqwest::Method::DELETE, format!("/api/v1/submissions/{id}")),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&other.access)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let theirs: Value =
        app.get_as("/api/v1/submissions", &other.access).await.json().await.expect("json");
    assert_eq!(theirs["submissions"], json!([]));
    assert_eq!(
        app.get_as(&format!("/api/v1/submissions/{id}"), &owner.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn progress_streams_as_server_sent_events() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let created: Value = submit_json(&app, &user, &job()).await.json().await.expect("json");
    let id = created["id"].as_str().expect("id");
    let response = app.get_as(&format!("/api/v1/submissions/{id}/events"), &user.access).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = tokio::time::timeout(Duration::from_secs(30), response.text())
        .await
        .expect("stream ends")
        .expect("body");
    assert!(text.contains("event: step"), "{text}");
    assert!(text.contains(r#""status":"succeeded","step":"analyse""#), "{text}");
    assert!(text.contains("event: run") && text.contains(r#""status":"succeeded""#), "{text}");
}

#[tokio::test]
async fn submissions_are_listed_newest_first_and_filtered() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let mut request = job();
    request["kind"] = json!("request");
    for body in [job(), request, job()] {
        assert_eq!(submit_json(&app, &user, &body).await.status(), StatusCode::CREATED);
    }
    let jobs: Value = app
        .get_as("/api/v1/submissions?kind=job&limit=1", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(jobs["submissions"].as_array().expect("list").len(), 1);
    let cursor = jobs["next_cursor"].as_str().expect("more");
    let rest: Value = app
        .get_as(&format!("/api/v1/submissions?kind=job&cursor={cursor}"), &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rest["submissions"].as_array().expect("list").len(), 1);
    assert!(rest.get("next_cursor").is_none());
    let bad = app.get_as("/api/v1/submissions?status=exploded", &user.access).await;
    assert_eq!(error_code(bad).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn my_submissions_are_searched_by_every_word_in_any_case() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let other = app.register("other@example.org").await;
    let app = &app;
    let submit = |user, title: &str, text: &str| {
        let body = json!({"kind": "request", "title": title, "text": text});
        async move { submit_json(app, user, &body).await.status() }
    };
    assert_eq!(
        submit(&user, "Payments API", "Rust backend for card payments").await,
        StatusCode::CREATED
    );
    assert_eq!(submit(&user, "Logo", "A logo for a bakery, 50% off").await, StatusCode::CREATED);
    assert_eq!(
        submit(&other, "Payments too", "Someone else's payments").await,
        StatusCode::CREATED
    );
    let titles = |answer: Value| -> Vec<String> {
        answer["submissions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|s| s["title"].as_str().expect("title").to_owned())
            .collect()
    };
    let user = &user;
    let search = |q: &str| {
        let path = format!("/api/v1/submissions?q={q}");
        async move { app.get_as(&path, &user.access).await.json::<Value>().await.expect("json") }
    };
    assert_eq!(titles(search("payments").await), ["Payments API"], "own submissions only");
    assert_eq!(titles(search("RUST%20card").await), ["Payments API"], "every word, any case");
    assert!(titles(search("rust%20logo").await).is_empty(), "all words must appear");
    assert_eq!(titles(search("50%25").await), ["Logo"], "% is a character, not a wildcard");
    assert!(titles(search("5_%25").await).is_empty(), "_ is a character too");
    assert_eq!(titles(search("%20").await).len(), 2, "a blank search lists everything");
    let long = "x".repeat(201);
    let refused = app.get_as(&format!("/api/v1/submissions?q={long}"), &user.access).await;
    assert_eq!(error_code(refused).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn invalid_submission_fields_are_named() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let cases = [
        (json!({"kind": "job", "title": "", "text": "x"}), "title"),
        (json!({"kind": "job", "title": "T", "text": ""}), "text"),
        (json!({"kind": "job", "title": "T", "text": "x", "deadline": "tomorrow"}), "deadline"),
        (
            json!({"kind": "job", "title": "T", "text": "x", "budget": {"amount_minor": -5, "currency": "EUR"}}),
            "budget.amount_minor",
        ),
        (
            json!({"kind": "job", "title": "T", "text": "x", "region": "Middle of nowhere"}),
            "region",
        ),
    ];
    for (body, field) in cases {
        let (status, _, actual) = error_code(submit_json(&app, &user, &body).await).await;
        assert_eq!(
            (status, actual.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
}

/// Files on a real S3-compatible server (moto, started by `.ci/run`).
#[tokio::test]
async fn uploads_go_to_s3_when_configured() {
    let Some((endpoint, bucket)) = crate::helpers::s3_bucket().await else { return };
    let app = spawn_with(|settings| {
        settings.storage.url = Some(format!("s3://{bucket}/uploads"));
        settings.storage.s3_endpoint = Some(endpoint.clone());
        settings.storage.s3_region = Some("us-east-1".to_owned());
        settings.storage.s3_access_key_id = Some("test".to_owned());
        settings.storage.s3_secret_access_key = Some("test".into());
    })
    .await;
    let user = app.register("client@example.org").await;
    let created: Value = submit_form(
        &app,
        &user,
        form(vec![("files", "brief.pdf", pdf(&["Shopify store with Stripe"]))]),
    )
    .await
    .json()
    .await
    .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let done = finished(&app, &user, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(step(&done, "extract")["output"]["text"]
        .as_str()
        .expect("text")
        .contains("Shopify store"));
    assert_eq!(count_files(&app.data_dir.path().join("objects")), 0, "nothing on local disk");

    let listing = reqwest::Client::new()
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .expect("list");
    let listing = listing.text().await.expect("xml");
    assert!(listing.contains(&format!("uploads/submissions/{id}/")), "{listing}");

    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/submissions/{id}")))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let listing = reqwest::Client::new()
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .expect("list");
    assert!(
        !listing.text().await.expect("xml").contains("uploads/submissions/"),
        "deleted from S3 too"
    );
}

#[tokio::test]
async fn submissions_run_through_rabbitmq_when_it_is_configured() {
    let Some(amqp) = crate::helpers::amqp_transport() else { return };
    let app = spawn_with(|settings| amqp.configure(settings)).await;
    let user = app.register("client@example.org").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created: Value = submit_json(&app, &user, &job()).await.json().await.expect("json");
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    for id in &ids {
        let detail = finished(&app, &user, id).await;
        assert_eq!(detail["status"], "completed", "{detail}");
        assert!(detail["run"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|s| s["status"] == "succeeded" && s["attempts"] == 1));
    }
    amqp.delete().await;
}

#[tokio::test]
async fn the_owner_runs_a_failed_submission_again_from_the_failed_step() {
    let app = spawn_app().await;
    let user = app.register("client@example.org").await;
    let other = app.register("other@example.org").await;
    let broken = crate::helpers::corrupt_pdf();
    let created: Value = submit_form(&app, &user, form(vec![("files", "broken.pdf", broken)]))
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let done = finished(&app, &user, &id).await;
    assert_eq!(done["status"], "failed");

    let retry = |token: String| {
        let request = app.client.post(app.url(&format!("/api/v1/submissions/{id}/retry")));
        async move { request.bearer_auth(token).send().await.expect("request") }
    };
    assert_eq!(retry(other.access.clone()).await.status(), StatusCode::NOT_FOUND);
    let response = retry(user.access.clone()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The same file fails the same way, once more.
    let again = finished(&app, &user, &id).await;
    assert_eq!(again["status"], "failed", "{again}");
    assert!(step(&again, "extract")["error"].as_str().is_some_and(|e| e.contains("broken.pdf")));
    let retried = app
        .store
        .list_audit(
            &fairgig_store::audit::AuditFilter {
                action: Some("run.retried".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(retried.len(), 1);

    let fine: Value = submit_json(&app, &user, &job()).await.json().await.expect("json");
    let fine = fine["id"].as_str().expect("id").to_owned();
    finished(&app, &user, &fine).await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/submissions/{fine}/retry")))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(response).await.0, StatusCode::CONFLICT);
}

/// Every file under `objects/submissions/` of the app's data directory.
fn stored_uploads(app: &TestApp) -> Vec<std::path::PathBuf> {
    let root = app.data_dir.path().join("objects").join("submissions");
    let mut files = Vec::new();
    for submission in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        files.extend(
            std::fs::read_dir(submission.path()).into_iter().flatten().flatten().map(|f| f.path()),
        );
    }
    files
}

/// An upload whose request died before its submission committed is an
/// orphan: the sweep deletes it once older than the grace period, and
/// leaves every file a submission refers to.
#[tokio::test]
async fn uploads_no_submission_refers_to_are_swept() {
    // A 4-second grace: the sweep runs every second, and a request in
    // flight is far younger.
    let app = spawn_with(|settings| settings.storage.orphan_grace_secs = 4).await;
    let user = app.register("client@example.org").await;
    let response =
        submit_form(&app, &user, form(vec![("files", "brief.pdf", pdf(&["A logo"]))])).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let kept = stored_uploads(&app);
    assert_eq!(kept.len(), 1, "{kept:?}");

    // What a process killed between storing and committing leaves behind,
    // written an hour ago.
    let orphan = app.data_dir.path().join(format!(
        "objects/submissions/{}/{}",
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(orphan.parent().expect("parent")).expect("dir");
    std::fs::write(&orphan, b"half a file").expect("orphan");
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .and_then(|file| {
            file.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        })
        .expect("age it");

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while orphan.exists() {
        assert!(std::time::Instant::now() < deadline, "the orphan was never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored_uploads(&app), kept, "the submission's file stays");
}

#[tokio::test]
async fn a_request_comes_back_with_a_grounded_brief_and_an_offer_priced_from_freelancers() {
    use fairgig_core::user::Role;
    let app = spawn_app().await;
    for (i, rate) in [60, 70, 90].into_iter().enumerate() {
        let dev = app.register_as(&format!("dev{i}@example.org"), Role::Freelancer).await;
        let body =
            crate::marketplace::profile("Python and SQL developer", &["Python", "SQL"], rate, 4.0);
        crate::helpers::send(&app, reqwest::Method::PUT, &dev, "/api/v1/me/profile", Some(body))
            .await;
    }
    let client = app.register_as("client@example.org", Role::Client).await;
    let text = "We run a small logistics company. We need a reporting data pipeline built with \
                Python and SQL. Please also create a dashboard for our managers.";
    let created: Value = submit_json(
        &app,
        &client,
        &json!({"kind": "request", "title": "Reporting pipeline", "text": text,
                "budget": {"amount_minor": 500000, "currency": "EUR"}}),
    )
    .await
    .json()
    .await
    .expect("json");
    let done = finished(&app, &client, created["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "completed", "{done}");

    let brief = &step(&done, "brief")["output"];
    assert_eq!(brief["made_by"], "rules");
    let deliverables = brief["deliverables"].to_string();
    assert!(
        deliverables.contains("reporting data pipeline") && deliverables.contains("dashboard"),
        "{brief}"
    );
    // Grounded: every quote is in the request's words.
    let quotes: Vec<&str> = ["goals", "deliverables", "constraints"]
        .iter()
        .flat_map(|part| brief[part].as_array().into_iter().flatten())
        .filter_map(|item| item["source"]["quote"].as_str())
        .collect();
    assert!(!quotes.is_empty());
    for quote in quotes {
        assert!(text.contains(quote), "{quote:?} is not in the request");
    }
    let budget = brief["constraints"]
        .as_array()
        .expect("constraints")
        .iter()
        .find(|c| c["kind"] == "budget");
    assert_eq!(budget.map(|c| c["source"]["field"].clone()), Some(json!("budget")));

    let offer = &step(&done, "offer")["output"];
    assert_eq!(offer["currency"], "EUR", "{offer}");
    assert_eq!(offer["rate"]["source"], json!({"from": "freelancers", "count": 3}));
    assert_eq!(offer["rate"]["median_minor"], 7000);
    let tiers = offer["tiers"].as_array().expect("tiers");
    assert_eq!(
        tiers.iter().map(|t| t["name"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["essential", "standard", "complete"]
    );
    for tier in tiers {
        let hours = tier["hours_low"].as_i64().expect("hours");
        assert_eq!(tier["price_low_minor"].as_i64(), Some(hours * 7000), "{tier}");
    }
    assert!(offer["budget_note"].as_str().is_some_and(|n| n.contains("5000.00 EUR")), "{offer}");

    // A job gets a brief but no offer: its price is its budget and the bids.
    let id = crate::helpers::submit_job(&app, &client, "Data pipeline developer", text).await;
    let done = finished(&app, &client, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(step(&done, "brief")["output"]["deliverables"].is_array());
    assert_eq!(step(&done, "offer")["output"]["skipped"], "not a request");
}

#[tokio::test]
async fn a_request_for_a_site_gets_a_safe_shareable_prototype_within_a_daily_quota() {
    let app = spawn_app().await;
    let client = app.register("client@example.org").await;
    let request =
        |title: &str, text: &str| json!({"kind": "request", "title": title, "text": text});
    let run = |body: Value| {
        let (app, client) = (&app, &client);
        async move {
            let created: Value = submit_json(app, client, &body).await.json().await.expect("json");
            let id = created["id"].as_str().expect("id").to_owned();
            let done = finished(app, client, &id).await;
            assert_eq!(done["status"], "completed", "{done}");
            (id, step(&done, "prototype")["output"].clone())
        }
    };

    let (first, made) = run(request(
        "<script>alert(1)</script> Bakery site",
        "We need a website for our bakery with an online order form. \
         Please also design a page for our opening hours.",
    ))
    .await;
    let path = made["path"].as_str().expect("a prototype").to_owned();
    let token = path.strip_prefix("/prototypes/").expect("a share path");
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{path}");

    // Anyone with the link sees it, under a policy that runs nothing.
    let page = app.client.get(app.url(&path)).send().await.expect("request");
    assert_eq!(page.status(), StatusCode::OK);
    let header = |name: &str| {
        page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    let policy = header("content-security-policy");
    assert!(policy.contains("default-src 'none'") && policy.contains("sandbox"), "{policy}");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let html = page.text().await.expect("html");
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Bakery site"), "{html}");
    assert!(html.contains("online order form"), "the brief's deliverables are on the page");

    for wrong in ["/prototypes/short", &format!("/prototypes/{}", "ab".repeat(32))] {
        let missing = app.client.get(app.url(wrong)).send().await.expect("request");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{wrong}");
    }

    // Not every request describes a site; a job gets none.
    let (_, none) = run(request("Translation", "Translate our brochure into German.")).await;
    assert_eq!(none["skipped"], "the request does not describe a site or an app");

    // Two per client in 24 hours by default; the third says when.
    let (_, second) = run(request("Shop", "Build an online shop for our pottery.")).await;
    assert!(second["path"].is_string(), "{second}");
    let (_, third) = run(request("App", "We want a mobile app for bookings.")).await;
    let reason = third["skipped"].as_str().expect("skipped");
    assert!(reason.contains("at most 2 per client in 24 hours"), "{reason}");

    // Deleting the request deletes its prototype.
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/submissions/{first}")))
        .bearer_auth(&client.access)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.client.get(app.url(&path)).send().await.expect("request");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
