//! Finding rule phrases in text in one pass.
//!
//! The text is cut into words with byte spans (a word may hold inner
//! hyphens, apostrophes and dots: `bi-polar`, `he’ll`, `O.C.D.`). Each word
//! has two keys: lower-cased without hyphens and apostrophes (`bipolar`,
//! `hell`, `o.c.d.`) and the same keeping apostrophes as `'` (`he'll`).
//! Phrases are indexed by their first word's key in a hash map, so the scan
//! costs one or two lookups per word whatever the number of rules; a
//! candidate then checks its remaining words (`*` matches any one word).

use fairgig_core::cancel::{Cancel, Cancelled};
use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use super::rules::Rule;

/// A word of the text. The apostrophe and exact keys are stored only when
/// they differ from the plain key (most words have neither an apostrophe nor
/// a capital), which saves two allocations per word.
#[derive(Clone, Debug)]
pub struct Word<'t> {
    pub start: usize,
    pub end: usize,
    /// Lower case, no hyphens or apostrophes: borrowed from the text when
    /// the word already is (most words), so cutting allocates nothing.
    pub plain: Cow<'t, str>,
    apostrophe: Option<String>,
    /// Borrowed too when the word has no joiners.
    exact: Option<Cow<'t, str>>,
}

impl Word<'_> {
    /// Lower case, no hyphens, apostrophes as `'`.
    pub fn apostrophe(&self) -> &str {
        self.apostrophe.as_deref().unwrap_or(&self.plain)
    }

    /// As written, without hyphens or apostrophes (for case-sensitive phrases).
    pub fn exact(&self) -> &str {
        self.exact.as_deref().unwrap_or(&self.plain)
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ')
}

fn keys(raw: &str) -> (String, String, String) {
    let (plain, apostrophe, exact) = word_keys(raw, Shape::of(raw));
    let apostrophe = apostrophe.unwrap_or_else(|| plain.to_string());
    let exact = exact.map_or_else(|| plain.to_string(), Cow::into_owned);
    (plain.into_owned(), apostrophe, exact)
}

/// Whether lower-casing changes `c`.
fn changes_case(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_uppercase()
    } else {
        !c.to_lowercase().eq(std::iter::once(c))
    }
}

/// What cutting saw in a word, so working out its keys needs no second
/// look at it.
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    joiner: bool,
    apostrophe: bool,
    capital: bool,
    dot: bool,
}

impl Shape {
    fn of(raw: &str) -> Self {
        let mut shape = Self::default();
        raw.chars().for_each(|c| shape.see(c));
        shape
    }

    fn see(&mut self, c: char) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            return;
        }
        self.joiner |= c == '-' || c == '‐';
        self.apostrophe |= is_apostrophe(c);
        self.capital |= changes_case(c);
        self.dot |= c == '.';
    }
}

/// A word's plain key, and its apostrophe and exact keys only where they
/// differ from the plain one: most words have neither an apostrophe nor a
/// capital, and those are already their plain key: borrowing it instead of
/// allocating three keys per word is most of the matcher's speed.
fn word_keys(raw: &str, shape: Shape) -> (Cow<'_, str>, Option<String>, Option<Cow<'_, str>>) {
    let joiner = |c: char| c == '-' || c == '‐';
    let Shape { joiner: has_joiner, apostrophe: has_apostrophe, capital: has_capital, .. } = shape;
    if !(has_joiner || has_apostrophe || has_capital) {
        return (Cow::Borrowed(raw), None, None);
    }
    let lower = |c: char, key: &mut String| {
        if c.is_ascii() {
            key.push(c.to_ascii_lowercase());
        } else {
            key.extend(c.to_lowercase());
        }
    };
    let mut plain = String::with_capacity(raw.len());
    for c in raw.chars().filter(|c| !joiner(*c) && !is_apostrophe(*c)) {
        lower(c, &mut plain);
    }
    let apostrophe = has_apostrophe.then(|| {
        let mut key = String::with_capacity(raw.len());
        for c in raw.chars().filter(|c| !joiner(*c)) {
            if is_apostrophe(c) {
                key.push('\'');
            } else {
                lower(c, &mut key);
            }
        }
        key
    });
    let exact = has_capital.then(|| {
        if has_joiner || has_apostrophe {
            Cow::Owned(raw.chars().filter(|c| !joiner(*c) && !is_apostrophe(*c)).collect())
        } else {
            Cow::Borrowed(raw)
        }
    });
    (Cow::Owned(plain), apostrophe, exact)
}

