//! What happens when someone registers, signs in, refreshes, changes their
//! profile or password, or an admin manages users and keys: validate, act on
//! the store, write the audit log. Called by the HTTP handlers and the CLI
//! alike, so the rules live in one place.
//!
//! - [`passwords`]: Argon2id hashing off the async threads.
//! - [`tokens`]: access tokens (JWT) and refresh tokens.
//! - [`api_keys`]: key format, prefix lookup, constant-time digests.
//! - [`links`]: one-time emailed links (password reset, email verification).

pub mod api_keys;
pub mod links;
pub mod passwords;
pub mod tokens;

use fairgig_core::{
    api_key::Scope,
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
    caller::{Caller, Credential},
    error::{Error, ErrorKind, Result},
    Engine,
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

async fn audit(engine: &Engine, entry: NewAuditEntry) -> Result<()> {
    engine.store.append_audit(entry).await?;
    Ok(())
}

/// Self-service sign-up: clients and freelancers only.
pub async fn register(
    engine: &Engine,
    input: AccountInput<'_>,
    context: RequestContext,
) -> Result<(User, TokenPair)> {
    let user = self_register(engine, input, context).await?;
    let tokens = start_session(engine, user.id).await?;
    Ok((user, tokens))
}

/// Self-service sign-up from the portal: the account and its first browser
/// session.
pub async fn browser_register(
    engine: &Engine,
    input: AccountInput<'_>,
    context: RequestContext,
) -> Result<BrowserSession> {
    let user = self_register(engine, input, context).await?;
    browser_session(engine, user).await
}

/// A sign-up by the person themself (clients and freelancers only), who is
/// the actor of their own registration.
async fn self_register(
    engine: &Engine,
    input: AccountInput<'_>,
    context: RequestContext,
) -> Result<User> {
    if input.role == Role::Admin {
        return Err(ValidationError::new("role", "must be client or freelancer").into());
    }
    let user = store_account(
        engine,
        input,
        |user| Actor::User(user.id),
        actions::USER_REGISTERED,
        context,
    )
    .await?;
    // The account exists whatever happens to the mail; the owner can ask again.
    if let Err(err) = links::send_verification(engine, &user).await {
        tracing::warn!(error = %err, user = %user.id, "could not send the verification link");
    }
    Ok(user)
}

async fn browser_session(engine: &Engine, user: User) -> Result<BrowserSession> {
    let (_, refresh_hash) = tokens::new_opaque_token();
    let session =
        engine.store.create_session(user.id, &refresh_hash, engine.tokens.refresh_expiry()).await?;
    let token = engine.tokens.issue_browser(user.id, session).map_err(anyhow::Error::new)?;
    Ok(BrowserSession { user, token, max_age_secs: engine.tokens.refresh_ttl.whole_seconds() })
}

/// Creates an account of any role (CLI and admins), with no session.
pub async fn create_user(
    engine: &Engine,
    input: AccountInput<'_>,
    actor: Actor,
    context: RequestContext,
) -> Result<User> {
    store_account(engine, input, |_| actor, actions::USER_CREATED, context).await
}

/// Validates, hashes the password, stores the user and audits `action`.
async fn store_account(
    engine: &Engine,
    input: AccountInput<'_>,
    actor: impl FnOnce(&User) -> Actor,
    action: &'static str,
    context: RequestContext,
) -> Result<User> {
    let (mut new_user, password) = parse_account(&input)?;
    new_user.password_hash =
        engine.passwords.hash(password.expose()).await.map_err(anyhow::Error::new)?;
    let user = engine.store.create_user(new_user).await?;
    audit(
        engine,
        NewAuditEntry::new(actor(&user), action)
            .target(format!("user:{}", user.id))
            .context(context)
            .details(json!({"role": user.role})),
    )
    .await?;
    Ok(user)
}

async fn start_session(engine: &Engine, user: UserId) -> Result<TokenPair> {
    let (refresh, refresh_hash) = tokens::new_opaque_token();
    let session =
        engine.store.create_session(user, &refresh_hash, engine.tokens.refresh_expiry()).await?;
    token_pair(engine, user, session, refresh)
}

fn token_pair(
    engine: &Engine,
    user: UserId,
    session: fairgig_core::ids::SessionId,
    refresh_token: String,
) -> Result<TokenPair> {
    let access_token = engine.tokens.issue_access(user, session).map_err(anyhow::Error::new)?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: engine.tokens.access_ttl.whole_seconds(),
        refresh_token,
        refresh_expires_in: engine.tokens.refresh_ttl.whole_seconds(),
    })
}

