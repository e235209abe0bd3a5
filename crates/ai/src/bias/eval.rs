//! The labelled evaluation of the checker by protected ground.
//!
//! `data/eval/bias-labelled.tsv` holds sentences of job ads with the
//! grounds a careful reviewer would flag in each (the rules are in
//! `data/eval/bias-labelling.md`): sentences of third-party job ads (the
//! acp19tag skill-extraction test set, mostly unremarkable), the example
//! ads of inclusive-job-ad-analyser and joblint, and requirements written
//! for this set after the EEOC's and the EU directives' examples, so every
//! ground has positives. A sentence is predicted to touch a ground when
//! any finding's category belongs to it ([`Ground::of_category`]).
//! Precision and recall per ground are what `fairgig eval bias` prints
//! and what the crate's test holds to floors.

use std::collections::{BTreeMap, BTreeSet};

use super::{grounds::Ground, BiasChecker, CheckOptions, TextKind};

/// The labelled set, compiled in.
pub const LABELLED: &str = include_str!("../../data/eval/bias-labelled.tsv");

/// One labelled sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub grounds: BTreeSet<Ground>,
    /// Where it comes from (`acp19tag`, `joblint`, `written`, …).
    pub source: String,
    pub text: String,
}

/// Why a line of the labelled set could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct LabelError {
    pub line: usize,
    pub message: String,
}

/// Reads `grounds<TAB>source<TAB>text` lines (`-` for no ground; `#`
/// comments and blank lines skipped).
pub fn parse(text: &str) -> Result<Vec<Sample>, LabelError> {
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let error = |message: String| LabelError { line: index + 1, message };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let (Some(grounds), Some(source), Some(sentence)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(error("expected grounds, source and text, tab-separated".into()));
        };
        let grounds = if grounds == "-" {
            BTreeSet::new()
        } else {
            grounds
                .split(',')
                .map(|name| {
                    Ground::parse(name.trim())
                        .ok_or_else(|| error(format!("unknown ground {name:?}")))
                })
                .collect::<Result<_, _>>()?
        };
        samples.push(Sample { grounds, source: source.to_owned(), text: sentence.to_owned() });
    }
    Ok(samples)
}

/// Counts for one ground.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Counts {
    /// `None` when nothing was predicted.
    pub fn precision(&self) -> Option<f64> {
        let predicted = self.true_positives + self.false_positives;
        (predicted > 0).then(|| self.true_positives as f64 / predicted as f64)
    }

    /// `None` when nothing is labelled.
    pub fn recall(&self) -> Option<f64> {
        let labelled = self.true_positives + self.false_negatives;
        (labelled > 0).then(|| self.true_positives as f64 / labelled as f64)
    }
}

/// The grounds the checker finds in `text`, read as a job post.
pub fn predicted(checker: &BiasChecker, text: &str) -> BTreeSet<Ground> {
    checker
        .check(text, TextKind::JobPost, &CheckOptions::default())
        .findings
        .iter()
        .filter_map(|finding| Ground::of_category(&finding.category))
        .collect()
}

/// What the evaluation found: counts per ground, and every sentence it got
/// wrong (for reading, not for scoring).
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub by_ground: BTreeMap<Ground, Counts>,
    pub samples: usize,
    /// `(text, labelled, predicted)` of every sentence with a difference.
    pub mistakes: Vec<(String, BTreeSet<Ground>, BTreeSet<Ground>)>,
}

/// Scores `checker` on `samples`.
pub fn evaluate(checker: &BiasChecker, samples: &[Sample]) -> Outcome {
    let mut outcome = Outcome { samples: samples.len(), ..Outcome::default() };
    for ground in Ground::ALL {
        outcome.by_ground.insert(ground, Counts::default());
    }
    for sample in samples {
        let found = predicted(checker, &sample.text);
        for ground in Ground::ALL {
            let counts = outcome.by_ground.entry(ground).or_default();
            match (sample.grounds.contains(&ground), found.contains(&ground)) {
                (true, true) => counts.true_positives += 1,
                (false, true) => counts.false_positives += 1,
                (true, false) => counts.false_negatives += 1,
                (false, false) => {}
            }
        }
        if found != sample.grounds {
            outcome.mistakes.push((sample.text.clone(), sample.grounds.clone(), found));
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_and_garbage_is_refused_with_its_line() {
        let samples =
            parse("# a comment\n\nage,sex\twritten\tYoung men only.\n-\tacp19tag\tFine.\n")
                .expect("parses");
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].grounds, BTreeSet::from([Ground::Age, Ground::Sex]));
        assert!(samples[1].grounds.is_empty());
        assert_eq!(parse("age\tonly two").map(|s| s.len()).expect_err("two fields").line, 1);
        assert!(parse("\n\nlooks\tx\ty").expect_err("no such ground").message.contains("looks"));
    }

    #[test]
    fn counts_give_precision_and_recall() {
        let counts = Counts { true_positives: 3, false_positives: 1, false_negatives: 2 };
        assert_eq!(counts.precision(), Some(0.75));
        assert_eq!(counts.recall(), Some(0.6));
        assert_eq!(Counts::default().precision(), None);
    }
}
