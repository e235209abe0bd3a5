//! Prints the grounds and rule ids the checker finds in each line of
//! standard input (read as a job post): the tool behind labelling
//! `data/eval/bias-labelled.tsv` (`cargo run -p fairgig-ai --example
//! bias_grounds < sentences.txt`). Labels are decided by the rules in
//! `data/eval/bias-labelling.md`, not copied from this output.

use std::io::BufRead;

use fairgig_ai::bias::{grounds::Ground, BiasChecker, CheckOptions, TextKind};

fn main() {
    let checker = BiasChecker::new();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let report = checker.check(&line, TextKind::JobPost, &CheckOptions::default());
        let found: Vec<String> = report
            .findings
            .iter()
            .map(|finding| {
                let ground = Ground::of_category(&finding.category).map_or("-", Ground::as_str);
                format!("{ground}:{}:{}", finding.rule_id, finding.text)
            })
            .collect();
        println!("{}\t{line}", found.join(" | "));
    }
}
