//! The 63 test inputs of retext-equality and retext-profanities, with what
//! those tools report. fairgig must reproduce at least 90 % of the messages
//! (same rule id, same byte span); the differences are listed and explained
//! in `tests/retext_oracle.md`.

use std::collections::BTreeSet;

use fairgig_ai::bias::{rules::Pack, BiasChecker, CheckOptions};
use serde_json::Value;

type Message = (String, usize, usize);

#[test]
fn fairgig_reproduces_at_least_90_percent_of_the_oracle() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/bias/retext-test-inputs.oracle.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("oracle beside the project (../shared/data)");
    let checker = BiasChecker::new();
    let (mut expected_total, mut reproduced, mut extra) = (0usize, 0usize, 0usize);
    let mut report = Vec::new();
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).expect("JSON line");
        let input = case["text"].as_str().expect("text");
        let pack = if case["source"].as_str().is_some_and(|s| s.contains("profanities")) {
            Pack::Profanity
        } else {
            Pack::Equality
        };
        let options = CheckOptions {
            binary: case["options"]["binary"].as_bool().unwrap_or(false),
            allow: case["options"]["ignore"]
                .as_array()
                .map(|list| list.iter().filter_map(|v| v.as_str().map(str::to_lowercase)).collect())
                .unwrap_or_default(),
        };
        let expected: BTreeSet<Message> = case["expected"]
            .as_array()
            .expect("expected")
            .iter()
            .map(|m| {
                (
                    m["ruleId"].as_str().expect("rule").to_owned(),
                    m["start_byte"].as_u64().expect("start") as usize,
                    m["end_byte"].as_u64().expect("end") as usize,
                )
            })
            .collect();
        let actual: BTreeSet<Message> = checker
            .findings(input, &[pack], &options)
            .into_iter()
            .map(|f| (f.rule_id.to_string(), f.start, f.end))
            .collect();
        expected_total += expected.len();
        reproduced += expected.intersection(&actual).count();
        extra += actual.difference(&expected).count();
        if expected != actual {
            report.push(format!(
                "{input:?}\n  missing {:?}\n  extra   {:?}",
                expected.difference(&actual).collect::<Vec<_>>(),
                actual.difference(&expected).collect::<Vec<_>>()
            ));
        }
    }
    let share = reproduced as f64 / expected_total as f64;
    let summary = format!(
        "reproduced {reproduced} of {expected_total} oracle messages ({:.1} %), {extra} extra\n{}",
        share * 100.0,
        report.join("\n")
    );
    // Printed past the capture so the figure shows in every run.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "retext oracle: reproduced {reproduced}/{expected_total} ({:.1} %), {extra} extra",
        share * 100.0
    );
    let _ = writeln!(std::io::stderr(), "{}", report.join("\n"));
    assert!(share >= 0.9, "{summary}");
    assert!(extra <= expected_total / 10, "too many findings the oracle does not have: {summary}");
}
