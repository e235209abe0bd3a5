//! `fairgig content import DIR`: Markdown files with YAML front matter, the
//! way static-site users keep pages in git, loaded as pages. Every `.md`
//! file under `DIR` is one page:
//!
//! ```text
//! ---
//! title: Pricing            # required
//! slug: pricing             # default: the file's name
//! locale: en                # default: the folder's name if a locale, else en
//! summary: What it costs
//! tags: [fees, guide]
//! status: published         # default: draft
//! publish_at: 2027-01-01T09:00:00Z   # with status: scheduled
//! translation: pricing      # pages with the same key are translations
//! ---
//! The body, in Markdown.
//! ```
//!
//! A page whose locale and slug exist already gets a new version when its
//! content differs (nothing when it is the same: importing twice changes
//! nothing); otherwise it is created. A `translation` key that is a
//! translation group's id (as `export` writes) joins or recreates that
//! group. The files of `DIR/media/` (an export's images and attachments)
//! are stored as they are named. Every file is checked before anything is
//! written (its front matter, its fields, and clashes among the files: two
//! pages of one locale and slug, or of one locale and translation key), and
//! a bad one is named with its reason. A clash only the database sees (a
//! translation key naming an existing group that has the locale under
//! another slug) stops the import at that file, the files before it loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use fairgig_core::{
    audit::{actions, Actor},
    content::{check_locale, PageContent, PageStatus, DEFAULT_LOCALE, LOCALES},
    ids::TranslationGroupId,
};
use fairgig_store::pages::{NewPage, PageGroup};
use serde::Deserialize;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::services::Engine;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] fairgig_store::StoreError),
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    slug: Option<String>,
    locale: Option<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    tags: Vec<String>,
    status: Option<String>,
    publish_at: Option<String>,
    translation: Option<String>,
    /// Written by `export`; the store keeps its own times.
    #[allow(dead_code)]
    updated: Option<String>,
}

/// One file, checked.
#[derive(Debug)]
struct Parsed {
    path: PathBuf,
    locale: String,
    content: PageContent,
    translation: Option<String>,
}

/// Splits `---\n…\n---\n` front matter from the body.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn parse(path: &Path, text: &str) -> Result<Parsed, ImportError> {
    let invalid = |message: String| ImportError::Invalid { path: path.to_path_buf(), message };
    let (front, body) = split_front_matter(text)
        .ok_or_else(|| invalid("no front matter (a `---` line, YAML, a `---` line)".into()))?;
    let meta: FrontMatter =
        serde_saphyr::from_str(front).map_err(|err| invalid(format!("front matter: {err}")))?;
    let folder = path.parent().and_then(Path::file_name).and_then(|name| name.to_str());
    let locale = meta
        .locale
        .or_else(|| folder.filter(|name| LOCALES.contains(name)).map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_LOCALE.to_owned());
    check_locale(&locale).map_err(|err| invalid(format!("{}: {}", err.field, err.message)))?;
    let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
    let status: PageStatus = match meta.status.as_deref() {
        Some(status) => status.parse().map_err(|err: fairgig_core::ValidationError| {
            invalid(format!("{}: {}", err.field, err.message))
        })?,
        None => PageStatus::Draft,
    };
    let publish_at = meta
        .publish_at
        .map(|at| {
            OffsetDateTime::parse(&at, &Rfc3339)
                .map_err(|_| invalid(format!("publish_at: {at:?} is not an RFC 3339 time")))
        })
        .transpose()?;
    let content = PageContent {
        slug: meta.slug.unwrap_or_else(|| stem.to_owned()),
        title: meta.title,
        summary: meta.summary,
        body: body.to_owned(),
        tags: meta.tags,
        status,
        publish_at,
    }
    .validated()
    .map_err(|err| invalid(format!("{}: {}", err.field, err.message)))?;
    Ok(Parsed { path: path.to_path_buf(), locale, content, translation: meta.translation })
}

