//! Login sessions and their rotating refresh tokens.
//!
//! A session is the family of refresh tokens born from one login. Each refresh
//! marks the presented token used and issues a successor; presenting a used
//! token again means it was stolen (or replayed), so the whole family is
//! revoked (OAuth 2.0 Security BCP, refresh token rotation). Tokens are stored
//! as SHA-256 hashes only: they are random 256-bit values, so a fast hash is
//! enough and a database leak reveals no usable token.

use fairgig_core::{
    ids::{SessionId, UserId},
    user::User,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{now, users::UserRow, with_pool, BeginWrite, Store, StoreError};

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was valid; the successor is stored.
    Rotated { session: SessionId, user: UserId },
    /// The token had already been used: the session is now revoked.
    ReuseDetected { session: SessionId, user: UserId },
    /// Unknown, expired, or its session is revoked.
    Invalid,
}

impl Store {
    /// Starts a session for a login and stores its first refresh token.
    pub async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<SessionId, StoreError> {
        let session = SessionId::new();
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
                .bind(session.as_uuid())
                .bind(user.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(session.as_uuid())
            .bind(user.as_uuid())
            .bind(at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(session)
    }

    /// Exchanges the token hashed as `presented` for the successor `next`.
    pub async fn rotate_refresh_token(
        &self,
        presented: &str,
        next: &str,
        next_expires_at: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        let at = now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Write first: claims the token atomically (and, on SQLite, takes
            // the write lock up front instead of upgrading a read later).
            let claimed: Option<(Uuid, Uuid)> = sqlx::query_as(
                "UPDATE refresh_tokens SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                   AND session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL) \
                 RETURNING session_id, user_id",
            )
            .bind(presented)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((session, user)) = claimed {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(next)
                .bind(session)
                .bind(user)
                .bind(at)
                .bind(next_expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(Rotation::Rotated {
                    session: SessionId::from_uuid(session),
                    user: UserId::from_uuid(user),
                });
            }
            let used: Option<(Uuid, Uuid)> = sqlx::query_as(
                "SELECT session_id, user_id FROM refresh_tokens \
                 WHERE token_hash = $1 AND used_at IS NOT NULL",
            )
            .bind(presented)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((session, user)) = used else {
                return Ok(Rotation::Invalid);
            };
            sqlx::query(
                "UPDATE sessions SET revoked_at = $2, revoked_why = 'refresh token reused' \
                 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(session)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Rotation::ReuseDetected {
                session: SessionId::from_uuid(session),
                user: UserId::from_uuid(user),
            })
        })
    }

    /// Revokes one session (logout). Returns whether it was active and the user's.
    pub async fn revoke_session(
        &self,
        session: SessionId,
        user: UserId,
        why: &str,
    ) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $3, revoked_why = $4 \
                 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            )
            .bind(session.as_uuid())
            .bind(user.as_uuid())
            .bind(now())
            .bind(why)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Revokes every session of a user except `keep` (after a password change).
    pub async fn revoke_other_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        why: &str,
    ) -> Result<u64, StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $3, revoked_why = $4 \
                 WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)",
            )
            .bind(user.as_uuid())
            .bind(keep.map(|session| session.as_uuid()))
            .bind(now())
            .bind(why)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed)
    }

    /// The user behind an active session, for authenticating an access token:
    /// `None` when the session was revoked (logout, reuse, disable).
    pub async fn session_user(&self, session: SessionId) -> Result<Option<User>, StoreError> {
        // One round trip: this runs on every authenticated request.
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.display_name, u.role, u.region, u.created_at, u.disabled_at, \
                 u.email_verified_at, u.erased_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = $1 AND s.revoked_at IS NULL",
            )
            .bind(session.as_uuid())
            .fetch_optional(pool)
            .await?
        });
        row.map(User::try_from).transpose()
    }
}
