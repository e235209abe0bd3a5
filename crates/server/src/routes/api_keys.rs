//! `/me/api-keys`: the caller's API keys.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::{api_key::Scope, audit::Actor, ids::ApiKeyId};
use fairgig_store::api_keys::ApiKey;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::accounts::{self, CreatedApiKey};

use fairgig_engine::Credential;

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extractors::{AppJson, AppPath, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_keys, create_key)).routes(routes!(revoke_key))
}

/// The caller's API keys (never their secrets).
#[utoipa::path(
    get, path = "/me/api-keys", tag = "me",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's keys, oldest first", body = Vec<ApiKey>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn list_keys(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Vec<ApiKey>>> {
    Ok(Json(accounts::api_keys(&state.engine, &caller).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// Defaults to `read` and `write`.
    #[serde(default)]
    scopes: Option<Vec<Scope>>,
    /// RFC 3339; the key stops working then.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<OffsetDateTime>,
}

/// Create an API key. The response holds the full key, shown this once.
#[utoipa::path(
    post, path = "/me/api-keys", tag = "me", request_body = CreateKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CreatedApiKey),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "API keys cannot create keys", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn create_key(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    caller.require_session()?;
    let scopes = body.scopes.unwrap_or_else(|| Scope::DEFAULT.to_vec());
    let created = accounts::create_api_key(
        &state.engine,
        &caller.user,
        &body.name,
        scopes,
        body.expires_at,
        Actor::User(caller.user.id),
        client.context(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke one of the caller's keys.
#[utoipa::path(
    delete, path = "/me/api-keys/{id}", tag = "me",
    params(("id" = String, Path, description = "Key id", format = Uuid)),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Revoked", body = ApiKey),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A key without the write scope, or the key revoking itself", body = ErrorBody),
        (status = 404, description = "No such key of the caller's", body = ErrorBody),
    )
)]
async fn revoke_key(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<ApiKeyId>,
) -> ApiResult<Json<ApiKey>> {
    caller.require(Scope::Write)?;
    if matches!(caller.credential, Credential::ApiKey { id: own, .. } if own == id) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "an API key cannot revoke itself; sign in or use another key",
        ));
    }
    let key = accounts::revoke_api_key(
        &state.engine,
        caller.user.id,
        id,
        Actor::User(caller.user.id),
        client.context(),
    )
    .await?;
    Ok(Json(key))
}
