//! The content service: the platform's own pages (how it works, pricing,
//! the fairness policy, terms, help, a blog), written in Markdown by
//! admins and page editors, versioned on every save, one page per locale
//! in a translation group.
//!
//! Who sees what: the public sees a page while it is public
//! ([`fairgig_core::content::PageStatus::is_public`]: published, or scheduled and due); editors
//! see every page and its history. A page asked for in a locale it has no
//! translation in falls back to the default locale's, with a notice.
//! [`export`] writes the published pages as a static site, [`import`]
//! loads Markdown files with front matter, [`media`] keeps their images
//! and attachments.

pub mod export;
pub mod footer;
pub mod import;
pub mod media;

use fairgig_ai::bias::{CheckOptions, Report, TextKind};
use fairgig_content::render::{render, Heading};
use fairgig_core::{
    api_key::Scope,
    audit::{actions, Actor, NewAuditEntry},
    content::{check_locale, locale_name, PageContent, DEFAULT_LOCALE},
    ids::{PageId, TranslationGroupId, UserId},
    user::Role,
    ValidationError,
};
use fairgig_store::pages::{NewPage, Page, PageFilter, PageGroup, PageVersion};
use time::OffsetDateTime;

use crate::{
    caller::Caller,
    error::{Error, ErrorKind, Result},
    services::Engine,
};

/// Fails with 403 unless the caller may write pages: an admin, or a user
/// granted the page editor permission (a key needs the write scope).
pub async fn require_editor(engine: &Engine, caller: &Caller) -> Result<()> {
    caller.require(Scope::Write)?;
    if caller.user.role == Role::Admin || engine.store.is_page_editor(caller.user.id).await? {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Forbidden, "only admins and page editors write pages"))
    }
}

/// A page as saved: its content, where it stands, and its translations.
#[derive(Clone, Debug)]
pub struct PageView {
    pub page: Page,
    /// Every locale's page of its group (itself included): locale and slug.
    pub translations: Vec<(String, String)>,
}

async fn view(engine: &Engine, page: Page) -> Result<PageView> {
    let translations = engine
        .store
        .translations(page.group)
        .await?
        .into_iter()
        .map(|p| (p.locale, p.content.slug))
        .collect();
    Ok(PageView { page, translations })
}

/// A new page: `translation_of` makes it that page's translation.
#[derive(Clone, Debug)]
pub struct NewPageInput {
    pub locale: String,
    pub content: PageContent,
    pub translation_of: Option<PageId>,
    pub message: String,
}

fn check_message(message: &str) -> Result<String> {
    let message = message.trim();
    if message.chars().count() > 200 || message.chars().any(char::is_control) {
        return Err(ValidationError::new("message", "at most 200 characters, one line").into());
    }
    Ok(message.to_owned())
}

/// The audit entry of a page write by `actor` (a user, or the CLI's import).
pub(crate) fn audit_entry(actor: Actor, action: &'static str, page: &Page) -> NewAuditEntry {
    NewAuditEntry::new(actor, action).target(format!("page:{}", page.id)).details(
        serde_json::json!({
            "locale": page.locale,
            "slug": page.content.slug,
            "version": page.version,
            "status": page.content.status,
        }),
    )
}

/// Audits a page write by `caller`; every write passes here, so the
/// footer's cached links are cleared here too.
async fn audit(engine: &Engine, caller: &Caller, action: &'static str, page: &Page) -> Result<()> {
    engine.footer.clear();
    engine.store.append_audit(audit_entry(Actor::User(caller.user.id), action, page)).await?;
    Ok(())
}

