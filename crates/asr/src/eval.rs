//! Measuring transcription: the word error rate and the fixed sentences it
//! is measured on (spoken by espeak-ng in the tests and `fairgig bench asr`,
//! so no one's voice is needed and the figure compares across versions).

/// Twenty sentences of the kind clients dictate, one per line.
pub const SENTENCES_EN: &str = include_str!("../data/sentences-en.txt");

/// The sentences of [`SENTENCES_EN`].
pub fn sentences() -> Vec<&'static str> {
    SENTENCES_EN.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// Lower-case words, letters, digits and apostrophes only: punctuation and
/// case are not errors.
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance (substitutions, insertions, deletions).
pub fn word_errors(reference: &[String], hypothesis: &[String]) -> usize {
    let mut previous: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut current = vec![i + 1; hypothesis.len() + 1];
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = previous[j] + usize::from(r != h);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[hypothesis.len()]
}

/// Errors over reference words.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = words(reference);
    if reference.is_empty() {
        return if words(hypothesis).is_empty() { 0.0 } else { 1.0 };
    }
    word_errors(&reference, &words(hypothesis)) as f64 / reference.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_substitutions_insertions_and_deletions() {
        assert_eq!(word_error_rate("the cat sat", "the cat sat"), 0.0);
        assert_eq!(word_error_rate("the cat sat", "The cat, sat!"), 0.0);
        assert!((word_error_rate("the cat sat", "the dog sat") - 1.0 / 3.0).abs() < 1e-12);
        assert!((word_error_rate("the cat sat", "the cat sat down") - 1.0 / 3.0).abs() < 1e-12);
        assert!((word_error_rate("the cat sat", "cat") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(sentences().len(), 20);
    }
}
