//! Groups from self-declared answers (an optional profile attribute such as
//! `gender`), shared by the fair re-ranking and the admin audit.
//!
//! Group 0 is always "(not declared)": answering is optional, and those who
//! did not answer are a group whose exposure matters too. The answers follow
//! by how many gave them (ties by name). So that a rare answer never singles
//! anyone out, at most [`MAX_GROUPS`] groups are formed: past that the
//! rarest answers are pooled as "(other)".

use std::collections::HashMap;

/// The most groups an attribute is split into, "(not declared)" included.
pub const MAX_GROUPS: usize = 8;
/// The group of those who did not answer.
pub const NOT_DECLARED: &str = "(not declared)";
/// The pooled rarest answers.
pub const OTHER: &str = "(other)";

/// The attribute that needs no self-declaration: freelancers with no
/// completed job yet (group 1) versus the established (group 0).
pub const NEWCOMER: &str = "newcomer";

/// Groups and who is in which.
#[derive(Clone, Debug, PartialEq)]
pub struct DeclaredGroups {
    /// Group names, "(not declared)" first.
    pub names: Vec<String>,
    /// The group of each answer, in the order the answers were given.
    pub members: Vec<usize>,
}

/// Whether `key` can name a self-declared attribute: 1–40 ASCII letters,
/// digits, `_` or `-` (and is not the reserved [`NEWCOMER`]).
pub fn is_attribute_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 40
        && key != NEWCOMER
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Groups `answers` (None: not declared).
pub fn declared_groups<'a>(answers: &[Option<&'a str>]) -> DeclaredGroups {
    let mut counts: HashMap<&'a str, usize> = HashMap::new();
    for value in answers.iter().flatten() {
        *counts.entry(value).or_default() += 1;
    }
    let mut values: Vec<(&str, usize)> = counts.into_iter().collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let pooled = values.len() > MAX_GROUPS - 1;
    let named = if pooled { MAX_GROUPS - 2 } else { values.len() };
    let mut names = vec![NOT_DECLARED.to_owned()];
    names.extend(values.iter().take(named).map(|(value, _)| (*value).to_owned()));
    if pooled {
        names.push(OTHER.to_owned());
    }
    let index: HashMap<&str, usize> =
        values.iter().take(named).enumerate().map(|(at, (value, _))| (*value, at + 1)).collect();
    let members = answers
        .iter()
        .map(|answer| match answer {
            None => 0,
            Some(value) => index.get(value).copied().unwrap_or(names.len() - 1),
        })
        .collect();
    DeclaredGroups { names, members }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_frequency_after_the_undeclared() {
        let groups =
            declared_groups(&[Some("b"), None, Some("a"), Some("a"), Some("b"), Some("c")]);
        assert_eq!(groups.names, ["(not declared)", "a", "b", "c"]);
        assert_eq!(groups.members, [2, 0, 1, 1, 2, 3]);
    }

    #[test]
    fn the_rarest_answers_are_pooled_past_eight_groups() {
        let answers: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
        let mut given: Vec<Option<&str>> = Vec::new();
        for (i, answer) in answers.iter().enumerate() {
            // v0 is the most frequent, v9 the rarest.
            given.extend(std::iter::repeat_n(Some(answer.as_str()), 20 - i));
        }
        let groups = declared_groups(&given);
        assert_eq!(groups.names.len(), MAX_GROUPS);
        assert_eq!(groups.names[1], "v0");
        assert_eq!(groups.names[MAX_GROUPS - 1], OTHER);
        assert_eq!(groups.members.last(), Some(&(MAX_GROUPS - 1)), "v9 is pooled");
        assert_eq!(groups.members[0], 1);
    }

    #[test]
    fn attribute_names_are_plain_identifiers() {
        assert!(is_attribute_name("gender"));
        assert!(is_attribute_name("age-band_2"));
        for bad in ["", "newcomer", "a b", "é", &"x".repeat(41), "a;drop"] {
            assert!(!is_attribute_name(bad), "{bad:?}");
        }
    }
}
