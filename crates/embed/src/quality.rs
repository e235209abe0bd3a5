//! Embedding quality on the STS benchmark: sentence pairs with human
//! similarity scores (0–5); a model is as good as the Spearman correlation
//! of its cosines with those scores. The file is the STS-B distribution's
//! tab-separated format (genre, file, year, id, score, sentence 1,
//! sentence 2, …), e.g. `sts-dev.csv`. Used by the `embed` crate's own
//! reference test and by `fairgig model evaluate-embedder`, which records
//! the figure in the model registry.

/// One scored pair.
#[derive(Clone, Debug, PartialEq)]
pub struct StsPair {
    /// The human score, 0 (unrelated) to 5 (same meaning).
    pub human: f64,
    pub a: String,
    pub b: String,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum StsError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("no sentence pairs")]
    Empty,
}

/// Parses an STS-B file; every line must be a pair (blank lines aside).
pub fn parse_sts(text: &str) -> Result<Vec<StsPair>, StsError> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: &str| StsError::Line { line: index + 1, message: message.to_owned() };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 7 {
            return Err(bad("expected 7 tab-separated fields (…, score, sentence 1, sentence 2)"));
        }
        let human: f64 = fields[4].trim().parse().map_err(|_| bad("the score is not a number"))?;
        if !(0.0..=5.0).contains(&human) {
            return Err(bad("the score is not between 0 and 5"));
        }
        pairs.push(StsPair { human, a: fields[5].to_owned(), b: fields[6].to_owned() });
    }
    if pairs.is_empty() {
        return Err(StsError::Empty);
    }
    Ok(pairs)
}

/// Ranks with ties sharing their mean rank, as Spearman's rho needs.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            ranks[k] = mean;
        }
        i = j + 1;
    }
    ranks
}

/// Pearson's correlation; 0 when either side does not vary.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    if n == 0.0 {
        return 0.0;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    if vx == 0.0 || vy == 0.0 {
        return 0.0;
    }
    cov / (vx * vy).sqrt()
}

/// Spearman's rank correlation.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn spearman_ranks_ties_by_mean() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![2.5, 0.0, 2.5, 1.0]);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), 0.0, "no variation, no correlation");
    }

    #[test]
    fn sts_lines_parse_and_garbage_is_named_by_line() {
        let text = "g\tf\t2012\t0000\t5.000\tA man is dancing.\tA man dances.\n\n\
                    g\tf\t2012\t0001\t0.5\tA cat.\tStocks fell.\textra\n";
        let pairs = parse_sts(text).expect("valid");
        assert_eq!(pairs.len(), 2);
        assert_eq!((pairs[0].human, pairs[1].b.as_str()), (5.0, "Stocks fell."));
        assert_eq!(
            parse_sts("a\tb\tc\n"),
            Err(StsError::Line {
                line: 1,
                message: "expected 7 tab-separated fields (…, score, sentence 1, sentence 2)"
                    .into()
            })
        );
        assert!(matches!(parse_sts("g\tf\ty\ti\tx\ta\tb"), Err(StsError::Line { line: 1, .. })));
        assert!(matches!(parse_sts("g\tf\ty\ti\t9\ta\tb"), Err(StsError::Line { .. })));
        assert_eq!(parse_sts("\n \n"), Err(StsError::Empty));
    }
}