/// The matching key of a phrase word: lower case, no hyphens or apostrophes.
pub fn plain_key(word: &str) -> String {
    keys(word).0
}

/// The character starting at byte `at` of `text` (`None` at the end).
fn char_at(text: &str, at: usize) -> Option<char> {
    match text.as_bytes().get(at) {
        Some(&byte) if byte.is_ascii() => Some(char::from(byte)),
        Some(_) => text.get(at..).and_then(|rest| rest.chars().next()),
        None => None,
    }
}

/// Joins two runs of letters into one word: `bi-polar`, `he’ll`, `O.C.D`.
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '‐' | '.') || is_apostrophe(c)
}

/// Where the run of letters and digits from `at` ends, noting its shape.
/// ASCII, most of any text here, goes byte by byte.
fn run_end(text: &str, mut at: usize, shape: &mut Shape) -> usize {
    while let Some(&byte) = text.as_bytes().get(at) {
        if byte.is_ascii_alphanumeric() {
            shape.capital |= byte.is_ascii_uppercase();
            at += 1;
            continue;
        }
        match char_at(text, at) {
            Some(c) if !c.is_ascii() && c.is_alphanumeric() => {
                shape.see(c);
                at += c.len_utf8();
            }
            _ => break,
        }
    }
    at
}

/// Cuts `text` into words, walking it by byte offset (no copy of its
/// characters), noting each word's [`Shape`] on the way.
/// How many words (or findings) pass between two looks at a cancel flag:
/// about a millisecond of work in an unoptimised build.
pub const CANCEL_EVERY: usize = 4096;

pub fn words(text: &str) -> Vec<Word<'_>> {
    let alphanumeric_at = |at: usize| char_at(text, at).filter(|c| c.is_alphanumeric());
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut at = 0;
    while let Some(c) = char_at(text, at) {
        if !c.is_alphanumeric() {
            at += c.len_utf8();
            continue;
        }
        let start = at;
        let mut end = at;
        let mut shape = Shape::default();
        loop {
            end = run_end(text, end, &mut shape);
            match char_at(text, end) {
                Some(joiner)
                    if is_joiner(joiner) && alphanumeric_at(end + joiner.len_utf8()).is_some() =>
                {
                    shape.see(joiner);
                    end += joiner.len_utf8();
                }
                _ => break,
            }
        }
        // An abbreviation of single letters keeps its final dot: "O.C.D.".
        if shape.dot
            && char_at(text, end) == Some('.')
            && text[start..end].split('.').all(|part| part.chars().count() == 1)
        {
            end += 1;
        }
        let raw = &text[start..end];
        let (plain, apostrophe, exact) = word_keys(raw, shape);
        out.push(Word { start, end, plain, apostrophe, exact });
        at = end;
    }
    out
}

/// One phrase of one rule, ready to match.
#[derive(Debug)]
struct Phrase {
    rule: usize,
    pattern: usize,
    /// `None` is the `*` wildcard.
    words: Vec<Option<String>>,
    case_sensitive: bool,
    apostrophe: bool,
}

impl Phrase {
    fn key_of<'w>(&self, word: &'w Word<'_>) -> &'w str {
        match (self.case_sensitive, self.apostrophe) {
            (true, _) => word.exact(),
            (false, true) => word.apostrophe(),
            (false, false) => word.plain.as_ref(),
        }
    }

