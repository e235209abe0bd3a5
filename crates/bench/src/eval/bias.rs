//! `fairgig eval bias`: precision and recall of the bias checker per
//! protected ground on the labelled set compiled into `fairgig-ai`
//! (`crates/ai/data/eval/`), next to the floors its test holds.

use fairgig_ai::bias::{
    eval::{evaluate, parse, LABELLED},
    BiasChecker,
};

/// The floors `crates/ai/tests/bias_grounds.rs` holds every ground to.
const RECALL_FLOOR: f64 = 0.75;
const PRECISION_FLOOR: f64 = 0.6;

/// Prints the table (and, with `mistakes`, every sentence judged wrongly).
pub fn bias_grounds(mistakes: bool) -> anyhow::Result<()> {
    let samples = parse(LABELLED)?;
    let outcome = evaluate(&BiasChecker::new(), &samples);
    let positives = samples.iter().filter(|sample| !sample.grounds.is_empty()).count();
    println!(
        "bias checker by protected ground: {} labelled sentences ({positives} touch a ground), \
         read as job posts",
        outcome.samples
    );
    println!(
        "{:<20} {:>9} {:>9} {:>4} {:>4} {:>4}",
        "ground", "precision", "recall", "TP", "FP", "FN"
    );
    let figure = |value: Option<f64>| value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}"));
    for (ground, counts) in &outcome.by_ground {
        println!(
            "{:<20} {:>9} {:>9} {:>4} {:>4} {:>4}",
            ground.as_str(),
            figure(counts.precision()),
            figure(counts.recall()),
            counts.true_positives,
            counts.false_positives,
            counts.false_negatives
        );
    }
    println!("goal: every ground precision ≥ {PRECISION_FLOOR}, recall ≥ {RECALL_FLOOR} (held by a test)");
    println!("{} sentences judged differently from their label", outcome.mistakes.len());
    if mistakes {
        for (text, labelled, predicted) in &outcome.mistakes {
            println!("  labelled {labelled:?}, found {predicted:?}: {text}");
        }
    }
    Ok(())
}
