//! `fairgig content export DIR`: the published pages as a static site that
//! works from any folder or CDN (every link between its files is
//! relative): per locale an index, the pages, their Markdown, an index per
//! tag and an Atom feed; the images and files pages link (`media/`); at
//! the top `sitemap.xml` with `hreflang`
//! alternates, `robots.txt` and `llms.txt` (the pages in Markdown, for
//! language models). Sitemaps and feeds need absolute URLs: those use the
//! base URL (the server's `public_url` unless given).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fairgig_content::render::render_linked;
use fairgig_core::content::{locale_name, DEFAULT_LOCALE, LOCALES};
use fairgig_store::pages::{Page, PageFilter};
use serde::Serialize;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::services::Engine;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0} exists and is not empty: export into a new or empty folder")]
    NotEmpty(PathBuf),
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the base URL {0:?} is not an absolute http(s) URL")]
    BaseUrl(String),
    #[error("rendering the site: {0}")]
    Template(String),
    #[error("a page's file {name}: {message}")]
    Media { name: String, message: String },
    #[error(transparent)]
    Store(#[from] fairgig_store::StoreError),
}

/// What an export wrote.
#[derive(Debug, PartialEq, Eq)]
pub struct Exported {
    pub pages: usize,
    pub locales: Vec<String>,
    pub files: usize,
}

const STYLE: &str = "body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#1d1d1f}\
header a{margin-right:.8rem}a{color:#0b5cad}.tag{background:#eef2f7;border-radius:.3rem;padding:.1rem .4rem;margin-right:.3rem}\
.meta,.summary{color:#555}pre{overflow:auto;background:#f6f8fa;padding:.6rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}\n";

#[derive(Serialize)]
struct Alternate {
    locale: String,
    slug: String,
    name: &'static str,
}

#[derive(Serialize)]
struct Listed {
    slug: String,
    title: String,
    summary: String,
}

/// Every public page, by locale, in slug order.
async fn public_pages(engine: &Engine) -> Result<BTreeMap<String, Vec<Page>>, ExportError> {
    let now = OffsetDateTime::now_utc();
    let mut by_locale: BTreeMap<String, Vec<Page>> = BTreeMap::new();
    for page in engine.store.pages(&PageFilter::default()).await? {
        if page.content.status.is_public(page.content.publish_at, now) {
            by_locale.entry(page.locale.clone()).or_default().push(page);
        }
    }
    for pages in by_locale.values_mut() {
        pages.sort_by(|a, b| a.content.slug.cmp(&b.content.slug));
    }
    Ok(by_locale)
}

/// Where a link of a page in `locale` points in the exported site: pages
/// (`/p/slug`, `/xx/p/slug`, with a fragment) to their file, relative;
/// other paths of the platform to the base URL; anything else unchanged.
fn site_link(
    destination: &str,
    locale: &str,
    slugs: &BTreeSet<(String, String)>,
    base: &str,
) -> Option<String> {
    let path = destination.strip_prefix('/')?;
    if path.starts_with('/') {
        return None; // protocol-relative: another site
    }
    let (path, fragment) = match path.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (path, String::new()),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let target = match segments.as_slice() {
        ["media", name] if super::media::content_type_of(name).is_some() => {
            Some(format!("../media/{name}"))
        }
        ["p", slug] => {
            let here = (locale.to_owned(), (*slug).to_owned());
            if slugs.contains(&here) {
                Some(format!("{slug}.html"))
            } else {
                slugs
                    .iter()
                    .find(|(_, known)| known == slug)
                    .map(|(other, _)| format!("../{other}/{slug}.html"))
            }
        }
        [other, "p", slug] if slugs.contains(&((*other).to_owned(), (*slug).to_owned())) => {
            Some(if *other == locale {
                format!("{slug}.html")
            } else {
                format!("../{other}/{slug}.html")
            })
        }
        _ => None,
    };
    Some(match target {
        Some(file) => format!("{file}{fragment}"),
        None => format!("{base}/{path}{fragment}"),
    })
}

