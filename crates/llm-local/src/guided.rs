//! Decoding guided by the answer's JSON Schema: the structure (braces, keys
//! in the schema's order, commas) is written for the model, and the model
//! chooses only where the schema leaves a choice — each string's words, an
//! enum's value, a union's branch, whether an array goes on — and a draft
//! it is improving does not already decide. So a small model's answer
//! always parses, and the rules a string must keep are kept while it is
//! written: a quoted field can only copy the request, a number only one
//! the request or the draft holds, an offer's words no digit at all.
//!
//! Greedy: at each step the best-scored token the rules allow. Supported
//! schema: `object` (keys from `required`, in order), `array` (`items`,
//! `minItems`, `maxItems`), `string`, `enum` of strings, `$ref` to `$defs`,
//! and `anyOf` of objects told apart by their first key's one-value enum.

use std::time::Instant;

use serde_json::Value;

use crate::vocab::Vocab;
use crate::LocalError;

/// Items an array gets at most when its schema sets no `maxItems`.
const DEFAULT_MAX_ITEMS: usize = 5;
/// Tokens one string gets at most before it is closed.
const MAX_STRING_TOKENS: usize = 48;
/// Tokens kept back to close what is open when the budget runs low.
const CLOSING_RESERVE: u32 = 48;
/// How much a token the model wrote recently is held back (the usual
/// remedy for a small model's loops under greedy decoding, and for its
/// habit of writing the same sentence for each of three tiers).
const REPEAT_PENALTY: f32 = 1.3;
/// How many of the model's last tokens the penalty remembers.
const RECENT: usize = 64;

/// What the decoder needs from a model.
pub trait Scorer {
    /// Feeds `tokens` after all fed before; returns the next token's scores.
    fn feed(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LocalError>;
}

/// The rules strings are written under.
#[derive(Clone, Copy, Debug)]
pub struct Rules<'a> {
    /// Fields whose values must occur word for word in `source`.
    pub quoted_fields: &'a [&'a str],
    /// Within a draft, the fields the model rewords; every other value of
    /// the draft is copied as it is.
    pub reworded_fields: &'a [&'a str],
    pub source: &'a str,
    /// `None`: no digit at all. Otherwise the numbers (runs of digits) the
    /// answer may write: those of the request and the draft, so a number
    /// is copied, never made up.
    pub numbers: Option<&'a [Vec<u8>]>,
    /// Tokens the answer may take, structure included.
    pub budget: u32,
    pub deadline: Instant,
}

/// The answer as JSON text and the tokens it took.
#[derive(Debug)]
pub struct Guided {
    pub json: String,
    pub tokens: u32,
}

/// Writes one value of `schema`, the model having read the prompt (`logits`
/// are its scores for the first token of the answer). A `draft` of the same
/// shape is what the model improves: each of its arrays keeps at least its
/// items (a small model tends to close arrays at once, dropping what the
/// draft held), arrays of objects no more, and within its items only the
/// `reworded_fields` are the model's.
pub fn generate(
    scorer: &mut dyn Scorer,
    vocab: &Vocab,
    schema: &Value,
    rules: Rules<'_>,
    draft: Option<&Value>,
    logits: Vec<f32>,
    on_text: &mut dyn FnMut(&[u8]),
) -> Result<Guided, LocalError> {
    let mut decoder = Decoder {
        on_text,
        scorer,
        vocab,
        root: schema,
        rules,
        logits,
        pending: String::new(),
        out: Vec::new(),
        tokens: 0,
        recent: std::collections::VecDeque::with_capacity(RECENT),
    };
    decoder.value(schema, None, draft)?;
    Ok(Guided { json: String::from_utf8_lossy(&decoder.out).into_owned(), tokens: decoder.tokens })
}

struct Decoder<'a> {
    /// Hears the answer so far after each step of the model.
    on_text: &'a mut dyn FnMut(&[u8]),
    scorer: &'a mut dyn Scorer,
    vocab: &'a Vocab,
    root: &'a Value,
    rules: Rules<'a>,
    /// The model's scores for the next token, given everything fed.
    logits: Vec<f32>,
    /// Structure written but not yet fed to the model.
    pending: String,
    out: Vec<u8>,
    tokens: u32,
    /// The model's last [`RECENT`] tokens, for the repetition penalty.
    recent: std::collections::VecDeque<u32>,
}

