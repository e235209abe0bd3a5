//! An organisation's own rule pack: rules in the shipped packs' format,
//! uploaded at run time (through the model registry), so a deployment can
//! flag its own terms ("guys" in its house style, an internal codename for
//! a team) without a new build.
//!
//! ```toml
//! [pack]
//! name = "acme"
//! applies_to = ["job_post", "review"]   # default: every kind of text
//!
//! [[rule]]
//! id = "acme-guys"
//! category = "gender"
//! severity = "warning"
//! type = "basic"
//! patterns = ["guys"]
//! suggestions = ["everyone", "folks"]
//! source = "ACME style guide, section 4"
//! ```
//!
//! The text comes from an administrator, so it is validated as input:
//! size, rule count, unique ids, patterns with words in them, `or` rules
//! with a group per pattern. Every error names the rule at fault.

use std::collections::HashSet;

use serde::Deserialize;

use super::{
    matcher::Words,
    rules::{Rule, RuleType},
    TextKind,
};

/// Largest pack accepted, in bytes.
pub const MAX_PACK_BYTES: usize = 1 << 20;
/// Most rules in one pack (the largest shipped pack has 1,795).
pub const MAX_RULES: usize = 5_000;
/// Most words in one pattern (the longest shipped phrase has 6).
const MAX_PATTERN_WORDS: usize = 12;

/// A parsed, validated organisation pack.
#[derive(Clone, Debug)]
pub struct CustomPack {
    pub name: String,
    /// The kinds of text it applies to.
    pub applies_to: Vec<TextKind>,
    pub rules: Vec<Rule>,
}

