//! Skills named in a text, from the ESCO-derived list shipped in
//! `data/skills.tsv` (see its header for source and licence).
//!
//! All match terms go into one Aho-Corasick automaton (leftmost-longest,
//! ASCII case-insensitive), so the text is scanned once however many skills
//! there are; a match counts only on word boundaries, so "java" is not found
//! in "javascript" and "go" not in "good".

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

const BUILTIN: &str = include_str!("../../data/skills.tsv");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillMention {
    pub esco_uri: String,
    pub label: String,
    /// The text as it appears.
    pub matched: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug)]
struct Skill {
    uri: String,
    label: String,
}

#[derive(Clone, Debug)]
pub struct SkillIndex {
    skills: Vec<Skill>,
    /// Pattern i → the skills it names.
    owners: Vec<Vec<usize>>,
    automaton: Option<AhoCorasick>,
}

impl SkillIndex {
    /// The shipped ESCO-derived list.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN)
    }

    /// Parses `uri \t label \t term|term…` lines; `#` lines are comments.
    pub fn parse(tsv: &str) -> Self {
        let mut skills = Vec::new();
        let mut terms: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut term_index = std::collections::HashMap::new();
        for line in tsv.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
            let mut columns = line.split('\t');
            let (Some(uri), Some(label), Some(list)) =
                (columns.next(), columns.next(), columns.next())
            else {
                continue;
            };
            let skill = skills.len();
            skills.push(Skill { uri: uri.to_owned(), label: label.to_owned() });
            for term in list.split('|').filter(|term| term.len() >= 2) {
                let slot = *term_index.entry(term.to_owned()).or_insert_with(|| {
                    terms.push(term.to_owned());
                    owners.push(Vec::new());
                    terms.len() - 1
                });
                owners[slot].push(skill);
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&terms)
            .ok();
        Self { skills, owners, automaton }
    }

    pub fn len(&self) -> usize {
        self.skills.len()
    }

    /// The skills' preferred labels, in list order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.skills.iter().map(|skill| skill.label.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// Up to `limit` labels for what someone is typing: labels starting
    /// with it first (shorter first), then labels with a word starting
    /// with it; case-insensitive. Fewer than two characters suggest nothing.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<&str> {
        let typed = typed.trim().to_lowercase();
        if typed.chars().count() < 2 || limit == 0 {
            return Vec::new();
        }
        let mut starts = Vec::new();
        let mut inner = Vec::new();
        for label in self.labels() {
            let lower = label.to_lowercase();
            if lower.starts_with(&typed) {
                starts.push(label);
            } else if lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word.starts_with(&typed))
            {
                inner.push(label);
            }
        }
        starts.sort_by_key(|label| (label.len(), *label));
        inner.sort_by_key(|label| (label.len(), *label));
        starts.into_iter().chain(inner).take(limit).collect()
    }

    /// Each skill once, at its first mention.
    pub fn find(&self, text: &str) -> Vec<SkillMention> {
        let Some(automaton) = &self.automaton else { return Vec::new() };
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        for hit in automaton.find_iter(text) {
            if !on_word_boundaries(text, hit.start(), hit.end()) {
                continue;
            }
            for &skill in &self.owners[hit.pattern().as_usize()] {
                if seen.insert(skill) {
                    found.push(SkillMention {
                        esco_uri: self.skills[skill].uri.clone(),
                        label: self.skills[skill].label.clone(),
                        matched: text[hit.start()..hit.end()].to_owned(),
                        start: hit.start(),
                        end: hit.end(),
                    });
                }
            }
        }
        found
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_prefer_labels_that_start_with_the_typed_text() {
        let index = SkillIndex::parse(
            "u1\tPostgreSQL\tpostgresql\nu2\tmanage PostgreSQL databases\tpg\nu3\tuse Python\tpython\nu4\tpost-production\tpost",
        );
        assert_eq!(
            index.suggest("post", 10),
            ["PostgreSQL", "post-production", "manage PostgreSQL databases"]
        );
        assert_eq!(index.suggest("POSTG", 1), ["PostgreSQL"]);
        assert!(index.suggest("p", 10).is_empty(), "one letter suggests nothing");
        assert!(index.suggest("zzz", 10).is_empty());
        assert!(
            !SkillIndex::builtin().suggest("rus", 5).is_empty(),
            "the shipped list knows Rust-ish skills"
        );
    }

    #[test]
    fn the_builtin_list_loads() {
        assert!(SkillIndex::builtin().len() > 3000);
    }

    #[test]
    fn skills_match_whole_words_in_any_case() {
        let index =
            SkillIndex::parse("u1\tJava\tjava\nu2\tJavaScript\tjavascript|js\nu3\tGo\tgo\n");
        let found: Vec<String> = index
            .find("We use JAVASCRIPT, some Java; good code.")
            .into_iter()
            .map(|s| s.label)
            .collect();
        assert_eq!(found, vec!["JavaScript", "Java"]);
    }

    #[test]
    fn everyday_words_and_ambiguous_acronyms_are_not_skills() {
        // ESCO lists "it" and "ict" as labels of "computer technology", and
        // "ict", "st" for "hardware testing methods": the list drops them.
        let found = SkillIndex::builtin().find("Is it done? We did it in ICT, at ST, with SQL.");
        let matched: Vec<&str> = found.iter().map(|s| s.matched.as_str()).collect();
        assert!(!matched.is_empty() && matched.iter().all(|m| *m == "SQL"), "{found:?}");
    }

    #[test]
    fn spans_point_at_the_text() {
        let text = "Ops with Kubernetes and SQL";
        for mention in SkillIndex::builtin().find(text) {
            assert_eq!(&text[mention.start..mention.end], mention.matched);
        }
    }
}
