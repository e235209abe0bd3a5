//! A rough size estimate of a brief, to route and price work.
//!
//! `score = min(100, words / 10 + 8 · skills + 6 · attachments + 4 · money mentions)`;
//! `low` below 30, `medium` below 60, else `high`. The weights are a starting
//! point to be replaced by a learned model once enough briefs carry outcomes.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    /// The serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Complexity {
    pub level: Level,
    pub score: u32,
    pub reasons: Vec<String>,
}

pub fn estimate(
    words: usize,
    skills: usize,
    attachments: usize,
    money_mentions: usize,
) -> Complexity {
    let parts = [
        (words / 10, format!("{words} words")),
        (8 * skills, format!("{skills} skills named")),
        (6 * attachments, format!("{attachments} attachments")),
        (4 * money_mentions, format!("{money_mentions} amounts mentioned")),
    ];
    let score = parts.iter().map(|(points, _)| *points).sum::<usize>().min(100) as u32;
    let level = match score {
        0..30 => Level::Low,
        30..60 => Level::Medium,
        _ => Level::High,
    };
    let reasons =
        parts.into_iter().filter(|(points, _)| *points > 0).map(|(_, reason)| reason).collect();
    Complexity { level, score, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_documented_formula() {
        let cases = [
            ((50, 1, 0, 0), 13, Level::Low),
            ((200, 2, 1, 1), 46, Level::Medium),
            ((2000, 10, 5, 3), 100, Level::High),
        ];
        for ((words, skills, files, money), score, level) in cases {
            let c = estimate(words, skills, files, money);
            assert_eq!((c.score, c.level), (score, level), "{words} {skills} {files} {money}");
        }
    }
}
