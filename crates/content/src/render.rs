//! Markdown → sanitized HTML with heading anchors.
//!
//! Rendering and sanitizing are separate steps on purpose: the renderer is
//! measured against the CommonMark spec as it is (`render_unsanitized`),
//! and the sanitizer is the one place that decides what HTML a page may
//! keep. Raw HTML in Markdown is allowed (CommonMark says so) and then
//! cleaned like everything else.

use std::collections::HashSet;

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// A heading of the page, for a table of contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    /// 1–6.
    pub level: u8,
    pub text: String,
    /// The `id` the heading got (`#anchor` links to it).
    pub anchor: String,
}

/// A rendered page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitized HTML, safe to put in a page as it is.
    pub html: String,
    pub headings: Vec<Heading>,
}

/// The Markdown dialect of pages: CommonMark plus the four extensions the
/// issue names. (Smart punctuation stays off: it rewrites what authors
/// typed.)
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// HTML of `markdown` in the given dialect, as the renderer writes it,
/// before sanitizing and without anchors (for measuring conformance).
pub fn render_unsanitized(markdown: &str, options: Options) -> String {
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    out
}

/// A page's Markdown as safe HTML, headings anchored.
pub fn render(markdown: &str) -> Rendered {
    render_linked(markdown, |_| None)
}

/// [`render`], with each link's and image's destination given to `rewrite`
/// first (`None` keeps it): the static export turns links between pages
/// into relative files with it. Sanitizing runs after, so a rewrite
/// cannot add what a page may not carry.
pub fn render_linked(markdown: &str, rewrite: impl Fn(&str) -> Option<String>) -> Rendered {
    let mut headings = Vec::new();
    let mut used: HashSet<String> = HashSet::new();
    let events: Vec<Event> = Parser::new_ext(markdown, options()).collect();
    let mut anchored = Vec::with_capacity(events.len());
    let mut index = 0;
    while index < events.len() {
        match &events[index] {
            Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                // The heading's text is what lies before its end.
                let end = events[index..]
                    .iter()
                    .position(|event| matches!(event, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |offset| index + offset);
                let text: String = events[index + 1..end]
                    .iter()
                    .filter_map(|event| match event {
                        Event::Text(text) | Event::Code(text) => Some(text.as_ref()),
                        _ => None,
                    })
                    .collect();
                let wanted = id.as_ref().map_or_else(|| slug(&text), |id| slug(id));
                let anchor = unique(&mut used, wanted);
                headings.push(Heading {
                    level: level_number(*level),
                    text,
                    anchor: anchor.clone(),
                });
                anchored.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(anchor)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                anchored.push(Event::Start(Tag::Link {
                    link_type: *link_type,
                    dest_url: rewrite(dest_url).map_or_else(|| dest_url.clone(), CowStr::from),
                    title: title.clone(),
                    id: id.clone(),
                }))
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                anchored.push(Event::Start(Tag::Image {
                    link_type: *link_type,
                    dest_url: rewrite(dest_url).map_or_else(|| dest_url.clone(), CowStr::from),
                    title: title.clone(),
                    id: id.clone(),
                }))
            }
            other => anchored.push(other.clone()),
        }
        index += 1;
    }
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, anchored.into_iter());
    Rendered { html: sanitize(&raw), headings }
}

/// What a page may keep: ammonia's safe defaults (no script, style, event
/// attributes or `javascript:` URLs), plus heading ids (anchors) and the
/// checkbox of a task list, disabled as the renderer writes it.
pub fn sanitize(html: &str) -> String {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("h1", ["id"])
        .add_tag_attributes("h2", ["id"])
        .add_tag_attributes("h3", ["id"])
        .add_tag_attributes("h4", ["id"])
        .add_tag_attributes("h5", ["id"])
        .add_tag_attributes("h6", ["id"])
        .add_tag_attributes("sup", ["class", "id"])
        .add_tag_attributes("div", ["class", "id"])
        .add_tag_attributes("li", ["id"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attribute_values("input", "type", ["checkbox"])
        .link_rel(Some("noopener noreferrer"));
    builder.clean(html).to_string()
}

fn level_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// `Pricing & plans` → `pricing-plans`: lower-case letters and digits of
/// any script, runs of anything else one hyphen; `section` when nothing is
/// left.
pub fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() {
            slug.push(ch);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        "section".to_owned()
    } else {
        slug
    }
}

/// `wanted`, or `wanted-2`, `wanted-3`, … when taken.
fn unique(used: &mut HashSet<String>, wanted: String) -> String {
    if used.insert(wanted.clone()) {
        return wanted;
    }
    (2..).map(|n| format!("{wanted}-{n}")).find(|next| used.insert(next.clone())).unwrap_or(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_images_can_be_rewritten_but_not_into_script() {
        let page = render_linked("[faq](/p/faq#fees) ![logo](/logo.png) [x](/p/x)", |d| match d {
            "/p/faq#fees" => Some("faq.html#fees".into()),
            "/logo.png" => Some("https://cdn.example/logo.png".into()),
            _ => Some("javascript:alert(1)".into()),
        });
        assert!(page.html.contains(r#"href="faq.html#fees""#), "{}", page.html);
        assert!(page.html.contains(r#"src="https://cdn.example/logo.png""#), "{}", page.html);
        assert!(!page.html.contains("javascript:"), "{}", page.html);
    }

    #[test]
    fn headings_get_unique_anchors_in_any_script() {
        let page =
            render("# Pricing & plans\n\n## FAQ\n\n## FAQ\n\n### Über uns\n\n## `fairgig` CLI\n");
        let anchors: Vec<&str> = page.headings.iter().map(|h| h.anchor.as_str()).collect();
        assert_eq!(anchors, ["pricing-plans", "faq", "faq-2", "über-uns", "fairgig-cli"]);
        assert!(page.html.contains(r#"<h2 id="faq-2">FAQ</h2>"#), "{}", page.html);
        assert_eq!(page.headings[0].level, 1);
        assert_eq!(slug("!!!"), "section");
    }

    #[test]
    fn script_event_attributes_and_javascript_links_render_inert() {
        let page = render(
            "Hello <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n\
             [click](javascript:alert(3)) <a href=\"javascript:alert(4)\">a</a> \
             <div onclick=\"alert(5)\" style=\"position:fixed\">x</div>\n\n\
             <iframe src=\"https://evil.example\"></iframe><svg onload=alert(6)></svg>\n",
        );
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "onclick",
            "style=",
            "<iframe",
            "onload",
            "alert(1)",
        ] {
            assert!(!page.html.contains(bad), "{bad} survived: {}", page.html);
        }
        assert!(page.html.contains("Hello"));
    }

    #[test]
    fn tables_footnotes_strikethrough_and_task_lists_render() {
        let page = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ new[^1]\n\n- [x] done\n- [ ] open\n\n[^1]: A note.\n",
        );
        for wanted in
            ["<table>", "<td>1</td>", "<del>old</del>", "type=\"checkbox\"", "checked", "A note."]
        {
            assert!(page.html.contains(wanted), "{wanted} missing: {}", page.html);
        }
    }

    #[test]
    fn links_open_without_handing_over_the_page() {
        let page = render("[site](https://example.org)");
        assert!(page.html.contains(r#"rel="noopener noreferrer""#), "{}", page.html);
    }
}
