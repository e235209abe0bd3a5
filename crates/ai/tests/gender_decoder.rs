//! The Gender Decoder's own 28 test cases, which fairgig must reproduce.

use fairgig_ai::bias::gender_coding::{assess, word_list};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/bias/gender-decoder-73724e6/tests.cases.jsonl"
    );
    let text =
        std::fs::read_to_string(path).expect("test cases beside the project (../shared/data)");
    text.lines().map(|line| serde_json::from_str(line).expect("JSON line")).collect()
}

#[test]
fn all_28_gender_decoder_cases_pass() {
    let cases = cases();
    assert_eq!(cases.len(), 28);
    let mut failures = Vec::new();
    for case in &cases {
        let text = case["text"].as_str().expect("text");
        let expect = &case["expect"];
        let result = assess(text);
        let mut check = |what: &str, ok: bool| {
            if !ok {
                failures.push(format!(
                    "{} {text:?}: {what} (got {result:?}, words {:?})",
                    case["test"],
                    word_list(text)
                ));
            }
        };
        if let Some(words) = expect.get("clean_up_word_list()") {
            let expected: Vec<String> = serde_json::from_value(words.clone()).expect("list");
            check("word list", word_list(text) == expected);
        }
        if let Some(count) = expect["masculine_word_count"].as_u64() {
            check("masculine count", result.masculine.len() as u64 == count);
        }
        if let Some(count) = expect["feminine_word_count"].as_u64() {
            check("feminine count", result.feminine.len() as u64 == count);
        }
        if let Some(words) = expect["masculine_coded_words"].as_str() {
            check("masculine words", result.masculine.join(",") == words);
        }
        if let Some(words) = expect["feminine_coded_words"].as_str() {
            check("feminine words", result.feminine.join(",") == words);
        }
        if let Some(coding) = expect["coding"].as_str() {
            check("verdict", result.verdict.label() == coding);
        }
    }
    assert!(failures.is_empty(), "{} of 28 failed:\n{}", failures.len(), failures.join("\n"));
}
