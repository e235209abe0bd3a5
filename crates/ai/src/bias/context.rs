//! Facts about a text's layout that the context rules ask once per finding,
//! built at most once per check so the whole check stays linear in the
//! text: a text can hold a finding every few bytes, and a question that
//! walked the text for each of them made a 840 KB text take 15 s.
//!
//! - [`Spans`]: is a byte range inside one of a set of ranges (quotes,
//!   code, allowed "his or her" pairs)?
//! - [`Lines`]: how many of a line's words are capitalised (a title-case
//!   line says nothing about proper names)?

use super::matcher::Word;

/// Byte ranges, sorted by start, with the furthest end reached so far: a
/// range lies inside one of them exactly when the furthest end among those
/// starting at or before it reaches its end (one binary search).
#[derive(Debug, Default)]
pub struct Spans {
    starts: Vec<usize>,
    furthest_end: Vec<usize>,
}

impl Spans {
    pub fn new(mut ranges: Vec<(usize, usize)>) -> Self {
        ranges.sort_unstable();
        let mut furthest = 0;
        let furthest_end = ranges
            .iter()
            .map(|&(_, end)| {
                furthest = furthest.max(end);
                furthest
            })
            .collect();
        Self { starts: ranges.into_iter().map(|(start, _)| start).collect(), furthest_end }
    }

    /// `start..end` lies inside one of the ranges.
    pub fn contain(&self, start: usize, end: usize) -> bool {
        let before = self.starts.partition_point(|&from| from <= start);
        before > 0 && self.furthest_end[before - 1] >= end
    }
}

/// A word's first letter is upper case and not all its letters are ("CRAZY"
/// is shouting, not a name).
pub fn capitalised(text: &str, word: &Word) -> bool {
    let mut letters = text[word.start..word.end].chars().filter(|c| c.is_alphabetic());
    letters.next().is_some_and(char::is_uppercase) && !letters.all(char::is_uppercase)
}

/// Each word's line, and per line the count of words and of capitalised
/// words after its first word (which is capitalised anyway).
#[derive(Debug)]
pub struct Lines {
    line_of_word: Vec<u32>,
    /// (words after the first, capitalised words after the first) per line.
    counts: Vec<(u32, u32)>,
}

impl Lines {
    /// One pass over the words; newlines between words are counted with
    /// memchr, so every byte of the text is looked at once.
    pub fn new(text: &str, words: &[Word]) -> Self {
        let mut line_of_word = Vec::with_capacity(words.len());
        let mut counts: Vec<(u32, u32)> = vec![(0, 0)];
        let mut line = 0usize;
        let mut first_in_line = true;
        let mut scanned = 0;
        for word in words {
            let breaks = memchr::memchr_iter(b'\n', &text.as_bytes()[scanned..word.start]).count();
            if breaks > 0 {
                line += breaks;
                counts.resize(line + 1, (0, 0));
                first_in_line = true;
            }
            scanned = word.end;
            line_of_word.push(u32::try_from(line).unwrap_or(u32::MAX));
            if first_in_line {
                first_in_line = false;
                continue;
            }
            let entry = &mut counts[line];
            entry.0 += 1;
            entry.1 += u32::from(capitalised(text, word));
        }
        Self { line_of_word, counts }
    }

    /// Most words of `word`'s line after its first are capitalised.
    pub fn title_case(&self, word: usize) -> bool {
        let line = self.line_of_word.get(word).map_or(0, |&line| line as usize);
        let (words, capitals) = self.counts.get(line).copied().unwrap_or((0, 0));
        capitals * 2 > words
    }
}

#[cfg(test)]
mod tests {
    use super::super::matcher::words;
    use super::*;

    #[test]
    fn spans_answer_as_a_scan_would() {
        let ranges = vec![(10, 20), (0, 5), (12, 40), (50, 51), (3, 4)];
        let spans = Spans::new(ranges.clone());
        for start in 0..60 {
            for end in start..60 {
                let scan = ranges.iter().any(|&(from, to)| from <= start && end <= to);
                assert_eq!(spans.contain(start, end), scan, "{start}..{end}");
            }
        }
        assert!(!Spans::default().contain(0, 0));
    }

    #[test]
    fn lines_count_capitals_after_each_first_word() {
        let text = "Junior Salesman Wanted Now\nwe need a Sales Person\n\nAlone";
        let words = words(text);
        let lines = Lines::new(text, &words);
        assert!(lines.title_case(0), "three of three after the first");
        assert!(!lines.title_case(5), "two of four");
        assert!(!lines.title_case(words.len() - 1), "a line of one word");
    }
}
