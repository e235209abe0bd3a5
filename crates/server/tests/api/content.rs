//! The content service over HTTP: who may write, versions and their
//! history, concurrent edits, scheduled publishing, translations and the
//! fallback to the default locale, and pages that cannot carry script.

use fairgig_core::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, spawn_with_model, TestApp};

fn page(locale: &str, slug: &str, title: &str, body: &str) -> Value {
    json!({
        "locale": locale,
        "slug": slug,
        "title": title,
        "summary": format!("{title}, in short."),
        "body": body,
        "tags": ["Guide", "fairness"],
        "status": "published",
        "message": "first draft",
    })
}

async fn public(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.client.get(format!("{}{path}", app.address)).send().await.expect("send");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn editors_write_versioned_pages_and_concurrent_edits_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin("content-admin@example.org").await;
    let editor = app.register_as("editor@example.org", Role::Freelancer).await;
    let client = app.register_as("reader@example.org", Role::Client).await;
    let body = page("en", "how-it-works", "How fairgig works", "# How\n\nWe match fairly.\n");

    // Only admins and granted editors write.
    let (status, refused) =
        send(&app, Method::POST, &editor, "/api/v1/content/pages", Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let grant = format!("/api/v1/admin/page-editors/{}", editor.id);
    assert_eq!(send(&app, Method::PUT, &client, &grant, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, Method::PUT, &admin, &grant, None).await.0, StatusCode::NO_CONTENT);
    let (status, created) =
        send(&app, Method::POST, &editor, "/api/v1/content/pages", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["page"]["version"], 1);
    assert_eq!(created["page"]["tags"], json!(["guide", "fairness"]), "tags normalised");
    let id = created["page"]["id"].as_str().expect("id").to_owned();

    // The same slug in the same locale is taken; bad input names its field.
    let (status, taken) =
        send(&app, Method::POST, &editor, "/api/v1/content/pages", Some(body.clone())).await;
    assert_eq!((status, &taken["error"]["field"]), (StatusCode::CONFLICT, &json!("slug")));
    for (field, value) in [
        ("slug", json!("Not A Slug")),
        ("locale", json!("xx")),
        ("title", json!("")),
        ("body", json!("")),
        ("status", json!("scheduled")),
    ] {
        let mut bad = page("en", "other", "Other", "Text");
        bad[field] = value;
        let (status, answer) =
            send(&app, Method::POST, &editor, "/api/v1/content/pages", Some(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {answer}");
        let expected = if field == "status" { "publish_at" } else { field };
        assert_eq!(answer["error"]["field"], expected, "{answer}");
    }

    // Two editors start from version 1; the second save is refused.
    let path = format!("/api/v1/content/pages/{id}");
    let mut edit = body.clone();
    edit.as_object_mut().expect("object").remove("locale");
    edit["version"] = json!(1);
    edit["body"] = json!("# How\n\nWe match fairly, and say why.\n");
    edit["message"] = json!("say why");
    let (status, saved) = send(&app, Method::PUT, &admin, &path, Some(edit.clone())).await;
    assert_eq!((status, &saved["page"]["version"]), (StatusCode::OK, &json!(2)), "{saved}");
    edit["body"] = json!("# How\n\nSomething else.\n");
    let (status, stale) = send(&app, Method::PUT, &editor, &path, Some(edit.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    assert_eq!(stale["error"]["field"], "version");
    assert!(stale["error"]["message"].as_str().expect("message").contains("version 2"));

    // History, a diff, and restoring version 1 as version 3.
    let (status, history) =
        send(&app, Method::GET, &editor, &format!("{path}/versions"), None).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let messages: Vec<&str> =
        history.as_array().expect("list").iter().filter_map(|v| v["message"].as_str()).collect();
    assert_eq!(messages, vec!["first draft", "say why"]);
    assert_eq!(history[1]["author"], json!(admin.id.to_string()));
    let (status, diff) =
        send(&app, Method::GET, &editor, &format!("{path}/diff?from=1&to=2"), None).await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    let changed: Vec<(String, String)> = diff["body"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["change"] != " ")
        .map(|l| {
            (
                l["change"].as_str().unwrap_or("").to_owned(),
                l["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            ("-".to_owned(), "We match fairly.".to_owned()),
            ("+".to_owned(), "We match fairly, and say why.".to_owned())
        ]
    );
    let restore = format!("{path}/versions/1/restore");
    let (status, stale) =
        send(&app, Method::POST, &editor, &restore, Some(json!({"version": 1}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "restoring needs the current version: {stale}");
    let (status, restored) =
        send(&app, Method::POST, &editor, &restore, Some(json!({"version": 2}))).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["page"]["version"], 3);
    assert_eq!(restored["page"]["body"], "# How\n\nWe match fairly.\n");
    let (_, third) = send(&app, Method::GET, &editor, &format!("{path}/versions/3"), None).await;
    assert_eq!(third["message"], "restored version 1");

    // Revoked: writing is refused again; the audit log has every save.
    assert_eq!(send(&app, Method::DELETE, &admin, &grant, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, Method::DELETE, &admin, &grant, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::GET, &editor, &path, None).await.0, StatusCode::FORBIDDEN);
    let (_, audit) = send(&app, Method::GET, &admin, "/api/v1/audit?limit=100", None).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .map(|entries| entries.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for action in [
        "page.created",
        "page.saved",
        "page.restored",
        "page_editor.granted",
        "page_editor.revoked",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn the_public_sees_published_and_due_pages_with_a_fallback_to_english() {
    let app = spawn_app().await;
    let admin = app.admin("pages-admin@example.org").await;
    let create =
        |body: Value| send(&app, Method::POST, &admin, "/api/v1/content/pages", Some(body));
    let (status, english) =
        create(page("en", "pricing", "Pricing", "## Fees\n\nFive per cent.\n")).await;
    assert_eq!(status, StatusCode::CREATED, "{english}");
    let english_id = english["page"]["id"].as_str().expect("id").to_owned();
    let mut german = page("de", "preise", "Preise", "## Gebühren\n\nFünf Prozent.\n");
    german["translation_of"] = json!(english_id);
    let (status, german) = create(german).await;
    assert_eq!(status, StatusCode::CREATED, "{german}");
    assert_eq!(german["translations"].as_array().map(Vec::len), Some(2));
    let mut again = page("de", "preise-2", "Preise", "Text");
    again["translation_of"] = json!(english_id);
    let (status, clash) = create(again).await;
    assert_eq!((status, &clash["error"]["field"]), (StatusCode::CONFLICT, &json!("locale")));

    // A draft, a scheduled page in the future and one due are created.
    let mut draft = page("en", "draft-page", "Draft", "Not yet.");
    draft["status"] = json!("draft");
    create(draft).await;
    let mut later = page("en", "later", "Later", "Soon.");
    later["status"] = json!("scheduled");
    later["publish_at"] = json!("2999-01-01T00:00:00Z");
    assert_eq!(create(later).await.0, StatusCode::CREATED);
    let mut due = page("en", "due", "Due", "Now.");
    due["status"] = json!("scheduled");
    due["publish_at"] = json!("2001-01-01T00:00:00Z");
    assert_eq!(create(due).await.0, StatusCode::CREATED);

    let (status, listed) = public(&app, "/api/v1/content/published?locale=en").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let mut slugs: Vec<&str> =
        listed.as_array().expect("list").iter().filter_map(|p| p["slug"].as_str()).collect();
    slugs.sort_unstable();
    assert_eq!(slugs, vec!["due", "pricing"], "drafts and future pages stay hidden");
    assert_eq!(public(&app, "/api/v1/content/published/en/later").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        public(&app, "/api/v1/content/published/en/draft-page").await.0,
        StatusCode::NOT_FOUND
    );
    let (_, editors) =
        send(&app, Method::GET, &admin, "/api/v1/content/pages?status=scheduled", None).await;
    assert_eq!(editors.as_array().map(Vec::len), Some(2), "editors see every page: {editors}");

    // Search: words in one locale; drafts and pages not yet due are not found.
    let (status, found) = public(&app, "/api/v1/content/search?q=Gebühren&locale=de").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let titles: Vec<&str> = found
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["page"]["title"].as_str())
        .collect();
    assert_eq!(titles, vec!["Preise"]);
    assert!(found[0]["highlight"]["fragment"].as_str().is_some_and(|f| f.contains("Gebühren")));
    let (_, english) = public(&app, "/api/v1/content/search?q=fees&locale=en").await;
    assert_eq!(english.as_array().map(Vec::len), Some(1), "{english}");
    for hidden in ["Soon", "yet"] {
        let (_, none) = public(&app, &format!("/api/v1/content/search?q={hidden}")).await;
        assert_eq!(none, json!([]), "{hidden}: {none}");
    }
    let (_, due) = public(&app, "/api/v1/content/search?q=now").await;
    assert_eq!(due[0]["page"]["slug"], "due");
    let (_, tagged) = public(&app, "/api/v1/content/search?tag=fairness&locale=en").await;
    assert_eq!(tagged.as_array().map(Vec::len), Some(2), "{tagged}");
    assert_eq!(
        public(&app, "/api/v1/content/search?q=x&limit=0").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        public(&app, "/api/v1/content/search?q=x&locale=xx").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The German page by its own slug, and by the English slug.
    let (status, shown) = public(&app, "/api/v1/content/published/de/preise").await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!((&shown["title"], &shown["fallback_notice"]), (&json!("Preise"), &Value::Null));
    assert_eq!(shown["headings"][0]["anchor"], "gebühren");
    let (_, by_english_slug) = public(&app, "/api/v1/content/published/de/pricing").await;
    assert_eq!(by_english_slug["title"], "Preise");
    // French has no translation: English, with a notice in French.
    let (status, fallback) = public(&app, "/api/v1/content/published/fr/pricing").await;
    assert_eq!(status, StatusCode::OK, "{fallback}");
    assert_eq!(fallback["locale"], "en");
    let notice = fallback["fallback_notice"].as_str().expect("a notice");
    assert!(notice.contains("français"), "{notice}");
    assert_eq!(
        public(&app, "/api/v1/content/published/xx/pricing").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(public(&app, "/api/v1/content/published/en/nothing").await.0, StatusCode::NOT_FOUND);

    // The portal shows it in the site's layout, with the notice.
    let html = app
        .client
        .get(format!("{}/fr/p/pricing", app.address))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("<h1>Pricing</h1>") && html.contains(notice), "{html}");
    assert!(html.contains(r#"href="/de/p/preise" hreflang="de""#), "{html}");
    let missing =
        app.client.get(format!("{}/xx/p/pricing", app.address)).send().await.expect("page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// Pages tagged `footer` are linked from every portal page's footer, in
/// the visitor's language where translated, English otherwise; drafts and
/// untagged pages are not; a saved title shows at once.
#[tokio::test]
async fn the_footer_links_the_pages_tagged_footer_in_the_visitors_language() {
    let app = spawn_app().await;
    let admin = app.admin("footer-admin@example.org").await;
    let create =
        |body: Value| send(&app, Method::POST, &admin, "/api/v1/content/pages", Some(body));
    let tagged = |locale: &str, slug: &str, title: &str, status: &str| {
        let mut body = page(locale, slug, title, "Text.");
        body["tags"] = json!(["footer"]);
        body["status"] = json!(status);
        body
    };
    let (status, pricing) = create(tagged("en", "pricing", "Pricing", "published")).await;
    assert_eq!(status, StatusCode::CREATED, "{pricing}");
    let mut preise = tagged("de", "preise", "Preise", "published");
    preise["translation_of"] = pricing["page"]["id"].clone();
    assert_eq!(create(preise).await.0, StatusCode::CREATED);
    assert_eq!(create(tagged("en", "about", "About us", "published")).await.0, StatusCode::CREATED);
    assert_eq!(create(tagged("en", "soon", "Coming soon", "draft")).await.0, StatusCode::CREATED);
    assert_eq!(create(page("en", "blog", "Blog", "Text.")).await.0, StatusCode::CREATED);

    let footer = |language: &'static str| {
        let request = app.client.get(app.url("/")).header("accept-language", language);
        async move {
            let html = request.send().await.expect("page").text().await.expect("html");
            let start = html.find("<footer").expect("a footer");
            html[start..].to_owned()
        }
    };
    let german = footer("de").await;
    assert!(german.contains(r#"<a href="/de/p/preise" hreflang="de">Preise</a>"#), "{german}");
    assert!(german.contains(r#"<a href="/en/p/about" hreflang="en">About us</a>"#), "{german}");
    let english = footer("en").await;
    assert!(english.contains(r#"href="/en/p/pricing" hreflang="en">Pricing</a>"#), "{english}");
    assert!(english.find("About us") < english.find("Pricing"), "by title: {english}");
    for hidden in ["Coming soon", "Blog", "Preise"] {
        assert!(!english.contains(hidden), "{hidden}: {english}");
    }

    let id = pricing["page"]["id"].as_str().expect("id");
    let mut edit = tagged("en", "pricing", "Prices and plans", "published");
    edit.as_object_mut().expect("object").remove("locale");
    edit["version"] = json!(1);
    let path = format!("/api/v1/content/pages/{id}");
    assert_eq!(send(&app, Method::PUT, &admin, &path, Some(edit)).await.0, StatusCode::OK);
    let english = footer("en").await;
    assert!(english.contains(">Prices and plans</a>"), "a saved title shows at once: {english}");
}

#[tokio::test]
async fn a_page_cannot_carry_script() {
    let app = spawn_app().await;
    let admin = app.admin("inert-admin@example.org").await;
    let body = "# Hello\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n<img src=x onerror=\"alert(3)\">\n\n<a href=\"https://example.org\" onclick=\"alert(4)\">out</a>\n";
    let (status, created) = send(
        &app,
        Method::POST,
        &admin,
        "/api/v1/content/pages",
        Some(page("en", "inert", "Inert", body)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, shown) = public(&app, "/api/v1/content/published/en/inert").await;
    let html = shown["html"].as_str().expect("html");
    for bad in ["<script", "javascript:", "onerror", "onclick", "alert(1)"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
    let portal = app.client.get(format!("{}/p/inert", app.address)).send().await.expect("page");
    let text = portal.text().await.expect("html");
    assert!(!text.contains("onerror") && !text.contains("<script>alert"), "{text}");

    // The preview renders the same way and checks the language.
    let (status, preview) = send(
        &app,
        Method::POST,
        &admin,
        "/api/v1/content/preview",
        Some(json!({"body": "We want young, energetic rockstars.\n\n<script>x()</script>"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(!preview["html"].as_str().expect("html").contains("<script"));
    assert!(
        preview["hints"]["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "the bias check's hints: {preview}"
    );
}

/// Every relative `href`/`src` of every HTML file under `dir` that does
/// not resolve to a file (or to an element id, for a fragment).
fn broken_links(dir: &std::path::Path) -> Vec<String> {
    let mut broken = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "html") {
                continue;
            }
            let html = std::fs::read_to_string(&path).expect("html");
            for attribute in ["href=\"", "src=\""] {
                for piece in html.split(attribute).skip(1) {
                    let quoted = piece.split('"').next().unwrap_or_default();
                    let target = quoted.replace("&#x2f;", "/").replace("&amp;", "&");
                    let target = target.as_str();
                    if target.starts_with("http://") || target.starts_with("https://") {
                        continue;
                    }
                    let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
                    let resolved = if file.is_empty() { path.clone() } else { folder.join(file) };
                    let fine = resolved.is_file()
                        && (fragment.is_empty()
                            || std::fs::read_to_string(&resolved)
                                .is_ok_and(|t| t.contains(&format!("id=\"{fragment}\""))));
                    if !fine || target.starts_with('/') {
                        broken.push(format!("{} → {target}", path.display()));
                    }
                }
            }
        }
    }
    broken
}

/// The start tags' local names of an XML document, in order, with their
/// attributes (name, value); fails on XML that does not parse.
fn xml_elements(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut elements = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(tag) | quick_xml::events::Event::Empty(tag) => {
                let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
                let attributes = tag
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (
                            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                            String::from_utf8_lossy(&a.value).into_owned(),
                        )
                    })
                    .collect();
                elements.push((name, attributes));
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    elements
}

/// The texts of every `<name>` element.
fn xml_texts(text: &str, name: &str) -> Vec<String> {
    text.split(&format!("<{name}>"))
        .skip(1)
        .filter_map(|rest| rest.split(&format!("</{name}>")).next().map(str::to_owned))
        .collect()
}

/// Every exported Markdown file, by path, without its `updated:` line.
fn markdown_of(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut files = std::collections::BTreeMap::new();
    for locale in std::fs::read_dir(dir).expect("dir").flatten().filter(|e| e.path().is_dir()) {
        for file in std::fs::read_dir(locale.path()).expect("locale").flatten() {
            let path = file.path();
            if path.extension().is_some_and(|ext| ext == "md") {
                let text = std::fs::read_to_string(&path).expect("md");
                let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("updated:")).collect();
                let name = path.strip_prefix(dir).expect("inside").display().to_string();
                files.insert(name, kept.join("\n"));
            }
        }
    }
    files
}

/// A PNG's signature and header chunk: what the sniffer reads.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

/// Uploads `bytes` as a page's file with the token.
async fn upload(app: &TestApp, token: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/content/media", app.address))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn pages_carry_images_named_by_their_content_and_served_inert() {
    let app = spawn_app().await;
    let admin = app.admin("media-admin@example.org").await;
    let client = app.register_as("media-client@example.org", Role::Client).await;
    assert_eq!(upload(&app, &client.access, PNG).await.0, StatusCode::FORBIDDEN);
    let (status, stored) = upload(&app, &admin.access, PNG).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    let url = stored["url"].as_str().expect("url").to_owned();
    assert!(stored["markdown"].as_str().expect("markdown").starts_with("![image](/media/"));
    let (_, again) = upload(&app, &admin.access, PNG).await;
    assert_eq!(again["url"], url.as_str(), "the same bytes, the same name");
    for refused in [&b"<svg onload=\"alert(1)\"></svg>"[..], b"plain text", b""] {
        let (status, answer) = upload(&app, &admin.access, refused).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
    }
    let served = app.client.get(format!("{}{url}", app.address)).send().await.expect("media");
    assert_eq!(served.status(), StatusCode::OK);
    let header = |name: &str| {
        served.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert_eq!(header("content-type"), "image/png");
    assert!(header("content-security-policy").contains("sandbox"));
    assert!(header("cache-control").contains("immutable"));
    assert_eq!(served.bytes().await.expect("bytes").as_ref(), PNG);
    let zeros = format!("/media/{}.png", "0".repeat(64));
    for missing in ["/media/nothing.png", zeros.as_str(), "/media/..%2Fetc"] {
        let answer = app.client.get(format!("{}{missing}", app.address)).send().await.expect("get");
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

/// Checks an exported `document` against its published schema with
/// `tools/validate_xml.py` (xmlschema for XSD; lxml and rnc2rng for RELAX
/// NG), `arguments` naming the schema and any rule besides. `.ci/run` names
/// a Python that has them (`FAIRGIG_TEST_XML_PYTHON`, Debian's); without it
/// this prints a SKIP line, except in CI, where it fails.
async fn follows_its_schema(document: &std::path::Path, arguments: Vec<std::ffi::OsString>) {
    let Some(python) = std::env::var_os("FAIRGIG_TEST_XML_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "FAIRGIG_TEST_XML_PYTHON is unset; .ci/run sets it"
        );
        eprintln!("SKIP {}'s schema: FAIRGIG_TEST_XML_PYTHON unset", document.display());
        return;
    };
    let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut command = std::process::Command::new(python);
    command.arg(repository.join("tools/validate_xml.py")).args(arguments).arg(document);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the validator's thread")
        .expect("run tools/validate_xml.py");
    assert!(
        output.status.success(),
        "{} does not follow its schema:\n{}{}",
        document.display(),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(document).unwrap_or_default()
    );
}

/// The sitemap against sitemaps.org's XSD (`FAIRGIG_TEST_SITEMAP_XSD`,
/// fetched by `.ci/run`), with the W3C XHTML schema its hreflang links
/// (`xhtml:link`, under the XSD's strict wildcard) fall under.
async fn sitemap_follows_its_schema(sitemap: &std::path::Path) {
    let Some(xsd) = std::env::var_os("FAIRGIG_TEST_SITEMAP_XSD") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "FAIRGIG_TEST_SITEMAP_XSD is unset; .ci/run sets it"
        );
        eprintln!("SKIP the sitemap's schema: FAIRGIG_TEST_SITEMAP_XSD unset");
        return;
    };
    let xhtml = "http://www.w3.org/1999/xhtml=xmlschema:XHTML/xhtml1-strict.xsd";
    follows_its_schema(sitemap, vec!["--schema".into(), xsd, "--namespace".into(), xhtml.into()])
        .await;
}

/// An Atom feed against RFC 4287's RELAX NG grammar (Appendix B, in
/// `tests/schemas/atom.rnc`) and the appendix's Schematron rules, which
/// RELAX NG leaves out: a feed without an author needs one in every entry,
/// and every entry an alternate link or content.
async fn feed_follows_its_schema(feed: &std::path::Path) {
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/atom.rnc");
    let rules = [
        "atom:feed/atom:author or not(atom:feed/atom:entry[not(atom:author)])",
        "not(//atom:entry[not(atom:link[@rel='alternate'] or atom:link[not(@rel)] \
         or atom:content)])",
    ];
    let mut arguments = vec!["--schema".into(), schema.into_os_string()];
    for rule in rules {
        arguments.extend(["--require".into(), rule.into()]);
    }
    follows_its_schema(feed, arguments).await;
}

#[tokio::test]
async fn the_static_export_links_up_and_round_trips_through_import() {
    let app = spawn_app().await;
    let admin = app.admin("export-admin@example.org").await;
    let (_, logo) = upload(&app, &admin.access, PNG).await;
    let logo = logo["url"].as_str().expect("url").to_owned();
    let create =
        |body: Value| send(&app, Method::POST, &admin, "/api/v1/content/pages", Some(body));
    let how = format!(
        "# How it works\n\nSee [pricing](/p/pricing#fees), [auf Deutsch](/de/p/preise), \
         [open jobs](/jobs) and [the faq](/p/faq).\n\n![logo]({logo})\n\n## Matching\n\nFair.\n"
    );
    let (status, _) = create(page("en", "how-it-works", "How it works", &how)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, pricing) = create(page("en", "pricing", "Pricing & plans", "## Fees\n\n5 %.\n")).await;
    let mut german = page("de", "preise", "Preise", "## Gebühren\n\n5 %.\n");
    german["translation_of"] = pricing["page"]["id"].clone();
    assert_eq!(create(german).await.0, StatusCode::CREATED);
    let mut czech = page("cs", "o-nas", "O nás", "Ahoj.\n");
    czech["tags"] = json!(["o-nas"]);
    assert_eq!(create(czech).await.0, StatusCode::CREATED);
    let mut draft = page("en", "secret", "Secret", "Not public.\n");
    draft["status"] = json!("draft");
    assert_eq!(create(draft).await.0, StatusCode::CREATED);

    let exported = tempfile::tempdir().expect("dir");
    let site = exported.path().join("site");
    let site_arg = site.to_str().expect("utf-8");
    let base = "https://fairgig.example";
    let output =
        crate::helpers::fairgig(&app, &["content", "export", site_arg, "--base-url", base]).await;
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("exported 4 pages in 3 locales (cs, de, en)"), "{said}");
    for file in [
        "index.html",
        "style.css",
        "sitemap.xml",
        "robots.txt",
        "llms.txt",
        "en/index.html",
        "en/how-it-works.html",
        "en/how-it-works.md",
        "en/tags/guide.html",
        "en/feed.xml",
        "de/preise.html",
        "cs/o-nas.html",
        "cs/tags/o-nas.html",
    ] {
        assert!(site.join(file).is_file(), "{file}");
    }
    assert!(!site.join("en/secret.html").exists(), "drafts are not exported");
    assert_eq!(broken_links(&site), Vec::<String>::new());
    let how_html = std::fs::read_to_string(site.join("en/how-it-works.html")).expect("page");
    assert!(how_html.contains(r#"href="pricing.html#fees""#), "{how_html}");
    assert!(how_html.contains(r#"href="../de/preise.html""#), "{how_html}");
    assert!(how_html.contains(r#"href="https://fairgig.example/jobs""#), "{how_html}");
    assert!(
        how_html.contains(r#"href="https://fairgig.example/p/faq""#),
        "no such page: {how_html}"
    );
    assert!(how_html.contains(&format!("src=\"..{logo}\"")), "{how_html}");
    assert!(site.join(logo.trim_start_matches('/')).is_file(), "the image is exported");

    // The sitemap: the protocol's namespace, absolute locations, a date,
    // and hreflang alternates for translated pages.
    let sitemap = std::fs::read_to_string(site.join("sitemap.xml")).expect("sitemap");
    let elements = xml_elements(&sitemap);
    assert_eq!(elements[0].0, "urlset");
    assert!(elements[0]
        .1
        .contains(&("xmlns".into(), "http://www.sitemaps.org/schemas/sitemap/0.9".into())));
    let locations = xml_texts(&sitemap, "loc");
    assert_eq!(locations.len(), 4, "{sitemap}");
    assert!(locations.iter().all(|l| l.starts_with("https://fairgig.example/")), "{locations:?}");
    assert!(xml_texts(&sitemap, "lastmod")
        .iter()
        .all(|d| d.len() == 10 && d.as_bytes()[4] == b'-'));
    let alternates: Vec<&Vec<(String, String)>> =
        elements.iter().filter(|(name, _)| name == "xhtml:link").map(|(_, a)| a).collect();
    assert_eq!(alternates.len(), 2 + 2 + 1 + 1, "pricing and preise each name both: {sitemap}");
    assert!(alternates.iter().any(|a| a.contains(&("hreflang".into(), "de".into()))
        && a.contains(&("href".into(), "https://fairgig.example/de/preise.html".into()))));
    sitemap_follows_its_schema(&site.join("sitemap.xml")).await;

    // The feed: Atom's namespace and required elements, an entry per page.
    let feed = std::fs::read_to_string(site.join("en/feed.xml")).expect("feed");
    let elements = xml_elements(&feed);
    assert_eq!(elements[0].0, "feed");
    assert!(elements[0].1.contains(&("xmlns".into(), "http://www.w3.org/2005/Atom".into())));
    let names: Vec<&str> = elements.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.iter().filter(|n| **n == "entry").count(), 2);
    assert_eq!(xml_texts(&feed, "id").len(), 3, "the feed's and each entry's");
    assert_eq!(xml_texts(&feed, "updated").len(), 3);
    assert!(xml_texts(&feed, "title").contains(&"Pricing &amp; plans".to_owned()), "{feed}");
    feed_follows_its_schema(&site.join("en/feed.xml")).await;
    feed_follows_its_schema(&site.join("cs/feed.xml")).await;
    let robots = std::fs::read_to_string(site.join("robots.txt")).expect("robots");
    assert!(robots.contains("Sitemap: https://fairgig.example/sitemap.xml"));
    let llms = std::fs::read_to_string(site.join("llms.txt")).expect("llms");
    assert!(llms.starts_with("# fairgig\n\n> "), "{llms}");
    assert!(
        llms.contains("- [Pricing & plans](en/pricing.md): Pricing & plans, in short."),
        "{llms}"
    );
    let again = crate::helpers::fairgig(&app, &["content", "export", site_arg]).await;
    assert!(!again.status.success(), "an export never writes over a folder");

    // Into a fresh deployment and out again: the same pages.
    let other = spawn_app().await;
    let output = crate::helpers::fairgig(&other, &["content", "import", site_arg]).await;
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("4 created, 0 updated (a new version), 0 unchanged"), "{said}");
    let (_, shown) = public(&other, "/api/v1/content/published/de/preise").await;
    assert_eq!(
        shown["translations"].as_array().map(Vec::len),
        Some(2),
        "still translations: {shown}"
    );
    let image = other.client.get(format!("{}{logo}", other.address)).send().await.expect("media");
    assert_eq!(image.status(), StatusCode::OK, "the image came along");
    let second = exported.path().join("second");
    let output = crate::helpers::fairgig(
        &other,
        &["content", "export", second.to_str().expect("utf-8"), "--base-url", base],
    )
    .await;
    assert!(output.status.success());
    assert_eq!(markdown_of(&site), markdown_of(&second));
    let output = crate::helpers::fairgig(&other, &["content", "import", site_arg]).await;
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("0 created, 0 updated (a new version), 4 unchanged"), "{said}");

    // A bad file stops the import before anything is written, named.
    let bad = exported.path().join("bad");
    std::fs::create_dir_all(bad.join("en")).expect("dir");
    std::fs::write(bad.join("en/fine.md"), "---\ntitle: Fine\nstatus: published\n---\nFine.\n")
        .expect("write");
    std::fs::write(bad.join("en/broken.md"), "---\ntitle: [oops\n---\nx\n").expect("write");
    let output =
        crate::helpers::fairgig(&other, &["content", "import", bad.to_str().expect("utf-8")]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.md"), "{output:?}");
    assert_eq!(public(&other, "/api/v1/content/published/en/fine").await.0, StatusCode::NOT_FOUND);
    // Two English pages as translations of one another clash before any
    // is written.
    std::fs::remove_file(bad.join("en/broken.md")).expect("remove");
    std::fs::write(
        bad.join("en/twin.md"),
        "---\ntitle: Twin\nstatus: published\ntranslation: fees\n---\nTwin.\n",
    )
    .expect("write");
    std::fs::write(
        bad.join("en/fine.md"),
        "---\ntitle: Fine\nstatus: published\ntranslation: fees\n---\nFine.\n",
    )
    .expect("write");
    let output =
        crate::helpers::fairgig(&other, &["content", "import", bad.to_str().expect("utf-8")]).await;
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && said.contains("translation key"), "{said}");
    assert_eq!(public(&other, "/api/v1/content/published/en/fine").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_are_found_by_meaning_as_well_as_by_words() {
    let app = spawn_with_model().await;
    let admin = app.admin("meaning-admin@example.org").await;
    for (slug, title, body) in [
        ("pricing", "Pricing and plans", "Our fee is five per cent of every job you pay for."),
        ("privacy", "Privacy", "We keep your personal data safe and never sell it."),
    ] {
        let (status, created) = send(
            &app,
            Method::POST,
            &admin,
            "/api/v1/content/pages",
            Some(page("en", slug, title, body)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    // No word of the query is on the page; its meaning is.
    let (status, found) = public(&app, "/api/v1/content/search?q=how+much+does+it+cost").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found[0]["page"]["slug"], "pricing", "{found}");
    assert_eq!((&found[0]["text_rank"], &found[0]["vector_rank"]), (&Value::Null, &json!(1)));
    // Words still rank: the page with the word comes first.
    let (_, by_word) = public(&app, "/api/v1/content/search?q=personal+data").await;
    assert_eq!(by_word[0]["page"]["slug"], "privacy", "{by_word}");
    assert_eq!(by_word[0]["text_rank"], 1);
}
