//! What a first-look prototype is made of: whether a request describes a
//! site or an app at all, and the content a landing page shows, taken from
//! the brief and the analysis (never invented: the headline is the title,
//! the promise is the request's lead sentence, the sections are its
//! deliverables and key phrases).

use serde::{Deserialize, Serialize};

use crate::analyse::Analysis;
use crate::brief::Brief;

/// Words that say the client wants something on a screen ("site" and
/// "application" alone are left out: a building site, a job application).
const SITE_OR_APP: [&str; 14] = [
    "website",
    "web site",
    "landing page",
    "homepage",
    "home page",
    "web app",
    "webapp",
    "mobile app",
    "app",
    "online shop",
    "webshop",
    "web shop",
    "portal",
    "dashboard",
];

/// True when `text` asks for a site or an app (a prototype makes sense).
pub fn describes_site_or_app(text: &str) -> bool {
    let lower = text.to_lowercase();
    SITE_OR_APP.iter().any(|cue| {
        lower.match_indices(cue).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + cue.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(|c| c.is_alphanumeric() && c != 's')
        })
    })
}

/// The words a landing-page prototype shows (plain text; the page escapes
/// every one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageContent {
    pub headline: String,
    pub lead: String,
    /// One section per deliverable (at most four).
    pub sections: Vec<Section>,
    /// Up to six key phrases, shown as the page's highlights.
    pub highlights: Vec<String>,
    pub call_to_action: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    pub text: String,
}

/// The content of `title`'s prototype from its brief and analysis.
pub fn page_content(title: &str, brief: &Brief, analysis: &Analysis) -> PageContent {
    let lead = brief
        .goals
        .get(1)
        .map(|goal| goal.text.clone())
        .or_else(|| analysis.summary.first().cloned())
        .unwrap_or_default();
    let sections = brief
        .deliverables
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, point)| Section { title: format!("{:02}", i + 1), text: point.text.clone() })
        .collect();
    let highlights =
        analysis.keywords.iter().take(6).map(|keyword| keyword.phrase.clone()).collect();
    PageContent {
        headline: title.trim().to_owned(),
        lead,
        sections,
        highlights,
        call_to_action: "Get in touch".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_and_apps_are_told_from_other_work() {
        assert!(describes_site_or_app("We need a website for our bakery."));
        assert!(describes_site_or_app("A mobile app to book appointments"));
        assert!(describes_site_or_app("Our online shop needs a redesign"));
        assert!(describes_site_or_app("Build two landing pages"));
        assert!(!describes_site_or_app("Translate our brochure into German."));
        assert!(!describes_site_or_app("Apply for a grant; happy apple farmers."));
        assert!(!describes_site_or_app("Visit our construction site weekly."));
        assert!(!describes_site_or_app("Review my job application letter."));
    }
}
