//! `/admin/fairness`: how fair the shown lists were, day by day.

use axum::{
    extract::{rejection::QueryRejection, Query, State},
    Json,
};
use fairgig_core::ValidationError;
use fairgig_matching::fairness::audit::{by_day, ListSummary, ShownItem};
use fairgig_store::feedback::RecordedList;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    error::{ApiResult, ErrorBody},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(fairness_report))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FairnessQuery {
    /// Days back from today, 1–366; default 30.
    days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct FairnessDay {
    /// `YYYY-MM-DD`, UTC.
    day: String,
    lists: usize,
    /// Mean MinSkew@k of the newcomer/established groups after re-ranking.
    mean_min_skew: f64,
    mean_ndkl: f64,
    /// Total exposure per group, in `groups` order.
    exposure: Vec<f64>,
    /// Four-fifths rule on shortlists: lowest group's rate over highest's
    /// (under 0.8 is adverse impact); null when not measurable.
    shortlist_ratio: Option<f64>,
    hire_ratio: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct FairnessReport {
    attribute: String,
    groups: Vec<String>,
    days: Vec<FairnessDay>,
}

fn summary(list: &RecordedList) -> ListSummary {
    let after = &list.fairness["after"];
    let chosen = |freelancer: Option<uuid::Uuid>, kind: &str| {
        list.feedback.iter().any(|(who, k, _)| k == kind && Some(*who) == freelancer)
    };
    ListSummary {
        day: list.created_at.date().to_string(),
        min_skew: after["min_skew"].as_f64().unwrap_or(0.0),
        ndkl: after["ndkl"].as_f64().unwrap_or(0.0),
        exposure: after["exposure"]
            .as_array()
            .map(|values| values.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default(),
        items: list
            .items
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let freelancer = item["freelancer"].as_str().and_then(|id| id.parse().ok());
                ShownItem {
                    group: usize::from(item["newcomer"].as_bool().unwrap_or(false)),
                    shortlisted: chosen(freelancer, "shortlist"),
                    hired: chosen(freelancer, "hire"),
                }
            })
            .collect(),
    }
}

/// Fairness of the shown match lists per day (admins).
///
/// The exposure groups are newcomers (no completed job) and established
/// freelancers; shortlist and hire rates come from recorded feedback.
#[utoipa::path(
    get, path = "/admin/fairness", tag = "admin", params(FairnessQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, body = FairnessReport),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "days out of range", body = ErrorBody),
    )
)]
async fn fairness_report(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<FairnessQuery>, QueryRejection>,
) -> ApiResult<Json<FairnessReport>> {
    caller.require_admin()?;
    let Query(query) = query?;
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ValidationError::new("days", "must be between 1 and 366").into());
    }
    let today = time::OffsetDateTime::now_utc().replace_time(time::Time::MIDNIGHT);
    let since = today - time::Duration::days(days - 1);
    let lists = state.store.recorded_lists(since, false).await?;
    let summaries: Vec<ListSummary> = lists.iter().map(summary).collect();
    let groups = ["established", "newcomer"];
    Ok(Json(FairnessReport {
        attribute: "newcomer (no completed job yet)".to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        days: by_day(&summaries, groups.len())
            .into_iter()
            .map(|day| FairnessDay {
                day: day.day,
                lists: day.lists,
                mean_min_skew: day.mean_min_skew,
                mean_ndkl: day.mean_ndkl,
                exposure: day.exposure,
                shortlist_ratio: day.shortlist_ratio,
                hire_ratio: day.hire_ratio,
            })
            .collect(),
    }))
}
