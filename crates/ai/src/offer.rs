//! The offer a client gets back for a request: three tiers (essential,
//! standard, complete) with scope, an effort range and a price in the
//! client's currency. Every number is computed here and explained: the
//! effort from the analysed complexity and the skills involved, the rate
//! from what the qualified freelancers charge (median, and the middle half
//! as the spread), the client's budget as the reference.

use serde::{Deserialize, Serialize};

use crate::analyse::{complexity::Level, Analysis};

/// Effort of the standard tier before skills, in hours, by complexity.
const BASE_HOURS: [(Level, f64); 3] =
    [(Level::Low, 16.0), (Level::Medium, 48.0), (Level::High, 120.0)];
/// Hours each distinct skill beyond the second adds (integration work).
const HOURS_PER_EXTRA_SKILL: f64 = 8.0;
/// Share of the standard effort each tier takes.
const TIER_SHARES: [(TierName, f64); 3] =
    [(TierName::Essential, 0.6), (TierName::Standard, 1.0), (TierName::Complete, 1.6)];
/// An estimate's range: from 80 % to 125 % of its middle.
const RANGE: (f64, f64) = (0.8, 1.25);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierName {
    Essential,
    Standard,
    Complete,
}

impl TierName {
    /// The serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Essential => "essential",
            Self::Standard => "standard",
            Self::Complete => "complete",
        }
    }
}

/// Where the hourly rate comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum RateSource {
    /// Freelancers qualified for the request, in the client's currency.
    Freelancers { count: usize },
    /// No qualified freelancer states a rate in this currency: the
    /// operator's reference rate.
    Reference,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Per hour, in the currency's minor unit.
    pub median_minor: i64,
    /// The middle half of the rates (25th to 75th percentile).
    pub low_minor: i64,
    pub high_minor: i64,
    pub source: RateSource,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub name: TierName,
    pub scope: Vec<String>,
    pub hours_low: u32,
    pub hours_high: u32,
    pub price_low_minor: i64,
    pub price_high_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// ISO 4217 code of every price.
    pub currency: String,
    pub rate: Rate,
    pub tiers: Vec<Tier>,
    /// How the standard tier compares with the client's budget.
    pub budget_note: Option<String>,
    /// How each number was reached, in order.
    pub explanation: Vec<String>,
}

/// Words around an offer's numbers, written by a language model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OfferProse {
    pub introduction: String,
    pub tiers: TierProse,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierProse {
    pub essential: String,
    pub standard: String,
    pub complete: String,
}

impl OfferProse {
    /// The words the rules would write around the tiers: what a language
    /// model is asked to improve (a small one mostly keeps them).
    pub fn draft(title: &str) -> OfferProse {
        let title = title.trim();
        OfferProse {
            introduction: format!(
                "Here are three ways to go about \u{201c}{title}\u{201d}, from the essentials to \
                 the complete job, so you can choose how far to go now."
            ),
            tiers: TierProse {
                essential: "The core of what you asked for, without extras, to get started \
                            quickly."
                    .to_owned(),
                standard: "Everything you asked for, tested and handed over ready to use."
                    .to_owned(),
                complete: "Everything you asked for plus documentation, support after delivery \
                           and room for changes."
                    .to_owned(),
            },
        }
    }

    /// Prose may not state a number: every number of an offer is the
    /// rules', shown beside the words, and a number in the words could
    /// contradict it. Each part must say something of its own: three tiers
    /// described alike tell the client nothing.
    pub fn check(&self) -> Result<(), String> {
        let texts =
            [&self.introduction, &self.tiers.essential, &self.tiers.standard, &self.tiers.complete];
        if texts.iter().any(|text| text.trim().is_empty()) {
            return Err("every part must be written".into());
        }
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        for (at, text) in texts.iter().enumerate() {
            if let Some(twin) = texts[at + 1..].iter().find(|other| same(text, other)) {
                return Err(format!("each part must differ, and two say {twin:?}"));
            }
        }
        match texts.iter().find(|text| text.chars().any(|c| c.is_ascii_digit())) {
            Some(text) => Err(format!("it must not contain numbers, and this does: {text:?}")),
            None => Ok(()),
        }
    }
}