fn invalid_credentials() -> Error {
    Error::new(ErrorKind::InvalidCredentials, "email or password is wrong")
}

/// Signs in. Failures are counted per email and per IP; past the limit the
/// answer is 429 whether or not the password is right. The answer never says
/// whether the account exists, and takes as long either way.
pub async fn login(
    engine: &Engine,
    email: &str,
    password: &str,
    context: RequestContext,
) -> Result<TokenPair> {
    let user = check_credentials(engine, email, password, context).await?;
    start_session(engine, user.id).await
}

/// A portal sign-in: the user, and the token its cookie keeps (valid as
/// long as a refresh token, for this new session only).
#[derive(Debug)]
pub struct BrowserSession {
    pub user: User,
    pub token: String,
    pub max_age_secs: i64,
}

/// Signs in from the portal, with the same lockouts, audit and timing as
/// [`login`]; every sign-in starts a new session.
pub async fn browser_login(
    engine: &Engine,
    email: &str,
    password: &str,
    context: RequestContext,
) -> Result<BrowserSession> {
    let user = check_credentials(engine, email, password, context).await?;
    browser_session(engine, user).await
}

/// Who a portal cookie speaks for; refused once its session is revoked
/// (sign-out, refresh-token reuse, a password change) or the user disabled.
pub async fn authenticate_browser(engine: &Engine, token: &str) -> Result<Caller> {
    let claims = engine.tokens.verify_browser(token).map_err(|_| Error::unauthorized())?;
    let caller = authenticate_session(engine, token, Some(claims)).await?;
    if caller.user.is_disabled() {
        return Err(Error::unauthorized());
    }
    Ok(caller)
}

/// The user whose email and password these are, under the sign-in
/// lockouts; audits the attempt either way.
async fn check_credentials(
    engine: &Engine,
    email: &str,
    password: &str,
    context: RequestContext,
) -> Result<User> {
    let normalised = email.trim().to_lowercase();
    let failure_keys = [
        Some(format!("login:email:{normalised}")),
        context.ip.as_ref().map(|ip| format!("login:ip:{ip}")),
    ];
    let quota = engine.quotas.login_failures;
    if engine.quotas.enabled {
        for key in failure_keys.iter().flatten() {
            let peek = engine.limiter.decide(key, &quota, 0).await;
            if !peek.allowed || peek.remaining == 0 {
                // Full until one failure ages out: reset minus the burst tolerance.
                let tolerance =
                    std::time::Duration::from_micros(quota.tolerance_us().unsigned_abs());
                let wait = peek.retry_after.unwrap_or(peek.reset_after.saturating_sub(tolerance));
                return Err(Error::RateLimited { retry_after_secs: wait.as_secs().max(1) });
            }
        }
    }
    let found = match Email::parse(&normalised) {
        Ok(email) => engine.store.find_user_for_login(&email).await?,
        Err(_) => None,
    };
    let stored_hash =
        found.as_ref().filter(|(user, _)| !user.is_disabled()).map(|(_, hash)| hash.as_str());
    let verified =
        engine.passwords.verify(password, stored_hash).await.map_err(anyhow::Error::new)?;
    let user = match (verified, found) {
        (true, Some((user, _))) => user,
        (_, found) => {
            if engine.quotas.enabled {
                for key in failure_keys.iter().flatten() {
                    engine.limiter.decide(key, &quota, 1).await;
                }
            }
            let target = found.map(|(user, _)| format!("user:{}", user.id));
            let mut entry = NewAuditEntry::new(Actor::Anonymous, actions::LOGIN_FAILED)
                .context(context)
                .details(json!({"email_known": target.is_some()}));
            if let Some(target) = target {
                entry = entry.target(target);
            }
            audit(engine, entry).await?;
            return Err(invalid_credentials());
        }
    };
    audit(
        engine,
        NewAuditEntry::new(Actor::User(user.id), actions::LOGIN_SUCCEEDED)
            .target(format!("user:{}", user.id))
            .context(context),
    )
    .await?;
    Ok(user)
}

