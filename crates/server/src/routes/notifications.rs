//! Notifications: the inbox (`/me/notifications`), preferences, webhook
//! endpoints, and the admin's retry and template previews.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::{
    api_key::Scope, ids::NotificationId, work::NotificationStatus, ValidationError,
};
use fairgig_engine::{operations, webhooks};
use fairgig_notify::{preferences::Preferences, ChannelKind};
use fairgig_store::notifications::{Notification, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody},
    extractors::{AppJson, AppPath, AppQuery, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbox))
        .routes(routes!(get_preferences, put_preferences))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(retry_notification))
        .routes(routes!(preview_template))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// 1–100, default 20.
    limit: Option<u32>,
    offset: Option<u32>,
}

/// A delivery as its recipient sees it.
#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    id: NotificationId,
    kind: String,
    channel: String,
    address: String,
    subject: String,
    text: String,
    /// `failed`: this channel gave up and the next one in the user's list took over.
    status: NotificationStatus,
    attempts: i32,
    provider_id: Option<String>,
    last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    sent_at: Option<OffsetDateTime>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            channel: n.channel,
            address: n.address,
            subject: n.subject,
            text: n.body_text,
            status: n.status,
            attempts: n.attempts,
            provider_id: n.provider_id,
            last_error: n.last_error,
            created_at: n.created_at,
            sent_at: n.sent_at,
        }
    }
}

/// My notifications, newest first: the inbox and delivery log.
#[utoipa::path(
    get, path = "/me/notifications", tag = "notifications", params(Page),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses((status = 200, body = Vec<NotificationView>), (status = 422, body = ErrorBody))
)]
async fn inbox(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(page): AppQuery<Page>,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let limit = page.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ValidationError::new("limit", "must be between 1 and 100").into());
    }
    let rows = state
        .engine
        .store
        .notifications_for_user(caller.user.id, limit, page.offset.unwrap_or(0))
        .await?;
    Ok(Json(rows.into_iter().map(NotificationView::from).collect()))
}

/// My notification preferences (the defaults until I save some).
///
/// `{channels: [{channel: email|webhook|telegram|sms|slack|log, address}], kinds: {kind: instant|off}, locale}`.
#[utoipa::path(
    get, path = "/me/notification-preferences", tag = "notifications",
    security(("bearer" = []), ("api_key" = ["read"])),
    responses((status = 200, body = Preferences))
)]
async fn get_preferences(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Value>> {
    let preferences = state
        .engine
        .notifier
        .preferences(caller.user.id, &caller.user.email)
        .await
        .map_err(internal)?;
    Ok(Json(json!(preferences)))
}

/// Replace my notification preferences.
///
/// Channels are tried in order; a webhook channel names one of my
/// endpoints by id. `digest` and quiet hours are not available yet.
#[utoipa::path(
    put, path = "/me/notification-preferences", tag = "notifications", request_body = Preferences,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = Preferences), (status = 422, body = ErrorBody))
)]
async fn put_preferences(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(document): AppJson<Value>,
) -> ApiResult<Json<Value>> {
    caller.require(Scope::Write)?;
    let preferences: Preferences = serde_path_to_error::deserialize(&document).map_err(|err| {
        let path = err.path().to_string();
        ValidationError::new(top_level(&path), format!("{path}: {}", err.into_inner()))
    })?;
    let stored =
        fairgig_engine::notifications::set_preferences(&state.engine, &caller, preferences).await?;
    Ok(Json(json!(stored)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://…` (or `http://`); internal addresses are refused.
    url: String,
    /// Notification kinds to receive; empty or absent means all.
    #[serde(default)]
    events: Vec<String>,
}

/// An endpoint; `secret` only in the answers that create or rotate it.
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    id: Uuid,
    url: String,
    events: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    previous_secret_expires_at: Option<OffsetDateTime>,
}

fn view(endpoint: WebhookEndpoint, with_secret: bool) -> WebhookView {
    WebhookView {
        id: endpoint.id,
        url: endpoint.url,
        events: endpoint.events.0,
        secret: with_secret.then_some(endpoint.secret),
        previous_secret_expires_at: endpoint.previous_expires_at,
    }
}

/// My webhook endpoints (secrets are not shown again).
#[utoipa::path(
    get, path = "/me/webhooks", tag = "notifications",
    security(("bearer" = []), ("api_key" = ["read"])),
    responses((status = 200, body = Vec<WebhookView>))
)]
async fn list_webhooks(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Vec<WebhookView>>> {
    let endpoints = webhooks::list(&state.engine, &caller).await?;
    Ok(Json(endpoints.into_iter().map(|e| view(e, false)).collect()))
}

/// Register a webhook endpoint; the answer holds its signing secret (`whsec_…`).
///
/// Payloads are signed per Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(
    post, path = "/me/webhooks", tag = "notifications", request_body = NewWebhook,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 201, body = WebhookView), (status = 422, body = ErrorBody))
)]
async fn create_webhook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let endpoint = webhooks::create(&state.engine, &caller, &body.url, &body.events).await?;
    Ok((StatusCode::CREATED, Json(view(endpoint, true))))
}

