//! The operator's other pages: users (role, disable), the audit log with
//! filters and the chain check, dead letters with retry, the notification
//! log with re-send, and template previews. Each page calls the engine's
//! `operations` use cases, which check that the visitor is an admin.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::{
    audit::AuditEntry,
    ids::UserId,
    user::{Role, User},
};
use fairgig_engine::operations::{self, TemplatePreview};
use fairgig_notify::NotificationKind;
use fairgig_store::{
    audit::{AuditFilter, AuditVerification},
    notifications::Notification,
    tasks::DeadTask,
};
use serde::Deserialize;

use super::{
    page::{
        check_csrf, path_id, render, require_sign_in, CsrfForm, LenientQuery, Page, PortalError,
    },
    session::Visitor,
};
use fairgig_http::ClientInfo;

use crate::PortalState;

/// Rows per page on the users and audit pages.
const PAGE_ROWS: u32 = 50;
/// Deliveries the notification log shows.
const LOG_ROWS: u32 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    after: Option<String>,
    /// Set after a change, to confirm it.
    #[serde(default)]
    saved: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/admin_users.html")]
struct UsersPage {
    page: Page,
    users: Vec<User>,
    /// The last listed user's id, when more follow.
    next: String,
    roles: [&'static str; 3],
    notice: String,
}

pub async fn users(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<UsersQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let after: Option<UserId> = query.after.and_then(|after| after.parse().ok());
    let (users, more) = operations::users(&state.engine, caller, after, PAGE_ROWS)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let next = if more {
        users.last().map(|u| u.id.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    let roles = Role::ALL.map(Role::as_str);
    let page = Page::new(&visitor, "ops-users-title");
    let notice = if query.saved.is_some() { page.t.msg("ops-saved") } else { String::new() };
    Ok(render(&UsersPage { page, users, next, roles, notice }))
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: UserId = path_id(&visitor, &id)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| PortalError::new(&visitor, StatusCode::UNPROCESSABLE_ENTITY))?;
    operations::set_role(&state.engine, caller, id, role, client.context())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/admin/users?saved=1").into_response())
}

pub async fn disable(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: UserId = path_id(&visitor, &id)?;
    operations::disable_user(&state.engine, caller, id, client.context())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/admin/users?saved=1").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    cursor: Option<i64>,
    /// Set by the "check the chain" button.
    #[serde(default)]
    verify: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/admin_audit.html")]
struct AuditPage {
    page: Page,
    query: AuditQuery,
    entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page, when there is one.
    next: Option<i64>,
    verification: Option<AuditVerification>,
}

impl AuditPage {
    /// The filters, for the next page's link.
    fn filters(&self) -> String {
        let pairs = [
            ("actor", &self.query.actor),
            ("action", &self.query.action),
            ("target", &self.query.target),
        ];
        serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default()
    }
}

pub async fn audit(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<AuditQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let failed = |err| PortalError::from_engine(&visitor, err);
    let given = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = AuditFilter {
        actor: given(&query.actor),
        action: given(&query.action),
        target: given(&query.target),
        from: None,
        until: None,
        before_seq: query.cursor,
    };
    let (entries, more) =
        operations::audit(&state.engine, caller, &filter, PAGE_ROWS).await.map_err(failed)?;
    let next = if more { entries.last().map(|entry| entry.seq) } else { None };
    let verification = match query.verify {
        Some(_) => Some(operations::verify_audit(&state.engine, caller).await.map_err(failed)?),
        None => None,
    };
    let page = Page::new(&visitor, "ops-audit-title");
    Ok(render(&AuditPage { page, query, entries, next, verification }))
}

#[derive(Template)]
#[template(path = "portal/admin_dead_letters.html")]
struct DeadLettersPage {
    page: Page,
    tasks: Vec<DeadTask>,
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    retried: Option<String>,
    #[serde(default)]
    status: String,
}

pub async fn dead_letters(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<NoticeQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let tasks = operations::dead_letters(&state.engine, caller)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let page = Page::new(&visitor, "ops-dead-title");
    let notice = match query.retried {
        Some(_) => page.t.msg("ops-retried"),
        None => String::new(),
    };
    Ok(render(&DeadLettersPage { page, tasks, notice }))
}

pub async fn retry_dead_letter(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id = path_id(&visitor, &id)?;
    operations::retry_dead_letter(&state.engine, caller, id, client.context())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/admin/dead-letters?retried=1").into_response())
}

#[derive(Template)]
#[template(path = "portal/admin_notifications.html")]
struct NotificationLogPage {
    page: Page,
    deliveries: Vec<Notification>,
    status: String,
    statuses: [&'static str; 6],
    notice: String,
}

pub async fn notification_log(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<NoticeQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let status = Some(query.status.as_str()).filter(|status| !status.is_empty());
    let deliveries = operations::notification_log(&state.engine, caller, status, LOG_ROWS)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let page = Page::new(&visitor, "ops-notifications-title");
    let notice = if query.retried.is_some() { page.t.msg("ops-resent") } else { String::new() };
    let statuses = ["pending", "sending", "sent", "failed", "retrying", "dead"];
    Ok(render(&NotificationLogPage { page, deliveries, status: query.status, statuses, notice }))
}

pub async fn resend(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id = path_id(&visitor, &id)?;
    operations::retry_notification(&state.engine, caller, id, client.context())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/admin/notifications?retried=1").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    locale: String,
}

#[derive(Template)]
#[template(path = "portal/admin_templates.html")]
struct TemplatesPage {
    page: Page,
    kinds: Vec<&'static str>,
    kind: String,
    locale: String,
    preview: TemplatePreview,
}

pub async fn templates(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<PreviewQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let kind = if query.kind.is_empty() { NotificationKind::ALL[0].as_str() } else { &query.kind };
    let locale = if query.locale == "de" { "de" } else { "en" };
    let preview = operations::preview_template(&state.engine, caller, kind, Some(locale))
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let kinds = NotificationKind::ALL.iter().map(|kind| kind.as_str()).collect();
    let page = Page::new(&visitor, "ops-templates-title");
    Ok(render(&TemplatesPage {
        page,
        kinds,
        kind: preview.kind.as_str().to_owned(),
        locale: locale.to_owned(),
        preview,
    }))
}

#[cfg(test)]
mod tests {
    use axum::extract::FromRequestParts;

    use super::*;

    #[tokio::test]
    async fn malformed_queries_read_as_empty() {
        let request = axum::http::Request::get("/admin/audit?action=x&cursor=not-a-number")
            .body(())
            .expect("request");
        let (mut parts, ()) = request.into_parts();
        let LenientQuery(query) =
            LenientQuery::<AuditQuery>::from_request_parts(&mut parts, &()).await.expect("never");
        assert_eq!((query.cursor, query.action.as_str()), (None, ""));
    }
}
