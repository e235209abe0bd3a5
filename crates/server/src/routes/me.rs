//! `/me`: the caller's own account.

use std::convert::Infallible;

use axum::{
    extract::State,
    http::StatusCode,
    response::{
        sse::{Event, KeepAlive, Sse},
        Response,
    },
    Json,
};
use fairgig_core::{api_key::Scope, user::User};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::{
    accounts::{self, AccountChanges},
    live::{self, LiveEvent},
    personal_data::{self, Whose},
};
use fairgig_store::personal_data::Erasure;

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me, erase_me))
        .routes(routes!(export_me))
        .routes(routes!(change_password))
        .routes(routes!(my_events))
}

/// One server-sent event of `/me/events`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the stream; the events are written by hand
pub struct LiveEventDoc {
    /// `application` (to a client) or `job` (to a freelancer).
    #[schema(pattern = "^(application|job)$")]
    event: String,
    /// JSON: `{application, job, job_title, freelancer}` for `application`,
    /// `{job, title, required_skills}` for `job`.
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// What is new for me, as server-sent events: a client hears of each new
/// application to their jobs, a freelancer of each newly opened job that
/// fits their profile. The stream ends after an hour; reconnect.
#[utoipa::path(
    get, path = "/me/events", tag = "me",
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, description = "A stream of live events", content_type = "text/event-stream", body = LiveEventDoc),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn my_events(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let events = live::watch(state.engine.clone(), &caller)?.map(|event| {
        Ok(match event {
            LiveEvent::Application { application, job, job_title, freelancer } => {
                let data = serde_json::json!({
                    "application": application, "job": job, "job_title": job_title, "freelancer": freelancer,
                });
                Event::default().event("application").data(data.to_string())
            }
            LiveEvent::Job { job, title, required_skills } => {
                let data =
                    serde_json::json!({"job": job, "title": title, "required_skills": required_skills});
                Event::default().event("job").data(data.to_string())
            }
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The caller's account.
#[utoipa::path(
    get, path = "/me", tag = "me",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "API key lacks the read scope", body = ErrorBody),
    )
)]
async fn get_me(Authenticated(caller): Authenticated) -> ApiResult<Json<User>> {
    caller.require(Scope::Read)?;
    Ok(Json(caller.user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[schema(min_length = 1, max_length = 100)]
    display_name: Option<String>,
    /// A region code; `null` or `""` clears it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>)]
    region: Option<Option<String>>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present_or_null<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Change the caller's display name or region.
#[utoipa::path(
    patch, path = "/me", tag = "me", request_body = UpdateMeRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn update_me(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<UpdateMeRequest>,
) -> ApiResult<Json<User>> {
    caller.require(Scope::Write)?;
    let input = AccountChanges {
        display_name: body.display_name.as_deref(),
        region: body.region.as_ref().map(|region| region.as_deref()),
    };
    Ok(Json(accounts::update_account(&state.engine, &caller, input, client.context()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(max_length = 256)]
    current_password: String,
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Change the caller's password; every other session is signed out.
#[utoipa::path(
    post, path = "/me/password", tag = "me", request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in, or the current password is wrong", body = ErrorBody),
        (status = 422, description = "The new password is invalid", body = ErrorBody),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    caller.require_session()?;
    accounts::change_password(
        &state.engine,
        &caller,
        &body.current_password,
        &body.new_password,
        client.context(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything fairgig holds about me, as one ZIP archive: `data.json`
/// (account, profile, submissions with their results, jobs, applications,
/// reviews written and received, notifications, settings, webhook endpoints
/// without secrets, match feedback, API key metadata, sessions, audit
/// entries by or about me) and the files I uploaded. Needs a signed-in
/// session, not an API key.
#[utoipa::path(
    get, path = "/me/export", tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The archive", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An API key cannot export an account", body = ErrorBody),
    )
)]
async fn export_me(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
) -> ApiResult<Response> {
    let archive =
        personal_data::export(&state.engine, &caller, Whose::Mine, client.context()).await?;
    Ok(fairgig_http::archive_download(archive))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseMeRequest {
    /// The account's current password, to confirm.
    #[schema(max_length = 256)]
    password: String,
}

/// Erase my account: my personal data is deleted or made anonymous, my
/// files deleted, my sessions and keys revoked; reviews I published keep
/// their rating without their text; the audit log keeps the erasure.
/// Cannot be undone. Needs a signed-in session and the password.
#[utoipa::path(
    delete, path = "/me", tag = "me", request_body = EraseMeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Erased; what was removed", body = Erasure),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in, or the password is wrong", body = ErrorBody),
        (status = 403, description = "An API key cannot erase an account", body = ErrorBody),
        (status = 409, description = "The last admin account", body = ErrorBody),
    )
)]
async fn erase_me(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<EraseMeRequest>,
) -> ApiResult<Json<Erasure>> {
    let erased =
        personal_data::erase(&state.engine, &caller, Whose::Mine, &body.password, client.context())
            .await?;
    Ok(Json(erased))
}