impl<'a> Decoder<'a> {
    fn value(
        &mut self,
        schema: &'a Value,
        field: Option<&str>,
        draft: Option<&Value>,
    ) -> Result<(), LocalError> {
        let schema = self.resolve(schema)?;
        // Within the draft, only reworded fields are the model's: the rest
        // (kinds, values, sources, quotes) is the draft's, copied.
        if let Some(pinned) = draft.filter(|d| !d.is_array() && !d.is_object()) {
            if !field.is_some_and(|f| self.rules.reworded_fields.contains(&f)) {
                self.write(&pinned.to_string());
                return Ok(());
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let options: Vec<String> = values.iter().map(Value::to_string).collect();
            self.choose(&options)?;
            return Ok(());
        }
        if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
            return self.union(branches, draft);
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => {
                self.write("{");
                self.object_fields(schema, 0, draft)
            }
            Some("array") => self.array(schema, field, draft),
            Some("string") => self.string(field),
            other => Err(LocalError::Unsupported(format!("schema type {other:?}"))),
        }
    }

    fn resolve(&self, schema: &'a Value) -> Result<&'a Value, LocalError> {
        match schema.get("$ref").and_then(Value::as_str) {
            None => Ok(schema),
            Some(reference) => reference
                .strip_prefix("#/")
                .map(|path| format!("/{path}"))
                .and_then(|pointer| self.root.pointer(&pointer))
                .ok_or_else(|| LocalError::Unsupported(format!("reference {reference}"))),
        }
    }

    /// The object's keys from `skip` on (the key names from `required`, in
    /// its order), then the closing brace.
    fn object_fields(
        &mut self,
        schema: &'a Value,
        skip: usize,
        draft: Option<&Value>,
    ) -> Result<(), LocalError> {
        let keys = object_keys(schema)?;
        for (index, key) in keys.iter().enumerate().skip(skip) {
            if index > 0 {
                self.write(",");
            }
            self.write(&format!("{}:", Value::from(*key)));
            let property = &schema["properties"][*key];
            self.value(property, Some(key), draft.and_then(|d| d.get(*key)))?;
        }
        self.write("}");
        Ok(())
    }

    /// A union of objects whose first key holds a one-value enum: the
    /// draft's value, else the model's pick, chooses the branch.
    fn union(&mut self, branches: &'a [Value], draft: Option<&Value>) -> Result<(), LocalError> {
        let mut tags = Vec::with_capacity(branches.len());
        let mut first_key = None;
        for branch in branches {
            let branch = self.resolve(branch)?;
            let keys = object_keys(branch)?;
            let key = *keys.first().ok_or_else(unsupported_union)?;
            if first_key.is_some_and(|first| first != key) {
                return Err(unsupported_union());
            }
            first_key = Some(key);
            let tag = match branch["properties"][key].get("enum").and_then(Value::as_array) {
                Some(values) if values.len() == 1 => values[0].to_string(),
                _ => return Err(unsupported_union()),
            };
            tags.push((tag, branch));
        }
        let key = first_key.ok_or_else(unsupported_union)?;
        self.write(&format!("{{{}:", Value::from(key)));
        let options: Vec<String> = tags.iter().map(|(tag, _)| tag.clone()).collect();
        let drafted = draft.and_then(|d| d.get(key)).map(Value::to_string);
        let chosen = match drafted.and_then(|tag| options.iter().position(|o| *o == tag)) {
            Some(pinned) => {
                self.write(&options[pinned]);
                pinned
            }
            None => self.choose(&options)?,
        };
        self.object_fields(tags[chosen].1, 1, draft)
    }

    fn array(
        &mut self,
        schema: &'a Value,
        field: Option<&str>,
        draft: Option<&Value>,
    ) -> Result<(), LocalError> {
        let items = schema
            .get("items")
            .ok_or_else(|| LocalError::Unsupported("an array without \"items\"".to_owned()))?;
        let count = |key: &str| schema.get(key).and_then(Value::as_u64).map(|n| n as usize);
        let drafted = draft.and_then(Value::as_array).map(Vec::len);
        let min = count("minItems").unwrap_or(0).max(drafted.unwrap_or(0));
        let of_strings = self.resolve(items)?.get("type").and_then(Value::as_str) == Some("string");
        let max = match drafted {
            // Drafted objects (goals, constraints) are the draft's, reworded;
            // the model may add sentences (questions, risks), not facts.
            Some(drafted) if !of_strings => drafted,
            _ => count("maxItems").unwrap_or(DEFAULT_MAX_ITEMS),
        }
        .max(min);
        let opener = if of_strings { "\"" } else { "{" };
        self.write("[");
        let mut written = 0;
        while written < max {
            let low_on_budget = self.tokens + CLOSING_RESERVE >= self.rules.budget;
            if written >= min {
                let next = if written == 0 { opener } else { "," };
                if low_on_budget || self.prefer(&["]", next])? == 0 {
                    break;
                }
            }
            if written > 0 {
                self.write(",");
            }
            self.value(items, field, draft.and_then(|d| d.get(written)))?;
            written += 1;
        }
        self.write("]");
        Ok(())
    }

    /// A string the model writes under the rules, closed when the model
    /// closes it, wants to stop, or has written its share.
    fn string(&mut self, field: Option<&str>) -> Result<(), LocalError> {
        self.write("\"");
        self.feed_pending()?;
        let quoted = field.is_some_and(|f| self.rules.quoted_fields.contains(&f));
        let source = self.rules.source.as_bytes();
        let mut text: Vec<u8> = Vec::new();
        let mut written: Vec<u32> = Vec::new();
        while written.len() < MAX_STRING_TOKENS
            && self.tokens + CLOSING_RESERVE / 2 < self.rules.budget
        {
            let mut scores = self.logits.clone();
            let earlier = self.recent.iter().filter(|id| !written.contains(id));
            for &id in written.iter().chain(earlier) {
                if let Some(score) = scores.get_mut(id as usize) {
                    *score = if *score >= 0.0 {
                        *score / REPEAT_PENALTY
                    } else {
                        *score * REPEAT_PENALTY
                    };
                }
            }
            let ranked = ranked(&scores);
            let mut step = Step::Close;
            for id in ranked {
                match self.judge(id, &text, quoted, source) {
                    Verdict::Refuse => continue,
                    Verdict::Stop => {
                        if has_words(&text) {
                            break;
                        }
                        continue;
                    }
                    Verdict::Write => {
                        step = Step::Write(id);
                        break;
                    }
                    Verdict::WriteAndClose(body) => {
                        step = Step::Finish(body);
                        break;
                    }
                }
            }
            match step {
                Step::Write(id) => {
                    text.extend_from_slice(self.vocab.piece(id));
                    self.out.extend_from_slice(self.vocab.piece(id));
                    written.push(id);
                    if self.recent.len() == RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back(id);
                    self.feed(&[id])?;
                }
                Step::Finish(body) => {
                    text.extend_from_slice(&body);
                    let body = String::from_utf8_lossy(&body).into_owned();
                    self.write(&body);
                    break;
                }
                Step::Close => break,
            }
        }
        self.write("\"");
        Ok(())
    }

    /// Whether token `id` may come next in a string holding `text`.
    fn judge(&self, id: u32, text: &[u8], quoted: bool, source: &[u8]) -> Verdict {
        if self.vocab.is_control(id) {
            return Verdict::Stop;
        }
        let piece = self.vocab.piece(id);
        let (body, closes) = match piece.iter().position(|&b| b == b'"') {
            Some(at) => (&piece[..at], true),
            None => (piece, false),
        };
        if body.iter().any(|&b| b == b'\\' || b < 0x20)
            || !self.numbers_allowed(text, body, closes)
            || (quoted && !continues_a_quote(source, text, body))
        {
            return Verdict::Refuse;
        }
        match (closes, body.is_empty()) {
            (false, true) => Verdict::Refuse,
            (false, false) => Verdict::Write,
            // The quote mark alone: the model wants the string to end.
            (true, true) => Verdict::Stop,
            // Words, then the end: not for an empty string, nor when the
            // words split a character.
            (true, false) if !has_words(text) && !has_words(body) => Verdict::Refuse,
            (true, false) if std::str::from_utf8(body).is_err() => Verdict::Refuse,
            (true, false) => Verdict::WriteAndClose(body.to_vec()),
        }
    }

    /// Whether `body` after `text` keeps every number one the rules allow:
    /// each finished run of digits is a whole allowed number, an unfinished
    /// one the start of one.
    fn numbers_allowed(&self, text: &[u8], body: &[u8], closes: bool) -> bool {
        let ends_in_digit = text.last().is_some_and(u8::is_ascii_digit);
        if !body.iter().any(u8::is_ascii_digit) && !ends_in_digit {
            return true;
        }
        let Some(numbers) = self.rules.numbers else {
            return !body.iter().any(u8::is_ascii_digit);
        };
        let whole = |run: &[u8]| numbers.iter().any(|number| number == run);
        let mut run: Vec<u8> =
            text.iter().rev().take_while(|b| b.is_ascii_digit()).copied().collect();
        run.reverse();
        for &byte in body {
            if byte.is_ascii_digit() {
                run.push(byte);
            } else if !run.is_empty() {
                if !whole(&run) {
                    return false;
                }
                run.clear();
            }
        }
        if closes {
            run.is_empty() || whole(&run)
        } else {
            run.is_empty() || numbers.iter().any(|number| number.starts_with(&run))
        }
    }

    /// Writes the one of `options` (JSON text) the model prefers, judged by
    /// the score of the first token where they differ; returns its index.
    fn choose(&mut self, options: &[String]) -> Result<usize, LocalError> {
        let shared = shared_prefix(options);
        let tails: Vec<&str> = options.iter().map(|option| &option[shared.len()..]).collect();
        self.write(&shared);
        let chosen = self.prefer(&tails)?;
        self.write(tails[chosen]);
        Ok(chosen)
    }

    /// Which of `tails` the model scores higher as what comes next; nothing
    /// is written. The tails are judged as the model would read them: the
    /// structure waiting to be fed and each tail are tokenized together
    /// (`":[` and `]` may be one token), the tokens all of them share are
    /// fed, and the first token where they part is compared.
    fn prefer(&mut self, tails: &[&str]) -> Result<usize, LocalError> {
        let spelled: Vec<Vec<u32>> = tails
            .iter()
            .map(|tail| self.vocab.encode(&format!("{}{tail}", self.pending)))
            .collect::<Result<_, _>>()?;
        let shortest = spelled.iter().map(Vec::len).min().unwrap_or(0);
        let mut shared = spelled[0]
            .iter()
            .enumerate()
            .take_while(|(at, id)| spelled.iter().all(|other| other.get(*at) == Some(id)))
            .count()
            .min(shortest.saturating_sub(1));
        // Feed only tokens that lie wholly in the waiting structure.
        let mut bytes: Vec<u8> =
            spelled[0][..shared].iter().flat_map(|&id| self.vocab.piece(id).to_vec()).collect();
        while shared > 0 && !self.pending.as_bytes().starts_with(&bytes) {
            shared -= 1;
            bytes.truncate(bytes.len() - self.vocab.piece(spelled[0][shared]).len());
        }
        if shared > 0 {
            self.feed(&spelled[0][..shared])?;
            self.pending.drain(..bytes.len());
        }
        let mut best = (0, f32::NEG_INFINITY);
        for (index, tokens) in spelled.iter().enumerate() {
            let score = tokens
                .get(shared)
                .and_then(|&id| self.logits.get(id as usize).copied())
                .unwrap_or(f32::NEG_INFINITY);
            if score > best.1 {
                best = (index, score);
            }
        }
        Ok(best.0)
    }

    /// Structure: written to the answer, fed to the model when a choice needs it.
    fn write(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.pending.push_str(text);
    }

    fn feed_pending(&mut self) -> Result<(), LocalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let ids = self.vocab.encode(&std::mem::take(&mut self.pending))?;
        self.feed(&ids)
    }