/// A string as a YAML scalar: JSON's double-quoted form is valid YAML.
fn yaml(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The page's Markdown with front matter, as `fairgig content import` reads it.
pub fn markdown_file(page: &Page) -> String {
    let c = &page.content;
    let tags: Vec<String> = c.tags.iter().map(|tag| yaml(tag)).collect();
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", yaml(&c.title)));
    out.push_str(&format!("slug: {}\n", yaml(&c.slug)));
    out.push_str(&format!("locale: {}\n", yaml(&page.locale)));
    if !c.summary.is_empty() {
        out.push_str(&format!("summary: {}\n", yaml(&c.summary)));
    }
    out.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    out.push_str(&format!("status: {}\n", yaml(c.status.as_str())));
    if let Some(at) = c.publish_at.and_then(|at| at.format(&Rfc3339).ok()) {
        out.push_str(&format!("publish_at: {}\n", yaml(&at)));
    }
    out.push_str(&format!("translation: {}\n", yaml(&page.group.as_uuid().to_string())));
    if let Ok(updated) = page.updated_at.format(&Rfc3339) {
        out.push_str(&format!("updated: {}\n", yaml(&updated)));
    }
    out.push_str("---\n");
    out.push_str(&c.body);
    if !c.body.ends_with('\n') {
        out.push('\n');
    }
    out
}

struct Site<'a> {
    dir: &'a Path,
    files: usize,
    templates: minijinja::Environment<'static>,
}

impl Site<'_> {
    fn write(&mut self, relative: &str, contents: &str) -> Result<(), ExportError> {
        self.write_bytes(relative, contents.as_bytes())
    }

    fn write_bytes(&mut self, relative: &str, contents: &[u8]) -> Result<(), ExportError> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| ExportError::Io { path: parent.to_path_buf(), source })?;
        }
        std::fs::write(&path, contents).map_err(|source| ExportError::Io { path, source })?;
        self.files += 1;
        Ok(())
    }

    fn render(&self, template: &str, context: serde_json::Value) -> Result<String, ExportError> {
        self.templates
            .get_template(template)
            .and_then(|t| t.render(minijinja::value::Serde(context)))
            .map_err(|err| ExportError::Template(err.to_string()))
    }
}

fn templates() -> Result<minijinja::Environment<'static>, ExportError> {
    let mut environment = minijinja::Environment::new();
    // `.html` names turn on escaping of every value but `root` and `up`:
    // this module's own `../` prefixes, left unescaped so links read
    // plainly (`&#x2f;` would do the same in a browser).
    for (name, source) in [
        ("base.html", include_str!("../../templates/site/base.html")),
        ("page.html", include_str!("../../templates/site/page.html")),
        ("list.html", include_str!("../../templates/site/list.html")),
    ] {
        environment
            .add_template(name, source)
            .map_err(|err| ExportError::Template(err.to_string()))?;
    }
    Ok(environment)
}

