//! The authenticated caller of a request.
//!
//! Handlers that take a [`Caller`] require authentication; they then declare
//! what they need with [`Caller::require`] or [`Caller::require_admin`] as
//! their first line, so "who may call this" is read at the top of each
//! handler.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use fairgig_core::{
    apikey::Scope,
    ids::{ApiKeyId, SessionId},
    user::{Role, User},
};

use crate::{
    auth::{api_keys, tokens::AccessClaims},
    error::{ApiError, ApiResult},
    state::AppState,
};

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A signed-in session (access token); holds every scope of the role.
    Session(SessionId),
    /// An API key, limited to its scopes.
    ApiKey { id: ApiKeyId, scopes: Vec<Scope> },
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub credential: Credential,
}

impl Caller {
    /// Fails with 403 unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        match &self.credential {
            Credential::Session(_) => Ok(()),
            Credential::ApiKey { scopes, .. } if scopes.contains(&scope) => Ok(()),
            Credential::ApiKey { .. } => Err(ApiError::new(
                crate::error::ErrorCode::Forbidden,
                format!("this API key lacks the {scope} scope"),
            )),
        }
    }

    /// Fails with 403 unless the caller is an admin (and, for a key, has the admin scope).
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.user.role != Role::Admin {
            return Err(ApiError::forbidden());
        }
        self.require(Scope::Admin)
    }

    /// Fails with 403 for API keys: some acts (creating keys, changing the
    /// password) need the person, not a delegated key.
    pub fn require_session(&self) -> ApiResult<()> {
        match self.credential {
            Credential::Session(_) => Ok(()),
            Credential::ApiKey { .. } => Err(ApiError::new(
                crate::error::ErrorCode::Forbidden,
                "this needs a signed-in session, not an API key",
            )),
        }
    }

    pub fn session(&self) -> Option<SessionId> {
        match self.credential {
            Credential::Session(session) => Some(session),
            Credential::ApiKey { .. } => None,
        }
    }
}

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

impl<S> FromRequestParts<S> for Caller
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
        let caller = if presented.starts_with("fg_") {
            authenticate_api_key(&state, presented).await?
        } else {
            let verified =
                parts.extensions.get::<VerifiedAccess>().map(|VerifiedAccess(claims)| *claims);
            authenticate_session(&state, presented, verified).await?
        };
        if caller.user.is_disabled() {
            return Err(ApiError::unauthorized());
        }
        Ok(caller)
    }
}

/// Access-token claims the rate limiter already verified for this request.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedAccess(pub AccessClaims);

async fn authenticate_session(
    state: &AppState,
    token: &str,
    verified: Option<AccessClaims>,
) -> ApiResult<Caller> {
    let claims = match verified {
        Some(claims) => claims,
        None => state.tokens.verify_access(token).map_err(|_| ApiError::unauthorized())?,
    };
    let user =
        state.store.session_user(claims.session).await?.ok_or_else(ApiError::unauthorized)?;
    if user.id != claims.user {
        return Err(ApiError::unauthorized());
    }
    Ok(Caller { user, credential: Credential::Session(claims.session) })
}

async fn authenticate_api_key(state: &AppState, presented: &str) -> ApiResult<Caller> {
    let prefix = api_keys::parse_prefix(presented).ok_or_else(ApiError::unauthorized)?;
    let key =
        state.store.find_api_key_by_prefix(prefix).await?.ok_or_else(ApiError::unauthorized)?;
    let hash = api_keys::hash_key(presented);
    if !api_keys::digests_match(&hash, &key.key_hash) || !key.is_usable(fairgig_store::now()) {
        return Err(ApiError::unauthorized());
    }
    state.store.touch_api_key(key.id).await?;
    let user = state.store.get_user(key.user).await?;
    Ok(Caller { user, credential: Credential::ApiKey { id: key.id, scopes: key.scopes } })
}