/// Remove one of my webhook endpoints.
#[utoipa::path(
    delete, path = "/me/webhooks/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 204), (status = 404, body = ErrorBody))
)]
async fn delete_webhook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state.engine, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How long the old secret keeps signing too (0–168, default 24).
    overlap_hours: Option<u32>,
}

/// Replace an endpoint's secret; the old one also signs during the overlap.
#[utoipa::path(
    post, path = "/me/webhooks/{id}/rotate-secret", tag = "notifications", request_body = Rotation,
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn rotate_webhook_secret(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<Rotation>,
) -> ApiResult<Json<WebhookView>> {
    let endpoint = webhooks::rotate_secret(&state.engine, &caller, id, body.overlap_hours).await?;
    Ok(Json(view(endpoint, true)))
}

/// Put a dead or failed delivery back in the queue (admin).
#[utoipa::path(
    post, path = "/admin/notifications/{id}/retry", tag = "notifications",
    params(("id" = Uuid, Path, description = "The delivery's id")),
    security(("bearer" = [])),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn retry_notification(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<NotificationId>,
) -> ApiResult<StatusCode> {
    operations::retry_notification(&state.engine, &caller, id, client.context()).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// Default `en`; a locale without its own template falls back to English.
    locale: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Preview {
    kind: String,
    locale: String,
    /// Locales this kind has its own templates in.
    locales: Vec<String>,
    subject: String,
    text: String,
    html: String,
    /// What Telegram, SMS and Slack get unless they have their own.
    chat: String,
    /// What each chat-like channel gets (`telegram`, `sms`, `slack`).
    channels: std::collections::BTreeMap<String, String>,
    /// The sample values rendered.
    context: Value,
}

/// Render a notification kind's templates with sample values (admin).
#[utoipa::path(
    get, path = "/admin/notification-templates/{kind}/preview", tag = "notifications",
    params(("kind" = String, Path, description = "A notification kind, e.g. `run_completed`"), PreviewQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Preview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn preview_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(kind): AppPath<String>,
    AppQuery(query): AppQuery<PreviewQuery>,
) -> ApiResult<Json<Preview>> {
    let preview =
        operations::preview_template(&state.engine, &caller, &kind, query.locale.as_deref())?;
    let chat = preview.channels.get(ChannelKind::Telegram.as_str()).cloned().unwrap_or_default();
    Ok(Json(Preview {
        kind: preview.kind.as_str().to_owned(),
        locales: preview.locales,
        locale: preview.locale,
        subject: preview.subject,
        text: preview.text,
        html: preview.html,
        chat,
        channels: preview.channels,
        context: preview.context,
    }))
}

/// The top-level preferences field a path like `channels[0].address` is in.
use fairgig_engine::notifications::top_level;

fn internal(err: impl std::fmt::Display) -> ApiError {
    ApiError::new(crate::error::ErrorCode::InternalError, err.to_string())
}