    fn feed(&mut self, ids: &[u32]) -> Result<(), LocalError> {
        if Instant::now() > self.rules.deadline {
            return Err(LocalError::OutOfTime);
        }
        self.logits = self.scorer.feed(ids)?;
        self.tokens += ids.len() as u32;
        (self.on_text)(&self.out);
        if self.tokens > self.rules.budget + CLOSING_RESERVE {
            return Err(LocalError::OverBudget(self.rules.budget));
        }
        Ok(())
    }
}

enum Verdict {
    Refuse,
    /// The model wants the string to end here.
    Stop,
    Write,
    /// The token's text up to its quote mark, then the string ends.
    WriteAndClose(Vec<u8>),
}

enum Step {
    Write(u32),
    Finish(Vec<u8>),
    Close,
}

/// The runs of digits in `text`, each once.
pub fn numbers_in(text: &str) -> Vec<Vec<u8>> {
    let mut numbers: Vec<Vec<u8>> = Vec::new();
    for run in text.as_bytes().split(|b| !b.is_ascii_digit()).filter(|run| !run.is_empty()) {
        if !numbers.iter().any(|n| n == run) {
            numbers.push(run.to_vec());
        }
    }
    numbers
}

/// Token ids from the best score down: the best 64 sorted first (almost
/// always enough), then the rest.
fn ranked(scores: &[f32]) -> impl Iterator<Item = u32> + '_ {
    const FIRST: usize = 64;
    let by_score = |a: &u32, b: &u32| scores[*b as usize].total_cmp(&scores[*a as usize]);
    let mut ids: Vec<u32> = (0..scores.len() as u32).collect();
    let split = FIRST.min(ids.len());
    if split < ids.len() {
        ids.select_nth_unstable_by(split, by_score);
    }
    ids[..split].sort_unstable_by(by_score);
    let mut rest_sorted = false;
    let mut at = 0;
    std::iter::from_fn(move || {
        if at == split && !rest_sorted {
            ids[split..].sort_unstable_by(by_score);
            rest_sorted = true;
        }
        let id = ids.get(at).copied();
        at += 1;
        id
    })
}