fn date(at: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day())
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes the site into `dir` (created; refused unless new or empty).
pub async fn export(engine: &Engine, dir: &Path, base_url: &str) -> Result<Exported, ExportError> {
    let base = base_url.trim_end_matches('/').to_owned();
    if !(base.starts_with("https://") || base.starts_with("http://"))
        || base.contains(char::is_whitespace)
    {
        return Err(ExportError::BaseUrl(base_url.to_owned()));
    }
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(ExportError::NotEmpty(dir.to_path_buf()));
        }
    }
    let by_locale = public_pages(engine).await?;
    let slugs: BTreeSet<(String, String)> = by_locale
        .iter()
        .flat_map(|(locale, pages)| {
            pages.iter().map(move |p| (locale.clone(), p.content.slug.clone()))
        })
        .collect();
    // Each group's public translations, for alternates.
    let mut groups: BTreeMap<uuid::Uuid, Vec<(String, String)>> = BTreeMap::new();
    for (locale, pages) in &by_locale {
        for page in pages {
            groups
                .entry(page.group.as_uuid())
                .or_default()
                .push((locale.clone(), page.content.slug.clone()));
        }
    }
    let alternates_of = |page: &Page| -> Vec<Alternate> {
        groups
            .get(&page.group.as_uuid())
            .map(|list| {
                list.iter()
                    .map(|(locale, slug)| Alternate {
                        locale: locale.clone(),
                        slug: slug.clone(),
                        name: locale_name(locale),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let locales: Vec<serde_json::Value> = LOCALES
        .iter()
        .filter(|locale| by_locale.contains_key(**locale))
        .map(|locale| serde_json::json!({"locale": locale, "name": locale_name(locale)}))
        .collect();

    let mut site = Site { dir, files: 0, templates: templates()? };
    site.write("style.css", STYLE)?;
    let mut sitemap = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let mut llms = String::from(
        "# fairgig\n\n> The pages of this fairgig platform: how it works, its policies and help, in Markdown.\n",
    );
    let mut pages_written = 0;
    let mut media: BTreeSet<String> = BTreeSet::new();
    for (locale, pages) in &by_locale {
        let locale_name = locale_name(locale);
        llms.push_str(&format!("\n## {locale_name}\n\n"));
        let mut tags: BTreeMap<String, Vec<&Page>> = BTreeMap::new();
        for page in pages {
            let c = &page.content;
            let rendered =
                render_linked(&c.body, |destination| site_link(destination, locale, &slugs, &base));
            let alternates = alternates_of(page);
            let contents: Vec<serde_json::Value> = rendered
                .headings
                .iter()
                .filter(|h| h.level == 2)
                .map(|h| serde_json::json!({"anchor": h.anchor, "text": h.text}))
                .collect();
            let html = site.render(
                "page.html",
                serde_json::json!({
                    "locale": locale, "locale_name": locale_name, "root": "../",
                    "title": c.title, "summary": c.summary, "slug": c.slug,
                    "html": rendered.html, "contents": contents, "tags": c.tags,
                    "updated": date(page.updated_at), "alternates": &alternates, "locales": locales,
                }),
            )?;
            site.write(&format!("{locale}/{}.html", c.slug), &html)?;
            site.write(&format!("{locale}/{}.md", c.slug), &markdown_file(page))?;
            media.extend(super::media::linked(&c.body));
            for tag in &c.tags {
                tags.entry(tag.clone()).or_default().push(page);
            }
            let url = format!("{base}/{locale}/{}.html", c.slug);
            sitemap.push_str(&format!(
                "  <url>\n    <loc>{}</loc>\n    <lastmod>{}</lastmod>\n",
                xml(&url),
                date(page.updated_at)
            ));
            for alternate in &alternates {
                sitemap.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>\n",
                    alternate.locale,
                    xml(&format!("{base}/{}/{}.html", alternate.locale, alternate.slug))
                ));
            }
            sitemap.push_str("  </url>\n");
            let summary =
                if c.summary.is_empty() { String::new() } else { format!(": {}", c.summary) };
            llms.push_str(&format!(
                "- [{}]({locale}/{}.md){summary}\n",
                c.title.replace(']', "\\]"),
                c.slug
            ));
            pages_written += 1;
        }
        let listed = |pages: &[&Page]| -> Vec<Listed> {
            pages
                .iter()
                .map(|p| Listed {
                    slug: p.content.slug.clone(),
                    title: p.content.title.clone(),
                    summary: p.content.summary.clone(),
                })
                .collect()
        };
        let all: Vec<&Page> = pages.iter().collect();
        let tag_names: Vec<&String> = tags.keys().collect();
        let index = site.render(
            "list.html",
            serde_json::json!({
                "locale": locale, "locale_name": locale_name, "root": "../", "up": "", "feed": "feed.xml",
                "title": locale_name, "summary": "", "pages": listed(&all), "tags": tag_names,
                "alternates": [], "locales": locales,
            }),
        )?;
        site.write(&format!("{locale}/index.html"), &index)?;
        for (tag, tagged) in &tags {
            let page = site.render(
                "list.html",
                serde_json::json!({
                    "locale": locale, "locale_name": locale_name, "root": "../../", "up": "../", "feed": "../feed.xml",
                    "title": format!("#{tag}"), "summary": "", "pages": listed(tagged), "tags": [],
                    "alternates": [], "locales": locales,
                }),
            )?;
            site.write(&format!("{locale}/tags/{tag}.html"), &page)?;
        }
        site.write(&format!("{locale}/feed.xml"), &feed(locale, pages, &base))?;
    }
    for name in &media {
        let (bytes, _) = super::media::open(engine, name)
            .await
            .map_err(|err| ExportError::Media { name: name.clone(), message: err.to_string() })?;
        site.write_bytes(&format!("media/{name}"), &bytes)?;
    }
    sitemap.push_str("</urlset>\n");
    site.write("sitemap.xml", &sitemap)?;
    site.write("robots.txt", &format!("User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\n"))?;
    site.write("llms.txt", &llms)?;
    let root_locale = if by_locale.contains_key(DEFAULT_LOCALE) {
        DEFAULT_LOCALE.to_owned()
    } else {
        by_locale.keys().next().cloned().unwrap_or_else(|| DEFAULT_LOCALE.to_owned())
    };
    let entry: Vec<Listed> = by_locale
        .keys()
        .map(|locale| Listed {
            slug: format!("{locale}/index"),
            title: locale_name(locale).to_owned(),
            summary: String::new(),
        })
        .collect();
    let root = site.render(
        "list.html",
        serde_json::json!({
            "locale": root_locale, "locale_name": locale_name(&root_locale), "root": "", "up": "",
            // The top index has no feed of its own: the default locale's.
            "feed": format!("{root_locale}/feed.xml"),
            "title": "fairgig", "summary": "", "pages": entry, "tags": [],
            "alternates": [], "locales": locales,
        }),
    )?;
    site.write("index.html", &root)?;
    Ok(Exported {
        pages: pages_written,
        locales: by_locale.keys().cloned().collect(),
        files: site.files,
    })
}

/// An Atom feed (RFC 4287) of a locale's pages, newest change first.
fn feed(locale: &str, pages: &[Page], base: &str) -> String {
    let mut newest: Vec<&Page> = pages.iter().collect();
    newest.sort_by_key(|page| std::cmp::Reverse(page.updated_at));
    let updated = newest
        .first()
        .map_or_else(|| timestamp(OffsetDateTime::UNIX_EPOCH), |p| timestamp(p.updated_at));
    let self_url = format!("{base}/{locale}/feed.xml");
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{locale}\">\n  <id>{id}</id>\n  <title>fairgig ({name})</title>\n  <updated>{updated}</updated>\n  <author><name>fairgig</name></author>\n  <link rel=\"self\" href=\"{id}\"/>\n  <link rel=\"alternate\" href=\"{index}\"/>\n",
        id = xml(&self_url),
        name = xml(locale_name(locale)),
        index = xml(&format!("{base}/{locale}/index.html")),
    );
    for page in newest {
        let url = format!("{base}/{locale}/{}.html", page.content.slug);
        // A feed is read elsewhere: the platform's paths become absolute.
        let rendered = render_linked(&page.content.body, |destination| {
            let path = destination.strip_prefix('/').filter(|path| !path.starts_with('/'))?;
            Some(format!("{base}/{path}"))
        });
        out.push_str(&format!(
            "  <entry>\n    <id>urn:uuid:{id}</id>\n    <title>{title}</title>\n    <updated>{updated}</updated>\n    <link rel=\"alternate\" href=\"{url}\"/>\n",
            id = page.id.as_uuid(),
            title = xml(&page.content.title),
            updated = timestamp(page.updated_at),
            url = xml(&url),
        ));
        if !page.content.summary.is_empty() {
            out.push_str(&format!("    <summary>{}</summary>\n", xml(&page.content.summary)));
        }
        out.push_str(&format!(
            "    <content type=\"html\">{}</content>\n  </entry>\n",
            xml(&rendered.html)
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_between_pages_become_relative_files() {
        let slugs: BTreeSet<(String, String)> =
            [("en", "pricing"), ("en", "faq"), ("de", "preise")]
                .iter()
                .map(|(l, s)| ((*l).to_owned(), (*s).to_owned()))
                .collect();
        let base = "https://fairgig.example";
        let link = |d: &str, locale: &str| site_link(d, locale, &slugs, base);
        assert_eq!(link("/p/faq#fees", "en").as_deref(), Some("faq.html#fees"));
        assert_eq!(link("/de/p/preise", "en").as_deref(), Some("../de/preise.html"));
        assert_eq!(
            link("/p/pricing", "de").as_deref(),
            Some("../en/pricing.html"),
            "only in English"
        );
        assert_eq!(link("/jobs", "en").as_deref(), Some("https://fairgig.example/jobs"));
        assert_eq!(link("/p/missing", "en").as_deref(), Some("https://fairgig.example/p/missing"));
        assert_eq!(link("https://example.org/x", "en"), None);
        assert_eq!(link("//cdn.example/x", "en"), None);
        assert_eq!(link("#top", "en"), None);
        let file = format!("{}.png", "ab".repeat(32));
        assert_eq!(link(&format!("/media/{file}"), "de"), Some(format!("../media/{file}")));
    }

    #[test]
    fn yaml_scalars_are_quoted_safely() {
        assert_eq!(yaml("a: \"b\"\n"), "\"a: \\\"b\\\"\\n\"");
        assert_eq!(xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
