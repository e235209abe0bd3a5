//! Quick bias-check throughput of this crate alone (`cargo run --release
//! -p fairgig-ai --example bias_throughput [MB [SHAPE]]`): the synthetic corpus and
//! every adversarial shape. `fairgig bench bias` is the product's figure;
//! this skips building the server while working on the checker.

use fairgig_ai::bias::{bench, BiasChecker};

fn main() {
    let megabytes = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(20);
    // A second argument keeps only the adversarial shapes whose name has it.
    let only = std::env::args().nth(2).unwrap_or_default();
    let checker = BiasChecker::new();
    let corpus = bench::corpus(megabytes);
    let ads: Vec<&str> = corpus.split_inclusive('\n').collect();
    let figure = bench::run(&checker, &ads);
    println!("synthetic job ads: {:.1} MB/s", figure.megabytes_per_second());
    let options = bench::hostile_options();
    for (name, text) in bench::adversarial(megabytes * 1_000_000) {
        if !name.contains(only.as_str()) {
            continue;
        }
        let figure = bench::run_with(&checker, &[text.as_str()], &options);
        println!(
            "adversarial {name}: {:.1} MB/s, {} findings",
            figure.megabytes_per_second(),
            figure.findings
        );
    }
}
