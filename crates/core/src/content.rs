//! The content service's pages: their states, locales and what a save
//! must hold. Pure rules; the engine applies them, the store keeps them.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{submission::string_enum, validation::check_text, ValidationError};

/// A page's life. `scheduled` pages are public from their `publish_at`
/// on (no job has to flip them: [`PageStatus::is_public`] reads the
/// clock); `archived` pages are kept with their history and shown to no
/// one but editors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    Draft,
    Scheduled,
    Published,
    Archived,
}

string_enum!(PageStatus, "status", [
    Draft => "draft", Scheduled => "scheduled", Published => "published", Archived => "archived",
]);

impl PageStatus {
    /// Whether a page in this state is shown to the public at `now`.
    pub fn is_public(self, publish_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
        match self {
            Self::Published => true,
            Self::Scheduled => publish_at.is_some_and(|at| at <= now),
            Self::Draft | Self::Archived => false,
        }
    }
}

/// The locales pages may be written in: the seeds' five languages.
pub const LOCALES: [&str; 5] = ["en", "de", "fr", "es", "cs"];

/// The locale a missing translation falls back to.
pub const DEFAULT_LOCALE: &str = "en";

/// A locale's name in its own language, for the page's notice and links.
pub fn locale_name(locale: &str) -> &'static str {
    match locale {
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "cs" => "Čeština",
        _ => "",
    }
}

pub fn check_locale(locale: &str) -> Result<(), ValidationError> {
    if LOCALES.contains(&locale) {
        Ok(())
    } else {
        Err(ValidationError::new("locale", format!("must be one of {}", LOCALES.join(", "))))
    }
}

/// Most characters of a page's Markdown (about 60 printed pages).
pub const MAX_BODY_CHARS: usize = 200_000;
/// Most tags of a page.
pub const MAX_TAGS: usize = 10;

/// What one save of a page holds: every version keeps all of it.
#[derive(Clone, Debug, PartialEq)]
pub struct PageContent {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub tags: Vec<String>,
    pub status: PageStatus,
    /// When a `scheduled` page becomes public; `None` otherwise.
    pub publish_at: Option<OffsetDateTime>,
}

impl PageContent {
    /// Checks every field and returns the content as stored: tags lower
    /// case, unique, in the order given.
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        check_slug("slug", &self.slug)?;
        check_text("title", &self.title, 1, 200)?;
        check_text("summary", &self.summary, 0, 500)?;
        let body_chars = self.body.chars().count();
        if body_chars == 0 {
            return Err(ValidationError::new("body", "must not be empty"));
        }
        if body_chars > MAX_BODY_CHARS {
            return Err(ValidationError::new(
                "body",
                format!("must be at most {MAX_BODY_CHARS} characters"),
            ));
        }
        if self.body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(ValidationError::new("body", "must not contain control characters"));
        }
        let mut tags: Vec<String> = Vec::new();
        for tag in &self.tags {
            let tag = tag.trim().to_lowercase();
            check_slug("tags", &tag)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(ValidationError::new("tags", format!("at most {MAX_TAGS}")));
        }
        self.tags = tags;
        match (self.status, self.publish_at) {
            (PageStatus::Scheduled, None) => {
                return Err(ValidationError::new("publish_at", "a scheduled page needs one"))
            }
            (PageStatus::Scheduled, Some(_)) => {}
            (_, Some(_)) => {
                return Err(ValidationError::new("publish_at", "only a scheduled page has one"))
            }
            (_, None) => {}
        }
        Ok(self)
    }
}

/// Slugs and tags: 1–80 of `a–z`, `0–9` and inner single hyphens, so they
/// are safe as URL segments and file names in the static export.
fn check_slug(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let valid = (1..=80).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "1–80 lower-case letters, digits and single hyphens inside (like `fair-matching`)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> PageContent {
        PageContent {
            slug: "how-it-works".into(),
            title: "How fairgig works".into(),
            summary: "".into(),
            body: "# Hello\n\nText.".into(),
            tags: vec!["Guide".into(), "guide".into(), " help ".into()],
            status: PageStatus::Draft,
            publish_at: None,
        }
    }

    #[test]
    fn content_is_checked_and_tags_are_normalised() {
        let valid = content().validated().expect("valid");
        assert_eq!(valid.tags, vec!["guide", "help"]);
        let field = |c: PageContent| c.validated().err().map(|e| e.field);
        for slug in ["", "Has-Caps", "-lead", "trail-", "two--hyphens", "sp ace", "ü", "../x"] {
            assert_eq!(
                field(PageContent { slug: slug.into(), ..content() }),
                Some("slug"),
                "{slug}"
            );
        }
        assert_eq!(field(PageContent { title: "".into(), ..content() }), Some("title"));
        assert_eq!(field(PageContent { body: "".into(), ..content() }), Some("body"));
        assert_eq!(field(PageContent { body: "a\u{0}b".into(), ..content() }), Some("body"));
        assert_eq!(field(PageContent { tags: vec!["a b".into()], ..content() }), Some("tags"));
        let many = (0..11).map(|i| format!("t{i}")).collect();
        assert_eq!(field(PageContent { tags: many, ..content() }), Some("tags"));
        let scheduled = PageContent { status: PageStatus::Scheduled, ..content() };
        assert_eq!(field(scheduled.clone()), Some("publish_at"));
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(field(PageContent { publish_at: Some(at), ..content() }), Some("publish_at"));
        assert!(PageContent { publish_at: Some(at), ..scheduled }.validated().is_ok());
        assert!(check_locale("cs").is_ok() && check_locale("xx").is_err());
    }

    #[test]
    fn a_scheduled_page_is_public_from_its_time_on() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        let scheduled = PageStatus::Scheduled;
        assert!(!scheduled.is_public(Some(now + time::Duration::seconds(1)), now));
        assert!(scheduled.is_public(Some(now), now));
        assert!(!scheduled.is_public(None, now));
        assert!(PageStatus::Published.is_public(None, now));
        assert!(
            !PageStatus::Draft.is_public(None, now) && !PageStatus::Archived.is_public(None, now)
        );
    }
}
