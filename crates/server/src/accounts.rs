//! What happens when someone registers, signs in, refreshes, changes their
//! profile or password, or an admin manages users and keys: validate, act on
//! the store, write the audit log. Called by the HTTP handlers and the CLI
//! alike, so the rules live in one place.

use fairgig_core::{
    apikey::Scope,
    audit::{actions, Actor, NewAuditEntry, RequestContext},
    ids::{ApiKeyId, UserId},
    user::{DisplayName, Email, Password, Region, Role, User},
    ValidationError,
};
use fairgig_store::{
    api_keys::{ApiKey, NewApiKey},
    sessions::Rotation,
    users::{NewUser, UserChanges},
};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::{
    auth::{api_keys, tokens, Caller},
    error::{ApiError, ApiResult, ErrorCode},
    state::AppState,
};

/// What a successful login or refresh returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque, single-use: exchange it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

/// A new account, as typed by its owner or an admin.
#[derive(Debug)]
pub struct AccountInput<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub region: Option<&'a str>,
}

fn parse_account(input: &AccountInput<'_>) -> Result<(NewUser, Password), ValidationError> {
    let email = Email::parse(input.email)?;
    let display_name = DisplayName::parse(input.display_name)?;
    let password = Password::choose("password", input.password, input.email, input.display_name)?;
    let region = input.region.map(Region::parse).transpose()?;
    Ok((
        NewUser { email, display_name, role: input.role, region, password_hash: String::new() },
        password,
    ))
}

async fn audit(state: &AppState, entry: NewAuditEntry) -> ApiResult<()> {
    state.store.append_audit(entry).await?;
    Ok(())
}

/// Self-service sign-up: clients and freelancers only.
pub async fn register(
    state: &AppState,
    input: AccountInput<'_>,
    context: RequestContext,
) -> ApiResult<(User, TokenPair)> {
    if input.role == Role::Admin {
        return Err(ValidationError::new("role", "must be client or freelancer").into());
    }
    // The new user is the actor of their own registration.
    let user =
        store_account(state, input, |user| Actor::User(user.id), actions::USER_REGISTERED, context)
            .await?;
    let tokens = start_session(state, user.id).await?;
    Ok((user, tokens))
}

/// Creates an account of any role (CLI and admins), with no session.
pub async fn create_user(
    state: &AppState,
    input: AccountInput<'_>,
    actor: Actor,
    context: RequestContext,
) -> ApiResult<User> {
    store_account(state, input, |_| actor, actions::USER_CREATED, context).await
}

/// Validates, hashes the password, stores the user and audits `action`.
async fn store_account(
    state: &AppState,
    input: AccountInput<'_>,
    actor: impl FnOnce(&User) -> Actor,
    action: &'static str,
    context: RequestContext,
) -> ApiResult<User> {
    let (mut new_user, password) = parse_account(&input)?;
    new_user.password_hash =
        state.passwords.hash(password.expose()).await.map_err(anyhow::Error::new)?;
    let user = state.store.create_user(new_user).await?;
    audit(
        state,
        NewAuditEntry::new(actor(&user), action)
            .target(format!("user:{}", user.id))
            .context(context)
            .details(json!({"role": user.role})),
    )
    .await?;
    Ok(user)
}

async fn start_session(state: &AppState, user: UserId) -> ApiResult<TokenPair> {
    let (refresh, refresh_hash) = tokens::new_refresh_token();
    let session =
        state.store.create_session(user, &refresh_hash, state.tokens.refresh_expiry()).await?;
    token_pair(state, user, session, refresh)
}

fn token_pair(
    state: &AppState,
    user: UserId,
    session: fairgig_core::ids::SessionId,
    refresh_token: String,
) -> ApiResult<TokenPair> {
    let access_token = state.tokens.issue_access(user, session).map_err(anyhow::Error::new)?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl.whole_seconds(),
        refresh_token,
        refresh_expires_in: state.tokens.refresh_ttl.whole_seconds(),
    })
}

fn invalid_credentials() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "email or password is wrong")
}

