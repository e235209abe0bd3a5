//! Rule packs: data files in `data/bias/*.toml`, each rule a list of
//! phrases with what to say about them. See each file's header for its source
//! and licence, and `tools/derive_bias_packs.py` for how they were built.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How sure a rule is that a match is a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// `basic`: every phrase is a problem. `or`: phrases name groups (female /
/// male, …); pairs such as "his or her" can be allowed as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleType {
    Basic,
    Or,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Shared with every finding of the rule (no copy per finding).
    pub id: Arc<str>,
    pub category: Arc<str>,
    pub severity: Severity,
    #[serde(rename = "type")]
    pub kind: RuleType,
    /// Keep apostrophes when matching (`he'll` ≠ `hell`); by default they are
    /// dropped so `Down's` matches `downs`.
    #[serde(default)]
    pub apostrophe: bool,
    /// Phrases; `*` stands for any one word. Phrases with capitals match case-sensitively.
    pub patterns: Vec<String>,
    /// For `or` rules: the group each pattern names.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub suggestions: Arc<[String]>,
    #[serde(default)]
    pub explanation: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    /// Longer phrases in which a match is fine ("competitive salary").
    #[serde(default, rename = "except")]
    pub exceptions: Vec<String>,
    /// A requirement that a nearby negation cancels ("no native speaker required").
    #[serde(default)]
    pub negatable: bool,
    pub source: Arc<str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    rule: Vec<Rule>,
}

/// The packs shipped with fairgig, and the organisation's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pack {
    /// Inconsiderate language (retext-equality).
    Equality,
    /// retext-equality for reviews: without the neutral words a review
    /// uses for the person it is about ("she delivered", "his tests") and
    /// without adverbs of ease and certainty ("simply", "easily",
    /// "clearly"), which praise there rather than talk down.
    EqualityInReviews,
    /// Profanity (cuss).
    Profanity,
    /// Job-ad language (inclusive-job-ad-analyser, joblint).
    JobAd,
    /// Exclusionary idioms (jhogue/inclusive-language).
    Inclusive,
    /// jhogue/inclusive-language for reviews, as [`Pack::EqualityInReviews`].
    InclusiveInReviews,
    /// fairgig's own job-ad rules: age, nationality, family, culture fit, appearance.
    FairgigJobAd,
    /// fairgig's own review rules: personality words, effort over achievement.
    FairgigReview,
    /// The deployment's own pack, uploaded through the model registry
    /// ([`super::custom`]); its rules live in the [`super::BiasChecker`].
    Organisation,
}

impl Pack {
    pub const ALL: [Pack; 8] = [
        Pack::Equality,
        Pack::EqualityInReviews,
        Pack::Profanity,
        Pack::JobAd,
        Pack::Inclusive,
        Pack::InclusiveInReviews,
        Pack::FairgigJobAd,
        Pack::FairgigReview,
    ];

    fn text(self) -> &'static str {
        match self {
            Pack::Organisation => "",
            Pack::Equality | Pack::EqualityInReviews => {
                include_str!("../../data/bias/equality.toml")
            }
            Pack::Profanity => include_str!("../../data/bias/profanity.toml"),
            Pack::JobAd => include_str!("../../data/bias/jobad.toml"),
            Pack::Inclusive | Pack::InclusiveInReviews => {
                include_str!("../../data/bias/inclusive.toml")
            }
            Pack::FairgigJobAd => include_str!("../../data/bias/fairgig-jobad.toml"),
            Pack::FairgigReview => include_str!("../../data/bias/fairgig-review.toml"),
        }
    }

    /// The pack's rules. The files are part of the binary and checked by
    /// tests, so a parse failure here is a build defect; it yields no rules
    /// rather than a crash.
    pub fn rules(self) -> Vec<Rule> {
        if self == Pack::Organisation {
            return Vec::new();
        }
        let rules =
            toml::from_str::<PackFile>(self.text()).map(|file| file.rule).unwrap_or_default();
        match self {
            Pack::EqualityInReviews | Pack::InclusiveInReviews => {
                rules.into_iter().filter_map(for_reviews).collect()
            }
            _ => rules,
        }
    }
}

/// The words a review uses for the person it is about: naming them is not
/// a finding there (a demeaning word for a person, "babe", "chick", still
/// is, as are family words, which a review has no business with).
const REVIEWED_PERSON: [&str; 30] = [
    "she",
    "he",
    "she'd",
    "he'd",
    "she'll",
    "he'll",
    "she's",
    "he's",
    "her",
    "hers",
    "him",
    "his",
    "herself",
    "himself",
    "woman",
    "man",
    "women",
    "men",
    "lady",
    "ladies",
    "gentleman",
    "gentlemen",
    "guy",
    "guys",
    "lad",
    "fellow",
    "gal",
    "gals",
    "gents",
    "dude",
];

/// Adverbs and intensifiers: condescending in instructions ("simply
/// run"), praise in a review ("she simply got it right").
const INTENSIFIERS: [&str; 16] = [
    "easy",
    "easily",
    "obvious",
    "obviously",
    "simple",
    "simply",
    "straightforward",
    "straight forward",
    "straightforwardly",
    "basically",
    "clearly",
    "just",
    "of course",
    "actually",
    "literally",
    "really",
];

/// A rule as reviews use it, without the words for the reviewed person and
/// the intensifiers; `None` when nothing is left.
fn for_reviews(mut rule: Rule) -> Option<Rule> {
    let keep: Vec<bool> = rule
        .patterns
        .iter()
        .map(|pattern| {
            !REVIEWED_PERSON.contains(&pattern.as_str())
                && !INTENSIFIERS.contains(&pattern.as_str())
        })
        .collect();
    let mut kept = keep.iter();
    rule.patterns.retain(|_| kept.next().copied().unwrap_or(true));
    if rule.kind == RuleType::Or {
        let mut kept = keep.iter();
        rule.groups.retain(|_| kept.next().copied().unwrap_or(true));
        // An `or` rule weighs one group's words against another's; with
        // one group left there is nothing to weigh.
        let groups: std::collections::HashSet<&String> = rule.groups.iter().collect();
        if groups.len() < 2 {
            return None;
        }
    }
    (!rule.patterns.is_empty()).then_some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_pack_parses() {
        let expected = [
            (Pack::Equality, 425),
            (Pack::EqualityInReviews, 400),
            (Pack::InclusiveInReviews, 230),
            (Pack::Profanity, 1795),
            (Pack::JobAd, 50),
            (Pack::Inclusive, 240),
            (Pack::FairgigJobAd, 10),
            (Pack::FairgigReview, 3),
        ];
        for (pack, at_least) in expected {
            let parsed = toml::from_str::<PackFile>(pack.text()).map(|file| file.rule.len());
            assert!(parsed.as_ref().is_ok_and(|n| *n >= at_least), "{pack:?}: {parsed:?}");
        }
    }
}
