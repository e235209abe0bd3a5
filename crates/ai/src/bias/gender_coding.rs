//! Gendered wording in job ads, after Gaucher, Friesen & Kay, "Evidence that
//! gendered wording in job advertisements exists and sustains gender
//! inequality" (J. Pers. Soc. Psychol., 2011), reproducing the Gender
//! Decoder's algorithm (lovedaybrooke/gender-decoder, MIT; word lists in
//! `data/bias/gender-decoder-wordlists.json` with its licence beside it):
//!
//! 1. Replace non-ASCII characters and whitespace by spaces, split on
//!    `. \t , “ ” ‘ ’ < > * ? ! " [ ] @ ' : ; ( ) / &`, lower-case, drop empties.
//! 2. Split hyphenated words unless they start with a hyphenated coded stem
//!    (`co-operat…`); the original skips the second word of the list in this
//!    pass (it edits the list it iterates), and so do we, to give identical
//!    results.
//! 3. A word counts once for every coded stem it starts with; listed
//!    exceptions (`sharepoint`) never count.
//! 4. `score = feminine − masculine`: 0 → `neutral` (or `empty` with no coded
//!    words), > 3 strongly feminine, > 0 feminine, < −3 strongly masculine,
//!    else masculine.

use std::sync::LazyLock;

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
struct WordLists {
    feminine_coded_words: Vec<String>,
    masculine_coded_words: Vec<String>,
    hyphenated_coded_words: Vec<String>,
    non_coded_exceptions: Vec<String>,
}

static LISTS: LazyLock<WordLists> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../data/bias/gender-decoder-wordlists.json")).unwrap_or(
        WordLists {
            feminine_coded_words: Vec::new(),
            masculine_coded_words: Vec::new(),
            hyphenated_coded_words: Vec::new(),
            non_coded_exceptions: Vec::new(),
        },
    )
});

/// The verdict, in the Gender Decoder's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coding {
    Empty,
    Neutral,
    FeminineCoded,
    StronglyFeminineCoded,
    MasculineCoded,
    StronglyMasculineCoded,
}

impl Coding {
    /// The Gender Decoder's own label.
    pub fn label(self) -> &'static str {
        match self {
            Coding::Empty => "empty",
            Coding::Neutral => "neutral",
            Coding::FeminineCoded => "feminine-coded",
            Coding::StronglyFeminineCoded => "strongly feminine-coded",
            Coding::MasculineCoded => "masculine-coded",
            Coding::StronglyMasculineCoded => "strongly masculine-coded",
        }
    }

    /// Strong verdicts put a job post up for review.
    pub fn is_strong(self) -> bool {
        matches!(self, Coding::StronglyFeminineCoded | Coding::StronglyMasculineCoded)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodedWords {
    pub masculine: Vec<String>,
    pub feminine: Vec<String>,
    pub verdict: Coding,
}

/// Step 1 and 2: the word list.
pub fn word_list(text: &str) -> Vec<String> {
    words_of(text).into_iter().map(str::to_ascii_lowercase).collect()
}

/// Which bytes are part of a word: ASCII, not whitespace, not one of the
/// original's separators (the curly quotes and everything else not ASCII
/// are spaces to it). A table: this test runs on every byte of every ad.
const IN_WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 128 {
        table[byte] = !matches!(
            byte as u8,
            b'\t'
                | b'\n'
                | b'\x0B'
                | b'\x0C'
                | b'\r'
                | b' '
                | b'.'
                | b','
                | b'<'
                | b'>'
                | b'*'
                | b'?'
                | b'!'
                | b'"'
                | b'['
                | b']'
                | b'@'
                | b'\''
                | b':'
                | b';'
                | b'('
                | b')'
                | b'/'
                | b'&'
        );
        byte += 1;
    }
    table
};

fn in_word(byte: u8) -> bool {
    IN_WORD[usize::from(byte)]
}

