//! Bias detection: exclusionary or inconsiderate language, with byte spans
//! and neutral suggestions, and the gender-coded verdict of job ads.
//!
//! - [`rules`]: rule packs (data files) and their loading.
//! - [`matcher`]: finding every rule phrase in one pass over the words.
//! - [`gender_coding`]: the Gender Decoder's masculine/feminine verdict.
//! - [`bench`]: the throughput benchmark's corpus and timing.
//! - [`context`]: span and line facts built once per check (keeps it linear).
//! - [`grounds`]: the protected ground each category is about.
//! - [`eval`]: precision and recall per ground on a labelled set.
//! - this module: which packs apply to which kind of text, the context
//!   rules (quoted and code spans, allowed "his or her" pairs, an allow-list),
//!   and the score.

pub mod bench;
mod context;
pub mod custom;
pub mod eval;
pub mod gender_coding;
pub mod grounds;
pub mod matcher;
pub mod rules;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use fairgig_core::cancel::{Cancel, Cancelled};

use serde::{Deserialize, Serialize};

use self::{
    context::{capitalised, Spans, TitleCase},
    custom::CustomPack,
    gender_coding::CodedWords,
    matcher::{Key, Matcher, Word},
    rules::{Pack, Rule, RuleType, Severity},
};

/// What the text is; decides the packs that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextKind {
    /// A job post: inconsiderate language and the gender-coded verdict.
    JobPost,
    /// A freelancer profile: inconsiderate language and profanity.
    Profile,
    /// A review: inconsiderate language and profanity.
    Review,
    /// Any text: inconsiderate language.
    Text,
}

impl TextKind {
    pub const ALL: [TextKind; 4] =
        [TextKind::JobPost, TextKind::Profile, TextKind::Review, TextKind::Text];

    /// The shipped packs that apply to this kind of text.
    pub fn packs(self) -> &'static [Pack] {
        match self {
            TextKind::JobPost => {
                &[Pack::Equality, Pack::JobAd, Pack::FairgigJobAd, Pack::Inclusive]
            }
            TextKind::Profile => &[Pack::Equality, Pack::Profanity, Pack::Inclusive],
            TextKind::Review => &[
                Pack::EqualityInReviews,
                Pack::Profanity,
                Pack::FairgigReview,
                Pack::InclusiveInReviews,
            ],
            TextKind::Text => &[Pack::Equality, Pack::Inclusive],
        }
    }
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Allow binary pairs such as "his or her", "she/he", "him/her", "s/he"
    /// (retext's `binary`). On by default: naming both is the inclusive
    /// choice, not a finding; off flags every gendered pronoun.
    pub binary: bool,
    /// Words or phrases an organisation allows (lower case), e.g. a product
    /// name; a set, as every finding asks it.
    pub allow: std::collections::HashSet<String>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { binary: true, allow: std::collections::HashSet::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: Arc<str>,
    pub category: Arc<str>,
    pub severity: Severity,
    /// Byte offsets into the checked text (UTF-8).
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub message: String,
    pub suggestions: Arc<[String]>,
    pub source: Arc<str>,
}

/// A report's verdict by its score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Score 0.
    Clean,
    /// Score below 30.
    MinorIssues,
    /// Score 30 or more.
    NeedsChanges,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// 0 (no concern) to 100: `min(100, 25·errors + 10·warnings + 3·infos + 20 if strongly coded)`.
    pub score: u8,
    pub verdict: Verdict,
    /// Any error-severity finding, or a strongly gender-coded job post.
    pub requires_review: bool,
    /// Findings per category (all of them, listed or not).
    pub categories: BTreeMap<Arc<str>, usize>,
    /// Job posts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coded: Option<CodedWords>,
    /// How many findings the text has.
    pub findings_total: usize,
    /// The findings in text order; a report from [`BiasChecker::check_until`]
    /// lists the first [`MAX_LISTED_FINDINGS`] of `findings_total`.
    pub findings: Vec<Finding>,
}

/// The rules of several packs behind one matcher, so a text is scanned once
/// whatever the number of packs.
struct RuleSet {
    packs: Vec<Pack>,
    rules: Vec<Prepared>,
    matcher: Matcher,
    /// How many words either side of a hit its context rules may read: a
    /// phrase or exception, a gap of two words and another phrase (an
    /// allowed pair), and at least the words a negation looks back ([`LIST_NEGATION_WORDS`]).
    reach: usize,
}

/// A rule with what its findings need worked out once, not per finding.
struct Prepared {
    rule: Rule,
    /// The finding's message is `before` + the matched text + `after`.
    message: (String, String),
    /// Per pattern, where a hit of it may lie inside an exception phrase.
    exceptions: Vec<Vec<ExceptionPlace>>,
    /// Its own patterns have capitals (matched case-sensitively).
    capitalised: bool,
}