/// What an offer is computed from.
#[derive(Clone, Copy, Debug)]
pub struct OfferInput<'a> {
    pub analysis: &'a Analysis,
    /// The brief's deliverables, in order.
    pub deliverables: &'a [&'a str],
    pub currency: &'a str,
    /// The client's budget in `currency`, minor units.
    pub budget_minor: Option<i64>,
    /// Hourly rates (minor units of `currency`) of the qualified freelancers.
    pub rates_minor: &'a [i64],
    /// Used when `rates_minor` is empty.
    pub reference_rate_minor: i64,
}

pub fn offer(input: &OfferInput<'_>) -> Offer {
    let level = input.analysis.complexity.level;
    let base = BASE_HOURS.iter().find(|(l, _)| *l == level).map_or(48.0, |(_, h)| *h);
    let mut skills: Vec<&str> = input.analysis.skills.iter().map(|s| s.label.as_str()).collect();
    skills.sort_unstable();
    skills.dedup();
    let extra = skills.len().saturating_sub(2) as f64 * HOURS_PER_EXTRA_SKILL;
    let standard_hours = base + extra;

    let rate = rate(input.rates_minor, input.reference_rate_minor);
    let money = |minor: i64| format!("{:.2} {}", minor as f64 / 100.0, input.currency);
    let mut explanation = vec![
        format!(
            "Effort: {base:.0} h for a {} complexity request (score {}), plus {HOURS_PER_EXTRA_SKILL:.0} h \
             for each of the {} skills beyond the second: {standard_hours:.0} h for the standard tier; \
             essential is 60 % of it, complete 160 %; each range runs from 80 % to 125 %.",
            level.as_str(),
            input.analysis.complexity.score,
            skills.len().saturating_sub(2),
        ),
        match &rate.source {
            RateSource::Freelancers { count } => format!(
                "Rate: {} per hour, the median of {count} qualified freelancer(s) charging in {} \
                 (middle half {} to {}).",
                money(rate.median_minor),
                input.currency,
                money(rate.low_minor),
                money(rate.high_minor)
            ),
            RateSource::Reference => format!(
                "Rate: {} per hour, the platform's reference rate: no qualified freelancer \
                 states a rate in {}.",
                money(rate.median_minor),
                input.currency
            ),
        },
    ];

    let tiers: Vec<Tier> = TIER_SHARES
        .iter()
        .map(|(name, share)| {
            let middle = standard_hours * share;
            let hours_low = (middle * RANGE.0).round().max(1.0) as u32;
            let hours_high = (middle * RANGE.1).round().max(1.0) as u32;
            Tier {
                name: *name,
                scope: scope(*name, input.deliverables),
                hours_low,
                hours_high,
                price_low_minor: i64::from(hours_low) * rate.median_minor,
                price_high_minor: i64::from(hours_high) * rate.median_minor,
            }
        })
        .collect();

    let budget_note = input.budget_minor.and_then(|budget| {
        let standard = tiers.iter().find(|t| t.name == TierName::Standard)?;
        Some(if budget < standard.price_low_minor {
            let essential = tiers.iter().find(|t| t.name == TierName::Essential)?;
            if budget >= essential.price_low_minor {
                format!(
                    "Your budget of {} covers the essential tier; the standard tier starts at {}.",
                    money(budget),
                    money(standard.price_low_minor)
                )
            } else {
                format!(
                    "Your budget of {} is below every tier (the essential tier starts at {}): \
                     consider a smaller first phase.",
                    money(budget),
                    money(essential.price_low_minor)
                )
            }
        } else if budget <= standard.price_high_minor {
            format!("Your budget of {} is within the standard tier's range.", money(budget))
        } else {
            format!(
                "Your budget of {} is above the standard tier's range; the complete tier fits it.",
                money(budget)
            )
        })
    });
    if budget_note.is_none() {
        explanation.push("No budget was given; the tiers are the reference.".to_owned());
    }
    Offer { currency: input.currency.to_owned(), rate, tiers, budget_note, explanation }
}

/// Median and middle half of `rates`, or the reference rate when empty.
fn rate(rates: &[i64], reference: i64) -> Rate {
    let mut sorted: Vec<i64> = rates.iter().copied().filter(|r| *r > 0).collect();
    if sorted.is_empty() {
        return Rate {
            median_minor: reference,
            low_minor: reference,
            high_minor: reference,
            source: RateSource::Reference,
        };
    }
    sorted.sort_unstable();
    let at = |q: f64| {
        let position = q * (sorted.len() - 1) as f64;
        let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
        let weight = position - lower as f64;
        (sorted[lower] as f64 * (1.0 - weight) + sorted[upper] as f64 * weight).round() as i64
    };
    Rate {
        median_minor: at(0.5),
        low_minor: at(0.25),
        high_minor: at(0.75),
        source: RateSource::Freelancers { count: sorted.len() },
    }
}