/// Signs in. Failures are counted per email and per IP; past the limit the
/// answer is 429 whether or not the password is right. The answer never says
/// whether the account exists, and takes as long either way.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    context: RequestContext,
) -> ApiResult<TokenPair> {
    let normalised = email.trim().to_lowercase();
    let failure_keys = [
        Some(format!("login:email:{normalised}")),
        context.ip.as_ref().map(|ip| format!("login:ip:{ip}")),
    ];
    let quota = state.quotas.login_failures;
    if state.quotas.enabled {
        for key in failure_keys.iter().flatten() {
            let peek = state.limiter.decide(key, &quota, 0).await;
            if !peek.allowed || peek.remaining == 0 {
                // Full until one failure ages out: reset minus the burst tolerance.
                let tolerance =
                    std::time::Duration::from_micros(quota.tolerance_us().unsigned_abs());
                let wait = peek.retry_after.unwrap_or(peek.reset_after.saturating_sub(tolerance));
                return Err(ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
            }
        }
    }
    let found = match Email::parse(&normalised) {
        Ok(email) => state.store.find_user_for_login(&email).await?,
        Err(_) => None,
    };
    let stored_hash =
        found.as_ref().filter(|(user, _)| !user.is_disabled()).map(|(_, hash)| hash.as_str());
    let verified =
        state.passwords.verify(password, stored_hash).await.map_err(anyhow::Error::new)?;
    let user = match (verified, found) {
        (true, Some((user, _))) => user,
        (_, found) => {
            if state.quotas.enabled {
                for key in failure_keys.iter().flatten() {
                    state.limiter.decide(key, &quota, 1).await;
                }
            }
            let target = found.map(|(user, _)| format!("user:{}", user.id));
            let mut entry = NewAuditEntry::new(Actor::Anonymous, actions::LOGIN_FAILED)
                .context(context)
                .details(json!({"email_known": target.is_some()}));
            if let Some(target) = target {
                entry = entry.target(target);
            }
            audit(state, entry).await?;
            return Err(invalid_credentials());
        }
    };
    audit(
        state,
        NewAuditEntry::new(Actor::User(user.id), actions::LOGIN_SUCCEEDED)
            .target(format!("user:{}", user.id))
            .context(context),
    )
    .await?;
    start_session(state, user.id).await
}

/// Exchanges a refresh token for a new pair. A token used twice revokes its
/// whole session and is audited as theft.
pub async fn refresh(
    state: &AppState,
    refresh_token: &str,
    context: RequestContext,
) -> ApiResult<TokenPair> {
    let presented = tokens::hash_refresh_token(refresh_token);
    let (next, next_hash) = tokens::new_refresh_token();
    match state
        .store
        .rotate_refresh_token(&presented, &next_hash, state.tokens.refresh_expiry())
        .await?
    {
        Rotation::Rotated { session, user } => {
            let account = state.store.get_user(user).await?;
            if account.is_disabled() {
                return Err(ApiError::unauthorized());
            }
            token_pair(state, user, session, next)
        }
        Rotation::ReuseDetected { session, user } => {
            crate::notifications::announce_from_request(
                state,
                user,
                fairgig_notify::NotificationKind::SecurityNotice,
                format!("security/refresh-reuse/{session}"),
                json!({
                    "event": "a sign-in was revoked",
                    "description": "An old sign-in token of your account was used again, so we signed that session out. If you did not just sign in on another device, change your password.",
                }),
            )
            .await;
            audit(
                state,
                NewAuditEntry::new(Actor::Anonymous, actions::REFRESH_REUSE_DETECTED)
                    .target(format!("user:{user}"))
                    .context(context)
                    .details(json!({"session": session})),
            )
            .await?;
            Err(ApiError::new(
                ErrorCode::Unauthorized,
                "refresh token already used; the session is revoked",
            ))
        }
        Rotation::Invalid => {
            Err(ApiError::new(ErrorCode::Unauthorized, "refresh token invalid or expired"))
        }
    }
}

/// Ends the caller's session (access and refresh tokens stop working at once).
pub async fn logout(state: &AppState, caller: &Caller, context: RequestContext) -> ApiResult<()> {
    let Some(session) = caller.session() else {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "API keys have no session; revoke the key instead",
        ));
    };
    state.store.revoke_session(session, caller.user.id, "logout").await?;
    audit(
        state,
        NewAuditEntry::new(Actor::User(caller.user.id), actions::LOGOUT)
            .target(format!("user:{}", caller.user.id))
            .context(context),
    )
    .await
}

/// Changes the caller's password after checking the current one, and signs
/// out every other session.
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    current: &str,
    new: &str,
    context: RequestContext,
) -> ApiResult<()> {
    let new = Password::choose("new_password", new, &caller.user.email, &caller.user.display_name)?;
    let stored = state.store.password_hash(caller.user.id).await?;
    if !state.passwords.verify(current, Some(&stored)).await.map_err(anyhow::Error::new)? {
        return Err(ApiError::with_field(
            ErrorCode::InvalidCredentials,
            "the current password is wrong",
            "current_password",
        ));
    }
    let hash = state.passwords.hash(new.expose()).await.map_err(anyhow::Error::new)?;
    state.store.set_password_hash(caller.user.id, &hash).await?;
    let revoked = state
        .store
        .revoke_other_sessions(caller.user.id, caller.session(), "password changed")
        .await?;
    crate::notifications::announce_from_request(
        state,
        caller.user.id,
        fairgig_notify::NotificationKind::SecurityNotice,
        format!("security/password/{}", uuid::Uuid::now_v7()),
        json!({
            "event": "password changed",
            "description": "The password of your account was changed and every other session was signed out.",
        }),
    )
    .await;
    audit(
        state,
        NewAuditEntry::new(Actor::User(caller.user.id), actions::PASSWORD_CHANGED)
            .target(format!("user:{}", caller.user.id))
            .context(context)
            .details(json!({"sessions_revoked": revoked})),
    )
    .await
}

