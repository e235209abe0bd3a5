//! Finding rule phrases in text in one pass.
//!
//! The text is cut into words with byte spans as it is read ([`Words`]; a
//! word may hold inner hyphens, apostrophes and dots: `bi-polar`, `he’ll`,
//! `O.C.D.`), in overlapping [`windows`] so memory stays flat. A word has
//! three keys, worked out only when asked and borrowed from the text when
//! it already is one: lower case without hyphens and apostrophes
//! (`bipolar`, `hell`, `o.c.d.`), the same keeping apostrophes as `'`
//! (`he'll`), and as written (case-sensitive phrases). Phrases are indexed
//! by their first word's key in a hash map, so the scan costs one to three
//! lookups per word whatever the number of rules; a candidate then checks
//! its remaining words (`*` matches any one word).

use fairgig_core::cancel::{Cancel, Cancelled};

use rustc_hash::FxHashMap as HashMap;

use super::rules::Rule;

/// A word of the text: its byte span and what cutting saw in it. Its
/// matching keys are worked out when asked ([`Word::key`]): borrowed from
/// the text when the word already is its key (most words), written into a
/// caller's scratch buffer otherwise. Storing keys cost 88 bytes and up to
/// three allocations per word; a text can hold a word every two bytes.
#[derive(Clone, Copy, Debug)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    shape: Shape,
}

/// Which key of a word a phrase compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Lower case, no hyphens or apostrophes (`bipolar`, `hell`, `o.c.d.`).
    Plain,
    /// Lower case, no hyphens, apostrophes as `'` (`he'll`).
    Apostrophe,
    /// As written, without hyphens or apostrophes (case-sensitive phrases).
    Exact,
}

impl Word {
    /// Spanning the whole of `raw` (a phrase's own word).
    fn whole(raw: &str) -> Self {
        Word { start: 0, end: raw.len(), shape: Shape::of(raw) }
    }

    /// The word as written.
    pub fn raw<'t>(&self, text: &'t str) -> &'t str {
        &text[self.start..self.end]
    }

    /// The key this word's `kind` key equals: the apostrophe key is the
    /// plain one without an apostrophe, the exact key without a capital.
    fn same_as(&self, kind: Key) -> Key {
        match kind {
            Key::Apostrophe if !self.shape.apostrophe => Key::Plain,
            Key::Exact if !self.shape.capital => Key::Plain,
            kind => kind,
        }
    }

    /// The word's `kind` key: borrowed from `text` when the word already
    /// is it, else written into `scratch`.
    pub fn key<'a>(&self, text: &'a str, kind: Key, scratch: &'a mut String) -> &'a str {
        let raw = self.raw(text);
        let Shape { joiner, apostrophe, capital, .. } = self.shape;
        let unchanged = match self.same_as(kind) {
            Key::Plain => !(joiner || apostrophe || capital),
            Key::Apostrophe => false,
            Key::Exact => !(joiner || apostrophe),
        };
        if unchanged {
            return raw;
        }
        scratch.clear();
        if raw.is_ascii() && !joiner && !apostrophe {
            // A capital only (most words that are not their key).
            scratch.push_str(raw);
            scratch.make_ascii_lowercase();
            return scratch;
        }
        for c in raw.chars().filter(|c| !matches!(c, '-' | '‐')) {
            match (is_apostrophe(c), kind) {
                (true, Key::Apostrophe) => scratch.push('\''),
                (true, _) => {}
                (false, Key::Exact) => scratch.push(c),
                (false, _) if c.is_ascii() => scratch.push(c.to_ascii_lowercase()),
                (false, _) => scratch.extend(c.to_lowercase()),
            }
        }
        scratch
    }
}

impl Word {
    /// `self.key(text, kind, …) == expected`, for ASCII words without
    /// writing the key: context rules compare each finding's neighbours
    /// with several phrases, and most comparisons fail at the first letter.
    pub fn key_is(&self, text: &str, kind: Key, expected: &str, scratch: &mut String) -> bool {
        if self.shape.non_ascii {
            return self.key(text, kind, scratch) == expected;
        }
        // ASCII: any byte range is text, and no key is longer than the word.
        let raw = &text.as_bytes()[self.start..self.end];
        if raw.len() < expected.len() {
            return false;
        }
        if !self.shape.joiner && !self.shape.apostrophe {
            // Keys are lower case: only the exact key keeps capitals.
            return match kind {
                Key::Exact => raw == expected.as_bytes(),
                Key::Plain | Key::Apostrophe => raw.eq_ignore_ascii_case(expected.as_bytes()),
            };
        }
        let kept = raw
            .iter()
            .copied()
            .filter(|&byte| byte != b'-' && (byte != b'\'' || kind == Key::Apostrophe));
        match kind {
            Key::Exact => kept.eq(expected.bytes()),
            Key::Plain | Key::Apostrophe => {
                kept.map(|byte| byte.to_ascii_lowercase()).eq(expected.bytes())
            }
        }
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ')
}

/// A phrase word's `kind` key.
fn key_of_phrase_word(word: &str, kind: Key) -> String {
    Word::whole(word).key(word, kind, &mut String::new()).to_owned()
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
    non_ascii: bool,
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
        self.non_ascii |= !c.is_ascii();
    }
}

/// The matching key of a phrase word: lower case, no hyphens or apostrophes.
pub fn plain_key(word: &str) -> String {
    key_of_phrase_word(word, Key::Plain)
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

/// How many words (or findings) pass between two looks at a cancel flag:
/// about a millisecond of work in an unoptimised build.
pub const CANCEL_EVERY: usize = 4096;

/// Every word of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    Words::of(text).collect()
}