fn object_keys(schema: &Value) -> Result<Vec<&str>, LocalError> {
    let keys: Vec<&str> = match schema.get("required").and_then(Value::as_array) {
        Some(required) => required.iter().filter_map(Value::as_str).collect(),
        None => schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().map(String::as_str).collect())
            .unwrap_or_default(),
    };
    if keys.iter().any(|key| schema["properties"].get(*key).is_none()) {
        return Err(LocalError::Unsupported("a required key without a property".to_owned()));
    }
    Ok(keys)
}

fn unsupported_union() -> LocalError {
    LocalError::Unsupported("anyOf other than objects told apart by their first key".to_owned())
}

/// Whether `text` holds something other than spaces.
fn has_words(text: &[u8]) -> bool {
    text.iter().any(|b| !b.is_ascii_whitespace())
}

/// Whether `text` followed by `next` occurs in `source`; a quote may not
/// start with a space.
fn continues_a_quote(source: &[u8], text: &[u8], next: &[u8]) -> bool {
    if next.is_empty() {
        return true;
    }
    if text.is_empty() && next.first().is_some_and(u8::is_ascii_whitespace) {
        return false;
    }
    let needle_len = text.len() + next.len();
    if needle_len > source.len() {
        return false;
    }
    source.windows(needle_len).any(|window| window.starts_with(text) && window.ends_with(next))
}