impl CustomPack {
    pub fn applies_to(&self, kind: TextKind) -> bool {
        self.applies_to.contains(&kind)
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PackError {
    #[error("the pack is {0} bytes; at most {MAX_PACK_BYTES}")]
    TooLarge(usize),
    #[error("not a rule pack: {0}")]
    Syntax(String),
    #[error("the pack has no rules")]
    Empty,
    #[error("the pack has {0} rules; at most {MAX_RULES}")]
    TooManyRules(usize),
    #[error("pack name: {0}")]
    Name(String),
    #[error("rule {id}: {message}")]
    Rule { id: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    #[serde(default)]
    applies_to: Option<Vec<TextKind>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: Header,
    #[serde(default)]
    rule: Vec<Rule>,
}

/// Parses and validates an organisation pack.
pub fn parse_pack(text: &str) -> Result<CustomPack, PackError> {
    if text.len() > MAX_PACK_BYTES {
        return Err(PackError::TooLarge(text.len()));
    }
    let file: PackFile = toml::from_str(text).map_err(|err| PackError::Syntax(err.to_string()))?;
    let name = file.pack.name.trim().to_owned();
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(PackError::Name("1 to 64 letters, digits, - and _".into()));
    }
    if file.rule.is_empty() {
        return Err(PackError::Empty);
    }
    if file.rule.len() > MAX_RULES {
        return Err(PackError::TooManyRules(file.rule.len()));
    }
    let mut ids = HashSet::new();
    for rule in &file.rule {
        check_rule(rule)?;
        if !ids.insert(&*rule.id) {
            return Err(rule_error(rule, "the id is used twice"));
        }
    }
    let mut applies_to = file.pack.applies_to.unwrap_or_else(|| TextKind::ALL.to_vec());
    applies_to.sort_by_key(|kind| *kind as u8);
    applies_to.dedup();
    if applies_to.is_empty() {
        return Err(PackError::Name("applies_to names no kind of text".into()));
    }
    Ok(CustomPack { name, applies_to, rules: file.rule })
}

fn rule_error(rule: &Rule, message: &str) -> PackError {
    PackError::Rule { id: rule.id.to_string(), message: message.to_owned() }
}

fn check_rule(rule: &Rule) -> Result<(), PackError> {
    if rule.id.trim().is_empty() || rule.id.len() > 100 {
        return Err(PackError::Rule {
            id: rule.id.chars().take(100).collect(),
            message: "an id of 1 to 100 characters".into(),
        });
    }
    if rule.category.trim().is_empty() {
        return Err(rule_error(rule, "a category is required"));
    }
    if rule.source.trim().is_empty() {
        return Err(rule_error(rule, "a source is required (where the rule comes from)"));
    }
    if rule.patterns.is_empty() {
        return Err(rule_error(rule, "at least one pattern is required"));
    }
    for pattern in &rule.patterns {
        // Words are runs of letters and digits, so a `*` wildcard is none.
        if Words::of(pattern).next().is_none() {
            return Err(rule_error(rule, &format!("pattern {pattern:?} has no word")));
        }
        if pattern.split_whitespace().count() > MAX_PATTERN_WORDS {
            return Err(rule_error(
                rule,
                &format!("pattern {pattern:?} is longer than {MAX_PATTERN_WORDS} words"),
            ));
        }
    }
    if rule.kind == RuleType::Or && rule.groups.len() != rule.patterns.len() {
        return Err(rule_error(rule, "an `or` rule names the group of each pattern (groups)"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[pack]
name = "acme"
applies_to = ["job_post", "review"]

[[rule]]
id = "acme-guys"
category = "gender"
severity = "warning"
type = "basic"
patterns = ["guys", "you guys"]
suggestions = ["everyone"]
source = "ACME style guide"
"#;

    #[test]
    fn a_valid_pack_parses_with_its_kinds() {
        let pack = parse_pack(GOOD).expect("valid");
        assert_eq!(pack.name, "acme");
        assert_eq!(pack.rules.len(), 1);
        assert!(pack.applies_to(TextKind::JobPost));
        assert!(!pack.applies_to(TextKind::Profile));
        let everywhere = parse_pack(&GOOD.replace("applies_to = [\"job_post\", \"review\"]", ""))
            .expect("valid");
        assert_eq!(everywhere.applies_to, TextKind::ALL.to_vec());
    }

    #[test]
    fn errors_name_the_rule_at_fault() {
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[rule]]").unwrap_or(0)..]);
        assert_eq!(
            parse_pack(&twice).err(),
            Some(PackError::Rule {
                id: "acme-guys".into(),
                message: "the id is used twice".into()
            })
        );
        let no_word = GOOD.replace(r#"["guys", "you guys"]"#, r#"["guys", "* !!"]"#);
        assert!(
            matches!(parse_pack(&no_word), Err(PackError::Rule { id, .. }) if id == "acme-guys")
        );
        let or_rule = GOOD.replace("type = \"basic\"", "type = \"or\"");
        assert!(matches!(parse_pack(&or_rule), Err(PackError::Rule { .. })));
        let no_source = GOOD.replace("source = \"ACME style guide\"", "source = \" \"");
        assert!(matches!(parse_pack(&no_source), Err(PackError::Rule { .. })));
    }

    #[test]
    fn garbage_and_oversized_packs_are_refused() {
        assert!(matches!(parse_pack("not toml at all ["), Err(PackError::Syntax(_))));
        assert!(matches!(parse_pack("[pack]\nname = \"x\"\n"), Err(PackError::Empty)));
        assert!(matches!(
            parse_pack(&GOOD.replace("\"acme\"", "\"a b\"")),
            Err(PackError::Name(_))
        ));
        assert!(matches!(
            parse_pack(&GOOD.replace("severity = \"warning\"", "severity = \"fatal\"")),
            Err(PackError::Syntax(_))
        ));
        let huge = "#".repeat(MAX_PACK_BYTES + 1);
        assert_eq!(parse_pack(&huge).err(), Some(PackError::TooLarge(MAX_PACK_BYTES + 1)));
        let unknown = GOOD.replace("[pack]", "[pack]\ncolour = \"red\"");
        assert!(matches!(parse_pack(&unknown), Err(PackError::Syntax(_))));
    }
}