/// The words of step 1 as they stand in `text` (ASCII, so any byte range
/// of them is text; not yet lower case: comparisons ignore ASCII case).
fn words_of(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut words = Vec::with_capacity(text.len() / 6);
    let mut at = 0;
    while at < bytes.len() {
        if !in_word(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && in_word(bytes[at]) {
            at += 1;
        }
        // Both ends sit next to ASCII bytes or at the text's ends, so this
        // is always some.
        words.extend(text.get(start..at));
    }
    // Most ads have no hyphen at all: one look over the bytes tells.
    if text.as_bytes().contains(&b'-') {
        de_hyphen(words)
    } else {
        words
    }
}

/// `word` starts with `stem` (lower case), ignoring ASCII case.
fn starts_with(word: &str, stem: &str) -> bool {
    word.as_bytes().get(..stem.len()).is_some_and(|head| head.eq_ignore_ascii_case(stem.as_bytes()))
}

fn de_hyphen(words: Vec<&str>) -> Vec<&str> {
    let keeps_hyphen =
        |word: &str| LISTS.hyphenated_coded_words.iter().any(|coded| starts_with(word, coded));
    let processed = |word: &str| word.find('-') != Some(0) && !keeps_hyphen(word);
    // The original edits the list it iterates on its first processed word, so
    // the word after that one is never looked at. Every other processed word
    // is split at its hyphens where it stands. (Linear; the original is
    // quadratic. With duplicate hyphenated words right after the skipped one,
    // the split lands on an equal word elsewhere: same counts, order aside.)
    let skipped = words.iter().position(|word| processed(word)).map(|first| first + 1);
    let splits =
        |index: usize, word: &str| Some(index) != skipped && word.contains('-') && processed(word);
    if !words.iter().enumerate().any(|(index, word)| splits(index, word)) {
        return words;
    }
    let mut out = Vec::with_capacity(words.len() + 8);
    for (index, word) in words.into_iter().enumerate() {
        if splits(index, word) {
            out.extend(word.split('-'));
        } else {
            out.push(word);
        }
    }
    out
}

/// Which list a stem is on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gender {
    Masculine,
    Feminine,
}

/// Both lists' stems by their first three bytes (no stem is shorter; the
/// original only looks at prefixes of 3 to 16 bytes): one lookup per word
/// finds the few stems it may start with.
struct Stems {
    by_head: HashMap<[u8; 3], Vec<(String, Gender)>>,
}

impl Stems {
    fn of(lists: &WordLists) -> Self {
        let mut by_head: HashMap<[u8; 3], Vec<(String, Gender)>> = HashMap::default();
        let stems = (lists.masculine_coded_words.iter().map(|stem| (stem, Gender::Masculine)))
            .chain(lists.feminine_coded_words.iter().map(|stem| (stem, Gender::Feminine)));
        for (stem, gender) in stems {
            if let Some(&[a, b, c]) = stem.as_bytes().get(..3) {
                by_head.entry([a, b, c]).or_default().push((stem.clone(), gender));
            }
        }
        Self { by_head }
    }
}

static STEMS: LazyLock<Stems> = LazyLock::new(|| Stems::of(&LISTS));

/// The masculine and the feminine coded words: each word once per stem of
/// the list it starts with, lower case.
fn coded(words: &[&str]) -> (Vec<String>, Vec<String>) {
    let exception = |word: &str| LISTS.non_coded_exceptions.iter().any(|e| starts_with(word, e));
    let (mut masculine, mut feminine) = (Vec::new(), Vec::new());
    for word in words {
        let Some(&[a, b, c]) = word.as_bytes().get(..3) else { continue };
        let head = [a, b, c].map(|byte| byte.to_ascii_lowercase());
        let Some(candidates) = STEMS.by_head.get(&head) else { continue };
        if exception(word) {
            continue;
        }
        for (stem, gender) in candidates {
            if starts_with(word, stem) {
                let list = match gender {
                    Gender::Masculine => &mut masculine,
                    Gender::Feminine => &mut feminine,
                };
                list.push(word.to_ascii_lowercase());
            }
        }
    }
    (masculine, feminine)
}

pub fn assess(text: &str) -> CodedWords {
    let words = words_of(text);
    let (masculine, feminine) = coded(&words);
    let score = feminine.len() as i64 - masculine.len() as i64;
    let verdict = match score {
        0 if feminine.is_empty() => Coding::Empty,
        0 => Coding::Neutral,
        s if s > 3 => Coding::StronglyFeminineCoded,
        s if s > 0 => Coding::FeminineCoded,
        s if s < -3 => Coding::StronglyMasculineCoded,
        _ => Coding::MasculineCoded,
    };
    CodedWords { masculine, feminine, verdict }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_lists_load() {
        assert_eq!(LISTS.masculine_coded_words.len(), 52);
        assert_eq!(LISTS.feminine_coded_words.len(), 50);
    }

    #[test]
    fn exceptions_never_count() {
        let result = assess("Experience with SharePoint; we share knowledge");
        assert_eq!(result.feminine, vec!["share"]);
    }

    #[test]
    fn a_word_counts_once_per_stem_it_starts_with() {
        // "interpersonal" starts with both "interpersonal" and "interpersona".
        assert_eq!(assess("good interpersonal skills").feminine.len(), 2);
    }
}