impl Prepared {
    fn new(pack: Pack, rule: Rule) -> Self {
        let message = match (pack, &rule.suggestions[..]) {
            (Pack::Profanity, _) => ("Don’t use `".to_owned(), "`, it’s profane".to_owned()),
            (_, []) => ("`".to_owned(), "` may be insensitive, try not to use it".to_owned()),
            (_, suggestions) => {
                let listed: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
                ("`".to_owned(), format!("` may be insensitive, use {} instead", listed.join(", ")))
            }
        };
        let exceptions = rule
            .patterns
            .iter()
            .map(|pattern| ExceptionPlace::all(pattern, &rule.exceptions))
            .collect();
        let capitalised =
            rule.patterns.iter().any(|pattern| pattern.chars().any(char::is_uppercase));
        Self { rule, message, exceptions, capitalised }
    }

    fn message(&self, actual: &str) -> String {
        let (before, after) = &self.message;
        let mut message = String::with_capacity(before.len() + actual.len() + after.len());
        message.push_str(before);
        message.push_str(actual);
        message.push_str(after);
        message
    }
}

impl RuleSet {
    /// `custom` supplies the rules of [`Pack::Organisation`].
    fn new(packs: &[Pack], custom: Option<&CustomPack>) -> Self {
        let mut packs = packs.to_vec();
        packs.sort_by_key(|pack| *pack as u8);
        packs.dedup();
        let rules_of = |pack: Pack| match (pack, custom) {
            (Pack::Organisation, Some(custom)) => custom.rules.clone(),
            _ => pack.rules(),
        };
        let rules: Vec<Prepared> = packs
            .iter()
            .flat_map(|pack| {
                rules_of(*pack).into_iter().map(move |rule| Prepared::new(*pack, rule))
            })
            .collect();
        let plain: Vec<Rule> = rules.iter().map(|prepared| prepared.rule.clone()).collect();
        let longest = rules
            .iter()
            .flat_map(|prepared| prepared.rule.patterns.iter().chain(&prepared.rule.exceptions))
            .map(|phrase| phrase.split_whitespace().count())
            .max()
            .unwrap_or(0);
        let reach = (2 * longest + 4).max(LIST_NEGATION_WORDS);
        Self { matcher: Matcher::new(&plain), packs, rules, reach }
    }

    fn serves(&self, packs: &[Pack]) -> bool {
        packs.len() == self.packs.len() && packs.iter().all(|pack| self.packs.contains(pack))
    }
}

/// Loads the packs once (one combined set per kind of text, one per pack);
/// checking is then read-only and thread-safe. A checker with another
/// organisation pack is a new checker: callers swap the whole thing.
pub struct BiasChecker {
    sets: Vec<RuleSet>,
    custom: Option<CustomPack>,
}

impl std::fmt::Debug for BiasChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BiasChecker").field("rule_sets", &self.sets.len()).finish()
    }
}

impl Default for BiasChecker {
    fn default() -> Self {
        Self::new()
    }
}

impl BiasChecker {
    /// The shipped packs only.
    pub fn new() -> Self {
        Self::with_pack(None)
    }

    /// The shipped packs and, where it applies, the organisation's own.
    pub fn with_pack(custom: Option<CustomPack>) -> Self {
        let mut sets: Vec<RuleSet> = TextKind::ALL
            .iter()
            .map(|kind| RuleSet::new(&packs_for(*kind, custom.as_ref()), custom.as_ref()))
            .collect();
        sets.extend(Pack::ALL.iter().map(|pack| RuleSet::new(&[*pack], None)));
        if custom.is_some() {
            sets.push(RuleSet::new(&[Pack::Organisation], custom.as_ref()));
        }
        Self { sets, custom }
    }

    /// The organisation pack in use, if any.
    pub fn organisation_pack(&self) -> Option<&CustomPack> {
        self.custom.as_ref()
    }

    /// Findings of the given packs, in text order (all of them).
    pub fn findings(&self, text: &str, packs: &[Pack], options: &CheckOptions) -> Vec<Finding> {
        self.found(text, packs, options, &Cancel::default(), usize::MAX)
            .map(|found| found.listed)
            .unwrap_or_default()
    }

    /// The findings of the given packs: the first `listed` in full, all of
    /// them counted. Stops early once `cancel` is set.
    fn found(
        &self,
        text: &str,
        packs: &[Pack],
        options: &CheckOptions,
        cancel: &Cancel,
        listed: usize,
    ) -> Result<Found, Cancelled> {
        self.found_in_windows(text, packs, options, cancel, listed, matcher::WINDOW_WORDS)
    }