/// Exchanges a refresh token for a new pair. A token used twice revokes its
/// whole session and is audited as theft.
pub async fn refresh(
    engine: &Engine,
    refresh_token: &str,
    context: RequestContext,
) -> Result<TokenPair> {
    let presented = tokens::hash_opaque_token(refresh_token);
    let (next, next_hash) = tokens::new_opaque_token();
    match engine
        .store
        .rotate_refresh_token(&presented, &next_hash, engine.tokens.refresh_expiry())
        .await?
    {
        Rotation::Rotated { session, user } => {
            let account = engine.store.get_user(user).await?;
            if account.is_disabled() {
                return Err(Error::unauthorized());
            }
            token_pair(engine, user, session, next)
        }
        Rotation::ReuseDetected { session, user } => {
            crate::notifications::announce_from_request(
                engine,
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
                engine,
                NewAuditEntry::new(Actor::Anonymous, actions::REFRESH_REUSE_DETECTED)
                    .target(format!("user:{user}"))
                    .context(context)
                    .details(json!({"session": session})),
            )
            .await?;
            Err(Error::new(
                ErrorKind::Unauthorized,
                "refresh token already used; the session is revoked",
            ))
        }
        Rotation::Invalid => {
            Err(Error::new(ErrorKind::Unauthorized, "refresh token invalid or expired"))
        }
    }
}

/// Ends the caller's session (access and refresh tokens stop working at once).
pub async fn logout(engine: &Engine, caller: &Caller, context: RequestContext) -> Result<()> {
    let Some(session) = caller.session() else {
        return Err(Error::new(
            ErrorKind::Forbidden,
            "API keys have no session; revoke the key instead",
        ));
    };
    engine.store.revoke_session(session, caller.user.id, "logout").await?;
    audit(
        engine,
        NewAuditEntry::new(Actor::User(caller.user.id), actions::LOGOUT)
            .target(format!("user:{}", caller.user.id))
            .context(context),
    )
    .await
}

/// Changes the caller's password after checking the current one, and signs
/// out every other session.
pub async fn change_password(
    engine: &Engine,
    caller: &Caller,
    current: &str,
    new: &str,
    context: RequestContext,
) -> Result<()> {
    let new = Password::choose("new_password", new, &caller.user.email, &caller.user.display_name)?;
    let stored = engine.store.password_hash(caller.user.id).await?;
    if !engine.passwords.verify(current, Some(&stored)).await.map_err(anyhow::Error::new)? {
        return Err(Error::with_field(
            ErrorKind::InvalidCredentials,
            "the current password is wrong",
            "current_password",
        ));
    }
    let hash = engine.passwords.hash(new.expose()).await.map_err(anyhow::Error::new)?;
    engine.store.set_password_hash(caller.user.id, &hash).await?;
    let revoked = engine
        .store
        .revoke_other_sessions(caller.user.id, caller.session(), "password changed")
        .await?;
    crate::notifications::announce_from_request(
        engine,
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
        engine,
        NewAuditEntry::new(Actor::User(caller.user.id), actions::PASSWORD_CHANGED)
            .target(format!("user:{}", caller.user.id))
            .context(context)
            .details(json!({"sessions_revoked": revoked})),
    )
    .await
}

/// Account changes as typed: `None` keeps a field; an empty region clears it.
#[derive(Debug, Default)]
pub struct AccountChanges<'a> {
    pub display_name: Option<&'a str>,
    pub region: Option<Option<&'a str>>,
}

pub async fn update_account(
    engine: &Engine,
    caller: &Caller,
    input: AccountChanges<'_>,
    context: RequestContext,
) -> Result<User> {
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
    let user = engine.store.update_user(caller.user.id, changes).await?;
    audit(
        engine,
        NewAuditEntry::new(Actor::User(caller.user.id), actions::USER_UPDATED)
            .target(format!("user:{}", user.id))
            .context(context)
            .details(json!({"fields": fields})),
    )
    .await?;
    Ok(user)
}

