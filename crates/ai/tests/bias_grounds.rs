//! The labelled evaluation by protected ground (`data/eval/`), held to
//! floors: every ground is found in most sentences that touch it, and
//! rarely where none does. The figures themselves are in the README
//! (`fairgig eval bias`); the floors sit a little under them, so a change
//! that loses a ground fails here.

use fairgig_ai::bias::{
    eval::{evaluate, parse, LABELLED},
    grounds::Ground,
    BiasChecker,
};

#[test]
fn every_protected_ground_is_found_with_precision_and_recall_above_floors() {
    let samples = parse(LABELLED).expect("the labelled set parses");
    assert!(samples.len() >= 400, "{}", samples.len());
    let outcome = evaluate(&BiasChecker::new(), &samples);
    let mut report = String::new();
    for (ground, counts) in &outcome.by_ground {
        report.push_str(&format!(
            "{:<20} P {:?} R {:?} {counts:?}\n",
            ground.as_str(),
            counts.precision(),
            counts.recall()
        ));
    }
    for (text, labelled, predicted) in &outcome.mistakes {
        report.push_str(&format!("  {labelled:?} vs {predicted:?}: {text}\n"));
    }
    for ground in Ground::ALL {
        let counts = outcome.by_ground[&ground];
        let labelled = counts.true_positives + counts.false_negatives;
        assert!(labelled >= 3, "{} has too few positives to measure\n{report}", ground.as_str());
        let recall = counts.recall().unwrap_or(0.0);
        let precision = counts.precision().unwrap_or(0.0);
        assert!(recall >= 0.75, "{} recall {recall:.2} < 0.75\n{report}", ground.as_str());
        assert!(precision >= 0.6, "{} precision {precision:.2} < 0.6\n{report}", ground.as_str());
    }
    println!("{report}");
}