/// The longest start all `options` share, cut at a character boundary.
fn shared_prefix(options: &[String]) -> String {
    let Some(first) = options.first() else { return String::new() };
    let mut end = first.len();
    for option in &options[1..] {
        end = end.min(first.bytes().zip(option.bytes()).take_while(|(a, b)| a == b).count());
    }
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    first[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_continues_only_where_the_source_goes_on() {
        let source = b"We need a new online shop for our bakery.";
        assert!(continues_a_quote(source, b"", b"We"));
        assert!(continues_a_quote(source, b"a new", b" online"));
        assert!(!continues_a_quote(source, b"a new", b" website"));
        assert!(!continues_a_quote(source, b"", b" need"), "a quote does not start with a space");
        assert!(!continues_a_quote(source, b"bakery.", b" And"));
    }

    #[test]
    fn tokens_come_best_first_past_the_first_sorted_ones() {
        let scores: Vec<f32> = (0..200).map(|i| ((i * 37) % 200) as f32).collect();
        let order: Vec<u32> = ranked(&scores).collect();
        assert_eq!(order.len(), 200);
        assert!(order.windows(2).all(|w| scores[w[0] as usize] >= scores[w[1] as usize]));
    }

    #[test]
    fn numbers_are_the_runs_of_digits() {
        assert_eq!(
            numbers_in("4000 EUR by 2027-03-01"),
            vec![b"4000".to_vec(), b"2027".to_vec(), b"03".to_vec(), b"01".to_vec()]
        );
    }

    #[test]
    fn options_share_their_start_up_to_where_they_differ() {
        let options = vec!["\"request\"".to_owned(), "\"form\"".to_owned()];
        assert_eq!(shared_prefix(&options), "\"");
        let options = vec!["]".to_owned(), ",".to_owned()];
        assert_eq!(shared_prefix(&options), "");
        let options = vec!["\"äb\"".to_owned(), "\"äc\"".to_owned()];
        assert_eq!(shared_prefix(&options), "\"ä");
    }
}
