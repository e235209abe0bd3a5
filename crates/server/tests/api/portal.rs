//! The portal in a real browser: Debian's Chromium driven through
//! chromedriver (WebDriver), against the app on a random port with a fresh
//! database. Each journey is one test; they take turns with one browser at
//! a time. Every page a journey visits is checked with axe-core (no serious
//! or critical violation) and photographed at 1280 and 375 px wide into
//! `target/portal-screenshots/`.

use std::{path::PathBuf, process::Stdio, sync::Once, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::{process::Child, sync::Semaphore};

use crate::helpers::{
    finished, mailbox, say_once, send, spawn_app, spawn_with, submit_job, TestApp, PASSWORD,
};

/// One browser at a time: journeys run in parallel test threads otherwise.
static ONE_BROWSER: Semaphore = Semaphore::const_new(1);

/// How long a page may take to show what a journey waits for.
const PATIENCE: Duration = Duration::from_secs(60);

struct Browser {
    client: Client,
    _driver: Child,
    shots: PathBuf,
}

fn tool(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|path| path.exists()).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|path| path.exists())
        })
    })
}

/// Starts chromedriver and a headless Chromium, or `None` (a SKIP line)
/// when they are not installed; in CI their absence fails the test.
async fn browser() -> Option<Browser> {
    let driver = tool("chromedriver", &["/usr/bin/chromedriver"]);
    let chromium = tool("chromium", &["/usr/bin/chromium"]);
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium and chromedriver are missing; .ci/run must install them"
        );
        static SKIP: Once = Once::new();
        say_once(&SKIP, "SKIP portal browser journeys: chromium or chromedriver not installed");
        return None;
    };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        listener.local_addr().expect("address").port()
    };
    let child = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=en-US", "--disable-background-networking",
                     "--no-first-run", "--disable-sync", "--disable-component-update"],
        }
    });
    let Value::Object(capabilities) = capabilities else { unreachable!("an object") };
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = None;
    // chromedriver is listening within a few hundred milliseconds of starting.
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
            Ok(client) => {
                let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/portal-screenshots");
                std::fs::create_dir_all(&shots).expect("screenshot folder");
                return Some(Browser { client, _driver: child, shots });
            }
            Err(err) => {
                last_error = Some(err);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("chromedriver did not start a session: {last_error:?}");
}

impl Browser {
    async fn open(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.expect("navigate");
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.expect(css);
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.expect(css).click().await.expect("click");
    }

    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.expect(css).text().await.expect("text")
    }

    async fn wait_for(&self, css: &str) {
        if let Err(err) = self.client.wait().at_most(PATIENCE).for_element(Locator::Css(css)).await
        {
            let page = self.client.source().await.unwrap_or_default();
            panic!("{css} did not appear ({err}); the page:\n{page}");
        }
    }

    /// Waits until the element's text contains `needle` (after a form post
    /// that returns to the same page, the old page is still there at first).
    async fn wait_for_text(&self, css: &str, needle: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.text().await.is_ok_and(|text| text.contains(needle)) {
                    return;
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "{css} never said {needle:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// axe-core on the current page: no serious or critical violation.
    async fn check_accessibility(&self, page: &str) {
        let axe = include_str!("../portal_assets/axe.min.js");
        self.client.execute(axe, vec![]).await.expect("load axe-core");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                    .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))
                    .catch(e => done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        let grave: Vec<&Value> = result
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(grave.is_empty(), "{page}: accessibility violations {grave:#?}");
    }

    /// Whole-page screenshots at desktop and phone width, then back to desktop.
    async fn photograph(&self, name: &str) {
        for (width, height) in [(1280, 900), (375, 812)] {
            self.client.set_window_size(width, height).await.expect("resize");
            let full = self
                .client
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .expect("page height");
            let full = full.as_u64().map_or(height, |h| (h as u32).clamp(height, 4000));
            self.client.set_window_size(width, full).await.expect("resize");
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(self.shots.join(format!("{name}-{width}.png")), png).expect("save");
        }
        self.client.set_window_size(1280, 900).await.expect("resize");
    }

    async fn look(&self, name: &str) {
        self.check_accessibility(name).await;
        self.photograph(name).await;
    }

    async fn sign_in(&self, app: &TestApp, email: &str, password: &str) {
        self.open(app, "/signin").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("form[action='/signin'] button[type=submit]").await;
        self.wait_for("#reviews-heading").await;
    }

    async fn sign_out(&self) {
        self.click("form[action='/signout'] button").await;
        self.wait_for("a[href='/signin']").await;
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Journey 1: a client signs up, submits a request with a PDF, watches the
/// steps complete live, and reads the analysis and the bias findings.
#[tokio::test]
async fn a_client_signs_up_submits_a_pdf_and_sees_the_analysis_and_findings() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;

    browser.open(&app, "/").await;
    browser.look("landing").await;
    // The language menu: Czech, then back to English, on the same page.
    browser.click("details.language summary").await;
    browser.click("details.language button[value='cs']").await;
    browser.wait_for("html[lang='cs']").await;
    assert_eq!(browser.text("nav a[href='/jobs']").await, "Otevřené zakázky");
    browser.look("landing-cs").await;
    browser.click("details.language summary").await;
    browser.click("details.language button[value='en']").await;
    browser.wait_for("html[lang='en']").await;
    browser.click("a.button[href='/signup']").await;
    browser.wait_for("form[action='/signup']").await;
    browser.look("signup").await;
    browser.fill("#email", "client@example.org").await;
    browser.fill("#display_name", "Clara Client").await;
    browser.fill("#password", "a long and unusual passphrase 7").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("#requests-heading").await;
    assert!(browser.text("h1").await.contains("Clara Client"));
    browser.look("dashboard").await;

    browser.click("a[href='/requests/new']").await;
    browser.wait_for("form[action='/requests/new']").await;
    browser.look("new-request").await;
    let pdf = fairgig_ai::extract::samples::pdf(&[
        "We are looking for a young rockstar developer to build a Rust and PostgreSQL API.",
        "Budget EUR 4000, delivery by 2027-03-31.",
    ]);
    let pdf_path = app.data_dir.path().join("brief.pdf");
    std::fs::write(&pdf_path, pdf).expect("write pdf");
    browser.click("input[name=kind][value=job]").await;
    browser.fill("#title", "Rust API for our shop").await;
    browser.fill("#text", "See the attached brief.").await;
    let files = browser.client.find(Locator::Css("#files")).await.expect("file input");
    files.send_keys(pdf_path.to_str().expect("utf-8 path")).await.expect("attach");
    browser.click("form[action='/requests/new'] button[type=submit]").await;

    // The live page swaps in the results when the run ends (SSE + htmx).
    browser.wait_for("#live .findings").await;
    let steps = browser.text("#live .steps").await;
    assert_eq!(steps.matches("done").count(), 9, "every step done: {steps}");
    let analysis = browser.text("#live").await;
    assert!(analysis.contains("brief.pdf"), "{analysis}");
    // The brief quotes what the client asked for; a job gets no offer.
    assert!(analysis.contains("Deliverables"), "{analysis}");
    assert!(analysis.contains("to build a Rust and PostgreSQL API"), "{analysis}");
    assert!(!analysis.contains("How these numbers were reached"), "{analysis}");
    assert!(analysis.contains("PostgreSQL"), "skills found: {analysis}");
    let marked = browser.client.find_all(Locator::Css(".checked-text mark")).await.expect("marks");
    let marked: Vec<String> = futures::future::join_all(marked.iter().map(|m| m.text()))
        .await
        .into_iter()
        .map(|text| text.expect("text"))
        .collect();
    assert!(marked.iter().any(|m| m.starts_with("young")), "{marked:?}");
    assert!(marked.iter().any(|m| m.starts_with("rockstar")), "{marked:?}");
    browser.look("request-results").await;

    browser.click("a[href='/dashboard']").await;
    browser.wait_for("#requests-heading").await;
    assert!(browser.text("table").await.contains("Rust API for our shop"));
    // The job the request became, with its applicants and views.
    assert!(browser.text(".job-activity").await.contains("Views: 0"));
    // Searching one's requests: every word must appear.
    browser.fill("#q", "bakery").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.wait_for_text("#requests-heading ~ p.muted", "None of your requests").await;
    browser.fill("#q", "SHOP rust").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.wait_for_text("#requests-heading ~ table", "Rust API for our shop").await;
    browser.click("a[href='/inbox']").await;
    browser.wait_for("table.inbox").await;
    assert!(browser.text("table.inbox").await.contains("Rust API for our shop"));
    browser.look("inbox").await;
    browser.close().await;
}

/// Journey 6 (sign-up and request forms): bad input gives a message next to
/// the field, keeps what was typed, and no 5xx.
#[tokio::test]
async fn bad_input_is_shown_beside_its_field_and_the_input_is_kept() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;

    browser.open(&app, "/signup").await;
    browser.fill("#email", "not-an-email").await;
    browser.fill("#display_name", "Bob").await;
    browser.fill("#password", "a long and unusual passphrase 7").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("#email-error").await;
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#email"))
            .await
            .expect("email")
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("not-an-email")
    );
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#email"))
            .await
            .expect("email")
            .attr("aria-invalid")
            .await
            .expect("attr")
            .as_deref(),
        Some("true")
    );
    browser.look("signup-error").await;

    browser.fill("#email", "bob@example.org").await;
    browser.fill("#password", "short").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("#password-error").await;
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#display_name"))
            .await
            .expect("name")
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("Bob")
    );

    browser.fill("#password", "a long and unusual passphrase 7").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("#requests-heading").await;
    browser.open(&app, "/requests/new").await;
    browser.fill("#title", "Logo").await;
    browser.fill("#text", "A logo for a bakery").await;
    browser.fill("#budget_amount", "lots").await;
    browser.fill("#deadline", "31.12.2027").await;
    browser.click("form[action='/requests/new'] button[type=submit]").await;
    browser.wait_for("#budget-error").await;
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#title"))
            .await
            .expect("title")
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("Logo")
    );
    browser.look("request-error").await;
    browser.close().await;
}

