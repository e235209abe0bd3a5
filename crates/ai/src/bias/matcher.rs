//! Finding rule phrases in text in one pass.
//!
//! The text is cut into words with byte spans (a word may hold inner
//! hyphens, apostrophes and dots: `bi-polar`, `he’ll`, `O.C.D.`). Each word
//! has two keys: lower-cased without hyphens and apostrophes (`bipolar`,
//! `hell`, `o.c.d.`) and the same keeping apostrophes as `'` (`he'll`).
//! Phrases are indexed by their first word's key in a hash map, so the scan
//! costs one or two lookups per word whatever the number of rules; a
//! candidate then checks its remaining words (`*` matches any one word).

use rustc_hash::FxHashMap as HashMap;

use super::rules::Rule;

/// A word of the text. The apostrophe and exact keys are stored only when
/// they differ from the plain key (most words have neither an apostrophe nor
/// a capital), which saves two allocations per word.
#[derive(Clone, Debug)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    /// Lower case, no hyphens or apostrophes.
    pub plain: String,
    apostrophe: Option<String>,
    exact: Option<String>,
}

impl Word {
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
    let mut plain = String::with_capacity(raw.len());
    let mut apostrophe = String::with_capacity(raw.len());
    let mut exact = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c == '-' || c == '‐' {
            continue;
        }
        if is_apostrophe(c) {
            apostrophe.push('\'');
            continue;
        }
        exact.push(c);
        for lower in c.to_lowercase() {
            plain.push(lower);
            apostrophe.push(lower);
        }
    }
    (plain, apostrophe, exact)
}

/// The matching key of a phrase word: lower case, no hyphens or apostrophes.
pub fn plain_key(word: &str) -> String {
    keys(word).0
}

/// Cuts `text` into words.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut j = i + 1;

        loop {
            while j < chars.len() && chars[j].1.is_alphanumeric() {
                j += 1;
            }
            let joins = j + 1 < chars.len()
                && (chars[j].1 == '-'
                    || chars[j].1 == '‐'
                    || chars[j].1 == '.'
                    || is_apostrophe(chars[j].1))
                && chars[j + 1].1.is_alphanumeric();
            if !joins {
                break;
            }
            j += 1;
        }
        // An abbreviation of single letters keeps its final dot: "O.C.D.".
        let end = chars.get(j).map_or(text.len(), |(offset, _)| *offset);
        let body = &text[start..end];
        let abbreviation =
            body.contains('.') && body.split('.').all(|part| part.chars().count() == 1);
        if abbreviation && j < chars.len() && chars[j].1 == '.' {
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |(offset, _)| *offset);
        let raw = &text[start..end];
        let (plain, apostrophe, exact) = keys(raw);
        let apostrophe = (apostrophe != plain).then_some(apostrophe);
        let exact = (exact != plain).then_some(exact);
        out.push(Word { start, end, plain, apostrophe, exact });
        i = j;
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
    fn key_of<'w>(&self, word: &'w Word) -> &'w str {
        match (self.case_sensitive, self.apostrophe) {
            (true, _) => word.exact(),
            (false, true) => word.apostrophe(),
            (false, false) => &word.plain,
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
        let mut hits: Vec<Hit> = Vec::new();
        for (at, word) in text.iter().enumerate() {
            // Hits of this word start here; only they can be the same rule's shorter match.
            let here = hits.len();
            let mut seen_keys: [Option<&str>; 3] = [None; 3];
            for (slot, key) in
                [word.plain.as_str(), word.apostrophe(), word.exact()].into_iter().enumerate()
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
        hits
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
        assert_eq!((keys[0].plain.as_str(), keys[0].apostrophe()), ("hell", "he'll"));
    }
}