pub async fn create(engine: &Engine, caller: &Caller, input: NewPageInput) -> Result<PageView> {
    require_editor(engine, caller).await?;
    check_locale(&input.locale)?;
    let content = input.content.validated()?;
    let group = match input.translation_of {
        Some(id) => {
            let original = engine.store.page(id).await.map_err(|_| {
                Error::with_field(ErrorKind::Invalid, "no such page to translate", "translation_of")
            })?;
            PageGroup::Join(original.group)
        }
        None => PageGroup::New(TranslationGroupId::new()),
    };
    let page = engine
        .store
        .create_page(&NewPage {
            group,
            locale: input.locale,
            content,
            author: Some(caller.user.id),
            message: check_message(&input.message)?,
        })
        .await
        .map_err(refused_write)?;
    audit(engine, caller, actions::PAGE_CREATED, &page).await?;
    view(engine, page).await
}

/// Saves a new version, if the page is still at `version` (the one the
/// editor started from); else 409 naming the version it is at.
pub async fn update(
    engine: &Engine,
    caller: &Caller,
    id: PageId,
    version: i64,
    content: PageContent,
    message: &str,
) -> Result<PageView> {
    require_editor(engine, caller).await?;
    let content = content.validated()?;
    let message = check_message(message)?;
    let page = engine
        .store
        .update_page(id, version, &content, (Some(caller.user.id), &message))
        .await
        .map_err(refused_write)?;
    audit(engine, caller, actions::PAGE_SAVED, &page).await?;
    view(engine, page).await
}

/// A page write the store refused, in the editor's words: the page's two
/// uniqueness rules named; the rest (a stale version, …) as usual.
fn refused_write(err: fairgig_store::StoreError) -> Error {
    match err {
        fairgig_store::StoreError::Conflict { field: "slug" } => Error::with_field(
            ErrorKind::Conflict,
            "another page in this locale has that slug",
            "slug",
        ),
        fairgig_store::StoreError::Conflict { field: "locale" } => Error::with_field(
            ErrorKind::Conflict,
            "that page already has a translation in this locale",
            "locale",
        ),
        other => other.into(),
    }
}

/// Saves version `number`'s content again as the newest version.
pub async fn restore(
    engine: &Engine,
    caller: &Caller,
    id: PageId,
    number: i64,
    version: i64,
) -> Result<PageView> {
    require_editor(engine, caller).await?;
    let old = engine.store.page_version(id, number).await?;
    let message = format!("restored version {number}");
    let page = engine
        .store
        .update_page(id, version, &old.content, (Some(caller.user.id), &message))
        .await
        .map_err(refused_write)?;
    audit(engine, caller, actions::PAGE_RESTORED, &page).await?;
    view(engine, page).await
}

/// A page for an editor, whatever its state.
pub async fn get(engine: &Engine, caller: &Caller, id: PageId) -> Result<PageView> {
    require_editor(engine, caller).await?;
    let page = engine.store.page(id).await?;
    view(engine, page).await
}

/// Pages by `filter`: every page for an editor (`caller`), the public
/// ones for everybody else (`None`; their status filter is ignored).
pub async fn list(
    engine: &Engine,
    caller: Option<&Caller>,
    mut filter: PageFilter,
) -> Result<Vec<Page>> {
    if let Some(locale) = &filter.locale {
        check_locale(locale)?;
    }
    let editor = match caller {
        Some(caller) => {
            require_editor(engine, caller).await?;
            true
        }
        None => false,
    };
    if !editor {
        filter.status = None;
    }
    let now = OffsetDateTime::now_utc();
    Ok(engine
        .store
        .pages(&filter)
        .await?
        .into_iter()
        .filter(|page| editor || page.content.status.is_public(page.content.publish_at, now))
        .collect())
}

pub async fn versions(engine: &Engine, caller: &Caller, id: PageId) -> Result<Vec<PageVersion>> {
    require_editor(engine, caller).await?;
    let versions = engine.store.page_versions(id).await?;
    if versions.is_empty() {
        return Err(Error::not_found());
    }
    Ok(versions)
}

pub async fn version(
    engine: &Engine,
    caller: &Caller,
    id: PageId,
    number: i64,
) -> Result<PageVersion> {
    require_editor(engine, caller).await?;
    Ok(engine.store.page_version(id, number).await?)
}

