//! One-time links sent to an account's address: choosing a new password
//! when the old one is lost, and proving the address belongs to the owner.
//!
//! Asking for a reset link answers the same whether or not the address has
//! an account (no one learns who signed up), and one address gets at most
//! one link per [`RESEND_AFTER`], so the form cannot flood a mailbox. A link
//! works once, until it expires; using a reset link signs out every session.

use fairgig_core::{
    audit::{actions, Actor, NewAuditEntry, RequestContext},
    user::{Email, Password, User},
    ValidationError,
};
use fairgig_notify::NotificationKind;
use fairgig_store::account_links::{LinkPurpose, NewAccountLink};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::tokens;
use crate::{
    error::{Error, ErrorKind, Result},
    Engine,
};

/// How long a password-reset link works: short, it opens the account.
const RESET_VALID_FOR: Duration = Duration::hours(1);
/// How long a verification link works: it only confirms the address.
const VERIFICATION_VALID_FOR: Duration = Duration::hours(48);
/// No second link of one purpose to one address within this time.
pub const RESEND_AFTER: Duration = Duration::minutes(1);

/// Where each link opens (portal pages; the API has matching endpoints).
const RESET_PAGE: &str = "/password/reset";
const VERIFY_PAGE: &str = "/verify-email";

fn refused_link() -> Error {
    Error::with_field(
        ErrorKind::Invalid,
        "this link is unknown, used or expired; ask for a new one",
        "token",
    )
}

/// Mails a password-reset link to `email` when it names an active account.
/// Answers `Ok` either way; only a malformed address is refused.
pub async fn request_password_reset(
    engine: &Engine,
    email: &str,
    context: RequestContext,
) -> Result<()> {
    let email = Email::parse(email)?;
    let Some(user) = engine.store.find_user_by_email(&email).await? else { return Ok(()) };
    if user.is_disabled() {
        return Ok(());
    }
    let sent = send_link(engine, &user, LinkPurpose::PasswordReset).await?;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::Anonymous, actions::PASSWORD_RESET_REQUESTED)
                .target(format!("user:{}", user.id))
                .context(context)
                .details(json!({"sent": sent})),
        )
        .await?;
    Ok(())
}

/// Sets a new password through a reset link; every session of the account
/// is signed out, and the owner gets a security notice.
pub async fn reset_password(
    engine: &Engine,
    token: &str,
    new_password: &str,
    context: RequestContext,
) -> Result<User> {
    check_token_shape(token)?;
    let hash = tokens::hash_opaque_token(token.trim());
    let user = engine
        .store
        .account_link_user(&hash, LinkPurpose::PasswordReset)
        .await?
        .ok_or_else(refused_link)?;
    let password = Password::choose("new_password", new_password, &user.email, &user.display_name)?;
    let password_hash =
        engine.passwords.hash(password.expose()).await.map_err(anyhow::Error::new)?;
    // Spent, the password set and the sessions revoked in one transaction:
    // a link raced by a second tab works for one of them only.
    if engine.store.reset_password_with_link(&hash, &password_hash).await?.is_none() {
        return Err(refused_link());
    }
    crate::notifications::announce_from_request(
        engine,
        user.id,
        NotificationKind::SecurityNotice,
        format!("security/password-reset/{}", uuid::Uuid::now_v7()),
        json!({
            "event": "password reset",
            "description": "The password of your account was reset through an emailed link, and every session was signed out.",
        }),
    )
    .await;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(user.id), actions::PASSWORD_RESET)
                .target(format!("user:{}", user.id))
                .context(context),
        )
        .await?;
    Ok(user)
}

/// Mails a verification link to the account's address, unless it is
/// verified already or a link went out within [`RESEND_AFTER`]. Returns
/// whether one was sent.
pub async fn send_verification(engine: &Engine, user: &User) -> Result<bool> {
    if user.email_verified_at.is_some() || user.is_disabled() {
        return Ok(false);
    }
    send_link(engine, user, LinkPurpose::EmailVerification).await
}

/// Marks the account's address verified through a verification link.
pub async fn verify_email(engine: &Engine, token: &str, context: RequestContext) -> Result<User> {
    check_token_shape(token)?;
    let hash = tokens::hash_opaque_token(token.trim());
    let user = engine.store.verify_email_with_link(&hash).await?.ok_or_else(refused_link)?;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(user), actions::EMAIL_VERIFIED)
                .target(format!("user:{user}"))
                .context(context),
        )
        .await?;
    Ok(engine.store.get_user(user).await?)
}

/// Checks a token's shape before any lookup, for the forms that carry it.
pub fn check_token_shape(token: &str) -> Result<(), ValidationError> {
    let token = token.trim();
    let shaped = (20..=100).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shaped {
        Ok(())
    } else {
        Err(ValidationError::new("token", "is not a link token; copy the whole link"))
    }
}

/// Stores a new link and enqueues its message; `false` when one of the
/// same purpose went out within [`RESEND_AFTER`].
async fn send_link(engine: &Engine, user: &User, purpose: LinkPurpose) -> Result<bool> {
    let (token, token_hash) = tokens::new_opaque_token();
    let now = OffsetDateTime::now_utc();
    let (valid_for, page, kind) = match purpose {
        LinkPurpose::PasswordReset => {
            (RESET_VALID_FOR, RESET_PAGE, NotificationKind::PasswordReset)
        }
        LinkPurpose::EmailVerification => {
            (VERIFICATION_VALID_FOR, VERIFY_PAGE, NotificationKind::EmailVerification)
        }
    };
    let stored = engine
        .store
        .create_account_link(NewAccountLink {
            user: user.id,
            purpose,
            token_hash: &token_hash,
            expires_at: now + valid_for,
            unless_issued_since: now - RESEND_AFTER,
        })
        .await?;
    if !stored {
        return Ok(false);
    }
    let base = engine.settings.notifications.public_url.trim_end_matches('/');
    crate::notifications::notify_user(
        &engine.store,
        &engine.notifier,
        user.id,
        kind,
        // Unique per link: the dedupe key must not swallow a second request.
        format!("{}/{}", purpose.as_str(), &token_hash[..16]),
        json!({
            "link": format!("{base}{page}?token={token}"),
            "valid_hours": valid_for.whole_hours(),
        }),
    )
    .await
    .map_err(|err| Error::internal(err, "sending an account link"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes_are_checked_before_lookup() {
        let (token, _) = tokens::new_opaque_token();
        assert!(check_token_shape(&token).is_ok());
        assert!(check_token_shape(&format!("  {token}\n")).is_ok());
        for bad in [
            "",
            "short",
            "has spaces in the middle of it!!",
            &"x".repeat(101),
            "ä".repeat(30).as_str(),
        ] {
            assert!(check_token_shape(bad).is_err(), "{bad:?}");
        }
    }
}
