//! Judged relevance that ships with the product, for the promotion gate
//! when real feedback is too scarce to judge a challenger by alone.
//!
//! `data/relevance-set.tsv` is written by `fairgig eval matching
//! --write-relevance-set`: test-split lists of both directions of that
//! evaluation (ESCO occupations as jobs and freelancers, graded by the
//! ISCO hierarchy), each candidate's eight features and grade. A linear
//! ranker is scored on it without the data or the embedding model that
//! made it. Its features were computed with the local model
//! (all-MiniLM-L6-v2); a deployment with another embedding model still
//! learns from its own feedback, and this set only guards against a
//! challenger that forgot what relevance looks like.

use std::sync::OnceLock;

use fairgig_matching::learning::{Example, ShownList};

/// The set as built into the binary.
const SET: &str = include_str!("../data/relevance-set.tsv");

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("relevance set, line {line}: {message}")]
pub struct RelevanceSetError {
    pub line: usize,
    pub message: String,
}

/// The shipped lists, parsed once.
pub fn lists() -> Result<&'static [ShownList], RelevanceSetError> {
    static LISTS: OnceLock<Result<Vec<ShownList>, RelevanceSetError>> = OnceLock::new();
    LISTS.get_or_init(|| parse(SET)).as_ref().map(Vec::as_slice).map_err(Clone::clone)
}

/// Rows `direction, list, grade, eight features`, tab-separated, grouped
/// into lists by their first two fields; `#` starts a comment line.
pub fn parse(text: &str) -> Result<Vec<ShownList>, RelevanceSetError> {
    let mut lists: Vec<ShownList> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for (at, line) in text.lines().enumerate() {
        let line_no = at + 1;
        let fail = |message: String| RelevanceSetError { line: line_no, message };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [direction, list, grade, values @ ..] = fields.as_slice() else {
            return Err(fail("fewer than three fields".into()));
        };
        let label: u8 = grade
            .parse()
            .ok()
            .filter(|grade| *grade <= 4)
            .ok_or_else(|| fail(format!("grade {grade:?} is not 0–4")))?;
        let values: Vec<f64> = values
            .iter()
            .map(|value| value.parse::<f64>().ok().filter(|v| (0.0..=1.0).contains(v)))
            .collect::<Option<_>>()
            .ok_or_else(|| fail("a feature is not a number in [0, 1]".into()))?;
        let features: [f64; 8] =
            values.try_into().map_err(|_| fail("not eight features".into()))?;
        let key = ((*direction).to_owned(), (*list).to_owned());
        if current.as_ref() != Some(&key) {
            lists.push(ShownList { examples: Vec::new() });
            current = Some(key);
        }
        if let Some(list) = lists.last_mut() {
            let rank = list.examples.len() + 1;
            list.examples.push(Example { features, rank, label, newcomer: false });
        }
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairgig_matching::learning::mean_ndcg;
    use fairgig_matching::score::LinearModel;

    #[test]
    fn the_shipped_set_parses_and_tells_rankers_apart() {
        let lists = lists().expect("the shipped set parses");
        assert_eq!(lists.len(), 150, "75 lists per direction");
        assert!(lists.iter().all(|list| list.examples.iter().any(|e| e.label > 0)));
        // The built-in champion was fitted on the other (train) split; on
        // these lists it must still rank above meaning alone, and far
        // above a ranker that ignores relevance (recency only).
        let champion = mean_ndcg(lists, &LinearModel::v3().weights);
        let semantic = mean_ndcg(lists, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let recency = mean_ndcg(lists, &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(champion > semantic, "champion {champion:.4}, semantic {semantic:.4}");
        assert!(semantic > recency + 0.2, "semantic {semantic:.4}, recency {recency:.4}");
    }

    #[test]
    fn garbage_is_refused_with_its_line() {
        let bad = |text: &str| parse(text).err().map(|err| err.line);
        assert_eq!(bad("# c\nx\t1\t9\t0\t0\t0\t0\t0\t0\t0\t0\n"), Some(2), "grade 9");
        assert_eq!(bad("x\t1\t1\t0\t0\n"), Some(1), "two features");
        assert_eq!(bad("x\t1\t1\t0\t0\t0\t0\t0\t0\t0\tNaN\n"), Some(1));
        assert_eq!(bad("x\t1\t1\t0\t0\t0\t0\t0\t0\t0\t2\n"), Some(1), "outside [0, 1]");
        assert_eq!(bad("x\n"), Some(1));
        let two = parse("a\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\na\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\nb\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n")
            .expect("valid");
        assert_eq!(two.iter().map(|l| l.examples.len()).collect::<Vec<_>>(), vec![2, 1]);
    }
}
