//! Text extraction from the document kinds a client can upload.
//!
//! Every parser runs behind [`extract`], which enforces the limits and turns
//! a parser panic (third-party PDF code does panic on some broken files) into
//! [`ExtractError::Corrupt`], so one bad upload fails one step, not a worker.

mod docx;
mod ocr;
mod pdf;
pub mod samples;

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::{Deserialize, Serialize};

pub use ocr::OcrStatus;

/// Kinds we extract text from, decided by the server from sniffed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Pdf,
    Docx,
    Html,
    Markdown,
    Text,
}

impl DocumentKind {
    /// The kind for a stored content type, if it is a document.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        Some(match content_type {
            "application/pdf" => DocumentKind::Pdf,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                DocumentKind::Docx
            }
            "text/html" => DocumentKind::Html,
            "text/markdown" => DocumentKind::Markdown,
            "text/plain" => DocumentKind::Text,
            _ => return None,
        })
    }
}

/// Bounds on what one document may cost.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Text beyond this many characters is cut (and `truncated` set).
    pub max_chars: usize,
    /// PDF pages read at most.
    pub max_pages: usize,
    /// Uncompressed bytes read out of a DOCX archive at most (zip bombs).
    pub max_uncompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_chars: 200_000, max_pages: 200, max_uncompressed_bytes: 50 * 1024 * 1024 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Extracted {
    pub kind: DocumentKind,
    pub text: String,
    /// Characters in `text`.
    pub chars: usize,
    /// PDF pages read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
    /// The text was cut at `Limits::max_chars` (or the page limit).
    pub truncated: bool,
    pub ocr: OcrStatus,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("the file is corrupt or not what it claims to be: {0}")]
    Corrupt(String),
    #[error("the file is encrypted; upload an unprotected copy")]
    Encrypted,
    #[error("the file is too large once unpacked: {0}")]
    TooLarge(String),
}

/// Extracts text from `bytes` of `kind` within `limits`.
pub fn extract(
    kind: DocumentKind,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let parsed = catch_unwind(AssertUnwindSafe(|| match kind {
        DocumentKind::Pdf => pdf::extract(bytes, limits),
        DocumentKind::Docx => docx::extract(bytes, limits).map(Parsed::text),
        DocumentKind::Html => Ok(Parsed::text(html_to_text(bytes))),
        DocumentKind::Markdown => {
            Ok(Parsed::text(markdown_to_text(&String::from_utf8_lossy(bytes))))
        }
        DocumentKind::Text => Ok(Parsed::text(String::from_utf8_lossy(bytes).into_owned())),
    }));
    let Parsed { text, pages, ocr } = match parsed {
        Ok(result) => result?,
        Err(_) => {
            return Err(ExtractError::Corrupt(format!("the {kind:?} parser could not read it")))
        }
    };
    let (text, truncated_chars) = truncate_chars(normalise_whitespace(&text), limits.max_chars);
    let truncated = truncated_chars || pages.is_some_and(|(_, cut)| cut);
    Ok(Extracted {
        kind,
        chars: text.chars().count(),
        text,
        pages: pages.map(|(read, _)| read),
        truncated,
        ocr,
    })
}

/// What a parser returns: the raw text, `(pages read, pages cut)` for paged
/// formats, and what OCR did.
struct Parsed {
    text: String,
    pages: Option<(usize, bool)>,
    ocr: OcrStatus,
}

impl Parsed {
    fn text(text: String) -> Self {
        Self { text, pages: None, ocr: OcrStatus::NotNeeded }
    }
}

fn html_to_text(bytes: &[u8]) -> String {
    // Wide lines: we want paragraphs, not a terminal layout.
    html2text::config::plain_no_decorate()
        .string_from_read(bytes, 10_000)
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

/// Markdown to plain text: the text events, with block ends as newlines.
fn markdown_to_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock,
            ) => out.push('\n'),
            _ => {}
        }
    }
    out
}

/// Collapses runs of spaces, keeps paragraph breaks, drops NULs and other
/// control characters that break storage and display.
fn normalise_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.lines() {
        let line: String = line.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&line);
    }
    out
}

fn truncate_chars(text: String, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((cut, _)) => (text[..cut].to_owned(), true),
        None => (text, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_markdown_come_out_as_text() {
        let limits = Limits::default();
        let md = extract(
            DocumentKind::Markdown,
            b"# Title\n\nSome *bold* text.\n\n- one\n- two",
            &limits,
        )
        .expect("markdown");
        assert_eq!(md.text, "Title\nSome bold text.\none\ntwo");
        let text = extract(DocumentKind::Text, b"a   b\n\n\n\nc\0d", &limits).expect("text");
        assert_eq!(text.text, "a b\n\ncd");
    }

    #[test]
    fn html_loses_its_tags_and_scripts() {
        let html = b"<html><head><script>alert(1)</script></head><body><h1>Hi</h1><p>We need <b>Rust</b>.</p></body></html>";
        let out = extract(DocumentKind::Html, html, &Limits::default()).expect("html");
        assert!(out.text.contains("We need Rust."), "{}", out.text);
        assert!(!out.text.contains("alert"), "{}", out.text);
        assert!(!out.text.contains('<'), "{}", out.text);
    }

    #[test]
    fn long_texts_are_cut_at_the_limit() {
        let limits = Limits { max_chars: 10, ..Limits::default() };
        let out = extract(DocumentKind::Text, "é".repeat(50).as_bytes(), &limits).expect("text");
        assert_eq!(out.chars, 10);
        assert!(out.truncated);
    }

    #[test]
    fn garbage_never_panics() {
        let garbage: Vec<u8> =
            (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for kind in [
            DocumentKind::Pdf,
            DocumentKind::Docx,
            DocumentKind::Html,
            DocumentKind::Markdown,
            DocumentKind::Text,
        ] {
            let _ = extract(kind, &garbage, &Limits::default());
            let _ = extract(kind, b"", &Limits::default());
        }
    }
}