    fn matches_at(&self, text: &[Word], at: usize) -> bool {
        if at + self.words.len() > text.len() {
            return false;
        }
        self.words.iter().enumerate().all(|(k, expected)| match expected {
            None => true,
            Some(expected) => expected == self.key_of(&text[at + k]),
        })
    }
}

/// A phrase found: which rule and pattern, and the words it spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: usize,
    pub pattern: usize,
    pub first_word: usize,
    pub last_word: usize,
}

#[derive(Debug, Default)]
pub struct Matcher {
    phrases: Vec<Phrase>,
    by_first_word: HashMap<String, Vec<usize>>,
}

impl Matcher {
    pub fn new(rules: &[Rule]) -> Self {
        let mut matcher = Matcher::default();
        for (rule_index, rule) in rules.iter().enumerate() {
            for (pattern_index, pattern) in rule.patterns.iter().enumerate() {
                let case_sensitive = pattern.chars().any(|c| c.is_uppercase());
                let words: Vec<Option<String>> = pattern
                    .split_whitespace()
                    .map(|word| {
                        (word != "*").then(|| {
                            let (plain, apostrophe, exact) = keys(word);
                            match (case_sensitive, rule.apostrophe) {
                                (true, _) => exact,
                                (false, true) => apostrophe,
                                (false, false) => plain,
                            }
                        })
                    })
                    .collect();
                let Some(Some(first)) = words.first().cloned() else { continue };
                matcher.by_first_word.entry(first).or_default().push(matcher.phrases.len());
                matcher.phrases.push(Phrase {
                    rule: rule_index,
                    pattern: pattern_index,
                    words,
                    case_sensitive,
                    apostrophe: rule.apostrophe,
                });
            }
        }
        matcher
    }

    /// Every phrase found, longest first where several start at one word of one rule.
    pub fn find(&self, text: &[Word]) -> Vec<Hit> {
        self.find_until(text, &Cancel::default()).unwrap_or_default()
    }

    /// [`Matcher::find`], asking `cancel` every [`CANCEL_EVERY`] words.
    pub fn find_until(&self, text: &[Word], cancel: &Cancel) -> Result<Vec<Hit>, Cancelled> {
        let mut hits: Vec<Hit> = Vec::new();
        for (at, word) in text.iter().enumerate() {
            if at % CANCEL_EVERY == 0 {
                cancel.check()?;
            }
            // Hits of this word start here; only they can be the same rule's shorter match.
            let here = hits.len();
            let mut seen_keys: [Option<&str>; 3] = [None; 3];
            for (slot, key) in
                [word.plain.as_ref(), word.apostrophe(), word.exact()].into_iter().enumerate()
            {
                if seen_keys[..slot].contains(&Some(key)) {
                    continue;
                }
                seen_keys[slot] = Some(key);
                let Some(candidates) = self.by_first_word.get(key) else { continue };
                for &index in candidates {
                    let phrase = &self.phrases[index];
                    if phrase.key_of(word) != key || !phrase.matches_at(text, at) {
                        continue;
                    }
                    let hit = Hit {
                        rule: phrase.rule,
                        pattern: phrase.pattern,
                        first_word: at,
                        last_word: at + phrase.words.len() - 1,
                    };
                    match hits[here..].iter_mut().find(|h| h.rule == hit.rule) {
                        Some(existing) if existing.last_word < hit.last_word => *existing = hit,
                        Some(_) => {}
                        None => hits.push(hit),
                    }
                }
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_inner_joiners_and_abbreviation_dots() {
        let text = "My O.C.D. and a bi-polar he’ll _dummyVariable, v1.2.";
        let found: Vec<&str> = words(text).iter().map(|w| &text[w.start..w.end]).collect();
        assert_eq!(
            found,
            vec!["My", "O.C.D.", "and", "a", "bi-polar", "he’ll", "dummyVariable", "v1.2"]
        );
        let keys = words("He’ll");
        assert_eq!((keys[0].plain.as_ref(), keys[0].apostrophe()), ("hell", "he'll"));
    }
}
