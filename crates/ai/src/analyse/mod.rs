//! Deterministic analysis of a brief. Same text in, same analysis out: no
//! model, no randomness, so results are reproducible and testable.
//!
//! Output fields ([`Analysis`]):
//! - `language`: ISO 639-3 code, English name and whatlang's confidence (0–1);
//!   absent when the text is too short or mixed to tell.
//! - `keywords`: up to 10 key phrases by RAKE score ([`keywords`]).
//! - `summary`: up to 3 sentences of the text, in their original order,
//!   chosen by the keyword weight they carry ([`summary`]).
//! - `money`: amounts with currency, in minor units, with byte spans ([`money`]).
//! - `dates`: deadline mentions, absolute (`date` set) or relative ([`dates`]).
//! - `skills`: ESCO skills named in the text, with byte spans ([`skills`]).
//! - `complexity`: `low | medium | high` with its score and reasons ([`complexity`]).
//! - `words`, `sentences`: counts.

pub mod complexity;
pub mod dates;
pub mod keywords;
pub mod money;
pub mod skills;
pub mod summary;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use skills::SkillIndex;

/// Borrowed from `whatlang` when detected, owned when read back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Language {
    pub code: Cow<'static, str>,
    pub name: Cow<'static, str>,
    pub confidence: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub language: Option<Language>,
    pub keywords: Vec<keywords::Keyword>,
    pub summary: Vec<String>,
    pub money: Vec<money::MoneyMention>,
    pub dates: Vec<dates::DateMention>,
    pub skills: Vec<skills::SkillMention>,
    pub complexity: complexity::Complexity,
    pub words: usize,
    pub sentences: usize,
}

/// The language of `text`, when whatlang is sure enough (or the text is
/// long enough for its guess to be worth taking).
pub fn detect_language(text: &str) -> Option<Language> {
    whatlang::detect(text).filter(|info| info.is_reliable() || text.len() > 40).map(|info| {
        Language {
            code: Cow::Borrowed(info.lang().code()),
            name: Cow::Borrowed(info.lang().eng_name()),
            confidence: (info.confidence() * 1000.0).round() / 1000.0,
        }
    })
}

/// How much of a text [`reads_german`] reads: a thousand bytes tell a
/// language apart as well as the whole text does.
pub const STEMMING_SAMPLE: usize = 1_000;

/// Whether `text` reads as German, which decides whether the search index
/// stems it in German too. The same detector as [`detect_language`], asked
/// only among the Latin-script languages of Western Europe and over the
/// first [`STEMMING_SAMPLE`] bytes: indexing runs it once per document, and
/// over every language it took most of the index's build time.
pub fn reads_german(text: &str) -> bool {
    use std::sync::OnceLock;
    use whatlang::{Detector, Lang};
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let detector = DETECTOR.get_or_init(|| {
        Detector::with_allowlist(vec![
            Lang::Eng,
            Lang::Deu,
            Lang::Fra,
            Lang::Spa,
            Lang::Ita,
            Lang::Nld,
            Lang::Por,
        ])
    });
    let sample = &text[..text.floor_char_boundary(STEMMING_SAMPLE)];
    detector
        .detect(sample)
        .is_some_and(|info| info.lang() == Lang::Deu && (info.is_reliable() || sample.len() > 40))
}

/// Analyses `text`; `attachments` counts the files that came with it (they
/// add to complexity).
pub fn analyse(text: &str, skill_index: &SkillIndex, attachments: usize) -> Analysis {
    let language = detect_language(text);
    let scored = keywords::rake(text);
    let sentences = summary::sentences(text);
    let summary = summary::summarise(&sentences, &scored.word_scores, 3);
    let money = money::find(text);
    let dates = dates::find(text);
    let skills = skill_index.find(text);
    let words = text.split_whitespace().count();
    let complexity = complexity::estimate(words, skills.len(), attachments, money.len());
    Analysis {
        language,
        keywords: scored.top(10),
        summary,
        money,
        dates,
        skills,
        complexity,
        words,
        sentences: sentences.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_is_told_from_english_and_other_languages_on_a_sample() {
        let german = "Renovierung. Wir renovieren zwei alte Häuser am See und suchen dafür einen erfahrenen Handwerker.";
        assert!(reads_german(german));
        assert_eq!(detect_language(german).map(|l| l.code.into_owned()).as_deref(), Some("deu"));
        assert!(!reads_german(
            "Renovation. We renovate two old houses by the lake and need a skilled builder."
        ));
        assert!(!reads_german("Rénovation. Nous rénovons deux vieilles maisons au bord du lac."));
        assert!(!reads_german(""));
        // A long text is sampled at a character boundary, whatever sits there.
        let long = format!("{}{}", "ä".repeat(STEMMING_SAMPLE), german);
        let _ = reads_german(&long);
        assert!(reads_german(&format!("{german} {}", "Das Haus ist alt. ".repeat(200))));
    }

    #[test]
    fn a_realistic_brief_is_analysed_end_to_end() {
        let text = "We need an experienced Rust developer to build a REST API with PostgreSQL and Docker. \
                    The budget is €4,500 and the deadline is 2027-03-01. \
                    The API must handle authentication, rate limiting and audit logging. \
                    Experience with Kubernetes is a plus.";
        let analysis = analyse(text, &SkillIndex::builtin(), 1);
        assert_eq!(analysis.language.as_ref().map(|l| l.code.as_ref()), Some("eng"));
        assert_eq!(analysis.money.len(), 1);
        assert_eq!(analysis.money[0].amount_minor, 450_000);
        assert_eq!(analysis.dates[0].date.as_deref(), Some("2027-03-01"));
        let labels: Vec<&str> = analysis.skills.iter().map(|s| s.label.as_str()).collect();
        assert!(labels.contains(&"PostgreSQL"), "{labels:?}");
        assert!(labels.contains(&"Docker"), "{labels:?}");
        assert!(!analysis.keywords.is_empty());
        assert!(analysis.summary.len() <= 3);
        assert_eq!(analysis, analyse(text, &SkillIndex::builtin(), 1), "deterministic");
    }

    #[test]
    fn empty_and_odd_texts_are_fine() {
        let index = SkillIndex::builtin();
        for text in ["", "   ", "🙂🙂🙂", "שלום עולם", &"spam ".repeat(10_000)] {
            let analysis = analyse(text, &index, 0);
            assert!(analysis.summary.len() <= 3);
        }
    }
}
