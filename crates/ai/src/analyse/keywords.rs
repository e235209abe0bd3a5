//! Key phrases by RAKE (Rose, Engel, Cramer & Cowley, "Automatic keyword
//! extraction from individual documents", 2010).
//!
//! Candidate phrases are the runs of words between stop words and
//! punctuation. Each word scores `deg(w) / freq(w)`, where `freq` counts its
//! occurrences in candidates and `deg` sums the lengths of the candidates it
//! occurs in; a phrase scores the sum of its words' scores. Phrases of more
//! than four words are dropped (they are usually sentences without stop words).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    pub phrase: String,
    pub score: f64,
}

/// Candidate phrases with scores, and the per-word scores (for the summary).
#[derive(Debug, Default)]
pub struct Scored {
    pub phrases: Vec<Keyword>,
    pub word_scores: HashMap<String, f64>,
}

impl Scored {
    /// The best `n` distinct phrases, best first (ties by first appearance).
    pub fn top(&self, n: usize) -> Vec<Keyword> {
        let mut phrases = self.phrases.clone();
        phrases.sort_by(|a, b| b.score.total_cmp(&a.score));
        phrases.truncate(n);
        phrases
    }
}

const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "either",
    "etc", "few", "for", "from", "further", "get", "had", "has", "have", "having", "he", "her",
    "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "like", "may", "me", "might", "more", "most", "must", "my", "need", "needs", "no", "nor",
    "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our", "ours", "out",
    "over", "own", "per", "please", "same", "shall", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
    "to", "too", "under", "until", "up", "us", "use", "using", "very", "via", "want", "was", "we",
    "well", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
    "with", "within", "would", "you", "your", "yours",
];

fn is_stop(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Splits into lower-cased candidate phrases.
fn candidates(text: &str) -> Vec<Vec<String>> {
    let mut phrases = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let flush = |current: &mut Vec<String>, phrases: &mut Vec<Vec<String>>| {
        if !current.is_empty() {
            phrases.push(std::mem::take(current));
        }
    };
    for token in
        text.split_inclusive(|c: char| c.is_whitespace() || ".,;:!?()[]{}\"'/|".contains(c))
    {
        let boundary = token.ends_with(|c: char| ".,;:!?()[]{}\"/|".contains(c));
        let word: String = token
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '#')
            .to_lowercase();
        if word.is_empty() || is_stop(&word) || word.chars().all(|c| c.is_ascii_digit()) {
            flush(&mut current, &mut phrases);
        } else {
            current.push(word);
        }
        if boundary {
            flush(&mut current, &mut phrases);
        }
    }
    flush(&mut current, &mut phrases);
    phrases
}

pub fn rake(text: &str) -> Scored {
    let phrases = candidates(text);
    let mut frequency: HashMap<&str, f64> = HashMap::new();
    let mut degree: HashMap<&str, f64> = HashMap::new();
    for phrase in &phrases {
        for word in phrase {
            *frequency.entry(word).or_default() += 1.0;
            *degree.entry(word).or_default() += phrase.len() as f64;
        }
    }
    let word_scores: HashMap<String, f64> =
        frequency.iter().map(|(word, freq)| ((*word).to_owned(), degree[word] / freq)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut scored = Vec::new();
    for phrase in phrases.iter().filter(|phrase| phrase.len() <= 4) {
        let text = phrase.join(" ");
        if !seen.insert(text.clone()) {
            continue;
        }
        let score: f64 = phrase.iter().map(|word| word_scores[word]).sum();
        scored.push(Keyword { phrase: text, score: (score * 100.0).round() / 100.0 });
    }
    Scored { phrases: scored, word_scores }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    /// The worked example of the RAKE paper (its Figure 1.1 text).
    #[test]
    fn the_papers_example_ranks_as_published() {
        let text = "Compatibility of systems of linear constraints over the set of natural numbers. \
                    Criteria of compatibility of a system of linear Diophantine equations, strict inequations, \
                    and nonstrict inequations are considered. Upper bounds for components of a minimal set of \
                    solutions and algorithms of construction of minimal generating sets of solutions for all \
                    types of systems are given. These criteria and the corresponding algorithms for \
                    constructing a minimal supporting set of solutions can be used in solving all the \
                    considered types of systems and systems of mixed types.";
        let top: Vec<String> = rake(text).top(4).into_iter().map(|k| k.phrase).collect();
        // The paper's top phrases: "minimal generating sets" (8.7), "linear diophantine
        // equations" (8.5), "minimal supporting set" (7.7), "minimal set" (4.7).
        assert_eq!(top[0], "minimal generating sets");
        assert_eq!(top[1], "linear diophantine equations");
        assert_eq!(top[2], "minimal supporting set");
    }
}
