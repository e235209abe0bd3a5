//! Admins' evidence page (`/admin/evidence`): does flagged language cost a
//! group its applications here (the language evidence report), and does a
//! reviewer rate one declared group worse than another (the reviewer
//! disparity audit with the four-fifths test). Both are engine reports the
//! API serves too; this page only renders them.

use askama::Template;
use axum::{extract::State, response::Response};
use fairgig_engine::{
    language_evidence::{self, LanguageEvidence, Side},
    review_audit::{self, DisparityView, ReviewAudit},
};

use super::{
    accounts::FieldError,
    page::{render, require_sign_in, LenientQuery, Page, PortalError},
    session::Visitor,
};
use crate::PortalState;

#[derive(Template)]
#[template(path = "portal/evidence.html")]
struct EvidencePage {
    page: Page,
    /// The self-declared attribute asked for (empty: none).
    attribute: String,
    days: i64,
    language: LanguageEvidence,
    /// Only with an attribute: reviews are audited by declared group.
    reviews: Option<ReviewAudit>,
    error: FieldError,
}

impl EvidencePage {
    /// A share as a whole percentage, or a dash when there is none.
    fn percent(&self, share: &Option<f64>) -> String {
        or_dash(*share, |share| format!("{:.0} %", share * 100.0))
    }

    fn per_job(&self, side: &Side) -> String {
        or_dash(side.applications_per_job, |n| format!("{n:.1}"))
    }

    /// Each declared group's share of one side's applications, with its count.
    fn group_shares(&self, side: &Side) -> String {
        side.applicants
            .groups
            .iter()
            .flatten()
            .map(|g| format!("{} {:.0} % ({})", g.group, g.share * 100.0, g.applications))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn ratio(&self, disparity: &DisparityView) -> String {
        or_dash(disparity.four_fifths, |ratio| format!("{ratio:.2}"))
    }

    /// The name of the audit's `at`th group.
    fn group_name<'a>(&self, audit: &'a ReviewAudit, at: &usize) -> &'a str {
        audit.groups.get(*at).map_or("", String::as_str)
    }

    fn mean(&self, mean: &Option<f64>) -> String {
        or_dash(*mean, |mean| format!("{mean:.2}"))
    }
}

/// A figure as `shown`, or a dash where there is none (withheld or not
/// measurable).
fn or_dash(figure: Option<f64>, shown: impl Fn(f64) -> String) -> String {
    figure.map_or_else(|| "—".to_owned(), shown)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct EvidenceQuery {
    #[serde(default)]
    attribute: String,
    days: Option<i64>,
}

/// The page's default period.
const DAYS: i64 = 90;

pub async fn show(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<EvidenceQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let failed = |err| PortalError::from_engine(&visitor, err);
    let attribute = query.attribute.trim().to_owned();
    let asked = Some(attribute.as_str()).filter(|a| !a.is_empty());
    let mut days = query.days.unwrap_or(DAYS);
    let mut error = FieldError::default();
    let language = match language_evidence::report(&state.engine, caller, Some(days), asked).await {
        Ok(report) => report,
        // A malformed attribute or period: the default report, and why.
        Err(refused @ fairgig_engine::Error::Refused { .. }) => {
            error = FieldError::from_engine(&visitor, refused)?;
            days = DAYS;
            language_evidence::report(&state.engine, caller, Some(days), None)
                .await
                .map_err(failed)?
        }
        Err(other) => return Err(failed(other)),
    };
    let reviews = match (asked, error.message.is_empty()) {
        (Some(attribute), true) => Some(
            review_audit::audit(&state.engine, caller, Some(attribute), Some(days))
                .await
                .map_err(failed)?,
        ),
        _ => None,
    };
    Ok(render(&EvidencePage {
        page: Page::new(&visitor, "evidence-title"),
        attribute,
        days,
        language,
        reviews,
        error,
    }))
}
