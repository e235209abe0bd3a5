//! The CommonMark 0.31.2 spec examples (`../shared/data/markdown/`), run
//! through the renderer as CommonMark, in the pages' dialect (tables,
//! footnotes, strikethrough, task lists), and sanitized. The spec passes
//! whole as CommonMark; what the dialect and sanitizing change is counted
//! and each difference's cause is named in the README ("Pages").

use std::path::Path;

use fairgig_content::render::{options, render_unsanitized, sanitize};
use pulldown_cmark::Options;

#[derive(serde::Deserialize)]
struct Example {
    markdown: String,
    html: String,
    number: usize,
}

fn examples() -> Vec<Example> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/markdown/commonmark-spec-0.31.2.tests.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut examples: Vec<Example> =
        serde_json::from_str(&text).expect("the spec's examples parse");
    // This extract keeps the spec's display of a tab as `→`; the spec's own
    // runner turns it back into a tab before comparing.
    for example in &mut examples {
        example.markdown = example.markdown.replace('→', "\t");
        example.html = example.html.replace('→', "\t");
    }
    examples
}

/// HTML as the spec's runner compares it (its `normalize.py`, in the
/// respects that matter here): a quote is a quote whether written `"` or
/// `&quot;`, a no-break space whether written as the character or
/// `&nbsp;`, a line break between two tags is not content, and a void
/// element is the same with or without its XHTML slash. The sanitizer's
/// deliberate `rel` on links is not a difference either.
fn normalized(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace(">\n<", "><")
        .replace(" />", ">")
        .replace(r#" rel="noopener noreferrer""#, "")
}

/// The examples whose output differs from the spec's.
fn failing(examples: &[Example], render: impl Fn(&str) -> String) -> Vec<usize> {
    examples
        .iter()
        .filter(|e| normalized(&render(&e.markdown)) != normalized(&e.html))
        .map(|e| e.number)
        .collect()
}

#[test]
fn the_commonmark_spec_passes_and_the_pages_dialect_differs_only_where_counted() {
    let examples = examples();
    assert_eq!(examples.len(), 652);
    let plain = failing(&examples, |markdown| render_unsanitized(markdown, Options::empty()));
    assert_eq!(plain, Vec::<usize>::new(), "CommonMark itself");
    let dialect = failing(&examples, |markdown| render_unsanitized(markdown, options()));
    let sanitized =
        failing(&examples, |markdown| sanitize(&render_unsanitized(markdown, Options::empty())));
    let raw_html = |number: &usize| examples[number - 1].markdown.contains('<');
    let with_raw_html = examples.iter().filter(|e| raw_html(&e.number)).count();
    let (changed_raw, changed_markdown): (Vec<usize>, Vec<usize>) =
        sanitized.iter().partition(|number| raw_html(number));
    println!(
        "CommonMark 0.31.2: {} of 652 as CommonMark; {} in the pages' dialect; {} after \
         sanitizing: it changes {} of the {with_raw_html} examples with raw HTML and {} without",
        652 - plain.len(),
        652 - dialect.len(),
        652 - sanitized.len(),
        changed_raw.len(),
        changed_markdown.len()
    );
    // The extensions claim a little syntax (`~~`, `|` rows, `[^x]`); none
    // of the spec's examples uses it, and a change that claims more shows.
    assert_eq!(dialect, Vec::<usize>::new(), "the dialect");
    // Sanitizing removes raw HTML a page may not carry (script, comments,
    // unknown tags, event attributes) and mends what it keeps; Markdown's
    // own output it leaves alone.
    assert_eq!(changed_markdown, Vec::<usize>::new(), "Markdown's own output");
}
