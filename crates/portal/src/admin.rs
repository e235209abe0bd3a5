//! The operator's page: reviews held for moderation, the fairness of the
//! shown lists per day (a chart and its table), and the ranker registry
//! with training a challenger, promote and roll back.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::ids::ReviewId;
use fairgig_engine::{
    applications,
    fairness_audit::{self, FairnessAudit},
    registry::{self, ModelKind},
    training::{self, RegistryEntry},
};
use fairgig_store::applications::Review;

use super::{
    accounts::FieldError,
    chart,
    page::{
        check_csrf, path_id, render, render_with, require_sign_in, CsrfForm, LenientQuery, Page,
        PortalError,
    },
    session::Visitor,
};
use crate::PortalState;

#[derive(Template)]
#[template(path = "portal/admin.html")]
struct AdminPage {
    page: Page,
    pending: Vec<Review>,
    audit: FairnessAudit,
    chart: String,
    rankers: Vec<RegistryEntry>,
    notice: String,
    error: FieldError,
    /// The self-declared attribute the fairness figures group by, as asked
    /// (empty: newcomer or established).
    attribute: String,
}

impl AdminPage {
    /// A version's held-out nDCG@10 from its recorded metrics, if any.
    fn ndcg(&self, entry: &RegistryEntry) -> String {
        entry.model.metrics["evaluation"]["ndcg_at_10"]
            .as_f64()
            .map_or_else(|| "—".to_owned(), |value| format!("{value:.3}"))
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    attribute: String,
}

async fn admin_page(
    state: &PortalState,
    visitor: &Visitor,
    notice: String,
    error: FieldError,
    attribute: String,
) -> Result<AdminPage, PortalError> {
    let failed = |err| PortalError::from_engine(visitor, err);
    let caller =
        visitor.caller.as_ref().ok_or_else(|| PortalError::new(visitor, StatusCode::FORBIDDEN))?;
    let pending = applications::pending_reviews(&state.engine, caller).await.map_err(failed)?;
    let attribute = attribute.trim().to_owned();
    let grouping = Some(attribute.as_str()).filter(|a| !a.is_empty());
    let (audit, error) = match fairness_audit::audit(&state.engine, caller, Some(30), grouping)
        .await
    {
        Ok(audit) => (audit, error),
        // A malformed attribute name: the newcomer figures, and why.
        Err(refused @ fairgig_engine::Error::Refused { .. }) => (
            fairness_audit::audit(&state.engine, caller, Some(30), None).await.map_err(failed)?,
            FieldError::from_engine(visitor, refused)?,
        ),
        Err(other) => return Err(failed(other)),
    };
    let rankers =
        registry::list(&state.engine, caller, ModelKind::Ranker).await.map_err(failed)?.entries;
    let t = visitor.messages();
    // A day where every list lacked a group has no finite mean to draw;
    // the table counts those lists.
    let points: Vec<(String, f64)> =
        audit.days.iter().filter_map(|day| Some((day.day.clone(), day.mean_min_skew?))).collect();
    let low = points.iter().map(|(_, v)| *v).fold(-1.0_f64, f64::min);
    let chart = chart::line_chart(
        &t.msg("admin-chart-title"),
        &t.msg("admin-chart-desc"),
        &points,
        low,
        0.5,
    );
    Ok(AdminPage {
        page: Page::new(visitor, "admin-title"),
        pending,
        audit,
        chart,
        rankers,
        notice,
        error,
        attribute,
    })
}

pub async fn show(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<AdminQuery>,
) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let error = FieldError::default();
    let page = admin_page(&state, &visitor, String::new(), error, query.attribute).await?;
    Ok(render(&page))
}

/// Publishes or rejects a held review.
pub async fn moderate(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path((id, verdict)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: ReviewId = path_id(&visitor, &id)?;
    let publish = match verdict.as_str() {
        "publish" => true,
        "reject" => false,
        _ => return Err(PortalError::new(&visitor, StatusCode::NOT_FOUND)),
    };
    applications::moderate(&state.engine, caller, id, publish)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/admin").into_response())
}

/// Promotes the challenger ranker or rolls back the champion; the outcome
/// (or why not) is shown on the page.
pub async fn ranker(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(action): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let t = visitor.messages();
    let outcome = match action.as_str() {
        "promote" => {
            registry::promote(&state.engine, caller, ModelKind::Ranker).await.map(|promotion| {
                let key = if promotion.promoted { "admin-promoted" } else { "admin-not-promoted" };
                format!(
                    "{} {}",
                    t.msg_with(key, "version", &promotion.version),
                    promotion.reasons.join(" ")
                )
            })
        }
        "train" => {
            training::train_challenger(&state.engine, caller, None).await.map(|report| match report
                .trained
            {
                Some(trained) => {
                    let mut args = fluent_bundle::FluentArgs::new();
                    args.set("version", trained.version);
                    args.set("ndcg", format!("{:.3}", trained.evaluation.ndcg_at_10));
                    args.set("champion", format!("{:.3}", trained.baseline.ndcg_at_10));
                    args.set("lists", trained.evaluation.lists);
                    t.msg_args("admin-trained", &args)
                }
                None => t.msg_with("admin-too-little", "lists", report.lists),
            })
        }
        "rollback" => registry::roll_back(&state.engine, caller, ModelKind::Ranker)
            .await
            .map(|rolled| t.msg_with("admin-rolled-back", "version", rolled.serving)),
        _ => return Err(PortalError::new(&visitor, StatusCode::NOT_FOUND)),
    };
    let (status, notice, error) = match outcome {
        Ok(notice) => (StatusCode::OK, notice, FieldError::default()),
        Err(err) => (StatusCode::CONFLICT, String::new(), FieldError::from_engine(&visitor, err)?),
    };
    let page = admin_page(&state, &visitor, notice, error, String::new()).await?;
    Ok(render_with(status, &page))
}
