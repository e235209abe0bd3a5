//! `/admin/users`: user administration. Admins only.

use axum::{extract::State, Json};
use fairgig_core::{
    ids::UserId,
    user::{Role, User},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::{
    operations,
    personal_data::{self, Whose},
};
use fairgig_store::personal_data::Erasure;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extractors::{AppJson, AppPath, AppQuery, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(set_role))
        .routes(routes!(disable_user))
        .routes(routes!(erase_user))
        .routes(routes!(export_user))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListUsersQuery {
    /// Cursor: the `next_cursor` of the previous page.
    after: Option<UserId>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    users: Vec<User>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<UserId>,
}

/// Page limits shared by list endpoints: default 50, at most 200.
pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(50),
        Some(limit @ 1..=200) => Ok(limit),
        Some(_) => {
            Err(ApiError::with_field(ErrorCode::InvalidQuery, "limit must be 1-200", "limit"))
        }
    }
}

/// All users, in creation order.
#[utoipa::path(
    get, path = "/admin/users", tag = "admin", params(ListUsersQuery),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<ListUsersQuery>,
) -> ApiResult<Json<UserPage>> {
    // Who asks is checked before what they asked for (a non-admin learns nothing).
    caller.require_admin()?;
    let limit = page_limit(query.limit)?;
    let (users, more) = operations::users(&state.engine, &caller, query.after, limit).await?;
    let next_cursor = more.then(|| users.last().map(|user| user.id)).flatten();
    Ok(Json(UserPage { users, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    role: Role,
}

/// Change a user's role.
#[utoipa::path(
    put, path = "/admin/users/{id}/role", tag = "admin", request_body = SetRoleRequest,
    params(("id" = String, Path, description = "User id", format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, description = "Changed", body = User),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
async fn set_role(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
    AppJson(body): AppJson<SetRoleRequest>,
) -> ApiResult<Json<User>> {
    let user =
        operations::set_role(&state.engine, &caller, id, body.role, client.context()).await?;
    Ok(Json(user))
}

/// Disable a user: their sessions and API keys stop working at once.
#[utoipa::path(
    post, path = "/admin/users/{id}/disable", tag = "admin",
    params(("id" = String, Path, description = "User id", format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, description = "Disabled", body = User),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
async fn disable_user(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
) -> ApiResult<Json<User>> {
    Ok(Json(operations::disable_user(&state.engine, &caller, id, client.context()).await?))
}

/// Everything fairgig holds about a user, as one ZIP archive (as
/// `GET /me/export` gives them); audited.
#[utoipa::path(
    get, path = "/admin/users/{id}/export", tag = "admin",
    params(("id" = String, Path, description = "User id", format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The archive", content_type = "application/zip", body = Vec<u8>),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
async fn export_user(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
) -> ApiResult<axum::response::Response> {
    let whose = Whose::Account(id);
    let archive = personal_data::export(&state.engine, &caller, whose, client.context()).await?;
    Ok(fairgig_http::archive_download(archive))
}

/// Erase a user's account at their request (as `DELETE /me` does, without
/// their password); audited. Cannot be undone.
#[utoipa::path(
    delete, path = "/admin/users/{id}", tag = "admin",
    params(("id" = String, Path, description = "User id", format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses(
        (status = 200, description = "Erased; what was removed", body = Erasure),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user, or erased already", body = ErrorBody),
        (status = 409, description = "The last admin account", body = ErrorBody),
    )
)]
async fn erase_user(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<UserId>,
) -> ApiResult<Json<Erasure>> {
    let whose = Whose::Account(id);
    Ok(Json(personal_data::erase(&state.engine, &caller, whose, "", client.context()).await?))
}
