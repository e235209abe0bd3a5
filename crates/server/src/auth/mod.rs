//! Authentication at the HTTP edge: the [`Authenticated`] extractor that
//! every protected endpoint takes. It reads `Authorization: Bearer …` or
//! `X-API-Key: …` and asks the engine ([`fairgig_engine::accounts`]) who
//! that is; what a [`Caller`] may do is the engine's
//! ([`fairgig_engine::caller`]).

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use fairgig_engine::{accounts::tokens::AccessClaims, Caller};

use crate::{error::ApiError, state::AppState};

/// The caller of a request that must be authenticated.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Caller);

/// The bearer token or API key presented, if any: `Authorization: Bearer …`
/// or `X-API-Key: …`.
pub fn presented_credential(parts: &Parts) -> Option<&str> {
    let bearer =
        parts.headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(
            |value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
            },
        );
    bearer.or_else(|| parts.headers.get("x-api-key").and_then(|value| value.to_str().ok()))
}

/// Access-token claims the rate limiter already verified for this request.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedAccess(pub AccessClaims);

impl<S> FromRequestParts<S> for Authenticated
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some(presented) = presented_credential(parts) else {
            return Err(ApiError::unauthorized());
        };
        let verified =
            parts.extensions.get::<VerifiedAccess>().map(|VerifiedAccess(claims)| *claims);
        let caller =
            fairgig_engine::accounts::authenticate(&state.engine, presented, verified).await?;
        Ok(Authenticated(caller))
    }
}