/// Journey 7: a state-changing post without the CSRF token is refused, and
/// one with the token from another visitor's cookie is refused too.
#[tokio::test]
async fn a_form_post_without_its_csrf_token_is_refused() {
    let app = spawn_app().await;
    let form = [
        ("email", "eve@example.org"),
        ("display_name", "Eve"),
        ("password", "a long and unusual passphrase 7"),
        ("role", "client"),
    ];
    let response = app.client.post(app.url("/signup")).form(&form).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A token in the form but no matching cookie (another site cannot read ours).
    let mut forged = form.to_vec();
    let token = "ab".repeat(32);
    forged.push(("_csrf", token.as_str()));
    let response = app.client.post(app.url("/signup")).form(&forged).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // With the cookie and the matching token it goes through.
    let response = app
        .client
        .post(app.url("/signup"))
        .header("cookie", format!("fg_csrf={token}"))
        .form(&forged)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie =
        response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        cookie.starts_with("fg_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // The browser cookie is not an API credential.
    let session = cookie.trim_start_matches("fg_session=").split(';').next().unwrap_or_default();
    let me = app.get_as("/api/v1/me", session).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert!(app
        .store
        .find_user_by_email(&fairgig_core::user::Email::parse("eve@example.org").expect("email"))
        .await
        .expect("lookup")
        .is_some());
}

/// Pages answer in the visitor's language, and unknown pages are pages.
#[tokio::test]
async fn pages_speak_german_when_asked_and_unknown_pages_are_friendly() {
    let app = spawn_app().await;
    let german = app
        .client
        .get(app.url("/"))
        .header("accept-language", "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .await
        .expect("get");
    assert_eq!(german.status(), StatusCode::OK);
    let csp = german
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = german.text().await.expect("body");
    assert!(html.contains("lang=\"de\"") && html.contains("Offene Aufträge"), "{html}");
    for (accept, lang, jobs) in [
        ("fr-CA,fr;q=0.9", "fr", "Missions ouvertes"),
        ("es-MX", "es", "Trabajos abiertos"),
        ("cs,en;q=0.5", "cs", "Otevřené zakázky"),
    ] {
        let page = app.client.get(app.url("/")).header("accept-language", accept).send().await;
        let html = page.expect("get").text().await.expect("body");
        assert!(html.contains(&format!("lang=\"{lang}\"")) && html.contains(jobs), "{html}");
    }
    let missing = app.client.get(app.url("/no/such/page")).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .starts_with("text/html"));
    let api_missing = app.client.get(app.url("/api/v1/nothing")).send().await.expect("get");
    assert_eq!(api_missing.status(), StatusCode::NOT_FOUND);
    assert!(api_missing
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .starts_with("application/json"));
    // A signed-out visitor is sent to sign in.
    let dashboard = app.client.get(app.url("/dashboard")).send().await.expect("get");
    assert_eq!(dashboard.status(), StatusCode::SEE_OTHER);
    // Assets are immutable and named by their content.
    let page = app.client.get(app.url("/")).send().await.expect("get").text().await.expect("body");
    let css = page
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.ends_with(".css")))
        .expect("stylesheet")
        .to_owned();
    let asset = app.client.get(app.url(&css)).send().await.expect("get");
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(asset
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .contains("immutable"));
}

