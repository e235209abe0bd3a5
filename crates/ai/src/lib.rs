//! fairgig's AI workers as plain libraries, with no knowledge of users, HTTP
//! or the queue:
//!
//! - [`extract`]: text out of PDF, DOCX, HTML, Markdown and plain text, with
//!   limits, OCR when the tools are installed, and clear errors for corrupt
//!   or encrypted files (never a panic).
//! - [`analyse`]: deterministic analysis of a brief: language, keywords, an
//!   extractive summary, money and date mentions, skills (from the ESCO-derived
//!   list in `data/skills.tsv`) and a complexity estimate.
//! - [`bias`]: exclusionary-language detection: rule packs, the matcher,
//!   the Gender Decoder verdict, organisation packs.
//! - [`brief`], [`offer`], [`prototype`]: what a client gets back: a
//!   grounded brief, a three-tier offer with explained numbers, and the
//!   content of a landing-page prototype.

pub mod analyse;
pub mod bias;
pub mod brief;
pub mod extract;
pub mod offer;
pub mod prototype;