    /// [`BiasChecker::found`] with windows of `window` words (tests
    /// compare tiny windows with one that holds the whole text).
    fn found_in_windows(
        &self,
        text: &str,
        packs: &[Pack],
        options: &CheckOptions,
        cancel: &Cancel,
        listed: usize,
        window: usize,
    ) -> Result<Found, Cancelled> {
        let excluded = Spans::new(quoted_or_code_spans(text));
        cancel.check()?;
        let built;
        let set = match self.sets.iter().find(|set| set.serves(packs)) {
            Some(set) => set,
            None => {
                built = RuleSet::new(packs, self.custom.as_ref());
                &built
            }
        };
        let plain_rules: Vec<&Rule> = set.rules.iter().map(|prepared| &prepared.rule).collect();
        let allow_lengths: HashSet<usize> = options.allow.iter().map(String::len).collect();
        let mut title_case = TitleCase::default();
        let mut scratch = String::new();
        let mut tally = Tally::new(set, listed);
        let mut located = Vec::new();
        matcher::windows(text, window, set.reach, |words, own| {
            let mut hits = set.matcher.find_until(text, words, cancel)?;
            let allowed_pairs = if options.binary {
                Spans::new(drop_binary_pairs(text, words, &plain_rules, &mut hits))
            } else {
                Spans::default()
            };
            located.clear();
            for hit in hits.into_iter().filter(|hit| own.contains(&hit.first_word)) {
                let prepared = &set.rules[hit.rule];
                let rule = &prepared.rule;
                let (start, end) = (words[hit.first_word].start, words[hit.last_word].end);
                if excluded.contain(start, end) || allowed_pairs.contain(start, end) {
                    continue;
                }
                if allowed(options, &allow_lengths, &text[start..end]) {
                    continue;
                }
                let places = &prepared.exceptions[hit.pattern];
                if within_exception(text, words, &hit, places, &mut scratch)
                    || (rule.negatable && negated(text, words, &hit, &mut scratch))
                    || (!prepared.capitalised && in_proper_name(text, words, &hit, &mut title_case))
                {
                    continue;
                }
                located.push(Located { start, end, rule: hit.rule, severity: rule.severity });
            }
            // One finding per span: several packs may name the same phrase;
            // keep the most severe (the first pack's on a tie: rules are in
            // pack order). Hits come in text order but for several rules at
            // one word, so the check usually spares the sort.
            let order = |found: &Located| {
                (found.start, found.end, std::cmp::Reverse(found.severity), found.rule)
            };
            if !located.is_sorted_by_key(order) {
                located.sort_unstable_by_key(order);
            }
            located.dedup_by_key(|found| (found.start, found.end));
            tally.add(&located);
            Ok(())
        })?;
        cancel.check()?;
        Ok(tally.found(text))
    }

    /// A report listing every finding (for texts of known, modest size).
    pub fn check(&self, text: &str, kind: TextKind, options: &CheckOptions) -> Report {
        let packs = packs_for(kind, self.custom.as_ref());
        let found = self.found(text, &packs, options, &Cancel::default(), usize::MAX);
        report(text, kind, found.unwrap_or_default())
    }

    /// [`BiasChecker::check`] for a requester who may stop waiting and may
    /// send anything: asks `cancel` between stages and every few thousand
    /// words (a cancelled check of the largest text ends within
    /// milliseconds), and lists the first [`MAX_LISTED_FINDINGS`] findings
    /// while counting all of them.
    pub fn check_until(
        &self,
        text: &str,
        kind: TextKind,
        options: &CheckOptions,
        cancel: &Cancel,
    ) -> Result<Report, Cancelled> {
        let packs = packs_for(kind, self.custom.as_ref());
        let found = self.found(text, &packs, options, cancel, MAX_LISTED_FINDINGS)?;
        cancel.check()?;
        Ok(report(text, kind, found))
    }
}

/// Findings a hostile-size report lists; more are counted only. A text
/// with more is not one a person reads finding by finding, and listing a
/// finding every few bytes of 10 MiB made a response of about a gigabyte.
pub const MAX_LISTED_FINDINGS: usize = 1_000;

/// A finding before its strings are made.
#[derive(Clone, Copy)]
struct Located {
    start: usize,
    end: usize,
    /// Index into the rule set's rules.
    rule: usize,
    severity: Severity,
}

/// A text's findings: the first ones in full, counts of all.
#[derive(Default)]
struct Found {
    listed: Vec<Finding>,
    total: usize,
    /// 25 per error, 10 per warning, 3 per info.
    points: usize,
    any_error: bool,
    categories: BTreeMap<Arc<str>, usize>,
}

/// [`Found`] counted as findings arrive, window by window, keeping the
/// first `listed` whole.
struct Tally<'s> {
    set: &'s RuleSet,
    per_rule: Vec<usize>,
    total: usize,
    points: usize,
    any_error: bool,
    first: Vec<Located>,
    listed: usize,
}

impl<'s> Tally<'s> {
    fn new(set: &'s RuleSet, listed: usize) -> Self {
        Self {
            set,
            per_rule: vec![0; set.rules.len()],
            total: 0,
            points: 0,
            any_error: false,
            first: Vec::new(),
            listed,
        }
    }