/// A signed-up portal visitor over plain HTTP: the `Cookie` header to send
/// and the CSRF token for forms.
async fn portal_visitor(app: &TestApp, email: &str) -> (String, String) {
    let first = app.client.get(app.url("/signup")).send().await.expect("get");
    let csrf = set_cookie(&first, "fg_csrf").expect("csrf cookie");
    let form = [
        ("_csrf", csrf.as_str()),
        ("email", email),
        ("display_name", "Portal Person"),
        ("password", "a long and unusual passphrase 7"),
        ("role", "client"),
    ];
    let signed_up = app
        .client
        .post(app.url("/signup"))
        .header("cookie", format!("fg_csrf={csrf}"))
        .form(&form)
        .send()
        .await
        .expect("sign up");
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&signed_up, "fg_session").expect("session cookie");
    (format!("fg_csrf={csrf}; fg_session={session}"), csrf)
}

/// The value of the cookie `name` that `response` sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(name)?.strip_prefix('='))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// The live page's stream: one HTML fragment per step transition (named
/// for the step, so htmx swaps it into place), then `run` at the end; a
/// signed-out visitor gets none of it, and signing out ends the session.
#[tokio::test]
async fn progress_streams_step_fragments_then_the_end_and_sign_out_revokes() {
    let app = spawn_app().await;
    let (cookie, csrf) = portal_visitor(&app, "live@example.org").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .text("kind", "request")
        .text("title", "Translate a leaflet")
        .text("text", "Translate a two-page leaflet from German to English by Friday.");
    let created = app
        .client
        .post(app.url("/requests/new"))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .expect("submit");
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let page = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned();
    let events = app
        .client
        .get(app.url(&format!("{page}/events")))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), StatusCode::OK);
    let stream = tokio::time::timeout(PATIENCE, events.text())
        .await
        .expect("the stream ends")
        .expect("body");
    for step in ["extract", "analyse", "bias_check", "embed", "publish_job", "match"] {
        assert!(stream.contains(&format!("event: step-{step}\n")), "{step}: {stream}");
    }
    assert!(stream.contains("event: run\ndata: succeeded"), "{stream}");
    assert!(stream.contains("class=\"step-name\""), "fragments are HTML: {stream}");

    let stranger = app.client.get(app.url(&format!("{page}/events"))).send().await.expect("events");
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);

    let signed_out = app
        .client
        .post(app.url("/signout"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("sign out");
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let after =
        app.client.get(app.url("/dashboard")).header("cookie", &cookie).send().await.expect("get");
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the old cookie no longer signs in");
}

/// The dashboard's live list: a freelancer signed in to the portal hears,
/// as an HTML list item linking to it, of a fitting job a client opens
/// through the API; a signed-out visitor gets no stream.
#[tokio::test]
async fn the_dashboard_hears_of_a_fitting_job_as_it_opens() {
    use fairgig_core::user::Role;
    let app = spawn_app().await;
    let client = app.register_as("live-client@example.org", Role::Client).await;
    let dev = app.register_as("live-dev@example.org", Role::Freelancer).await;
    let profile = json!({
        "headline": "Rust developer",
        "bio": "I build reliable backends in Rust.",
        "skills": [{"name": "Rust", "level": "expert"}],
        "region": "DE",
        "availability": "available",
        "years_experience": 5.0,
    });
    let (status, saved) =
        send(&app, reqwest::Method::PUT, &dev, "/api/v1/me/profile", Some(profile)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let cookie = portal_sign_in(&app, "live-dev@example.org").await;
    let dashboard =
        app.client.get(app.url("/dashboard")).header("cookie", &cookie).send().await.expect("get");
    let html = dashboard.text().await.expect("page");
    assert!(html.contains("sse-connect=\"/live\""), "the dashboard listens: {html}");

    let mut events =
        app.client.get(app.url("/live")).header("cookie", &cookie).send().await.expect("events");
    assert_eq!(events.status(), StatusCode::OK);
    let job = json!({
        "title": "Rust service for a bakery's orders",
        "description": "Build a small Rust service that takes orders.",
        "required_skills": ["Rust"],
        "remote": true,
    });
    let (status, created) =
        send(&app, reqwest::Method::POST, &client, "/api/v1/jobs", Some(job)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = format!("href=\"/jobs/{}\"", created["id"].as_str().expect("id"));
    let mut heard = String::new();
    let waited = tokio::time::timeout(PATIENCE, async {
        while !heard.contains(&link) {
            match events.chunk().await.expect("stream") {
                Some(bytes) => heard.push_str(&String::from_utf8_lossy(&bytes)),
                None => break,
            }
        }
    })
    .await;
    assert!(waited.is_ok() && heard.contains(&link), "the job never came: {heard}");
    assert!(heard.contains("event: news\ndata: <li class=\"card live-item\">"), "{heard}");
    assert!(heard.contains("Rust service for a bakery&#39;s orders"), "escaped: {heard}");

    let anonymous = app.client.get(app.url("/live")).send().await.expect("events");
    assert_ne!(anonymous.status(), StatusCode::OK, "no stream without signing in");
}

/// Signs `email` (registered with [`PASSWORD`]) in through the portal's
/// form; the `Cookie` header to send.
async fn portal_sign_in(app: &TestApp, email: &str) -> String {
    let first = app.client.get(app.url("/signin")).send().await.expect("get");
    let csrf = set_cookie(&first, "fg_csrf").expect("csrf cookie");
    let signed_in = app
        .client
        .post(app.url("/signin"))
        .header("cookie", format!("fg_csrf={csrf}"))
        .form(&[("_csrf", csrf.as_str()), ("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&signed_in, "fg_session").expect("session cookie");
    format!("fg_csrf={csrf}; fg_session={session}")
}

/// Journey 3 (the freelancer's half): a freelancer signs up, fills the
/// profile, finds a client's job under "jobs for you" with its reasons, and
/// applies with a cover note; the client sees the application.
#[tokio::test]
async fn a_freelancer_fills_the_profile_finds_a_fitting_job_and_applies() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    let client = app.register("owner@example.org").await;
    let submission = submit_job(
        &app,
        &client,
        "PostgreSQL tuning for a Rust service",
        "We need help tuning PostgreSQL queries behind our Rust API. Remote is fine.",
    )
    .await;
    let done = finished(&app, &client, &submission).await;
    assert_eq!(done["status"], "completed", "{done}");

    browser.open(&app, "/signup").await;
    browser.click("input[name=role][value=freelancer]").await;
    browser.fill("#email", "fran@example.org").await;
    browser.fill("#display_name", "Fran Freelancer").await;
    browser.fill("#password", "a long and unusual passphrase 7").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("#for-me-heading").await;
    browser.click("a[href='/profile']").await;
    browser.wait_for("form[action='/profile']").await;
    browser.fill("#headline", "Database engineer for Rust backends").await;
    // The language check runs as the bio is typed; skills are suggested.
    browser.fill("#bio", "I make insanely fast queries.").await;
    browser.wait_for("#findings mark").await;
    browser.fill("#bio", "Ten years of PostgreSQL performance work for web services.").await;
    browser.wait_for("#findings .ok-note").await;
    browser.fill("#skills", "Rust, postg").await;
    browser.wait_for("#skill-suggestions option[value^='Rust, ']").await;
    let suggested = browser
        .client
        .find(Locator::Css("#skill-suggestions option"))
        .await
        .expect("option")
        .attr("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(suggested.to_lowercase().starts_with("rust, postg"), "{suggested}");
    browser.fill("#skills", "PostgreSQL, Rust, SQL").await;
    browser.fill("#hourly_rate", "80").await;
    browser.fill("#years_experience", "10").await;
    browser.fill("#attributes", "no colon here").await;
    browser.click("form[action='/profile'] button[type=submit]").await;
    browser.wait_for("#attributes-error").await;
    browser.fill("#attributes", "Gender: woman").await;
    browser.look("profile").await;
    browser.click("form[action='/profile'] button[type=submit]").await;
    browser.wait_for("#for-me-heading + ol a").await;
    let fran = app
        .store
        .find_user_by_email(&fairgig_core::user::Email::parse("fran@example.org").expect("email"))
        .await
        .expect("lookup")
        .expect("fran");
    let profile = app.store.profile(fran.id).await.expect("profile");
    assert_eq!(profile.input.group_attributes.get("gender").map(String::as_str), Some("woman"));
    let fits = browser.text("#for-me-heading + ol").await;
    assert!(fits.contains("PostgreSQL tuning for a Rust service"), "{fits}");
    browser.look("dashboard-freelancer").await;

    browser.click("#for-me-heading + ol a").await;
    browser.wait_for("#cover_letter").await;
    browser.look("job").await;
    browser.fill("#cover_letter", "I have tuned PostgreSQL for Rust services since 2016.").await;
    browser.click("form[action$='/apply'] button[type=submit]").await;
    browser.wait_for("#for-me-heading").await;
    let job = app
        .store
        .job_for_submission(submission.parse().expect("id"))
        .await
        .expect("job")
        .expect("published");
    browser.sign_out().await;

    // The client shortlists, hires, completes and reviews.
    browser.sign_in(&app, "owner@example.org", PASSWORD).await;
    browser.open(&app, &format!("/jobs/{}", job.id)).await;
    browser.wait_for("#applicants-heading").await;
    assert!(browser.text(".applicant").await.contains("I have tuned PostgreSQL"));
    browser.look("job-owner").await;
    browser.click(".applicant button[value=shortlisted]").await;
    browser.wait_for(".applicant .badge.shortlisted").await;
    browser.click(".applicant button[value=hired]").await;
    browser.wait_for(".applicant .badge.hired").await;
    browser.click("form[action$='/status'] input[value=completed] + button").await;
    browser.wait_for("#review_text").await;
    browser.fill("#review_text", "Careful work, clear notes, fast queries.").await;
    browser.click("form[action$='/review'] button[type=submit]").await;
    browser.wait_for(".notice").await;
    browser.sign_out().await;

    // The freelancer reviews the client and sees the review they received.
    browser.sign_in(&app, "fran@example.org", "a long and unusual passphrase 7").await;
    browser.open(&app, &format!("/jobs/{}", job.id)).await;
    browser.wait_for("#review_text").await;
    browser.fill("#review_text", "Clear brief and quick answers.").await;
    browser.click("form[action$='/review'] button[type=submit]").await;
    browser.wait_for(".notice").await;
    browser.open(&app, "/dashboard").await;
    browser.wait_for("#reviews-heading").await;
    let reviews = browser.text(".reviews").await;
    assert!(reviews.contains("Careful work, clear notes, fast queries."), "{reviews}");
    let applied = browser.text("table.my-applications").await;
    assert!(applied.contains("hired"), "{applied}");
    let given = browser.text(".reviews-given").await;
    assert!(given.contains("Clear brief and quick answers."), "{given}");
    browser.look("dashboard-freelancer-after").await;
    browser.close().await;

    let of_client: Value = app
        .get_as(&format!("/api/v1/profiles/{}/reviews", client.id), &client.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(of_client[0]["text"], "Clear brief and quick answers.", "{of_client}");
}

/// Journey 2: a client writes a job with an exclusionary phrase, sees it
/// marked with a suggestion as they type, fixes it, publishes, and sees
/// explained matches.
#[tokio::test]
async fn a_client_fixes_a_flagged_job_as_they_type_and_sees_explained_matches() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    for (i, years) in [12.0, 6.0, 1.0].into_iter().enumerate() {
        let freelancer = app
            .register_as(&format!("dev{i}@example.org"), fairgig_core::user::Role::Freelancer)
            .await;
        let body = json!({
            "headline": "Rust and PostgreSQL developer",
            "bio": "I build reliable Rust backends on PostgreSQL.",
            "skills": [{"name": "Rust", "level": "expert"}, {"name": "PostgreSQL", "level": "advanced"}],
            "availability": "available",
            "years_experience": years,
        });
        let (status, saved) =
            send(&app, reqwest::Method::PUT, &freelancer, "/api/v1/me/profile", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
    }

    browser.open(&app, "/signup").await;
    browser.fill("#email", "writer@example.org").await;
    browser.fill("#display_name", "Wanda Writer").await;
    browser.fill("#password", "a long and unusual passphrase 7").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("#requests-heading").await;
    browser.click("a[href='/jobs/new']").await;
    browser.wait_for("#job-form").await;
    browser.fill("#title", "Rust developer").await;
    browser
        .fill("#description", "We want a young rockstar to build our Rust and PostgreSQL API.")
        .await;
    browser.wait_for("#findings mark").await;
    let marked = browser.text("#findings .checked-text").await;
    assert!(marked.contains("rockstar"), "{marked}");
    assert!(!browser.text("#findings .suggestions").await.is_empty());
    browser.look("job-new-flagged").await;

    browser
        .fill(
            "#description",
            "We want an experienced developer to build our Rust and PostgreSQL API.",
        )
        .await;
    browser.wait_for("#findings .ok-note").await;
    browser.fill("#skills", "Rust, PostgreSQL").await;
    browser.click("#job-form button[type=submit]").await;
    browser.wait_for("#matches-heading").await;
    assert_eq!(browser.text("h1 + p .badge").await, "open");
    let matches = browser.text(".matches").await;
    assert!(matches.contains("#1") && matches.contains("Strengths"), "{matches}");
    browser.look("job-matches").await;
    let job_page = browser.client.current_url().await.expect("url");
    // The budget as a hard limit, on request: the list is asked again and
    // the box stays ticked.
    browser.click("#matches-heading ~ form input[name=within_budget]").await;
    browser.click("#matches-heading ~ form button[type=submit]").await;
    // Ticking the box checks it before the page is asked again: wait for
    // the new page's address, then for its box.
    let mut asked = job_page.clone();
    asked.set_query(Some("within_budget=1"));
    asked.set_fragment(Some("matches-heading"));
    browser.client.wait().for_url(&asked).await.expect("the list asked again");
    browser.wait_for("#matches-heading ~ form input[name=within_budget]:checked").await;

    // The board finds it by words, marks them, and narrows by skill.
    browser.open(&app, "/jobs?q=PostgreSQL+API").await;
    browser.wait_for(".job-hit mark").await;
    assert!(browser.text(".job-hit h2").await.contains("Rust developer"));
    let marked = browser.text(".job-hit .excerpt mark").await;
    assert!(["PostgreSQL", "API"].contains(&marked.as_str()), "{marked}");
    browser.look("jobs-board").await;
    browser.click(".facets a").await;
    browser.wait_for_text("[role=status]", "Requiring").await;
    browser.client.goto(job_page.as_str()).await.expect("back to the job");
    browser.wait_for("#matches-heading").await;

    // Editing it: flagged words send an open job back to draft.
    browser.click("a[href$='/edit']").await;
    browser.wait_for("#job-form").await;
    let title = browser.client.find(Locator::Css("#title")).await.expect("title");
    assert_eq!(title.prop("value").await.expect("value").as_deref(), Some("Rust developer"));
    browser.fill("#title", "Rust developer, max age 30").await;
    browser.wait_for("#findings mark").await;
    browser.click("#job-form button[type=submit]").await;
    browser.wait_for_text("h1", "max age 30").await;
    assert_eq!(browser.text("h1 + p .badge").await, "draft");
    assert!(browser.text(".notice").await.contains("checked again"));
    browser.close().await;
}

/// Journey 4: an admin publishes a held review from the moderation queue,
/// sees the fairness chart with its table, and meets the ranker registry's
/// answers (with no trained challenger yet, promotion and roll back say so).
#[tokio::test]
async fn an_admin_publishes_a_held_review_and_reads_the_fairness_dashboard() {
    use fairgig_core::marketplace::JobStatus;
    use fairgig_store::{
        applications::NewReview,
        marketplace::{JobInput, JobReview},
    };

    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    let admin = app.admin("root@example.org").await;
    let client = app.register("held@example.org").await;
    let freelancer =
        app.register_as("subject@example.org", fairgig_core::user::Role::Freelancer).await;
    let input = JobInput {
        title: "Logo".into(),
        description: "A logo".into(),
        required_skills: vec![],
        preferred_skills: vec![],
        max_hourly_minor: None,
        currency: None,
        region: None,
        remote: true,
        utc_offset_minutes: None,
        experience_level: None,
    };
    let job = app
        .store
        .create_job(client.id, None, &input, JobStatus::Open, &JobReview::unchecked())
        .await
        .expect("job");
    let held = app
        .store
        .create_review(&NewReview {
            job: job.id,
            author: client.id,
            subject: freelancer.id,
            rating: 4,
            sub_ratings: json!({}),
            body: "Held for a moderator to read.".into(),
            bias_report: json!({}),
            published: false,
        })
        .await
        .expect("review");

    browser.sign_in(&app, "root@example.org", PASSWORD).await;
    browser.click("a[href='/admin']").await;
    browser.wait_for("#moderation-heading").await;
    assert!(browser.text(".held-review").await.contains("Held for a moderator to read."));
    assert!(
        browser.client.find(Locator::Css("svg.chart title")).await.is_ok(),
        "the chart is there"
    );
    browser.look("admin").await;
    browser.fill("#attribute", "gender").await;
    browser.click("form.fairness-grouping button").await;
    browser.wait_for_text("#fairness-heading + p", "gender").await;
    browser.fill("#attribute", "not an attribute!").await;
    browser.click("form.fairness-grouping button").await;
    browser.wait_for(".alert").await;
    browser.open(&app, "/admin").await;
    browser.wait_for("#moderation-heading").await;
    browser.click(&format!("form[action='/admin/reviews/{}/publish'] button", held.id)).await;
    browser.wait_for_text("#moderation-heading + p", "No review is waiting").await;
    assert!(browser.client.find_all(Locator::Css(".held-review")).await.expect("list").is_empty());
    browser.click("form[action='/admin/rankers/promote'] button").await;
    browser.wait_for_text(".alert", "no challenger").await;
    browser.click("form[action='/admin/rankers/rollback'] button").await;
    browser.wait_for_text(".alert", "no earlier champion").await;
    browser.click("form[action='/admin/rankers/train'] button").await;
    browser.wait_for_text(".notice", "Too little feedback").await;

    // Lists shown with feedback on them: a challenger is trained from the
    // page, then goes through the promotion gate, whose answer is shown.
    let (owner, dev, path) = crate::marketplace::job_with_one_candidate(&app).await;
    for _ in 0..4 {
        crate::marketplace::age_recent_views(&app).await;
        let (_, shown) = send(&app, reqwest::Method::GET, &owner, &path, None).await;
        let body =
            json!({"match_list": shown["match_list"], "freelancer": dev.id, "kind": "click"});
        let (status, answer) =
            send(&app, reqwest::Method::POST, &owner, "/api/v1/feedback", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    browser.click("form[action='/admin/rankers/train'] button").await;
    browser.wait_for_text(".notice", "Trained ranker-").await;
    assert!(browser.text("#registry-heading + table").await.contains("challenger"));
    browser.click("form[action='/admin/rankers/promote'] button").await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let notice = match browser.client.find(Locator::Css(".notice")).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if notice.contains("is now the champion") || notice.contains("stays challenger") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no promotion answer: {notice}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The evidence page: language against applicants, ratings by group.
    browser.click("a[href='/admin/evidence']").await;
    browser.wait_for("#language-heading").await;
    assert!(browser.text("#reviews-heading + p").await.contains("Name a self-declared attribute"));
    browser.fill("#attribute", "gender").await;
    browser.click("form.filters button").await;
    browser.wait_for_text("#reviews-heading + p", "Published ratings in the period").await;
    browser.look("admin-evidence").await;
    browser.fill("#attribute", "not an attribute!").await;
    browser.click("form.filters button").await;
    browser.wait_for(".alert").await;
    browser.close().await;

    let published: Value = app
        .get_as(&format!("/api/v1/profiles/{}/reviews", freelancer.id), &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(published[0]["text"], "Held for a moderator to read.", "{published}");
    // Not for others: a client is refused the admin page.
    let (cookie, _) = portal_visitor(&app, "nosy@example.org").await;
    for page in ["/admin", "/admin/evidence"] {
        let refused =
            app.client.get(app.url(page)).header("cookie", &cookie).send().await.expect("get");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{page}");
    }
}

/// Journey 5: notification preferences are set in the portal and read back
/// by the API; an API key is created (shown once), works against the API,
/// and stops working once revoked.
#[tokio::test]
async fn preferences_and_an_api_key_set_in_the_portal_work_against_the_api() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    let user = app.register("keys@example.org").await;

    browser.sign_in(&app, "keys@example.org", PASSWORD).await;
    browser.click("a[href='/settings']").await;
    browser.wait_for("#preferences-heading").await;
    browser
        .client
        .find(Locator::Css("#channel_1"))
        .await
        .expect("select")
        .select_by_value("email")
        .await
        .expect("choose");
    browser.fill("#address_1", "keys@example.org").await;
    browser
        .client
        .find(Locator::Css("#channel_2"))
        .await
        .expect("select")
        .select_by_value("log")
        .await
        .expect("choose");
    browser.fill("#address_2", "fallback").await;
    browser.fill("#timezone", "Europe/Berlin").await;
    browser
        .client
        .find(Locator::Css("#locale"))
        .await
        .expect("select")
        .select_by_value("de")
        .await
        .expect("choose");
    browser
        .client
        .find(Locator::Css("#mode_run_completed"))
        .await
        .expect("select")
        .select_by_value("digest")
        .await
        .expect("choose");
    browser.click("form[action='/settings/notifications'] button[type=submit]").await;
    browser.wait_for(".notice").await;
    let stored: Value = app
        .get_as("/api/v1/me/notification-preferences", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        stored["channels"][0],
        json!({"channel": "email", "address": "keys@example.org"}),
        "{stored}"
    );
    assert_eq!(stored["channels"][1]["channel"], "log");
    assert_eq!(stored["kinds"], json!({"run_completed": "digest"}), "{stored}");

    // A webhook endpoint: its secret shown once, then rotated.
    browser.fill("#webhook_url", "http://127.0.0.1:9/inside").await;
    browser.click("form[action='/settings/webhooks'] button[type=submit]").await;
    browser.wait_for("#webhook-url-error").await;
    browser.fill("#webhook_url", "https://hooks.example.org/fairgig").await;
    browser.click("form[action='/settings/webhooks'] button[type=submit]").await;
    browser.wait_for("#new-secret").await;
    let first = browser.text("#new-secret").await;
    assert!(first.starts_with("whsec_"), "{first}");
    browser.click(".webhook form[action$='/rotate'] button").await;
    browser.wait_for_text(".webhook", "UTC").await;
    let second = browser.text("#new-secret").await;
    assert!(second.starts_with("whsec_") && second != first, "a new secret");
    let hooks: Value =
        app.get_as("/api/v1/me/webhooks", &user.access).await.json().await.expect("json");
    assert_eq!(hooks[0]["url"], "https://hooks.example.org/fairgig", "{hooks}");
    assert!(hooks[0]["previous_secret_expires_at"].is_string(), "the old secret overlaps: {hooks}");
    assert_eq!(
        (stored["timezone"].as_str(), stored["locale"].as_str()),
        (Some("Europe/Berlin"), Some("de"))
    );

    browser.fill("#key_name", "laptop script").await;
    browser.click("form[action='/settings/keys'] button[type=submit]").await;
    browser.wait_for("#new-key").await;
    browser.look("settings").await;
    let key = browser.text("#new-key").await;
    let me =
        app.client.get(app.url("/api/v1/me")).header("x-api-key", &key).send().await.expect("get");
    assert_eq!(me.status(), StatusCode::OK);
    browser.click(".api-key form button").await;
    browser.wait_for_text(".api-key", "revoked").await;
    let me =
        app.client.get(app.url("/api/v1/me")).header("x-api-key", &key).send().await.expect("get");
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    browser.click("a[href='/settings/password']").await;
    browser.wait_for("#new_password").await;
    browser.fill("#current_password", "not my password").await;
    browser.fill("#new_password", "an even longer unusual passphrase 9").await;
    browser.click("form[action='/settings/password'] button[type=submit]").await;
    browser.wait_for("#current-error").await;
    browser.look("password-error").await;
    browser.fill("#current_password", PASSWORD).await;
    browser.fill("#new_password", "an even longer unusual passphrase 9").await;
    browser.click("form[action='/settings/password'] button[type=submit]").await;
    browser.wait_for(".notice").await;
    let old = app.login("keys@example.org", PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the old password no longer works");
    browser.close().await;
}

/// A freelancer confirms the address with the link mailed at sign-up, then
/// forgets the password and chooses a new one through the mailed link.
#[tokio::test]
async fn an_address_is_confirmed_and_a_forgotten_password_replaced_by_mailed_links() {
    let Some(mailbox) = mailbox() else { return };
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_with(|settings| mailbox.configure(settings)).await;
    let email = format!("forgetful-{}@example.org", uuid::Uuid::now_v7());

    browser.open(&app, "/signup").await;
    browser.fill("#email", &email).await;
    browser.fill("#display_name", "Fritz Forgetful").await;
    browser.fill("#password", "a long and unusual passphrase 7").await;
    browser.click("input[name=role][value=freelancer]").await;
    browser.click("form[action='/signup'] button[type=submit]").await;
    browser.wait_for("form[action='/verify-email/resend']").await;

    let token = mailbox.link_token(&email, "/verify-email").await;
    browser.open(&app, &format!("/verify-email?token={token}")).await;
    browser.wait_for("form[action='/verify-email']").await;
    browser.look("verify-email").await;
    browser.click("form[action='/verify-email'] button[type=submit]").await;
    browser.wait_for(".notice").await;
    browser.open(&app, "/dashboard").await;
    browser.wait_for("#reviews-heading").await;
    let banners = browser
        .client
        .find_all(Locator::Css("form[action='/verify-email/resend']"))
        .await
        .expect("find");
    assert!(banners.is_empty(), "a confirmed address is not asked for again");
    browser.sign_out().await;

    browser.open(&app, "/signin").await;
    browser.click("a[href='/password/forgot']").await;
    browser.wait_for("form[action='/password/forgot']").await;
    browser.fill("#email", "not an address").await;
    browser.click("form[action='/password/forgot'] button[type=submit]").await;
    browser.wait_for("#email-error").await;
    browser.look("password-forgot").await;
    browser.fill("#email", &email).await;
    browser.click("form[action='/password/forgot'] button[type=submit]").await;
    browser.wait_for(".notice").await;

    let token = mailbox.link_token(&email, "/password/reset").await;
    browser.open(&app, &format!("/password/reset?token={token}")).await;
    browser.wait_for("form[action='/password/reset']").await;
    browser.fill("#new_password", "password").await;
    browser.click("form[action='/password/reset'] button[type=submit]").await;
    browser.wait_for("#new-error").await;
    browser.look("password-reset").await;
    browser.fill("#new_password", "a different unusual passphrase 8").await;
    browser.click("form[action='/password/reset'] button[type=submit]").await;
    browser.wait_for("form[action='/signin'] .notice").await;
    browser.sign_in(&app, &email, "a different unusual passphrase 8").await;
    let old = app.login(&email, "a long and unusual passphrase 7").await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the old password no longer works");
    browser.close().await;
}

/// The operator's other pages: a role changed and a user disabled, the
/// audit log filtered and its chain checked, a dead task retried, a dead
/// delivery sent again, a template previewed in German.
#[tokio::test]
async fn an_admin_manages_users_checks_the_audit_chain_and_retries_what_failed() {
    use reqwest::multipart::{Form, Part};

    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    // No SMTP here: a delivery by email fails for good and is dead-lettered.
    let app = spawn_app().await;
    app.admin("ops@example.org").await;
    let someone = app.register("someone@example.org").await;
    let email_only = json!({"channels": [{"channel": "email", "address": "someone@example.org"}]});
    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        &someone,
        "/api/v1/me/notification-preferences",
        Some(email_only),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let broken = crate::helpers::corrupt_pdf();
    let submission = json!({"kind": "job", "title": "Broken brief", "text": "See the file."});
    let form = Form::new()
        .text("submission", submission.to_string())
        .part("files", Part::bytes(broken).file_name("broken.pdf"));
    let created: Value = app
        .client
        .post(app.url("/api/v1/submissions"))
        .bearer_auth(&someone.access)
        .multipart(form)
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let done = finished(&app, &someone, created["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "failed", "{done}");

    browser.sign_in(&app, "ops@example.org", PASSWORD).await;
    browser.open(&app, "/admin/users").await;
    browser.wait_for("table.users").await;
    browser.look("admin-users").await;
    let row = "//tr[td[text()='someone@example.org']]";
    let select =
        browser.client.find(Locator::XPath(&format!("{row}//select"))).await.expect("role");
    select.select_by_value("freelancer").await.expect("choose");
    browser
        .client
        .find(Locator::XPath(&format!("{row}//form[contains(@action, '/role')]//button")))
        .await
        .expect("set")
        .click()
        .await
        .expect("click");
    browser.wait_for(".notice").await;
    let changed = app.store.get_user(someone.id).await.expect("user");
    assert_eq!(changed.role, fairgig_core::user::Role::Freelancer);
    browser
        .client
        .find(Locator::XPath(&format!("{row}//form[contains(@action, '/disable')]//button")))
        .await
        .expect("disable")
        .click()
        .await
        .expect("click");
    browser.wait_for_text("table.users", "disabled").await;
    assert_eq!(app.login("someone@example.org", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    browser.click("a[href='/admin/audit']").await;
    browser.wait_for("form.filters").await;
    browser.fill("#action", "user.role_changed").await;
    browser.click("form.filters button[type=submit]:not([name])").await;
    browser.wait_for_text("table.audit", "user.role_changed").await;
    assert!(!browser.text("table.audit").await.contains("user.disabled"), "filtered");
    browser.click("form.filters button[name=verify]").await;
    browser.wait_for(".chain-check").await;
    assert!(browser.text(".chain-check").await.contains("intact"));
    browser.look("admin-audit").await;

    browser.click("a[href='/admin/dead-letters']").await;
    browser.wait_for("table.dead-letters").await;
    browser.look("admin-dead-letters").await;
    browser.click(".dead-task form button").await;
    browser.wait_for(".notice").await;

    browser.open(&app, "/admin/notifications?status=dead").await;
    browser.wait_for("table.notification-log").await;
    browser.look("admin-notifications").await;
    browser.click(".delivery form button").await;
    browser.wait_for(".notice").await;
    let retried = app
        .store
        .list_audit(
            &fairgig_store::audit::AuditFilter {
                action: Some("notification.retried".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(retried.len(), 1, "the re-send is audited");

    browser.open(&app, "/admin/templates?kind=password_reset&locale=de").await;
    browser.wait_for(".template-preview").await;
    assert!(browser.text(".message-text").await.contains("Hallo"));
    browser.look("admin-templates").await;
    browser.close().await;
}

/// Journey 14: a client finds a freelancer in the directory by words, opens
/// their page with the sub-ratings averaged, and marks a review helpful.
#[tokio::test]
async fn a_client_finds_a_freelancer_reads_the_ratings_and_marks_a_review_helpful() {
    use fairgig_core::{marketplace::JobStatus, user::Role};
    use fairgig_store::{
        applications::NewReview,
        marketplace::{JobInput, JobReview},
    };

    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    app.register("finder@example.org").await;
    let earlier_client = app.register("earlier@example.org").await;
    let freelancer = app.register_as("rust@example.org", Role::Freelancer).await;
    let profile = json!({
        "headline": "Rust backend developer",
        "bio": "I build payment backends in Rust with PostgreSQL.",
        "skills": [{"name": "Rust", "level": "expert"}],
        "region": "DE",
        "availability": "available",
        "years_experience": 7.0,
        "languages": ["English"],
    });
    let saved = app
        .client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&freelancer.access)
        .json(&profile)
        .send()
        .await
        .expect("profile");
    assert_eq!(saved.status(), StatusCode::OK);
    let input = JobInput {
        title: "Payments API".into(),
        description: "An API".into(),
        required_skills: vec![],
        preferred_skills: vec![],
        max_hourly_minor: None,
        currency: None,
        region: None,
        remote: true,
        utc_offset_minutes: None,
        experience_level: None,
    };
    let job = app
        .store
        .create_job(earlier_client.id, None, &input, JobStatus::Completed, &JobReview::unchecked())
        .await
        .expect("job");
    app.store
        .create_review(&NewReview {
            job: job.id,
            author: earlier_client.id,
            subject: freelancer.id,
            rating: 5,
            sub_ratings: json!({"quality": 5, "communication": 4}),
            body: "Clean, well-tested work, delivered early.".into(),
            bias_report: json!({}),
            published: true,
        })
        .await
        .expect("review");

    browser.sign_in(&app, "finder@example.org", PASSWORD).await;
    browser.click("a[href='/freelancers']").await;
    browser.wait_for("form[action='/freelancers']").await;
    browser.fill("#q", "payment backends").await;
    browser.click("form[action='/freelancers'] button[type=submit]").await;
    browser.wait_for_text(".freelancer-hit", "Rust backend developer").await;
    assert!(browser.text(".freelancer-hit mark").await.to_lowercase().contains("payment"));
    browser.look("directory").await;
    browser.fill("#min_years", "99").await;
    browser.click("form[action='/freelancers'] button[type=submit]").await;
    browser.wait_for("#directory-error").await;
    browser.fill("#min_years", "").await;
    browser.click("form[action='/freelancers'] button[type=submit]").await;
    browser.wait_for(".freelancer-hit a").await;
    browser.click(".freelancer-hit a").await;
    browser.wait_for("#reviews").await;
    let ratings = browser.text("dl.sub-ratings").await;
    assert!(ratings.contains("5.0/5") && ratings.contains("4.0/5"), "{ratings}");
    browser.look("freelancer").await;
    browser.click(".review button[value=yes]").await;
    browser.wait_for_text(".review", "Helpful to 1").await;
    browser.close().await;
}

/// Journey: an admin writes a page with its live preview and language
/// check, publishes it, meets a concurrent edit, reads the changes between
/// versions, restores one, and the page is there for visitors.
#[tokio::test]
async fn an_admin_writes_previews_publishes_and_restores_a_page() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    let admin = app.admin("pages-editor@example.org").await;
    browser.sign_in(&app, "pages-editor@example.org", PASSWORD).await;
    browser.open(&app, "/admin/pages").await;
    browser.wait_for("a[href='/admin/pages/new']").await;
    browser.click("a[href='/admin/pages/new']").await;
    browser.wait_for("#page-form").await;
    browser.fill("#title", "How fairgig works").await;
    browser.fill("#slug", "how-it-works").await;
    browser
        .fill("#body", "## Matching\n\nWe want young rockstars. <script>alert(1)</script>")
        .await;
    // The preview follows the text: rendered, inert, and checked.
    browser.wait_for("#page-preview h2#matching").await;
    browser.wait_for("#page-preview #findings mark").await;
    let preview = browser.client.source().await.expect("source");
    assert!(!preview.contains("<script>alert(1)"), "the preview carries no script");
    browser.look("page-editor").await;
    browser.fill("#body", "## Matching\n\nExperienced people, matched fairly.").await;
    browser.wait_for("#page-preview #findings .ok-note").await;
    browser
        .client
        .find(Locator::Css("#status option[value='published']"))
        .await
        .expect("published")
        .click()
        .await
        .expect("choose");
    browser.fill("#message", "first words").await;
    browser.click("#page-form button[type=submit]").await;
    browser.wait_for_text("[role=status]", "Saved").await;

    // Someone saves through the API meanwhile; this form's save is refused
    // beside the form, with what was typed kept.
    let (_, listed) = send(&app, reqwest::Method::GET, &admin, "/api/v1/content/pages", None).await;
    let id = listed[0]["id"].as_str().expect("id").to_owned();
    let other = json!({"version": 1, "slug": "how-it-works", "title": "How fairgig works",
        "body": "## Matching\n\nChanged elsewhere.", "status": "published", "message": "api"});
    let path = format!("/api/v1/content/pages/{id}");
    assert_eq!(
        send(&app, reqwest::Method::PUT, &admin, &path, Some(other)).await.0,
        StatusCode::OK
    );
    browser.fill("#body", "## Matching\n\nMy late edit.").await;
    browser.click("#page-form button[type=submit]").await;
    browser.wait_for("#version-error").await;
    assert!(browser.text("#version-error").await.contains("version 2"));
    let kept = browser.client.find(Locator::Css("#body")).await.expect("body");
    assert_eq!(
        kept.prop("value").await.expect("value").as_deref(),
        Some("## Matching\n\nMy late edit.")
    );

    // History: the changes from 1 to 2, and version 1 restored as 3.
    browser.open(&app, &format!("/admin/pages/{id}")).await;
    browser.wait_for(".history").await;
    browser.click(&format!("a[href='/admin/pages/{id}/diff?from=1&to=2']")).await;
    browser.wait_for("pre.diff ins").await;
    assert!(browser.text("pre.diff ins").await.contains("Changed elsewhere."));
    assert!(browser.text("pre.diff del").await.contains("matched fairly"));
    browser.open(&app, &format!("/admin/pages/{id}")).await;
    browser.click(&format!("form[action='/admin/pages/{id}/versions/1/restore'] button")).await;
    browser.wait_for_text("[role=status]", "Saved").await;
    browser.wait_for_text(".history", "restored version 1").await;

    // Visitors read it in the site's layout.
    browser.open(&app, "/p/how-it-works").await;
    browser.wait_for("article h2#matching").await;
    assert!(browser.text("article").await.contains("matched fairly"));
    browser.look("page-public").await;
    browser.close().await;
}

/// A person downloads everything the portal holds about them, then deletes
/// their account: the tick is asked for, the account is gone, the old
/// password no longer signs in.
#[tokio::test]
async fn a_person_downloads_their_data_and_deletes_their_account() {
    let _turn = ONE_BROWSER.acquire().await.expect("semaphore");
    let Some(browser) = browser().await else { return };
    let app = spawn_app().await;
    app.register("leaving@example.org").await;

    browser.sign_in(&app, "leaving@example.org", PASSWORD).await;
    browser.click("a[href='/settings']").await;
    browser.click("a[href='/settings/data']").await;
    browser.wait_for("#erase-form").await;
    browser.check_accessibility("your data").await;
    let href = browser
        .client
        .find(Locator::Css("#export-link"))
        .await
        .expect("link")
        .attr("href")
        .await
        .expect("href")
        .expect("an href");
    let cookie = portal_sign_in(&app, "leaving@example.org").await;
    let archive =
        app.client.get(app.url(&href)).header("cookie", cookie).send().await.expect("export");
    assert_eq!(archive.headers()["content-type"], "application/zip");
    let bytes = archive.bytes().await.expect("body").to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let data: Value =
        serde_json::from_reader(zip.by_name("data.json").expect("data.json")).expect("json");
    assert_eq!(data["account"]["email"], "leaving@example.org");

    browser.fill("#password", PASSWORD).await;
    browser.click("#erase-form button[type=submit]").await;
    browser.wait_for("#confirm-error").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#erase-form input[name=confirm]").await;
    browser.click("#erase-form button[type=submit]").await;
    browser.wait_for("#erased-notice").await;
    browser.look("erased").await;
    let gone = app.login("leaving@example.org", PASSWORD).await;
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    browser.close().await;
}
