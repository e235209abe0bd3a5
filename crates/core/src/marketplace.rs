//! Marketplace vocabulary: availability, skill and experience levels, job
//! statuses and the transitions between them, and input validation for
//! profiles and jobs.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{submission::string_enum, ValidationError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    /// Takes work, with less time than usual.
    Limited,
    /// Not matched to jobs.
    Unavailable,
}

string_enum!(Availability, "availability", [
    Available => "available", Limited => "limited", Unavailable => "unavailable",
]);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceLevel {
    Entry,
    Intermediate,
    Expert,
}

string_enum!(ExperienceLevel, "experience_level", [
    Entry => "entry", Intermediate => "intermediate", Expert => "expert",
]);

/// Which re-ranker keeps the top k fair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FairAlgorithm {
    #[default]
    DetConstSort,
    DetGreedy,
    DetCons,
    DetRelaxed,
    /// FA*IR (adjusted α = 0.1) protecting one group: newcomers, or the
    /// policy's `protected` group of a self-declared attribute.
    FaIr,
    /// Relevance order only (the report still shows the skew).
    None,
}

impl FairAlgorithm {
    /// The name the API and the configuration use.
    pub fn as_str(self) -> &'static str {
        match self {
            FairAlgorithm::DetConstSort => "det_const_sort",
            FairAlgorithm::DetGreedy => "det_greedy",
            FairAlgorithm::DetCons => "det_cons",
            FairAlgorithm::DetRelaxed => "det_relaxed",
            FairAlgorithm::FaIr => "fa_ir",
            FairAlgorithm::None => "none",
        }
    }
}

impl std::fmt::Display for FairAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkillLevel {
    Beginner,
    Intermediate,
    Advanced,
    Expert,
}

/// A job's life: `draft → open → in_progress → completed | cancelled`; a
/// draft or open job can be cancelled, and an open one sent back to draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Draft,
    Open,
    InProgress,
    Completed,
    Cancelled,
}

string_enum!(JobStatus, "status", [
    Draft => "draft", Open => "open", InProgress => "in_progress",
    Completed => "completed", Cancelled => "cancelled",
]);

impl JobStatus {
    pub fn can_become(self, next: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, next),
            (Draft, Open)
                | (Draft, Cancelled)
                | (Open, Draft)
                | (Open, InProgress)
                | (Open, Cancelled)
                | (InProgress, Completed)
                | (InProgress, Cancelled)
        )
    }
}

/// An application's life: `applied → shortlisted → hired`; the job's
/// owner may reject it and the applicant withdraw it until hired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Applied,
    Shortlisted,
    Hired,
    Rejected,
    Withdrawn,
}

string_enum!(ApplicationStatus, "status", [
    Applied => "applied", Shortlisted => "shortlisted", Hired => "hired",
    Rejected => "rejected", Withdrawn => "withdrawn",
]);

impl ApplicationStatus {
    /// The statuses an application may be in to become `self`.
    pub fn reachable_from(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus::*;
        match self {
            Applied => &[],
            Shortlisted => &[Applied],
            Hired | Rejected | Withdrawn => &[Applied, Shortlisted],
        }
    }
}

/// A review is `published` at once when its text passes the bias check,
/// else `pending` until a moderator publishes or rejects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Published,
    Rejected,
}

string_enum!(ReviewStatus, "status", [
    Pending => "pending", Published => "published", Rejected => "rejected",
]);

/// A skill as a freelancer lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileSkill {
    pub name: String,
    pub level: SkillLevel,
}

/// Checks a list of skill names: 0–`max` of them, each 1–80 characters,
/// no duplicates (case-insensitively); returns them trimmed.
pub fn parse_skill_names(
    field: &'static str,
    names: &[String],
    max: usize,
) -> Result<Vec<String>, ValidationError> {
    if names.len() > max {
        return Err(ValidationError::new(field, format!("at most {max} skills")));
    }
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|name| {
            let name = name.trim();
            check_short_text(field, name, 80)?;
            if !seen.insert(name.to_lowercase()) {
                return Err(ValidationError::new(field, format!("{name:?} is listed twice")));
            }
            Ok(name.to_owned())
        })
        .collect()
}

/// 1–`max` characters without control characters.
pub fn check_short_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    let length = value.chars().count();
    if length == 0 || length > max {
        return Err(ValidationError::new(field, format!("must be 1 to {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// Minutes east of UTC: −12:00 to +14:00.
pub fn check_utc_offset(minutes: i32) -> Result<(), ValidationError> {
    if !(-12 * 60..=14 * 60).contains(&minutes) {
        return Err(ValidationError::new("utc_offset_minutes", "must be between -720 and 840"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_statuses_move_only_forward_along_the_documented_paths() {
        use JobStatus::*;
        assert!(Draft.can_become(Open));
        assert!(Open.can_become(InProgress));
        assert!(InProgress.can_become(Completed));
        assert!(!Completed.can_become(Open));
        assert!(!Cancelled.can_become(Draft));
        assert!(!Draft.can_become(Completed));
        assert_eq!("in_progress".parse::<JobStatus>(), Ok(InProgress));
    }

    #[test]
    fn skill_lists_are_trimmed_bounded_and_unique() {
        let names = vec![" Rust ".to_owned(), "SQL".to_owned()];
        assert_eq!(parse_skill_names("skills", &names, 5), Ok(vec!["Rust".into(), "SQL".into()]));
        let twice = vec!["Rust".to_owned(), "rust".to_owned()];
        assert!(parse_skill_names("skills", &twice, 5).is_err());
        assert!(parse_skill_names("skills", &[String::new()], 5).is_err());
        assert!(parse_skill_names("skills", &names, 1).is_err());
        assert!(check_utc_offset(900).is_err() && check_utc_offset(-720).is_ok());
    }
}
