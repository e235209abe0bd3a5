//! One-time links sent by email: a password reset and an email
//! verification. Like refresh tokens, only a SHA-256 of each token is
//! stored; a link works once, until it expires, and only for an account
//! that is not disabled.

use fairgig_core::{ids::UserId, user::User};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{now, users::UserRow, with_pool, BeginWrite, Store, StoreError};

/// What a link does when opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    PasswordReset,
    EmailVerification,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }
}

/// A link to store: the token is already hashed.
#[derive(Debug)]
pub struct NewAccountLink<'a> {
    pub user: UserId,
    pub purpose: LinkPurpose,
    pub token_hash: &'a str,
    pub expires_at: OffsetDateTime,
    /// No link is stored when one for the same user and purpose was made
    /// after this instant: a mailbox is not flooded by repeated requests.
    pub unless_issued_since: OffsetDateTime,
}

/// Marks the link used if it is live; the user it was for.
const CONSUME: &str = "UPDATE account_links SET used_at = $3 \
     WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
       AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL) \
     RETURNING user_id";

impl Store {
    /// Stores a link; `false` (and nothing stored) when one was issued
    /// recently for the same user and purpose.
    pub async fn create_account_link(&self, link: NewAccountLink<'_>) -> Result<bool, StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let recent: Option<(i64,)> = sqlx::query_as(
                "SELECT 1 FROM account_links WHERE user_id = $1 AND purpose = $2 AND created_at > $3 \
                 LIMIT 1",
            )
            .bind(link.user.as_uuid())
            .bind(link.purpose.as_str())
            .bind(link.unless_issued_since)
            .fetch_optional(&mut *tx)
            .await?;
            if recent.is_some() {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO account_links (token_hash, user_id, purpose, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(link.token_hash)
            .bind(link.user.as_uuid())
            .bind(link.purpose.as_str())
            .bind(at)
            .bind(link.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// The account a live link is for, without using it (the password
    /// rules need the owner's name and address before the link is spent).
    pub async fn account_link_user(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.display_name, u.role, u.region, u.created_at, u.disabled_at, \
                 u.email_verified_at, u.erased_at \
                 FROM account_links l JOIN users u ON u.id = l.user_id \
                 WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL \
                   AND l.expires_at > $3 AND u.disabled_at IS NULL",
            )
            .bind(token_hash)
            .bind(purpose.as_str())
            .bind(now())
            .fetch_optional(pool)
            .await?
        });
        row.map(User::try_from).transpose()
    }

    /// Uses a password-reset link: in one transaction the link (and every
    /// other unused reset link of the user) is spent, the password hash
    /// replaced and every session revoked. `None` when the link is unknown,
    /// used, expired or its account disabled.
    pub async fn reset_password_with_link(
        &self,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<Option<UserId>, StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let user: Option<(Uuid,)> = sqlx::query_as(CONSUME)
                .bind(token_hash)
                .bind(LinkPurpose::PasswordReset.as_str())
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((user,)) = user else { return Ok(None) };
            sqlx::query(
                "UPDATE account_links SET used_at = $3 \
                 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
            )
            .bind(user)
            .bind(LinkPurpose::PasswordReset.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user)
                .bind(password_hash)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE sessions SET revoked_at = $2, revoked_why = 'password reset' \
                 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(user)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(UserId::from_uuid(user)))
        })
    }

    /// Uses an email-verification link and marks the address verified.
    /// `None` when the link is unknown, used, expired or its account disabled.
    pub async fn verify_email_with_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<UserId>, StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let user: Option<(Uuid,)> = sqlx::query_as(CONSUME)
                .bind(token_hash)
                .bind(LinkPurpose::EmailVerification.as_str())
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((user,)) = user else { return Ok(None) };
            sqlx::query(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1",
            )
            .bind(user)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(UserId::from_uuid(user)))
        })
    }
}
