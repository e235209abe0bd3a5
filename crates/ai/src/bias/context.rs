//! Facts about a text's layout that the context rules ask once per finding,
//! built at most once per check so the whole check stays linear in the
//! text: a text can hold a finding every few bytes, and a question that
//! walked the text for each of them made a 840 KB text take 15 s.
//!
//! - [`Spans`]: is a byte range inside one of a set of ranges (quotes,
//!   code, allowed "his or her" pairs)?
//! - [`TitleCase`]: are most of a line's words capitalised (a title-case
//!   line says nothing about proper names)?

use super::matcher::{Word, Words};

/// Byte ranges, sorted by start, with the furthest end reached so far: a
/// range lies inside one of them exactly when the furthest end among those
/// starting at or before it reaches its end. Questions come in text order,
/// so the search gallops on from where the last one ended (a binary search
/// per finding over millions of quoted spans missed the cache each time).
#[derive(Debug, Default)]
pub struct Spans {
    starts: Vec<usize>,
    furthest_end: Vec<usize>,
    /// How many ranges start at or before the last question's start.
    last: std::cell::Cell<usize>,
}

impl Spans {
    pub fn new(mut ranges: Vec<(usize, usize)>) -> Self {
        // Callers pass a few sorted runs: the stable sort merges them.
        ranges.sort();
        let mut furthest = 0;
        let furthest_end = ranges
            .iter()
            .map(|&(_, end)| {
                furthest = furthest.max(end);
                furthest
            })
            .collect();
        Self {
            starts: ranges.into_iter().map(|(start, _)| start).collect(),
            furthest_end,
            last: std::cell::Cell::new(0),
        }
    }

    /// `start..end` lies inside one of the ranges.
    pub fn contain(&self, start: usize, end: usize) -> bool {
        let before = self.starting_at_or_before(start);
        self.last.set(before);
        before > 0 && self.furthest_end[before - 1] >= end
    }

    /// How many ranges start at or before `at`: galloping from the last
    /// answer, in steps that double, then a binary search of the last step.
    fn starting_at_or_before(&self, at: usize) -> usize {
        let starts = &self.starts;
        let last = self.last.get().min(starts.len());
        if last > 0 && starts[last - 1] > at {
            return starts.partition_point(|&from| from <= at);
        }
        let (mut low, mut step) = (last, 1);
        while low + step <= starts.len() && starts[low + step - 1] <= at {
            low += step;
            step *= 2;
        }
        let high = (low + step).min(starts.len());
        low + starts[low..high].partition_point(|&from| from <= at)
    }
}

/// A word's first letter is upper case and not all its letters are ("CRAZY"
/// is shouting, not a name).
pub fn capitalised(text: &str, word: &Word) -> bool {
    let mut letters = text[word.start..word.end].chars().filter(|c| c.is_alphabetic());
    letters.next().is_some_and(char::is_uppercase) && !letters.all(char::is_uppercase)
}

/// Whether the line around a byte is title case: most of its words after
/// the first (which is capitalised anyway) are capitalised. Findings are
/// asked about in text order, so it remembers the last line and reads each
/// line once; a question about an earlier line is answered too, by reading
/// that line again.
#[derive(Debug, Default)]
pub struct TitleCase {
    /// The last line read (byte range, without its newline) and its answer.
    line: Option<(usize, usize, bool)>,
}

impl TitleCase {
    /// The line holding byte `at` of `text` is title case.
    pub fn at(&mut self, text: &str, at: usize) -> bool {
        if let Some((start, end, title)) = self.line {
            if (start..=end).contains(&at) {
                return title;
            }
        }
        let bytes = text.as_bytes();
        let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |newline| newline + 1);
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(text.len(), |newline| at + newline);
        // Words never span a newline, so the line cut alone has the same words.
        let line = &text[start..end];
        let (mut words, mut capitals) = (0usize, 0usize);
        for word in Words::of(line).skip(1) {
            words += 1;
            capitals += usize::from(capitalised(line, &word));
        }
        let title = capitals * 2 > words;
        self.line = Some((start, end, title));
        title
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
        // Questions out of order are answered as in order.
        for (start, end) in [(55, 56), (11, 19), (0, 5), (45, 50), (13, 39), (2, 3)] {
            let scan = ranges.iter().any(|&(from, to)| from <= start && end <= to);
            assert_eq!(spans.contain(start, end), scan, "{start}..{end}");
        }
    }

    #[test]
    fn title_case_counts_capitals_after_each_first_word() {
        let text = "Junior Salesman Wanted Now\nwe need a Sales Person\n\nAlone";
        let words = words(text);
        let mut lines = TitleCase::default();
        assert!(lines.at(text, words[0].start), "three of three after the first");
        assert!(!lines.at(text, words[5].start), "two of four");
        assert!(!lines.at(text, words[words.len() - 1].start), "a line of one word");
        assert!(lines.at(text, words[1].start), "an earlier line is read again");
    }
}
