//! The fairness audit: how fair the shown match lists were, day by day,
//! by newcomer or by a self-declared attribute (which only this audit
//! reads), with shortlist and hire rates from recorded feedback.

use std::collections::HashMap;

use fairgig_core::{ids::UserId, ValidationError};
use fairgig_matching::fairness::{
    audit::{by_day, ListSummary, ShownItem},
    groups::{declared_groups, DeclaredGroups, NEWCOMER},
    metrics,
};
use fairgig_store::{feedback::MatchListWithFeedback, marketplace::DeclaredAnswer};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::{error::Result, matching::Attribute, Caller, Engine};

/// How shown freelancers are grouped for the report.
enum Grouping {
    /// The exposure group matching re-ranks for; each list's stored figures
    /// are used as they were computed.
    Newcomer,
    /// A self-declared attribute: groups from the profiles' answers, the
    /// target is each group's share of the profiles open to work.
    Declared { groups: Vec<String>, of: HashMap<UserId, usize>, target: Vec<f64> },
}

impl Grouping {
    fn groups(&self) -> Vec<String> {
        match self {
            Grouping::Newcomer => vec!["established".to_owned(), "newcomer".to_owned()],
            Grouping::Declared { groups, .. } => groups.clone(),
        }
    }

    fn group_of(&self, item: &Value) -> usize {
        match self {
            Grouping::Newcomer => usize::from(item["newcomer"].as_bool().unwrap_or(false)),
            Grouping::Declared { of, .. } => item["freelancer"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .and_then(|id: uuid::Uuid| of.get(&UserId::from_uuid(id)).copied())
                .unwrap_or(0),
        }
    }
}

/// Groups the profiles' answers ([`declared_groups`]); the target is each
/// group's share of the profiles open to work.
fn declared_grouping(answers: &[DeclaredAnswer]) -> Grouping {
    let values: Vec<Option<&str>> = answers.iter().map(|a| a.value.as_deref()).collect();
    let DeclaredGroups { names, members } = declared_groups(&values);
    let mut open = vec![0usize; names.len()];
    for (answer, group) in answers.iter().zip(&members) {
        if answer.open {
            open[*group] += 1;
        }
    }
    let total = open.iter().sum::<usize>().max(1) as f64;
    let target = open.iter().map(|n| *n as f64 / total).collect();
    let of = answers.iter().map(|a| a.user).zip(members).collect();
    Grouping::Declared { groups: names, of, target }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FairnessDay {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub lists: usize,
    /// Mean MinSkew@k of the groups in the lists as shown, over the lists
    /// where every group with a target share had a place; null when none.
    pub mean_min_skew: Option<f64>,
    /// Lists where a group with a target share had no place (MinSkew −∞).
    pub lists_with_absent_group: usize,
    /// Mean NDKL over the lists where it is finite; null when none.
    pub mean_ndkl: Option<f64>,
    /// Lists where a group with no target share had a place (NDKL +∞).
    pub lists_with_unbounded_ndkl: usize,
    /// Total exposure per group, in `groups` order.
    pub exposure: Vec<f64>,
    /// Four-fifths rule on shortlists: lowest group's rate over highest's
    /// (under 0.8 is adverse impact); null when not measurable.
    pub shortlist_ratio: Option<f64>,
    pub hire_ratio: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FairnessAudit {
    pub attribute: String,
    pub groups: Vec<String>,
    /// For a self-declared attribute: each group's share of the profiles
    /// open to work, what skew and NDKL are measured against. (Newcomer
    /// figures are each list's own, against its qualified pool.)
    pub target: Option<Vec<f64>>,
    pub days: Vec<FairnessDay>,
}

fn summary(list: &MatchListWithFeedback, grouping: &Grouping) -> ListSummary {
    let chosen = |freelancer: Option<uuid::Uuid>, kind: &str| {
        list.feedback.iter().any(|(who, k, _)| k == kind && Some(*who) == freelancer)
    };
    let mut shown: Vec<&Value> = list.items.as_array().into_iter().flatten().collect();
    shown.sort_by_key(|item| item["rank"].as_u64().unwrap_or(u64::MAX));
    let items: Vec<ShownItem> = shown
        .iter()
        .map(|item| {
            let freelancer = item["freelancer"].as_str().and_then(|id| id.parse().ok());
            ShownItem {
                group: grouping.group_of(item),
                shortlisted: chosen(freelancer, "shortlist"),
                hired: chosen(freelancer, "hire"),
            }
        })
        .collect();
    let (min_skew, ndkl, exposure) = match grouping {
        Grouping::Newcomer => {
            // A list ranked by a self-declared attribute carries its
            // newcomer figures beside its own.
            let after = match &list.fairness["newcomers"] {
                newcomers @ Value::Object(_) => newcomers,
                _ => &list.fairness["after"],
            };
            let exposure = after["exposure"]
                .as_array()
                .map(|values| values.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            // A list with no report has nothing off target; in a report,
            // null stands for the infinite value JSON cannot hold.
            let figure = |key: &str, infinite: f64| match after {
                Value::Object(_) => after[key].as_f64().unwrap_or(infinite),
                _ => 0.0,
            };
            (figure("min_skew", f64::NEG_INFINITY), figure("ndkl", f64::INFINITY), exposure)
        }
        Grouping::Declared { target, .. } => {
            let ranking: Vec<usize> = items.iter().map(|item| item.group).collect();
            (
                metrics::min_skew(&ranking, target, ranking.len()),
                metrics::ndkl(&ranking, target),
                metrics::exposure(&ranking, target.len()),
            )
        }
    };
    ListSummary { day: list.created_at.date().to_string(), min_skew, ndkl, exposure, items }
}

/// The audit over the last `days` days (1–366) by `attribute` (default
/// `newcomer`), for admins.
pub async fn audit(
    engine: &Engine,
    caller: &Caller,
    days: Option<i64>,
    attribute: Option<&str>,
) -> Result<FairnessAudit> {
    caller.require_admin()?;
    let days = days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ValidationError::new("days", "must be between 1 and 366").into());
    }
    let today = time::OffsetDateTime::now_utc().replace_time(time::Time::MIDNIGHT);
    let since = today - time::Duration::days(days - 1);
    let attribute = Attribute::parse(attribute.unwrap_or(NEWCOMER))
        .map_err(|err| ValidationError::new(err.field, err.message))?;
    let grouping = match &attribute {
        Attribute::Newcomer => Grouping::Newcomer,
        Attribute::Declared(key) => declared_grouping(&engine.store.declared_attribute(key).await?),
    };
    let lists = engine.store.match_lists_with_feedback(since, false).await?;
    let summaries: Vec<ListSummary> = lists.iter().map(|list| summary(list, &grouping)).collect();
    let groups = grouping.groups();
    Ok(FairnessAudit {
        attribute: attribute.describe(),
        target: match &grouping {
            Grouping::Newcomer => None,
            Grouping::Declared { target, .. } => Some(target.clone()),
        },
        groups: groups.clone(),
        days: by_day(&summaries, groups.len())
            .into_iter()
            .map(|day| FairnessDay {
                day: day.day,
                lists: day.lists,
                mean_min_skew: day.mean_min_skew,
                lists_with_absent_group: day.lists_with_absent_group,
                mean_ndkl: day.mean_ndkl,
                lists_with_unbounded_ndkl: day.lists_with_unbounded_ndkl,
                exposure: day.exposure,
                shortlist_ratio: day.shortlist_ratio,
                hire_ratio: day.hire_ratio,
            })
            .collect(),
    })
}
