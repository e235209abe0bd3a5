//! The bias check stays linear on texts built to break it: each of
//! `bench::adversarial`'s shapes at 10 MiB (the most the API takes) is
//! checked with the hardest options well within a bound that a quadratic
//! step misses by orders of magnitude (one shape took 14.7 s at 840 KB when
//! the proper-name test walked the text per finding; at 10 MiB that is
//! about 35 minutes). `fairgig bench bias` prints the optimised figures.

use std::time::{Duration, Instant};

use fairgig_ai::bias::{bench, BiasChecker, TextKind, MAX_LISTED_FINDINGS};
use fairgig_core::cancel::Cancel;

/// Unoptimised test builds run the check at a few MB/s; this leaves room
/// for a loaded CI host and none for a quadratic step.
const BOUND: Duration = Duration::from_secs(60);

#[test]
fn ten_mebibytes_of_each_hostile_shape_are_checked_in_linear_time() {
    let checker = BiasChecker::new();
    let options = bench::hostile_options();
    for (name, text) in bench::adversarial(10 * 1024 * 1024) {
        let started = Instant::now();
        let report = checker
            .check_until(&text, TextKind::JobPost, &options, &Cancel::new())
            .expect("never cancelled");
        let took = started.elapsed();
        eprintln!("{name}: {:.2} s, {} findings", took.as_secs_f64(), report.findings_total);
        assert!(took < BOUND, "{name}: {took:?} for 10 MiB");
        assert!(report.findings.len() <= MAX_LISTED_FINDINGS, "{name}: the list is capped");
        assert_eq!(
            report.categories.values().sum::<usize>(),
            report.findings_total,
            "{name}: every finding is counted"
        );
    }
}