/// Cuts a text into words as it is read, walking it by byte offset (no copy
/// of its characters), noting each word's [`Shape`] on the way.
#[derive(Clone, Debug)]
pub struct Words<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Words<'t> {
    pub fn of(text: &'t str) -> Self {
        Self { text, at: 0 }
    }
}

impl Iterator for Words<'_> {
    type Item = Word;

    fn next(&mut self) -> Option<Word> {
        let text = self.text;
        let alphanumeric_at = |at: usize| char_at(text, at).filter(|c| c.is_alphanumeric());
        while let Some(c) = char_at(text, self.at) {
            if c.is_alphanumeric() {
                break;
            }
            self.at += c.len_utf8();
        }
        let start = self.at;
        if start >= text.len() {
            return None;
        }
        let mut end = start;
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
        self.at = end;
        Some(Word { start, end, shape })
    }
}

/// Words a window holds besides its margins: about 100 KB of text, so a
/// check's memory stays flat however long the text.
pub const WINDOW_WORDS: usize = 16_384;

/// Calls `each` with overlapping windows of `text`'s words (`own` words
/// each, the last maybe fewer), in text order,
/// and the range of window positions that are its own: every word is own
/// to exactly one window, and has at least `margin` words of its window on
/// either side (or the text's start or end), so a question about a word's
/// neighbourhood within `margin` words is answered as over all the words.
/// Cutting a 10 MiB text into one vector had cost 24 bytes a word up front.
pub fn windows<E>(
    text: &str,
    own: usize,
    margin: usize,
    mut each: impl FnMut(&[Word], std::ops::Range<usize>) -> Result<(), E>,
) -> Result<(), E> {
    let full = own.max(1) + 2 * margin;
    let mut cutter = Words::of(text);
    let mut window: Vec<Word> = Vec::new();
    let mut own_from = 0;
    loop {
        let wanted = full - window.len();
        window.extend(cutter.by_ref().take(wanted));
        let ended = window.len() < full;
        let own_to = if ended { window.len() } else { window.len() - margin };
        each(&window, own_from..own_to)?;
        if ended {
            return Ok(());
        }
        // The next window starts `margin` words before its own words.
        window.drain(..own_to - margin);
        own_from = margin;
    }
}

/// One phrase of one rule, ready to match.
#[derive(Debug)]
struct Phrase {
    rule: usize,
    pattern: usize,
    /// `None` is the `*` wildcard.
    words: Vec<Option<String>>,
    /// The key its words are compared by.
    key: Key,
}

impl Phrase {
    /// The phrase's words after the first match the text's from `at + 1`.
    fn rest_matches_at(&self, text: &str, words: &[Word], at: usize, scratch: &mut String) -> bool {
        if at + self.words.len() > words.len() {
            return false;
        }
        self.words.iter().enumerate().skip(1).all(|(k, expected)| match expected {
            None => true,
            Some(expected) => words[at + k].key_is(text, self.key, expected, scratch),
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
                let key = match (pattern.chars().any(char::is_uppercase), rule.apostrophe) {
                    (true, _) => Key::Exact,
                    (false, true) => Key::Apostrophe,
                    (false, false) => Key::Plain,
                };
                let words: Vec<Option<String>> = pattern
                    .split_whitespace()
                    .map(|word| (word != "*").then(|| key_of_phrase_word(word, key)))
                    .collect();
                let Some(Some(first)) = words.first().cloned() else { continue };
                matcher.by_first_word.entry(first).or_default().push(matcher.phrases.len());
                matcher.phrases.push(Phrase {
                    rule: rule_index,
                    pattern: pattern_index,
                    words,
                    key,
                });
            }
        }
        matcher
    }

    /// Every phrase found in `text`, cut into `words`, longest first where
    /// several start at one word of one rule.
    pub fn find(&self, text: &str, words: &[Word]) -> Vec<Hit> {
        self.find_until(text, words, &Cancel::default()).unwrap_or_default()
    }

    /// [`Matcher::find`], asking `cancel` every [`CANCEL_EVERY`] words.
    pub fn find_until(
        &self,
        text: &str,
        words: &[Word],
        cancel: &Cancel,
    ) -> Result<Vec<Hit>, Cancelled> {
        // About one hit per word in the most hostile texts, few in most.
        let mut hits: Vec<Hit> = Vec::with_capacity(words.len() / 8);
        let (mut first_key, mut rest_key) = (String::new(), String::new());
        for (at, word) in words.iter().enumerate() {
            if at % CANCEL_EVERY == 0 {
                cancel.check()?;
            }
            // Hits of this word start here; only they can be the same rule's shorter match.
            let here = hits.len();
            // A word's apostrophe key differs from its plain key only with an
            // apostrophe in it, its exact key only with a capital.
            for kind in [Key::Plain, Key::Apostrophe, Key::Exact] {
                if kind != Key::Plain && word.same_as(kind) == Key::Plain {
                    continue;
                }
                let key = word.key(text, kind, &mut first_key);
                let Some(candidates) = self.by_first_word.get(key) else { continue };
                for &index in candidates {
                    let phrase = &self.phrases[index];
                    if word.same_as(phrase.key) != kind
                        || !phrase.rest_matches_at(text, words, at, &mut rest_key)
                    {
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
        let text = "He’ll";
        let word = words(text)[0];
        let mut scratch = String::new();
        assert_eq!(word.key(text, Key::Plain, &mut scratch), "hell");
        assert_eq!(word.key(text, Key::Apostrophe, &mut scratch), "he'll");
        assert_eq!(word.key(text, Key::Exact, &mut scratch), "Hell");
    }
}
