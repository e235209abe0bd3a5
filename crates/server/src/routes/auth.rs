//! `/auth`: register, login, refresh, logout.

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::user::{Role, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::accounts::{self, AccountInput, TokenPair};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 100)]
    display_name: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    /// `client` or `freelancer`.
    role: Role,
    /// Region code such as `DE`, `US-CA` or `EU`.
    #[serde(default)]
    region: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterResponse {
    user: User,
    #[serde(flatten)]
    tokens: TokenPair,
}

/// Create an account (client or freelancer) and sign in.
#[utoipa::path(
    post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; signed in", body = RegisterResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let input = AccountInput {
        email: &body.email,
        display_name: &body.display_name,
        password: &body.password,
        role: body.role,
        region: body.region.as_deref(),
    };
    let (user, tokens) = accounts::register(&state.engine, input, client.context()).await?;
    Ok((StatusCode::CREATED, Json(RegisterResponse { user, tokens })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    email: String,
    #[schema(max_length = 256)]
    password: String,
}

/// Sign in with email and password.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(accounts::login(&state.engine, &body.email, &body.password, client.context()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    refresh_token: String,
}

/// Exchange a refresh token for a new token pair (the old one stops working).
#[utoipa::path(
    post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Invalid, expired or reused token", body = ErrorBody),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(accounts::refresh(&state.engine, &body.refresh_token, client.context()).await?))
}

/// Sign out: the session's access and refresh tokens stop working at once.
#[utoipa::path(
    post, path = "/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
) -> ApiResult<StatusCode> {
    accounts::logout(&state.engine, &caller, client.context()).await?;
    Ok(StatusCode::NO_CONTENT)
}
