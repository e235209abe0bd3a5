//! Money mentions: `€4,500`, `$ 30/h`, `EUR 2.5k`, `1.200,50 €`, `300 dollars`.
//!
//! Thousands separators are told from decimal marks by position: with both
//! `,` and `.`, the last one is the decimal mark; with one kind only, it is a
//! decimal mark when followed by one or two digits at the end, else a
//! thousands separator. `k` multiplies by 1,000.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyMention {
    pub text: String,
    /// In minor units (cents).
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Byte offsets into the analysed text.
    pub start: usize,
    pub end: usize,
}

const NUMBER: &str = r"\d{1,3}(?:[.,\u{a0} ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";

static PREFIXED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?P<cur>[$€£]|\b(?:usd|eur|gbp|chf)\b)\s?(?P<num>{NUMBER})(?P<k>\s?k\b)?"
    ))
    .ok()
});

static SUFFIXED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?P<num>{NUMBER})(?P<k>\s?k)?\s?(?P<cur>[$€£]|\b(?:usd|eur|gbp|chf|dollars?|euros?|pounds?)\b)"
    ))
    .ok()
});

fn currency_code(symbol: &str) -> Option<&'static str> {
    Some(match symbol.to_lowercase().as_str() {
        "$" | "usd" | "dollar" | "dollars" => "USD",
        "€" | "eur" | "euro" | "euros" => "EUR",
        "£" | "gbp" | "pound" | "pounds" => "GBP",
        "chf" => "CHF",
        _ => return None,
    })
}

/// Parses `4,500`, `1.200,50`, `2.5` into minor units.
pub fn parse_amount_minor(number: &str) -> Option<i64> {
    let cleaned: String = number.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let last_sep = cleaned.rfind([',', '.']);
    let (whole, fraction) = match last_sep {
        Some(i) => {
            let after = &cleaned[i + 1..];
            let mixed = cleaned.contains(',') && cleaned.contains('.');
            if mixed || after.len() <= 2 {
                (&cleaned[..i], after)
            } else {
                (cleaned.as_str(), "")
            }
        }
        None => (cleaned.as_str(), ""),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.get(..2)?.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(cents)
}

pub fn find(text: &str) -> Vec<MoneyMention> {
    let mut found: Vec<MoneyMention> = Vec::new();
    for regex in [&*PREFIXED, &*SUFFIXED].into_iter().flatten() {
        for captures in regex.captures_iter(text) {
            let (Some(whole), Some(number), Some(cur)) =
                (captures.get(0), captures.name("num"), captures.name("cur"))
            else {
                continue;
            };
            if found.iter().any(|m| m.start < whole.end() && whole.start() < m.end) {
                continue;
            }
            let Some(currency) = currency_code(cur.as_str()) else { continue };
            let Some(mut amount) = parse_amount_minor(number.as_str()) else { continue };
            if captures.name("k").is_some() {
                amount = amount.saturating_mul(1000);
            }
            found.push(MoneyMention {
                text: whole.as_str().trim().to_owned(),
                amount_minor: amount,
                currency: currency.to_owned(),
                start: whole.start(),
                end: whole.end(),
            });
        }
    }
    found.sort_by_key(|m| m.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_common_notations() {
        let cases = [
            ("budget €4,500 total", 450_000, "EUR"),
            ("around $30 per hour", 3_000, "USD"),
            ("EUR 2.5k max", 250_000, "EUR"),
            ("1.200,50 € netto", 120_050, "EUR"),
            ("pay 300 dollars", 30_000, "USD"),
            ("£1,000,000 fund", 100_000_000, "GBP"),
            ("CHF 99.90", 9_990, "CHF"),
        ];
        for (text, minor, currency) in cases {
            let found = find(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(
                (found[0].amount_minor, found[0].currency.as_str()),
                (minor, currency),
                "{text}"
            );
            assert_eq!(&text[found[0].start..found[0].end].trim(), &found[0].text, "{text}");
        }
    }

    #[test]
    fn numbers_without_currency_are_not_money() {
        assert!(find("we have 3 developers and 2,000 users").is_empty());
    }
}