    fn add(&mut self, located: &[Located]) {
        for one in located {
            self.per_rule[one.rule] += 1;
            self.points += match one.severity {
                Severity::Error => 25,
                Severity::Warning => 10,
                Severity::Info => 3,
            };
            self.any_error |= one.severity == Severity::Error;
        }
        self.total += located.len();
        let room = self.listed.saturating_sub(self.first.len());
        self.first.extend(located.iter().take(room));
    }

    fn found(self, text: &str) -> Found {
        let mut categories = BTreeMap::new();
        for (prepared, count) in self.set.rules.iter().zip(&self.per_rule) {
            if *count > 0 {
                *categories.entry(prepared.rule.category.clone()).or_insert(0) += count;
            }
        }
        let listed = self
            .first
            .iter()
            .map(|one| {
                let prepared = &self.set.rules[one.rule];
                let rule = &prepared.rule;
                let actual = &text[one.start..one.end];
                Finding {
                    rule_id: rule.id.clone(),
                    category: rule.category.clone(),
                    severity: rule.severity,
                    start: one.start,
                    end: one.end,
                    text: actual.to_owned(),
                    message: prepared.message(actual),
                    suggestions: rule.suggestions.clone(),
                    source: rule.source.clone(),
                }
            })
            .collect();
        Found {
            listed,
            total: self.total,
            points: self.points,
            any_error: self.any_error,
            categories,
        }
    }
}

/// The score, verdict and categories of a text's findings, and the
/// gender-coded verdict of a job post.
fn report(text: &str, kind: TextKind, found: Found) -> Report {
    let coded = (kind == TextKind::JobPost).then(|| gender_coding::assess(text));
    let strongly_coded = coded.as_ref().is_some_and(|coded| coded.verdict.is_strong());
    let points = found.points + if strongly_coded { 20 } else { 0 };
    let score = points.min(100) as u8;
    Report {
        score,
        verdict: match score {
            0 => Verdict::Clean,
            1..30 => Verdict::MinorIssues,
            _ => Verdict::NeedsChanges,
        },
        requires_review: strongly_coded || found.any_error,
        categories: found.categories,
        coded,
        findings_total: found.total,
        findings: found.listed,
    }
}

/// The packs a kind of text is checked with.
fn packs_for(kind: TextKind, custom: Option<&CustomPack>) -> Vec<Pack> {
    let mut packs = kind.packs().to_vec();
    if custom.is_some_and(|custom| custom.applies_to(kind)) {
        packs.push(Pack::Organisation);
    }
    packs
}

/// The organisation allows these words. An ASCII phrase keeps its length
/// when lowered, so one no allowed entry is as long as needs no lowering
/// (most hits, as allow-lists are short).
fn allowed(options: &CheckOptions, lengths: &HashSet<usize>, actual: &str) -> bool {
    if options.allow.is_empty() || (actual.is_ascii() && !lengths.contains(&actual.len())) {
        return false;
    }
    options.allow.contains(&actual.to_lowercase())
}

/// An exception phrase a pattern's hit may lie inside, at one offset: the
/// pattern's words agree with the phrase's there (worked out once, when
/// the rules load), so a hit asks the text only about the phrase's others.
#[derive(Debug)]
struct ExceptionPlace {
    /// How many words of the phrase come before the hit.
    offset: usize,
    /// The phrase's length in words.
    len: usize,
    /// The phrase's words the pattern does not fix: (position, plain key).
    others: Vec<(usize, String)>,
}

impl ExceptionPlace {
    /// Every place of `pattern` inside each of `exceptions`. A text word
    /// matching a pattern word has that word's plain key, so where the
    /// plain keys disagree the exception can never apply.
    fn all(pattern: &str, exceptions: &[String]) -> Vec<Self> {
        let pattern: Vec<Option<String>> = pattern
            .split_whitespace()
            .map(|word| (word != "*").then(|| matcher::plain_key(word)))
            .collect();
        let mut places = Vec::new();
        for phrase in exceptions {
            let phrase: Vec<String> = phrase.split_whitespace().map(matcher::plain_key).collect();
            if pattern.is_empty() || pattern.len() > phrase.len() {
                continue;
            }
            for offset in 0..=phrase.len() - pattern.len() {
                let agrees = pattern
                    .iter()
                    .zip(&phrase[offset..])
                    .all(|(fixed, word)| fixed.as_ref().is_none_or(|fixed| fixed == word));
                if !agrees {
                    continue;
                }
                let others = phrase
                    .iter()
                    .enumerate()
                    .filter(|(position, _)| {
                        position
                            .checked_sub(offset)
                            .and_then(|inside| pattern.get(inside))
                            .is_none_or(Option::is_none)
                    })
                    .map(|(position, word)| (position, word.clone()))
                    .collect();
                places.push(Self { offset, len: phrase.len(), others });
            }
        }
        places
    }
}

