//! `/audit`: read the audit log. Admins only.

use axum::{extract::State, Json};
use fairgig_core::audit::AuditEntry;
use fairgig_engine::operations;
use fairgig_store::audit::AuditFilter;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::extractors::AppQuery;
use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    routes::admin::page_limit,
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `user:<id>`, `cli` or `anonymous`.
    actor: Option<String>,
    /// e.g. `auth.login_failed`.
    action: Option<String>,
    /// e.g. `user:<id>`.
    target: Option<String>,
    /// RFC 3339, inclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<OffsetDateTime>,
    /// RFC 3339, exclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<OffsetDateTime>,
    /// Cursor: the `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    entries: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<i64>,
}

/// Audit entries, newest first, filtered.
#[utoipa::path(
    get, path = "/audit", tag = "audit", params(AuditQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn list_audit(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    // Who asks is checked before what they asked for (a non-admin learns nothing).
    caller.require_admin()?;
    let limit = page_limit(query.limit)?;
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target: query.target,
        from: query.from,
        until: query.until,
        before_seq: query.cursor,
    };
    let (entries, more) = operations::audit(&state.engine, &caller, &filter, limit).await?;
    let next_cursor = more.then(|| entries.last().map(|entry| entry.seq)).flatten();
    Ok(Json(AuditPage { entries, next_cursor }))
}
