//! Searching the open jobs: words and meaning fused, filters, facets,
//! pages, and jobs leaving the results when they close.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, send, spawn_app, spawn_with_model, TestApp, TestUser};

async fn post_job(app: &TestApp, client: &TestUser, body: Value) -> String {
    let (status, created) = send(app, Method::POST, client, "/api/v1/jobs", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

async fn search(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let (status, found) =
        send(app, Method::GET, user, &format!("/api/v1/jobs?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{query}: {found}");
    found
}

fn titles(found: &Value) -> Vec<String> {
    found["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|hit| hit["job"]["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn open_jobs_are_found_by_words_and_meaning_filtered_and_paged() {
    let app = spawn_app().await;
    let client = app.register("searching-client@example.org").await;
    let plumbing = post_job(
        &app,
        &client,
        json!({
            "title": "Plumber for a bathroom",
            "description": "Replace the pipes and fit a new boiler in a small bathroom.",
            "required_skills": ["plumbing"],
            "region": "DE", "remote": false,
            "max_hourly": {"amount_minor": 5000, "currency": "EUR"},
        }),
    )
    .await;
    post_job(
        &app,
        &client,
        json!({
            "title": "Kitchen renovation",
            "description": "Tiles and cupboards; the sink needs plumbing too.",
            "required_skills": ["tiling", "carpentry"],
            "region": "FR", "remote": false,
            "max_hourly": {"amount_minor": 4000, "currency": "EUR"},
        }),
    )
    .await;
    post_job(
        &app,
        &client,
        json!({
            "title": "Rust API for a shop",
            "description": "Build a REST API in Rust on PostgreSQL.",
            "required_skills": ["Rust", "PostgreSQL"],
            "remote": true,
            "max_hourly": {"amount_minor": 9000, "currency": "EUR"},
        }),
    )
    .await;

    // The index is built in the background at start; wait until it answers.
    let mut found = search(&app, &client, "q=plumbing").await;
    for _ in 0..100 {
        if found["jobs"][0]["text_rank"].is_number() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        found = search(&app, &client, "q=plumbing").await;
    }
    assert_eq!(titles(&found)[0], "Plumber for a bathroom", "{found}");
    assert!(titles(&found).contains(&"Kitchen renovation".to_owned()), "the body mentions it");
    assert!(!titles(&found).contains(&"Rust API for a shop".to_owned()), "unrelated: {found}");
    // The description's matched words come back as ranges of a fragment.
    let kitchen = found["jobs"]
        .as_array()
        .and_then(|hits| hits.iter().find(|hit| hit["job"]["title"] == "Kitchen renovation"))
        .expect("kitchen");
    let fragment = kitchen["highlight"]["fragment"].as_str().unwrap_or_default();
    let range = &kitchen["highlight"]["ranges"][0];
    let (start, end) =
        (range[0].as_u64().unwrap_or(0) as usize, range[1].as_u64().unwrap_or(0) as usize);
    assert_eq!(fragment.get(start..end), Some("plumbing"), "{kitchen}");

    // Sorted by a field instead of relevance.
    assert_eq!(
        titles(&search(&app, &client, "sort=price").await),
        ["Rust API for a shop", "Plumber for a bathroom", "Kitchen renovation"],
        "the highest budget first"
    );
    assert_eq!(
        titles(&search(&app, &client, "q=plumbing&sort=newest").await),
        ["Kitchen renovation", "Plumber for a bathroom"],
        "the newest first"
    );

    // Stemming, a typo in a skill, filters, facets.
    assert_eq!(
        titles(&search(&app, &client, "q=replacing+pipe").await)[0],
        "Plumber for a bathroom"
    );
    assert_eq!(titles(&search(&app, &client, "q=postgresq").await)[0], "Rust API for a shop");
    let remote = search(&app, &client, "remote=true").await;
    assert_eq!(titles(&remote), ["Rust API for a shop"]);
    let in_france = search(&app, &client, "region=FR").await;
    let mut france = titles(&in_france);
    france.sort();
    assert_eq!(france, ["Kitchen renovation", "Rust API for a shop"], "FR or remote");
    let skilled = search(&app, &client, "skills=tiling,carpentry").await;
    assert_eq!(titles(&skilled), ["Kitchen renovation"]);
    let cheap = search(&app, &client, "budget_max=5000").await;
    assert_eq!(cheap["total"], 2, "{cheap}");
    let everything = search(&app, &client, "").await;
    assert_eq!(everything["total"], 3);
    let regions = everything["facets"]["regions"].to_string();
    assert!(regions.contains("\"remote\"") && regions.contains("\"DE\""), "{regions}");

    // Pages by cursor, then the end.
    let page = search(&app, &client, "limit=2").await;
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_u64().expect("a next page");
    let rest = search(&app, &client, &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(rest["jobs"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("next_cursor").is_none(), "{rest}");

    // A closed job leaves the results at once.
    let (status, _) = send(
        &app,
        Method::POST,
        &client,
        &format!("/api/v1/jobs/{plumbing}/status"),
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let after = search(&app, &client, "q=plumbing").await;
    assert!(!titles(&after).contains(&"Plumber for a bathroom".to_owned()), "{after}");

    // Bad input: a clear error; garbage text finds nothing, without a 5xx.
    for bad in
        ["limit=0", "limit=51", "budget_max=cheap", "nonsense=1", "cursor=18446744073709551615"]
    {
        let response = app.get_as(&format!("/api/v1/jobs?{bad}"), &client.access).await;
        let (status, _, _) = error_code(response).await;
        assert!(status.is_client_error(), "{bad}: {status}");
    }
    for garbage in ["%22unbalanced", "title%3A", "((", "*", "%F0%9F%A6%80+-"] {
        search(&app, &client, &format!("q={garbage}")).await;
    }
    let anonymous = app.client.get(app.url("/api/v1/jobs")).send().await.expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn put_profile(app: &TestApp, who: &TestUser, body: Value) {
    let (status, saved) = send(app, Method::PUT, who, "/api/v1/me/profile", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
}

fn profile_body(headline: &str, bio: &str, skills: &[&str], region: &str, rate_eur: i64) -> Value {
    json!({
        "headline": headline,
        "bio": bio,
        "skills": skills.iter().map(|s| json!({"name": s, "level": "expert"})).collect::<Vec<_>>(),
        "hourly_rate": {"amount_minor": rate_eur * 100, "currency": "EUR"},
        "region": region,
        "availability": "available",
        "years_experience": 6.0,
        "languages": ["English", "German"],
        "group_attributes": {"gender": "woman"},
    })
}

fn headlines(found: &Value) -> Vec<String> {
    found["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|hit| hit["profile"]["headline"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn search_profiles(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let (status, found) =
        send(app, Method::GET, user, &format!("/api/v1/profiles?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{query}: {found}");
    found
}

#[tokio::test]
async fn clients_find_freelancers_by_words_meaning_and_filters_but_never_by_declared_attributes() {
    let app = spawn_with_model().await;
    let client = app.register_as("client@example.org", fairgig_core::user::Role::Client).await;
    let rustacean = app.register_as("rust@example.org", fairgig_core::user::Role::Freelancer).await;
    let photographer =
        app.register_as("photo@example.org", fairgig_core::user::Role::Freelancer).await;
    let away = app.register_as("away@example.org", fairgig_core::user::Role::Freelancer).await;
    let rust_bio = "I build payment backends in Rust with PostgreSQL.";
    put_profile(
        &app,
        &rustacean,
        profile_body("Rust backend developer", rust_bio, &["Rust", "PostgreSQL"], "DE", 80),
    )
    .await;
    let mut photo = profile_body(
        "Wedding photographer",
        "Portraits and weddings in Lyon.",
        &["Photography"],
        "FR",
        40,
    );
    photo["languages"] = json!(["French"]);
    photo["years_experience"] = json!(2.0);
    put_profile(&app, &photographer, photo.clone()).await;
    let mut resting =
        profile_body("Rust systems programmer", "Embedded Rust.", &["Rust"], "DE", 70);
    resting["availability"] = json!("unavailable");
    put_profile(&app, &away, resting).await;

    // Words, with the matched words marked; a freelancer not open to work is not listed.
    let found = search_profiles(&app, &client, "q=rust").await;
    assert_eq!(headlines(&found), ["Rust backend developer"], "{found}");
    assert_eq!(found["profiles"][0]["text_rank"], 1);
    assert!(found["profiles"][0]["highlight"]["fragment"]
        .as_str()
        .unwrap_or_default()
        .contains("Rust"));
    // Meaning ranks beside words: the vector half found it too.
    let found = search_profiles(&app, &client, "q=backend%20developer%20for%20payments").await;
    assert_eq!(headlines(&found).first().map(String::as_str), Some("Rust backend developer"));
    assert_eq!(found["profiles"][0]["vector_rank"], 1, "{found}");
    assert_eq!(
        headlines(&search_profiles(&app, &client, "sort=price").await),
        ["Wedding photographer", "Rust backend developer"],
        "the lowest rate first"
    );
    // Filters, alone and together.
    assert_eq!(
        headlines(&search_profiles(&app, &client, "region=fr").await),
        ["Wedding photographer"]
    );
    assert_eq!(
        headlines(&search_profiles(&app, &client, "rate_max=5000").await),
        ["Wedding photographer"]
    );
    assert_eq!(
        headlines(&search_profiles(&app, &client, "min_years=5").await),
        ["Rust backend developer"]
    );
    assert_eq!(
        headlines(&search_profiles(&app, &client, "language=GERMAN").await),
        ["Rust backend developer"]
    );
    assert_eq!(
        headlines(&search_profiles(&app, &client, "skills=rust,postgresql&region=DE").await),
        ["Rust backend developer"]
    );
    assert!(headlines(&search_profiles(&app, &client, "skills=rust&region=FR").await).is_empty());
    // Facets over what matched.
    let everyone = search_profiles(&app, &client, "").await;
    assert_eq!(everyone["total"], 2, "{everyone}");
    let skills = everyone["facets"]["skills"].as_array().expect("skills");
    assert!(skills.iter().any(|f| f["value"] == "photography" && f["count"] == 1), "{everyone}");
    // Self-declared attributes are neither searched nor returned.
    assert!(headlines(&search_profiles(&app, &client, "q=woman").await).is_empty());
    assert!(everyone["profiles"][0]["profile"].get("group_attributes").is_none(), "{everyone}");
    let (status, _) = send(&app, Method::GET, &client, "/api/v1/profiles?gender=woman", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no such filter");
    // A change is found by the next search (read-your-writes).
    photo["headline"] = json!("Wedding and drone photographer");
    put_profile(&app, &photographer, photo).await;
    assert_eq!(
        headlines(&search_profiles(&app, &client, "q=drone").await),
        ["Wedding and drone photographer"]
    );
    // Freelancers do not browse each other; bad input is named.
    let (status, _) = send(&app, Method::GET, &rustacean, "/api/v1/profiles?q=rust", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for bad in ["min_rating=9", "min_years=-1", "limit=0", "cursor=5000"] {
        let (status, answer) =
            send(&app, Method::GET, &client, &format!("/api/v1/profiles?{bad}"), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
    }
}

#[tokio::test]
async fn a_german_job_is_found_by_another_form_of_its_words() {
    let app = spawn_app().await;
    let client = app.register("german-client@example.org").await;
    post_job(
        &app,
        &client,
        json!({
            "title": "Renovierung von zwei Häusern",
            "description": "Wir renovieren zwei alte Häuser am See und suchen erfahrene Handwerker für Dach und Fassade.",
            "required_skills": ["carpentry"],
            "remote": false, "region": "DE",
        }),
    )
    .await;
    let mut found = search(&app, &client, "q=Haus").await;
    for _ in 0..100 {
        if found["jobs"][0]["text_rank"].is_number() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        found = search(&app, &client, "q=Haus").await;
    }
    assert_eq!(titles(&found), ["Renovierung von zwei Häusern"], "{found}");
    assert_eq!(found["jobs"][0]["text_rank"], 1, "by its words, stemmed in German");
}