/// The hit lies inside one of its pattern's exception phrases.
fn within_exception(
    text: &str,
    words: &[Word],
    hit: &matcher::Hit,
    places: &[ExceptionPlace],
    scratch: &mut String,
) -> bool {
    places.iter().any(|place| {
        let Some(start) = hit.first_word.checked_sub(place.offset) else { return false };
        start + place.len <= words.len()
            && place.others.iter().all(|(position, expected)| {
                words[start + position].key_is(text, Key::Plain, expected, scratch)
            })
    })
}

/// Says a requirement is not one when shortly before it: "no recent
/// graduates needed", "regardless of place of birth". (A `match`: asked for up to four words of every
/// finding, it compiles to a length switch, not eleven comparisons.)
fn is_negator(word: &str) -> bool {
    matches!(
        word,
        "no" | "not"
            | "without"
            | "never"
            | "dont"
            | "doesnt"
            | "isnt"
            | "arent"
            | "nor"
            | "neither"
            | "none"
    )
}

/// How far back a list-opening negation reaches: "regardless of age, sex,
/// national origin or place of birth" names its grounds in a list.
const LIST_NEGATION_WORDS: usize = 8;

/// Opens a list of things that do not count ("regardless of …").
fn opens_negated_list(word: &str) -> bool {
    matches!(word, "regardless" | "irrespective")
}

/// Says a requirement is not one when shortly after it: "… optional".
fn is_canceller(word: &str) -> bool {
    matches!(word, "optional" | "unnecessary" | "irrelevant" | "welcome")
}

/// The hit ends a proper name: "Jack Black", "Lake Crazy Horse", "Mr
/// Black": every word of it capitalised (not all capitals: "CRAZY" is
/// shouting) and right after another capitalised word of the same name. A
/// name's first word cannot be told from a capitalised word ("Crazy Horse"
/// stays a finding; an organisation's allow-list takes it), and in a title
/// case line ("Junior Salesman Wanted", most words capitalised) capitals say
/// nothing, so both are checked as usual. (Rules whose own patterns are
/// capitalised, matched case-sensitively, are not asked.)
fn in_proper_name(
    text: &str,
    words: &[Word],
    hit: &matcher::Hit,
    title_case: &mut TitleCase,
) -> bool {
    let Some(previous) = hit.first_word.checked_sub(1) else { return false };
    let joined = text[words[previous].end..words[hit.first_word].start]
        .bytes()
        .all(|byte| byte == b' ' || byte == b'.');
    if !joined
        || !capitalised(text, &words[previous])
        || !words[hit.first_word..=hit.last_word].iter().all(|word| capitalised(text, word))
    {
        return false;
    }
    // A title-case line is no evidence of a name.
    !title_case.at(text, words[hit.first_word].start)
}

/// A negation shortly before the hit in the same sentence ("no recent
/// graduates needed"; "regardless of …" a list's length before), or "not
/// required" / "optional" shortly after it. Looks at up to
/// [`LIST_NEGATION_WORDS`] words before it and three after, each once.
fn negated(text: &str, words: &[Word], hit: &matcher::Hit, scratch: &mut String) -> bool {
    let breaks_sentence = |from: usize, to: usize| {
        text.as_bytes()[from..to]
            .iter()
            .any(|byte| matches!(byte, b'.' | b'!' | b'?' | b';' | b'\n'))
    };
    // Before: nearest first, until a sentence ends between two words.
    let mut after_word = words[hit.first_word].start;
    let from = hit.first_word.saturating_sub(LIST_NEGATION_WORDS);
    for (distance, word) in words[from..hit.first_word].iter().rev().enumerate() {
        if breaks_sentence(word.end, after_word) {
            break;
        }
        let key = word.key(text, Key::Plain, scratch);
        if (distance < 4 && is_negator(key)) || opens_negated_list(key) {
            return true;
        }
        after_word = word.start;
    }
    // After: "optional", or "not" followed by "required", "needed", …
    let mut before_word = words[hit.last_word].end;
    let mut previous_was_not = false;
    for word in &words[(hit.last_word + 1).min(words.len())..(hit.last_word + 4).min(words.len())] {
        if breaks_sentence(before_word, word.start) {
            break;
        }
        let key = word.key(text, Key::Plain, scratch);
        if is_canceller(key)
            || (previous_was_not && matches!(key, "required" | "needed" | "necessary" | "a"))
        {
            return true;
        }
        previous_was_not = key == "not";
        before_word = word.end;
    }
    false
}

/// Byte ranges inside `code` spans and double quotes: quoted words are
/// mentioned, not used.
fn quoted_or_code_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for (open, close) in [('`', '`'), ('"', '"'), ('“', '”')] {
        let mut from = 0;
        while let Some(opened) = text[from..].find(open) {
            let start = from + opened + open.len_utf8();
            let Some(length) = text[start..].find(close) else { break };
            spans.push((start, start + length));
            from = start + length + close.len_utf8();
        }
    }
    spans
}

