//! The content service's pure parts (issue 24 lands in slices; this is the
//! first): a page's Markdown rendered to HTML that is safe to serve.
//!
//! - [`render`]: CommonMark with tables, footnotes, strikethrough and task
//!   lists (pulldown-cmark), every heading given an anchor, and the HTML
//!   sanitized (ammonia) so a page cannot carry script, event attributes or
//!   `javascript:` links, whoever wrote it.
//!
//! Not here yet: pages, versions, locales and the static export (they need
//! the store and the engine), which the later slices add.

pub mod render;

pub use render::{render, Heading, Rendered};