pub async fn set_role(
    engine: &Engine,
    user: UserId,
    role: Role,
    actor: Actor,
    context: RequestContext,
) -> Result<User> {
    let before = engine.store.get_user(user).await?;
    let after = engine.store.set_role(user, role).await?;
    audit(
        engine,
        NewAuditEntry::new(actor, actions::USER_ROLE_CHANGED)
            .target(format!("user:{user}"))
            .context(context)
            .details(json!({"from": before.role, "to": after.role})),
    )
    .await?;
    Ok(after)
}

pub async fn disable_user(
    engine: &Engine,
    user: UserId,
    actor: Actor,
    context: RequestContext,
) -> Result<User> {
    let disabled = engine.store.disable_user(user).await?;
    audit(
        engine,
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
    engine: &Engine,
    owner: &User,
    name: &str,
    scopes: Vec<Scope>,
    expires_at: Option<OffsetDateTime>,
    actor: Actor,
    context: RequestContext,
) -> Result<CreatedApiKey> {
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
    let key = engine
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
        engine,
        NewAuditEntry::new(actor, actions::API_KEY_CREATED)
            .target(format!("api_key:{}", key.id))
            .context(context)
            .details(json!({"owner": owner.id, "prefix": key.prefix, "scopes": key.scopes})),
    )
    .await?;
    Ok(CreatedApiKey { key, api_key: generated.full })
}

pub async fn revoke_api_key(
    engine: &Engine,
    owner: UserId,
    id: ApiKeyId,
    actor: Actor,
    context: RequestContext,
) -> Result<ApiKey> {
    let key = engine.store.revoke_api_key(owner, id).await?;
    audit(
        engine,
        NewAuditEntry::new(actor, actions::API_KEY_REVOKED)
            .target(format!("api_key:{id}"))
            .context(context)
            .details(json!({"owner": owner, "prefix": key.prefix})),
    )
    .await?;
    Ok(key)
}

/// Who presented `credential`: an API key (`fg_…`) or an access token
/// (`verified` when the rate limiter already checked its signature).
/// Disabled users, revoked sessions and expired keys are refused alike.
pub async fn authenticate(
    engine: &Engine,
    credential: &str,
    verified: Option<tokens::AccessClaims>,
) -> Result<Caller> {
    let caller = if credential.starts_with("fg_") {
        authenticate_api_key(engine, credential).await?
    } else {
        authenticate_session(engine, credential, verified).await?
    };
    if caller.user.is_disabled() {
        return Err(Error::unauthorized());
    }
    Ok(caller)
}

async fn authenticate_session(
    engine: &Engine,
    token: &str,
    verified: Option<tokens::AccessClaims>,
) -> Result<Caller> {
    let claims = match verified {
        Some(claims) => claims,
        None => engine.tokens.verify_access(token).map_err(|_| Error::unauthorized())?,
    };
    let user = engine.store.session_user(claims.session).await?.ok_or_else(Error::unauthorized)?;
    if user.id != claims.user {
        return Err(Error::unauthorized());
    }
    Ok(Caller { user, credential: Credential::Session(claims.session) })
}

async fn authenticate_api_key(engine: &Engine, presented: &str) -> Result<Caller> {
    let prefix = api_keys::parse_prefix(presented).ok_or_else(Error::unauthorized)?;
    let key = engine.store.find_api_key_by_prefix(prefix).await?.ok_or_else(Error::unauthorized)?;
    let hash = api_keys::hash_key(presented);
    if !api_keys::digests_match(&hash, &key.key_hash) || !key.is_usable(fairgig_store::now()) {
        return Err(Error::unauthorized());
    }
    engine.store.touch_api_key(key.id).await?;
    let user = engine.store.get_user(key.user).await?;
    Ok(Caller { user, credential: Credential::ApiKey { id: key.id, scopes: key.scopes } })
}

/// The caller's API keys (revoked ones included, for the record).
pub async fn api_keys(engine: &Engine, caller: &Caller) -> Result<Vec<ApiKey>> {
    caller.require(Scope::Read)?;
    Ok(engine.store.list_api_keys(caller.user.id).await?)
}