/// With `binary` allowed, "her and his", "her or his", "her/his" (one
/// phrase of each group of one `or` rule, joined by and / or / a slash) are
/// fine: drops those hits and returns the pairs' byte ranges, so other packs'
/// findings inside them are dropped too.
fn drop_binary_pairs(
    text: &str,
    words: &[Word],
    rules: &[&Rule],
    hits: &mut Vec<matcher::Hit>,
) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    // The matcher finds hits in text order, so this is a check; a stable
    // sort of millions of hits would allocate half as many again.
    let order = |hit: &matcher::Hit| (hit.first_word, hit.last_word);
    if !hits.is_sorted_by_key(order) {
        hits.sort_unstable_by_key(|hit| (hit.first_word, hit.last_word, hit.rule, hit.pattern));
    }
    let mut drop = vec![false; hits.len()];
    for i in 0..hits.len() {
        // Only hits starting within two words after this one can pair with it.
        for j in (i + 1..hits.len()).take_while(|&j| hits[j].first_word <= hits[i].last_word + 2) {
            let (a, b) = (hits[i], hits[j]);
            let rule = &rules[a.rule];
            let gap = b.first_word.saturating_sub(a.last_word);
            if a.rule != b.rule || rule.kind != RuleType::Or || !(1..=2).contains(&gap) {
                continue;
            }
            if rule.groups.get(a.pattern) == rule.groups.get(b.pattern) {
                continue;
            }
            let between = text[words[a.last_word].end..words[b.first_word].start].trim();
            if ["/", "and", "or", "and/or"]
                .iter()
                .any(|joiner| between.eq_ignore_ascii_case(joiner))
            {
                drop[i] = true;
                drop[j] = true;
                ranges.push((words[a.first_word].start, words[b.last_word].end));
            }
        }
    }
    // "s/he" writes the pair short: a hit right after "s/".
    for (i, hit) in hits.iter().enumerate() {
        let start = words[hit.first_word].start;
        let before = text.get(start.saturating_sub(2)..start).unwrap_or_default();
        if before.eq_ignore_ascii_case("s/")
            && words[hit.first_word].key(text, Key::Plain, &mut String::new()) == "he"
            && hit.first_word == hit.last_word
        {
            drop[i] = true;
            ranges.push((start.saturating_sub(2), words[hit.last_word].end));
        }
    }
    let mut index = 0;
    hits.retain(|_| {
        index += 1;
        !drop[index - 1]
    });
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(
        checker: &BiasChecker,
        text: &str,
        kind: TextKind,
        options: &CheckOptions,
    ) -> Vec<String> {
        checker
            .check(text, kind, options)
            .findings
            .into_iter()
            .map(|f| f.rule_id.to_string())
            .collect()
    }

    #[test]
    fn an_organisation_pack_adds_its_rules_where_it_applies() {
        let pack = custom::parse_pack(
            r#"
[pack]
name = "acme"
applies_to = ["job_post"]

[[rule]]
id = "acme-wizard"
category = "jargon"
severity = "error"
type = "basic"
patterns = ["code wizard"]
suggestions = ["experienced developer"]
source = "ACME style guide"
"#,
        );
        let checker = BiasChecker::with_pack(pack.ok());
        let none = CheckOptions::default();
        let text = "Our code wizard must be a rockstar.";
        let report = checker.check(text, TextKind::JobPost, &none);
        let wizard = report.findings.iter().find(|f| &*f.rule_id == "acme-wizard");
        assert_eq!(wizard.map(|f| (f.start, f.end, &*f.source)), Some((4, 15, "ACME style guide")));
        assert!(report.requires_review, "an error-severity organisation rule asks for review");
        assert!(
            ids(&checker, text, TextKind::JobPost, &none).contains(&"jobad-rockstar".to_owned())
        );
        assert!(!ids(&checker, text, TextKind::Profile, &none).contains(&"acme-wizard".to_owned()));
        assert!(!ids(&BiasChecker::new(), text, TextKind::JobPost, &none)
            .contains(&"acme-wizard".to_owned()));
        let alone = checker.findings(text, &[Pack::Organisation], &none);
        assert_eq!(alone.len(), 1);
    }

    #[test]
    fn windows_find_what_one_pass_over_all_words_finds() {
        let checker = BiasChecker::new();
        let tricky = "No young people needed. Each applicant brings his or her laptop;             s/he reports to Lake Crazy Horse. Avoid \"rockstar\" and `ninja`. We offer a \
            competitive salary to young and dynamic guys.\nJunior Salesman Wanted Now\n\
            Native English speaker not required, young children welcome. ";
        let text =
            format!("{}{}", bench::corpus(1).get(..20_000).unwrap_or_default(), tricky.repeat(40));
        let packs = packs_for(TextKind::JobPost, None);
        for options in
            [CheckOptions::default(), CheckOptions { binary: false, ..CheckOptions::default() }]
        {
            let found = |window: usize| {
                checker
                    .found_in_windows(
                        &text,
                        &packs,
                        &options,
                        &Cancel::default(),
                        usize::MAX,
                        window,
                    )
                    .unwrap_or_default()
            };
            let whole = found(1 << 40);
            assert!(whole.total > 100, "the text has findings to compare: {}", whole.total);
            for window in [1, 2, 7, 100] {
                let windowed = found(window);
                assert_eq!(windowed.total, whole.total, "window {window}");
                assert_eq!(windowed.listed, whole.listed, "window {window}");
                assert_eq!(windowed.categories, whole.categories, "window {window}");
            }
        }
    }

    #[test]
    fn a_word_ending_a_proper_name_is_no_finding() {
        let checker = BiasChecker::new();
        let none = CheckOptions::default();
        let crazy = |text: &str| {
            checker
                .check(text, TextKind::Text, &none)
                .findings
                .iter()
                .any(|f| text[f.start..f.end].eq_ignore_ascii_case("crazy"))
        };
        assert!(!crazy("Our office faces Lake Crazy in the hills."));
        assert!(!crazy("We met at Mount Crazy."));
        assert!(crazy("The deadlines here are crazy."));
        assert!(crazy("Crazy deadlines are a thing of the past."));
        assert!(crazy("Work with our CRAZY team."), "capitals are shouting, not a name");
        assert!(crazy("Join Our Crazy Sales Team"), "a title-case line says nothing");
        assert!(crazy("We are Crazy about code."), "one capital is no name");
    }

    #[test]
    fn age_coded_and_appearance_requirements_ask_for_review() {
        let checker = BiasChecker::new();
        let none = CheckOptions::default();
        for text in [
            "Join our young and dynamic team.",
            "Digital natives wanted.",
            "Recent graduates preferred.",
            "Ideal age 25 to 35.",
            "Well-groomed candidates with a pleasing appearance.",
            "No visible tattoos; send a photo with your CV.",
        ] {
            let report = checker.check(text, TextKind::JobPost, &none);
            assert!(report.requires_review, "{text}: {report:?}");
        }
        let fine = checker.check("We offer an attractive salary.", TextKind::JobPost, &none);
        assert!(!fine.requires_review && fine.findings.is_empty(), "{fine:?}");
    }

    #[test]
    fn ad_is_the_era_only_in_capitals() {
        let checker = BiasChecker::new();
        let none = CheckOptions::default();
        let era = |text: &str| {
            checker
                .check(text, TextKind::JobPost, &none)
                .findings
                .iter()
                .any(|finding| &*finding.rule_id == "phrase-ad")
        };
        assert!(era("The castle was built in 1250 AD."));
        assert!(!era("This Job Ad is fine."));
        assert!(!era("Read our ad below; ad agencies welcome."));
        assert!(!era("Manage users in Azure AD and AD DS."));
    }

    #[test]
    fn context_decides_whether_a_phrase_counts() {
        let checker = BiasChecker::new();
        let none = CheckOptions::default();
        let cases: [(&str, TextKind, &str, bool, &str); 13] = [
            ("We want a rockstar developer.", TextKind::JobPost, "jobad-rockstar", true, "jargon"),
            (
                "Native English speaker required.",
                TextKind::JobPost,
                "language-native-speaker",
                true,
                "requirement",
            ),
            (
                "No native English speaker required.",
                TextKind::JobPost,
                "language-native-speaker",
                false,
                "negated before",
            ),
            (
                "Native English speaker not required.",
                TextKind::JobPost,
                "language-native-speaker",
                false,
                "negated after",
            ),
            (
                "We hire regardless of age, sex, national origin or place of birth.",
                TextKind::JobPost,
                "origin-birthplace",
                false,
                "a list opened by regardless",
            ),
            (
                "Regardless of the deadline. Please state your place of birth.",
                TextKind::JobPost,
                "origin-birthplace",
                true,
                "regardless in another sentence",
            ),
            (
                "No weekend work, and you must be born in Germany.",
                TextKind::JobPost,
                "origin-birthplace",
                true,
                "a negation too far back",
            ),
            (
                "We offer a competitive salary.",
                TextKind::JobPost,
                "jobad-competitive",
                false,
                "exception",
            ),
            (
                "A highly competitive environment.",
                TextKind::JobPost,
                "jobad-competitive",
                true,
                "no exception",
            ),
            (
                "Avoid words like \"rockstar\" in ads.",
                TextKind::JobPost,
                "jobad-rockstar",
                false,
                "quoted",
            ),
            ("Avoid `ninja` in ads.", TextKind::JobPost, "jobad-ninja", false, "code span"),
            (
                "She was abrasive in meetings.",
                TextKind::Review,
                "review-personality",
                true,
                "review language",
            ),
            ("Great work for a woman.", TextKind::Review, "review-for-a-group", true, "stereotype"),
        ];
        for (text, kind, rule, expected, why) in cases {
            let found = ids(&checker, text, kind, &none);
            assert_eq!(found.iter().any(|id| id == rule), expected, "{why}: {text:?} → {found:?}");
        }
    }

    #[test]
    fn binary_pairs_and_allow_lists_are_honoured() {
        let checker = BiasChecker::new();
        let binary = CheckOptions::default();
        assert!(binary.binary, "inclusive pairs are fine unless asked otherwise");
        let flagged = CheckOptions { binary: false, ..CheckOptions::default() };
        for pair in [
            "Each applicant brings his or her laptop.",
            "He or she will report to the lead.",
            "Send it to him/her today.",
            "S/he will review the code.",
            "She/he will review the code.",
        ] {
            assert!(ids(&checker, pair, TextKind::Text, &binary).is_empty(), "{pair}");
            assert!(!ids(&checker, pair, TextKind::Text, &flagged).is_empty(), "{pair}");
        }
        for alone in ["Each applicant brings his laptop.", "He will review the code."] {
            assert!(!ids(&checker, alone, TextKind::Text, &binary).is_empty(), "{alone}");
        }
        let allow = CheckOptions { binary: false, allow: ["guru".to_owned()].into() };
        assert!(!ids(&checker, "Our Guru product team.", TextKind::JobPost, &allow)
            .contains(&"jobad-guru".to_owned()));
    }

    #[test]
    fn reports_score_and_flag_for_review() {
        let checker = BiasChecker::new();
        let clean = checker.check(
            "We build accessible software with a kind, supportive team.",
            TextKind::JobPost,
            &CheckOptions::default(),
        );
        assert_eq!(
            (clean.score, clean.verdict, clean.requires_review),
            (0, Verdict::Clean, false),
            "{clean:?}"
        );
        let biased = checker.check(
            "Young rockstar ninja wanted, native English speaker, max age 30. Ambitious, dominant, competitive, decisive, assertive, fearless leaders only.",
            TextKind::JobPost,
            &CheckOptions::default(),
        );
        assert!(biased.requires_review, "{biased:?}");
        assert_eq!(biased.verdict, Verdict::NeedsChanges);
        assert!(
            biased.categories.contains_key("age") && biased.categories.contains_key("nationality"),
            "{:?}",
            biased.categories
        );
        assert!(biased.coded.as_ref().is_some_and(|c| c.verdict.is_strong()));
    }

    #[test]
    fn spans_are_byte_offsets_into_the_text() {
        let checker = BiasChecker::new();
        let text = "Ünïcödé first — then the chairman’s rockstar mentality.";
        let report = checker.check(text, TextKind::JobPost, &CheckOptions::default());
        assert!(!report.findings.is_empty());
        for finding in report.findings {
            assert_eq!(&text[finding.start..finding.end], finding.text);
        }
    }

    #[test]
    fn a_review_may_name_its_subject_and_praise_but_not_judge_looks_family_or_age() {
        let checker = BiasChecker::new();
        let rules = |text: &str, kind: TextKind| -> Vec<String> {
            let report = checker.check(text, kind, &CheckOptions::default());
            report.findings.iter().map(|finding| finding.rule_id.to_string()).collect()
        };
        let praise = "She delivered the app early. Her tests were thorough, he said, and she \
                      simply got it right; the hand-over was clearly written and easy to follow.";
        assert_eq!(rules(praise, TextKind::Review), Vec::<String>::new());
        // The same words elsewhere are still findings.
        assert!(rules(praise, TextKind::Text).contains(&"he-she".to_owned()));
        for (text, rule) in [
            ("Handsome guy, and the code was fine.", "review-appearance"),
            ("Good work for a busy mum.", "review-family"),
            ("Surprisingly quick at his age.", "review-age"),
            ("The babe did fine.", "gal-guy"),
        ] {
            assert!(rules(text, TextKind::Review).contains(&rule.to_owned()), "{text}");
        }
        assert_eq!(
            rules("A cute logo, delivered on time.", TextKind::Review),
            Vec::<String>::new()
        );
    }

    #[test]
    fn hostile_texts_are_handled_in_bounded_time() {
        let checker = BiasChecker::new();
        let repeated = "rockstar ".repeat(100_000);
        let started = std::time::Instant::now();
        let report = checker.check(&repeated, TextKind::JobPost, &CheckOptions::default());
        assert_eq!(report.findings.len(), 100_000);
        assert_eq!(report.score, 100);
        // Behaviour, not speed, is asserted; this only guards against a hang.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        for text in ["", "🙂🙂🙂", "مرحبا بالعالم", "\u{202e}gnirts", "\0\0"] {
            let report = checker.check(text, TextKind::Review, &CheckOptions::default());
            assert_eq!(report.score, 0, "{text:?}");
        }
    }
}