/// One line of a diff between two versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    /// `' '` kept, `'-'` only in the older, `'+'` only in the newer.
    pub change: char,
    pub text: String,
}

/// What changed from version `from` to version `to`: the title, the
/// summary, the tags and status when they differ, and the body line by
/// line (a unified diff's lines, with three lines of context).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageDiff {
    pub from: i64,
    pub to: i64,
    /// Fields other than the body that differ, by name.
    pub fields: Vec<&'static str>,
    pub body: Vec<DiffLine>,
    /// The body's changes as a unified diff (`---`/`+++`/`@@`).
    pub unified: String,
}

pub async fn diff(
    engine: &Engine,
    caller: &Caller,
    id: PageId,
    (from, to): (i64, i64),
) -> Result<PageDiff> {
    require_editor(engine, caller).await?;
    let older = engine.store.page_version(id, from).await?;
    let newer = engine.store.page_version(id, to).await?;
    Ok(diff_versions(&older, &newer))
}

fn diff_versions(older: &PageVersion, newer: &PageVersion) -> PageDiff {
    let (a, b) = (&older.content, &newer.content);
    let mut fields = Vec::new();
    for (name, differs) in [
        ("slug", a.slug != b.slug),
        ("title", a.title != b.title),
        ("summary", a.summary != b.summary),
        ("tags", a.tags != b.tags),
        ("status", a.status != b.status || a.publish_at != b.publish_at),
    ] {
        if differs {
            fields.push(name);
        }
    }
    let text = similar::TextDiff::from_lines(&a.body, &b.body);
    let body = text
        .iter_all_changes()
        .map(|change| DiffLine {
            change: match change.tag() {
                similar::ChangeTag::Equal => ' ',
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
            },
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect();
    let unified = text
        .unified_diff()
        .context_radius(3)
        .header(&format!("version {}", older.version), &format!("version {}", newer.version))
        .to_string();
    PageDiff { from: older.version, to: newer.version, fields, body, unified }
}

/// A public page, rendered.
#[derive(Clone, Debug)]
pub struct Published {
    pub page: Page,
    /// Sanitized HTML of the body.
    pub html: String,
    pub headings: Vec<Heading>,
    /// Set when the page is not in the locale asked for: that locale.
    pub fallback_from: Option<String>,
    /// The public translations: locale and slug (itself included).
    pub translations: Vec<(String, String)>,
}

impl Published {
    /// The notice shown above a fallback page, in the language asked for
    /// where there is one (the rest in English).
    pub fn notice(&self) -> Option<String> {
        let asked = self.fallback_from.as_deref()?;
        let shown = locale_name(&self.page.locale);
        Some(match asked {
            "de" => {
                format!("Diese Seite gibt es noch nicht auf Deutsch; hier ist sie auf {shown}.")
            }
            "fr" => format!("Cette page n’existe pas encore en français ; la voici en {shown}."),
            "es" => format!("Esta página aún no está en español; aquí está en {shown}."),
            "cs" => format!("Tato stránka zatím není v češtině; zde je v jazyce {shown}."),
            _ => format!(
                "This page is not yet available in {}; here it is in {shown}.",
                locale_name(asked)
            ),
        })
    }
}

/// The public page `slug` in `locale`; if that locale has none, the
/// default locale's translation of the page that has the slug elsewhere
/// (or the default locale's page of that slug), with a notice.
pub async fn published(engine: &Engine, locale: &str, slug: &str) -> Result<Published> {
    check_locale(locale)?;
    let now = OffsetDateTime::now_utc();
    let public = |page: &Page| page.content.status.is_public(page.content.publish_at, now);
    let exact = match engine.store.page_by_slug(locale, slug).await {
        Ok(page) if public(&page) => Some(page),
        Ok(_) | Err(fairgig_store::StoreError::NotFound) => None,
        Err(err) => return Err(err.into()),
    };
    let (page, fallback_from) = match exact {
        Some(page) => (page, None),
        None => {
            // The slug in any locale names the page; its group has the
            // translations. Prefer one in the asked locale, then the default.
            let mut found = None;
            for candidate in engine.store.pages_with_slug(slug).await? {
                let group = engine.store.translations(candidate.group).await?;
                let pick = group
                    .iter()
                    .find(|p| p.locale == locale && public(p))
                    .or_else(|| group.iter().find(|p| p.locale == DEFAULT_LOCALE && public(p)))
                    .cloned();
                if pick.is_some() {
                    found = pick;
                    break;
                }
            }
            let page = found.ok_or_else(Error::not_found)?;
            let from = (page.locale != locale).then(|| locale.to_owned());
            (page, from)
        }
    };
    let translations = engine
        .store
        .translations(page.group)
        .await?
        .into_iter()
        .filter(|p| public(p))
        .map(|p| (p.locale, p.content.slug))
        .collect();
    let rendered = render(&page.content.body);
    Ok(Published {
        html: rendered.html,
        headings: rendered.headings,
        page,
        fallback_from,
        translations,
    })
}

/// What the editor shows beside the text as it is typed: the page as it
/// will look, and the bias check's hints.
#[derive(Clone, Debug)]
pub struct Preview {
    pub html: String,
    pub headings: Vec<Heading>,
    pub hints: Report,
}

/// Renders a draft (a few at once per caller: it runs the bias check).
pub async fn preview(engine: &Engine, caller: &Caller, body: &str) -> Result<Preview> {
    require_editor(engine, caller).await?;
    if body.chars().count() > fairgig_core::content::MAX_BODY_CHARS {
        return Err(ValidationError::new("body", "too long to preview").into());
    }
    let Some(_slot) = engine.expensive.try_start(caller.user.id) else {
        return Err(Error::RateLimited { retry_after_secs: 1 });
    };
    let rendered = render(body);
    // Job-post rules: the fullest set (requirements by every protected
    // ground, age-coded words), which a careers or policy page needs too.
    let hints = engine.bias.check(body, TextKind::JobPost, &CheckOptions::default());
    Ok(Preview { html: rendered.html, headings: rendered.headings, hints })
}

/// Lets `user` write pages (admins only).
pub async fn grant_editor(engine: &Engine, caller: &Caller, user: UserId) -> Result<()> {
    caller.require_admin()?;
    engine.store.get_user(user).await?;
    engine.store.grant_page_editor(user).await?;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), actions::PAGE_EDITOR_GRANTED)
                .target(format!("user:{user}")),
        )
        .await?;
    Ok(())
}

