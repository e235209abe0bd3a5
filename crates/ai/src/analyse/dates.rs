//! Deadline mentions: absolute dates (`2027-03-01`, `1 March 2027`,
//! `March 1st, 2027`) with the date resolved, and relative phrases (`by end
//! of month`, `within 2 weeks`, `next Friday`) kept as text: resolving them
//! needs the submission time, which the caller has.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateMention {
    pub text: String,
    /// ISO 8601 when the mention is an absolute, valid date.
    pub date: Option<String>,
    pub start: usize,
    pub end: usize,
}

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

static ISO: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b").ok());
static DAY_MONTH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m>{MONTHS})\.?,?\s+(?P<y>\d{{4}})\b"
    ))
    .ok()
});
static MONTH_DAY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?P<m>{MONTHS})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b"
    ))
    .ok()
});
static RELATIVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:by|before|until|within|in)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?(?:week|month|quarter|year)|next\s+(?:week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|tomorrow|\d{1,3}\s+(?:business\s+)?(?:days?|weeks?|months?))\b|\b(?:asap|as soon as possible)\b",
    )
    .ok()
});

fn month_number(name: &str) -> Option<Month> {
    let prefix: String = name.to_lowercase().chars().take(3).collect();
    let index =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            .iter()
            .position(|m| *m == prefix)?;
    Month::try_from(u8::try_from(index + 1).ok()?).ok()
}

pub fn find(text: &str) -> Vec<DateMention> {
    let mut found: Vec<DateMention> = Vec::new();
    let absolute = [&*ISO, &*DAY_MONTH, &*MONTH_DAY];
    for regex in absolute.into_iter().flatten() {
        for captures in regex.captures_iter(text) {
            let Some(whole) = captures.get(0) else { continue };
            let field = |name: &str| captures.name(name).map(|m| m.as_str());
            let month = field("m").and_then(|m| {
                m.parse::<u8>()
                    .ok()
                    .and_then(|n| Month::try_from(n).ok())
                    .or_else(|| month_number(m))
            });
            let date = match (
                field("y").and_then(|y| y.parse().ok()),
                month,
                field("d").and_then(|d| d.parse().ok()),
            ) {
                (Some(year), Some(month), Some(day)) => {
                    Date::from_calendar_date(year, month, day).ok()
                }
                _ => None,
            };
            let Some(date) = date else { continue };
            push(&mut found, whole, Some(date.to_string()));
        }
    }
    if let Some(regex) = &*RELATIVE {
        for whole in regex.find_iter(text) {
            push(&mut found, whole, None);
        }
    }
    found.sort_by_key(|m| m.start);
    found
}

fn push(found: &mut Vec<DateMention>, whole: regex::Match<'_>, date: Option<String>) {
    if found.iter().any(|m| m.start < whole.end() && whole.start() < m.end) {
        return;
    }
    found.push(DateMention {
        text: whole.as_str().to_owned(),
        date,
        start: whole.start(),
        end: whole.end(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_dates_resolve_and_relative_ones_are_kept() {
        let cases = [
            ("due 2027-03-01 please", Some("2027-03-01")),
            ("by 1 March 2027", Some("2027-03-01")),
            ("by March 1st, 2027", Some("2027-03-01")),
            ("deliver within 2 weeks", None),
            ("by end of month", None),
            ("ASAP", None),
        ];
        for (text, date) in cases {
            let found = find(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].date.as_deref(), date, "{text}");
        }
    }

    #[test]
    fn impossible_dates_are_not_dates() {
        assert!(find("on 2027-02-30 or 2027-13-01").is_empty());
    }
}