fn scope(name: TierName, deliverables: &[&str]) -> Vec<String> {
    let listed: Vec<String> = deliverables.iter().map(|d| (*d).to_owned()).collect();
    match name {
        TierName::Essential => {
            let mut scope: Vec<String> = listed.into_iter().take(1).collect();
            if scope.is_empty() {
                scope.push("The core of the request, agreed in a first call".to_owned());
            }
            scope.push("One round of revisions".to_owned());
            scope
        }
        TierName::Standard => {
            let mut scope = listed;
            if scope.is_empty() {
                scope.push("Everything the request describes".to_owned());
            }
            scope.push("Two rounds of revisions".to_owned());
            scope
        }
        TierName::Complete => {
            let mut scope = listed;
            if scope.is_empty() {
                scope.push("Everything the request describes".to_owned());
            }
            scope.extend(
                [
                    "Testing and documentation",
                    "Handover and training",
                    "30 days of support after delivery",
                ]
                .map(str::to_owned),
            );
            scope
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::{analyse, SkillIndex};

    #[test]
    fn prices_follow_effort_and_the_median_rate() {
        let analysis =
            analyse("We need a website with PostgreSQL and Docker.", &SkillIndex::builtin(), 0);
        let made = offer(&OfferInput {
            analysis: &analysis,
            deliverables: &["We need a website with PostgreSQL and Docker."],
            currency: "EUR",
            budget_minor: Some(150_000),
            rates_minor: &[4_000, 6_000, 8_000, 10_000],
            reference_rate_minor: 6_000,
        });
        assert_eq!(made.rate.median_minor, 7_000);
        assert_eq!((made.rate.low_minor, made.rate.high_minor), (5_500, 8_500));
        assert_eq!(made.rate.source, RateSource::Freelancers { count: 4 });
        let names: Vec<TierName> = made.tiers.iter().map(|t| t.name).collect();
        assert_eq!(names, [TierName::Essential, TierName::Standard, TierName::Complete]);
        for tier in &made.tiers {
            assert!(tier.hours_low < tier.hours_high);
            assert_eq!(tier.price_low_minor, i64::from(tier.hours_low) * 7_000);
            assert_eq!(tier.price_high_minor, i64::from(tier.hours_high) * 7_000);
        }
        assert!(made.tiers[0].price_high_minor < made.tiers[2].price_low_minor);
        assert!(made.tiers[2].scope.iter().any(|s| s.contains("support")));
        assert!(made.budget_note.is_some());
        assert!(made.explanation[1].contains("median of 4"));
    }

    #[test]
    fn prose_with_a_number_is_refused() {
        let prose = |intro: &str| OfferProse {
            introduction: intro.to_owned(),
            tiers: TierProse {
                essential: "The core.".into(),
                standard: "All of it.".into(),
                complete: "All of it, with support.".into(),
            },
        };
        assert!(prose("Three ways to build your shop.").check().is_ok());
        assert!(prose("Only 500 EUR!").check().is_err());
        assert!(prose(" ").check().is_err());
        assert_eq!(OfferProse::draft("Bakery shop").check(), Ok(()));
        let err = prose("all of it. ").check().expect_err("a tier said twice");
        assert!(err.contains("differ"), "{err}");
    }

    #[test]
    fn without_rates_the_reference_rate_is_used_and_said() {
        let analysis = analyse("Help.", &SkillIndex::builtin(), 0);
        let made = offer(&OfferInput {
            analysis: &analysis,
            deliverables: &[],
            currency: "CHF",
            budget_minor: Some(100),
            rates_minor: &[],
            reference_rate_minor: 6_000,
        });
        assert_eq!(made.rate.source, RateSource::Reference);
        assert_eq!(made.rate.median_minor, 6_000);
        assert!(made.explanation[1].contains("reference rate"));
        assert!(made.budget_note.as_deref().is_some_and(|n| n.contains("below every tier")));
        assert!(made.tiers[0].scope[0].contains("first call"));
    }
}