/// Takes the permission back (admins only); 404 when there was none.
pub async fn revoke_editor(engine: &Engine, caller: &Caller, user: UserId) -> Result<()> {
    caller.require_admin()?;
    if !engine.store.revoke_page_editor(user).await? {
        return Err(Error::not_found());
    }
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), actions::PAGE_EDITOR_REVOKED)
                .target(format!("user:{user}")),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairgig_core::content::PageStatus;

    fn version(number: i64, title: &str, body: &str) -> PageVersion {
        PageVersion {
            page: PageId::new(),
            version: number,
            content: PageContent {
                slug: "pricing".into(),
                title: title.into(),
                summary: String::new(),
                body: body.into(),
                tags: vec![],
                status: PageStatus::Draft,
                publish_at: None,
            },
            author: None,
            message: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_diff_names_changed_fields_and_body_lines() {
        let older = version(1, "Pricing", "# Pricing\n\nFree.\n\nFair.\n");
        let newer = version(2, "Prices", "# Pricing\n\nFive euros.\n\nFair.\n");
        let diff = diff_versions(&older, &newer);
        assert_eq!(diff.fields, vec!["title"]);
        let changed: Vec<(char, &str)> =
            diff.body.iter().filter(|l| l.change != ' ').map(|l| (l.change, &*l.text)).collect();
        assert_eq!(changed, vec![('-', "Free."), ('+', "Five euros.")]);
        assert!(diff.unified.starts_with("--- version 1\n+++ version 2\n@@"), "{}", diff.unified);
    }
}
