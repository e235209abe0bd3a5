//! Extractive summary: the sentences that carry the most keyword weight.
//!
//! A sentence scores `Σ RAKE(word) / √(words)` (longer sentences do not win
//! by length alone), plus 10 % for the first sentence (briefs lead with the
//! point). The best `n` are returned in their original order.

use std::collections::HashMap;

/// Splits on `.`, `!`, `?` followed by whitespace, and on line breaks.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            push_sentence(&mut out, &mut current);
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|next| next.is_whitespace()) {
            push_sentence(&mut out, &mut current);
        }
    }
    push_sentence(&mut out, &mut current);
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let sentence = current.trim();
    if sentence.chars().any(char::is_alphanumeric) {
        out.push(sentence.to_owned());
    }
    current.clear();
}

pub fn summarise(
    sentences: &[String],
    word_scores: &HashMap<String, f64>,
    n: usize,
) -> Vec<String> {
    if sentences.len() <= n {
        return sentences.to_vec();
    }
    let mut scored: Vec<(usize, f64)> = sentences
        .iter()
        .enumerate()
        .map(|(i, sentence)| {
            let words: Vec<String> = sentence
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
                .filter(|w| !w.is_empty())
                .collect();
            let weight: f64 = words.iter().filter_map(|w| word_scores.get(w)).sum();
            let score =
                weight / (words.len().max(1) as f64).sqrt() * if i == 0 { 1.1 } else { 1.0 };
            (i, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = scored.into_iter().take(n).map(|(i, _)| i).collect();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| sentences[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_on_terminators_and_lines() {
        assert_eq!(
            sentences("First one. Second one!\nThird line\nv1.2 is out? Yes."),
            vec!["First one.", "Second one!", "Third line", "v1.2 is out?", "Yes."]
        );
    }

    #[test]
    fn the_summary_keeps_original_order() {
        let text = "Intro. Rust API with PostgreSQL and Docker deployment. Filler. Kubernetes cluster setup and monitoring.";
        let scored = super::super::keywords::rake(text);
        let summary = summarise(&sentences(text), &scored.word_scores, 2);
        assert_eq!(
            summary,
            vec![
                "Rust API with PostgreSQL and Docker deployment.",
                "Kubernetes cluster setup and monitoring."
            ]
        );
    }
}