/// Every `.md` file under `dir`, in path order (so a run is repeatable).
fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|source| ImportError::Io { path: folder.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| ImportError::Io { path: folder.clone(), source })?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|source| ImportError::Io { path: path.clone(), source })?;
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The files of `dir/media/` (an export's images and attachments), each
/// checked to be named by its content as `export` names it.
fn media_files(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, ImportError> {
    let folder = dir.join("media");
    let Ok(entries) = std::fs::read_dir(&folder) else { return Ok(Vec::new()) };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ImportError::Io { path: folder.clone(), source })?;
        let path = entry.path();
        let bytes = std::fs::read(&path)
            .map_err(|source| ImportError::Io { path: path.clone(), source })?;
        let named = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        match super::media::name_of(&bytes) {
            Some((name, _)) if name == named => files.push((path, bytes)),
            _ => {
                return Err(ImportError::Invalid {
                    path,
                    message: "not a page's file named by its content (as export names them)".into(),
                })
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Loads every page under `dir` (see the module's documentation).
pub async fn import(engine: &Engine, dir: &Path) -> Result<Imported, ImportError> {
    let mut parsed = Vec::new();
    for path in markdown_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ImportError::Io { path: path.clone(), source })?;
        parsed.push(parse(&path, &text)?);
    }
    let media = media_files(dir)?;
    let mut slugs: HashMap<(String, String), &Path> = HashMap::new();
    let mut translations: HashMap<(String, String), &Path> = HashMap::new();
    for page in &parsed {
        let clash = |first: &Path, what: &str| ImportError::Invalid {
            path: page.path.clone(),
            message: format!("the same locale and {what} as {}", first.display()),
        };
        if let Some(first) =
            slugs.insert((page.locale.clone(), page.content.slug.clone()), &page.path)
        {
            return Err(clash(first, "slug"));
        }
        if let Some(key) = &page.translation {
            if let Some(first) = translations.insert((page.locale.clone(), key.clone()), &page.path)
            {
                return Err(clash(first, "translation key"));
            }
        }
    }
    for (path, bytes) in media {
        super::media::store(engine, bytes.into())
            .await
            .map_err(|err| ImportError::Invalid { path, message: err.to_string() })?;
    }
    let mut groups: HashMap<String, TranslationGroupId> = HashMap::new();
    let mut report = Imported::default();
    for page in parsed {
        let message = format!("imported from {}", page.path.display());
        match engine.store.page_by_slug(&page.locale, &page.content.slug).await {
            Ok(existing) => {
                if let Some(key) = &page.translation {
                    groups.entry(key.clone()).or_insert(existing.group);
                }
                if existing.content == page.content {
                    report.unchanged += 1;
                    continue;
                }
                let saved = engine
                    .store
                    .update_page(existing.id, existing.version, &page.content, (None, &message))
                    .await?;
                audit(engine, actions::PAGE_SAVED, &saved).await?;
                report.updated += 1;
            }
            Err(fairgig_store::StoreError::NotFound) => {
                let group = group_for(engine, &mut groups, page.translation.as_deref()).await?;
                let created = engine
                    .store
                    .create_page(&NewPage {
                        group,
                        locale: page.locale.clone(),
                        content: page.content,
                        author: None,
                        message,
                    })
                    .await
                    .map_err(|err| match err {
                        fairgig_store::StoreError::Conflict { field } => ImportError::Invalid {
                            path: page.path.clone(),
                            message: format!("{field} clashes with a page already there"),
                        },
                        other => other.into(),
                    })?;
                if let Some(key) = page.translation {
                    groups.entry(key).or_insert(created.group);
                }
                audit(engine, actions::PAGE_CREATED, &created).await?;
                report.created += 1;
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(report)
}

/// The group a new page with translation key `key` goes into: the one an
/// earlier page of this import (or the database) has for it; a new one
/// otherwise, with the key's id when the key is one.
async fn group_for(
    engine: &Engine,
    groups: &mut HashMap<String, TranslationGroupId>,
    key: Option<&str>,
) -> Result<PageGroup, ImportError> {
    let Some(key) = key else { return Ok(PageGroup::New(TranslationGroupId::new())) };
    if let Some(group) = groups.get(key) {
        return Ok(PageGroup::Join(*group));
    }
    if let Ok(id) = uuid::Uuid::parse_str(key) {
        let group = TranslationGroupId::from_uuid(id);
        let known = !engine.store.translations(group).await?.is_empty();
        return Ok(if known { PageGroup::Join(group) } else { PageGroup::New(group) });
    }
    Ok(PageGroup::New(TranslationGroupId::new()))
}

async fn audit(
    engine: &Engine,
    action: &'static str,
    page: &fairgig_store::pages::Page,
) -> Result<(), ImportError> {
    engine.footer.clear();
    engine.store.append_audit(super::audit_entry(Actor::Cli, action, page)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_read_with_defaults_from_the_path() {
        let text = "---\ntitle: \"Preise: was es kostet\"\ntags: [Gebuehren]\nstatus: published\n---\n# Preise\n";
        let page = parse(Path::new("site/de/preise.md"), text).expect("valid");
        assert_eq!((page.locale.as_str(), page.content.slug.as_str()), ("de", "preise"));
        assert_eq!(page.content.title, "Preise: was es kostet");
        assert_eq!(page.content.body, "# Preise\n");
        assert_eq!(page.content.status, PageStatus::Published);
        let page = parse(Path::new("notes/about.md"), "---\ntitle: About\n---\nHi").expect("valid");
        assert_eq!((page.locale.as_str(), page.content.status), ("en", PageStatus::Draft));
    }

    #[test]
    fn a_bad_file_is_named_with_its_reason() {
        let reason = |name: &str, text: &str| match parse(Path::new(name), text) {
            Err(ImportError::Invalid { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert!(reason("a.md", "# no front matter").contains("no front matter"));
        assert!(reason("a.md", "---\ntitle: A\n").contains("no front matter"), "unclosed");
        assert!(reason("a.md", "---\ntitle: [unclosed\n---\nx").contains("front matter"));
        assert!(reason("a.md", "---\nslug: a\n---\nx").contains("front matter"), "no title");
        assert!(reason("a.md", "---\ntitle: A\nauthor: me\n---\nx").contains("front matter"));
        assert!(reason("A B.md", "---\ntitle: A\n---\nx").starts_with("slug"));
        assert!(reason("a.md", "---\ntitle: A\nlocale: xx\n---\nx").starts_with("locale"));
        assert!(reason("a.md", "---\ntitle: A\nstatus: live\n---\nx").starts_with("status"));
        assert!(
            reason("a.md", "---\ntitle: A\nstatus: scheduled\n---\nx").starts_with("publish_at")
        );
        assert!(reason("a.md", "---\ntitle: A\npublish_at: soon\n---\nx").starts_with("publish_at"));
        assert!(reason("a.md", "---\ntitle: A\n---\n").starts_with("body"));
    }
}
