//! Landing-page prototypes: a request that describes a site or an app gets
//! a static, responsive page (HTML and CSS, no scripts) built from a vetted
//! template (`templates/prototype.html`) and its brief's words, stored in
//! object storage and served at `/prototypes/<token>` — the token, 256 random bits,
//! is the only key — under a content security policy that allows nothing
//! but the page's own inline styles. Each client may have
//! `prototypes.per_client_per_day` made in 24 hours.

use bytes::Bytes;
use fairgig_ai::prototype::PageContent;
use fairgig_core::ids::{SubmissionId, UserId};
use fairgig_store::{objects::ObjectStorage, prototypes::Recorded, Store, StoreError};
use time::{Duration, OffsetDateTime};

use crate::{Engine, Error, Result};

/// The page's own policy: its inline styles and nothing else (no scripts,
/// no requests out, no forms, not framed).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox";

const TEMPLATE: &str = include_str!("../templates/prototype.html");

/// The window the quota counts in.
pub const QUOTA_WINDOW: Duration = Duration::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum PrototypeError {
    #[error("rendering the prototype: {0}")]
    Render(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storing the prototype: {0}")]
    Storage(String),
}

/// What making a prototype came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Made {
    /// At this path, made now or by an earlier attempt of the same step.
    Page { path: String, created_at: OffsetDateTime },
    /// The client's daily quota is used up.
    QuotaReached { limit: u32, next_at: OffsetDateTime },
}

/// The page for `content`: every value escaped by the template engine.
pub fn render(content: &PageContent) -> std::result::Result<String, PrototypeError> {
    let mut environment = minijinja::Environment::new();
    // The name's `.html` turns on escaping of every value.
    environment
        .add_template("prototype.html", TEMPLATE)
        .map_err(|err| PrototypeError::Render(err.to_string()))?;
    let html = environment
        .get_template("prototype.html")
        .and_then(|template| {
            template.render(minijinja::value::Serde(serde_json::json!({ "page": content })))
        })
        .map_err(|err| PrototypeError::Render(err.to_string()))?;
    // The template has no script; escaping keeps the request's words from
    // adding one. Checked all the same, as the last thing before storing.
    if html.to_ascii_lowercase().contains("<script") {
        return Err(PrototypeError::Render("the page would contain a script".into()));
    }
    Ok(html)
}

/// Makes `submission`'s prototype unless it has one or `owner` is over
/// the quota; the row is recorded first, so a retry after a failed upload
/// writes the same object again.
pub async fn make(
    store: &Store,
    storage: &ObjectStorage,
    (submission, owner): (SubmissionId, UserId),
    content: &PageContent,
    per_day: u32,
) -> std::result::Result<Made, PrototypeError> {
    let html = render(content)?;
    let token = new_token();
    let key = format!("prototypes/{token}.html");
    let recorded =
        store.record_prototype(submission, owner, (&token, &key), (per_day, QUOTA_WINDOW)).await?;
    let prototype = match recorded {
        Recorded::Created(prototype) | Recorded::Existing(prototype) => prototype,
        Recorded::QuotaReached { limit, next_at } => {
            return Ok(Made::QuotaReached { limit, next_at })
        }
    };
    storage
        .put(&prototype.object_key, Bytes::from(html))
        .await
        .map_err(|err| PrototypeError::Storage(err.to_string()))?;
    Ok(Made::Page {
        path: format!("/prototypes/{}", prototype.token),
        created_at: prototype.created_at,
    })
}

/// The HTML a share token serves; anything but a token we issued is
/// "not found".
pub async fn open(engine: &Engine, token: &str) -> Result<Bytes> {
    let well_formed = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(Error::not_found());
    }
    let prototype = engine.store.prototype(token).await?;
    engine
        .storage
        .get(&prototype.object_key)
        .await
        .map_err(|err| Error::internal(err, "reading a prototype"))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairgig_ai::prototype::Section;

    #[test]
    fn the_requests_words_are_escaped_and_no_script_gets_in() {
        let content = PageContent {
            headline: "<script>alert(1)</script> Bakery".into(),
            lead: "Fresh bread & \"cakes\" <img src=x onerror=alert(1)>".into(),
            sections: vec![Section { title: "01".into(), text: "</p><script>x()</script>".into() }],
            highlights: vec!["sourdough".into()],
            call_to_action: "Get in touch".into(),
        };
        let html = render(&content).expect("renders");
        assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Bakery"), "{html}");
        assert!(html.contains("sourdough"));
        assert!(html.contains("@media"), "responsive");
    }
}