/// Profile changes as typed: `None` keeps a field; an empty region clears it.
#[derive(Debug, Default)]
pub struct ProfileInput<'a> {
    pub display_name: Option<&'a str>,
    pub region: Option<Option<&'a str>>,
}

pub async fn update_profile(
    state: &AppState,
    caller: &Caller,
    input: ProfileInput<'_>,
    context: RequestContext,
) -> ApiResult<User> {
    let changes = UserChanges {
        display_name: input.display_name.map(DisplayName::parse).transpose()?,
        region: match input.region {
            None => None,
            Some(None) => Some(None),
            Some(Some(region)) if region.trim().is_empty() => Some(None),
            Some(Some(region)) => Some(Some(Region::parse(region)?)),
        },
    };
    let fields: Vec<&str> =
        [("display_name", changes.display_name.is_some()), ("region", changes.region.is_some())]
            .into_iter()
            .filter_map(|(name, changed)| changed.then_some(name))
            .collect();
    let user = state.store.update_user(caller.user.id, changes).await?;
    audit(
        state,
        NewAuditEntry::new(Actor::User(caller.user.id), actions::USER_UPDATED)
            .target(format!("user:{}", user.id))
            .context(context)
            .details(json!({"fields": fields})),
    )
    .await?;
    Ok(user)
}

pub async fn set_role(
    state: &AppState,
    user: UserId,
    role: Role,
    actor: Actor,
    context: RequestContext,
) -> ApiResult<User> {
    let before = state.store.get_user(user).await?;
    let after = state.store.set_role(user, role).await?;
    audit(
        state,
        NewAuditEntry::new(actor, actions::USER_ROLE_CHANGED)
            .target(format!("user:{user}"))
            .context(context)
            .details(json!({"from": before.role, "to": after.role})),
    )
    .await?;
    Ok(after)
}

pub async fn disable_user(
    state: &AppState,
    user: UserId,
    actor: Actor,
    context: RequestContext,
) -> ApiResult<User> {
    let disabled = state.store.disable_user(user).await?;
    audit(
        state,
        NewAuditEntry::new(actor, actions::USER_DISABLED)
            .target(format!("user:{user}"))
            .context(context),
    )
    .await?;
    Ok(disabled)
}

/// A key just created: its metadata and the full key, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The whole key. It is not stored and cannot be shown again.
    pub api_key: String,
}

pub async fn create_api_key(
    state: &AppState,
    owner: &User,
    name: &str,
    scopes: Vec<Scope>,
    expires_at: Option<OffsetDateTime>,
    actor: Actor,
    context: RequestContext,
) -> ApiResult<CreatedApiKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "must be 1-100 characters without control characters",
        )
        .into());
    }
    if scopes.is_empty() {
        return Err(ValidationError::new("scopes", "must name at least one scope").into());
    }
    if scopes.contains(&Scope::Admin) && owner.role != Role::Admin {
        return Err(ValidationError::new("scopes", "only admins can hold the admin scope").into());
    }
    if expires_at.is_some_and(|at| at <= OffsetDateTime::now_utc()) {
        return Err(ValidationError::new("expires_at", "must be in the future").into());
    }
    let generated = api_keys::generate();
    let key = state
        .store
        .create_api_key(NewApiKey {
            user: owner.id,
            name: name.to_owned(),
            prefix: generated.prefix,
            key_hash: generated.hash,
            scopes,
            expires_at,
        })
        .await?;
    audit(
        state,
        NewAuditEntry::new(actor, actions::APIKEY_CREATED)
            .target(format!("apikey:{}", key.id))
            .context(context)
            .details(json!({"owner": owner.id, "prefix": key.prefix, "scopes": key.scopes})),
    )
    .await?;
    Ok(CreatedApiKey { key, api_key: generated.full })
}

pub async fn revoke_api_key(
    state: &AppState,
    owner: UserId,
    id: ApiKeyId,
    actor: Actor,
    context: RequestContext,
) -> ApiResult<ApiKey> {
    let key = state.store.revoke_api_key(owner, id).await?;
    audit(
        state,
        NewAuditEntry::new(actor, actions::APIKEY_REVOKED)
            .target(format!("apikey:{id}"))
            .context(context)
            .details(json!({"owner": owner, "prefix": key.prefix})),
    )
    .await?;
    Ok(key)
}
