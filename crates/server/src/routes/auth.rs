//! `/auth`: register, login, refresh, logout; password reset and email
//! verification by one-time link.

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
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
}

/// Ask for a password-reset link by email. The answer is the same whether
/// or not the address has an account; one link per address per minute.
#[utoipa::path(
    post, path = "/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way"),
        (status = 422, description = "Not an email address", body = ErrorBody),
    )
)]
async fn request_password_reset(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    accounts::links::request_password_reset(&state.engine, &body.email, client.context()).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasswordRequest {
    /// The `token` of the emailed link.
    #[schema(max_length = 100)]
    token: String,
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Choose a new password with an emailed link; every session is signed out.
#[utoipa::path(
    post, path = "/auth/password-reset/confirm", tag = "auth", request_body = NewPasswordRequest,
    responses(
        (status = 204, description = "Password changed; sign in with it"),
        (status = 422, description = "Unknown, used or expired link, or a weak password", body = ErrorBody),
    )
)]
async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<NewPasswordRequest>,
) -> ApiResult<StatusCode> {
    accounts::links::reset_password(
        &state.engine,
        &body.token,
        &body.new_password,
        client.context(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The `token` of the emailed link.
    #[schema(max_length = 100)]
    token: String,
}

/// Confirm the account's email address with the emailed link.
#[utoipa::path(
    post, path = "/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "The address is verified", body = User),
        (status = 422, description = "Unknown, used or expired link", body = ErrorBody),
    )
)]
async fn verify_email(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<VerifyEmailRequest>,
) -> ApiResult<Json<User>> {
    Ok(Json(accounts::links::verify_email(&state.engine, &body.token, client.context()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct VerificationSent {
    /// `false` when the address is verified already or a link went out
    /// within the last minute.
    sent: bool,
}

/// Send the caller a new verification link.
#[utoipa::path(
    post, path = "/auth/verify-email/resend", tag = "auth",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Whether a link was sent", body = VerificationSent),
    )
)]
async fn resend_verification(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<VerificationSent>> {
    let sent = accounts::links::send_verification(&state.engine, &caller.user).await?;
    Ok(Json(VerificationSent { sent }))
}
