//! Submissions: what a client asks for (text, files, voice), and the run of
//! pipeline steps that processes it.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{validation::check_text, ValidationError};

/// `job` becomes a marketplace job (matched to freelancers); `request` gets
/// an analysis and a reply without matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    Job,
    Request,
}

/// Where a submission is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Stored; its run has not started a step yet.
    Received,
    /// A step has started.
    Processing,
    /// Every step succeeded.
    Completed,
    /// A step failed for good (see the step's error).
    Failed,
    /// The owner cancelled it.
    Cancelled,
}

/// A step's state. `waiting` steps have unfinished dependencies; `retrying`
/// ones failed and are queued again after a back-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Waiting,
    Queued,
    Running,
    Retrying,
    Succeeded,
    Failed,
    Cancelled,
}

/// A run of the pipeline over a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

macro_rules! string_enum {
    ($ty:ty, $field:literal, [$($variant:ident => $name:literal),+ $(,)?]) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        /// For `sqlx(try_from = "String")`: a status column read into its enum.
        impl TryFrom<String> for $ty {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
        impl FromStr for $ty {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(ValidationError::new($field, format!("unknown value {s:?}"))),
                }
            }
        }
    };
}

pub(crate) use string_enum;

string_enum!(SubmissionKind, "kind", [Job => "job", Request => "request"]);
string_enum!(RunStatus, "status", [
    Running => "running", Succeeded => "succeeded", Failed => "failed", Cancelled => "cancelled",
]);
string_enum!(SubmissionStatus, "status", [
    Received => "received", Processing => "processing", Completed => "completed",
    Failed => "failed", Cancelled => "cancelled",
]);
string_enum!(StepStatus, "status", [
    Waiting => "waiting", Queued => "queued", Running => "running", Retrying => "retrying",
    Succeeded => "succeeded", Failed => "failed", Cancelled => "cancelled",
]);

impl StepStatus {
    /// Finished one way or another.
    pub fn is_final(self) -> bool {
        matches!(self, StepStatus::Succeeded | StepStatus::Failed | StepStatus::Cancelled)
    }
}

/// A submission title: 1–200 characters, trimmed, no control characters.
pub fn parse_title(input: &str) -> Result<String, ValidationError> {
    let value = input.trim();
    check_text("title", value, 1, 200)?;
    Ok(value.to_owned())
}

/// The description: up to 100,000 characters; newlines and tabs allowed,
/// other control characters not.
pub fn parse_body(input: &str) -> Result<String, ValidationError> {
    if input.chars().count() > 100_000 {
        return Err(ValidationError::new("text", "must be at most 100000 characters"));
    }
    if input.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ValidationError::new("text", "must not contain control characters"));
    }
    Ok(input.to_owned())
}

/// An amount of money in minor units (cents) with its ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Budget {
    /// In the currency's minor unit (e.g. cents), ≥ 0.
    pub amount_minor: i64,
    /// ISO 4217 code, upper case (`EUR`, `USD`).
    pub currency: String,
}

impl Budget {
    /// The budget stored as two nullable columns, when both are there.
    pub fn from_parts(amount_minor: Option<i64>, currency: Option<String>) -> Option<Self> {
        Some(Self { amount_minor: amount_minor?, currency: currency? })
    }

    pub fn parse(amount_minor: i64, currency: &str) -> Result<Self, ValidationError> {
        if !(0..=1_000_000_000_000).contains(&amount_minor) {
            return Err(ValidationError::new("budget.amount_minor", "must be between 0 and 10^12"));
        }
        let currency = currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                "budget.currency",
                "must be an ISO 4217 code such as EUR",
            ));
        }
        Ok(Self { amount_minor, currency })
    }
}

/// How the client wants to hear back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactPreference {
    Email,
    Portal,
    Webhook,
    Telegram,
    Sms,
}

string_enum!(ContactPreference, "contact", [
    Email => "email", Portal => "portal", Webhook => "webhook", Telegram => "telegram", Sms => "sms",
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [StepStatus::Waiting, StepStatus::Retrying, StepStatus::Cancelled] {
            assert_eq!(status.as_str().parse::<StepStatus>(), Ok(status));
        }
        assert!("nope".parse::<SubmissionKind>().is_err());
    }

    #[test]
    fn budgets_need_a_currency_code_and_a_sane_amount() {
        assert_eq!(Budget::parse(5000, "eur").expect("valid").currency, "EUR");
        assert!(Budget::parse(-1, "EUR").is_err());
        assert!(Budget::parse(1, "EURO").is_err());
        assert!(Budget::parse(1, "€").is_err());
    }

    #[test]
    fn bodies_keep_newlines_but_refuse_other_controls() {
        assert!(parse_body("line one\nline two\ttab").is_ok());
        assert!(parse_body("bell\u{7}").is_err());
        assert!(parse_title("  ").is_err());
    }
}
