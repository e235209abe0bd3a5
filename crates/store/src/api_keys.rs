//! API keys: `fg_<prefix>_<secret>`. The prefix is stored in clear to find the
//! key; the whole key only as a SHA-256 hash (it is 190+ random bits, so a
//! slow hash would add latency to every request and no security).

use fairgig_core::{
    api_key::{format_scope_list, parse_scope_list, Scope},
    ids::{ApiKeyId, UserId},
};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{now, with_pool, Store, StoreError};

#[derive(Debug)]
pub struct NewApiKey {
    pub user: UserId,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<OffsetDateTime>,
}

/// A key's metadata, safe to show its owner (no hash, no secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    #[serde(skip)]
    pub user: UserId,
    pub name: String,
    /// The public part of the key, to recognise it in lists.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(skip)]
    pub key_hash: String,
}

impl ApiKey {
    pub fn is_usable(&self, at: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > at)
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    prefix: String,
    key_hash: String,
    scopes: String,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        ApiKey {
            id: ApiKeyId::from_uuid(row.id),
            user: UserId::from_uuid(row.user_id),
            name: row.name,
            prefix: row.prefix,
            scopes: parse_scope_list(&row.scopes),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            key_hash: row.key_hash,
        }
    }
}

const KEY_COLUMNS: &str = "id, user_id, name, prefix, key_hash, scopes, created_at, \
                           expires_at, last_used_at, revoked_at";

impl Store {
    pub async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey, StoreError> {
        let sql = format!(
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {KEY_COLUMNS}"
        );
        let row: ApiKeyRow = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(ApiKeyId::new().as_uuid())
                .bind(new.user.as_uuid())
                .bind(&new.name)
                .bind(&new.prefix)
                .bind(&new.key_hash)
                .bind(format_scope_list(&new.scopes))
                .bind(now())
                .bind(new.expires_at)
                .fetch_one(pool)
                .await
                .map_err(StoreError::conflict_on("prefix"))?
        });
        Ok(row.into())
    }

    pub async fn find_api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE prefix = $1");
        let row: Option<ApiKeyRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(prefix).fetch_optional(pool).await?
        });
        Ok(row.map(ApiKey::from))
    }

    pub async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY id");
        let rows: Vec<ApiKeyRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user.as_uuid()).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(ApiKey::from).collect())
    }

    /// Revokes a key of `owner`. `NotFound` when the key does not exist or
    /// belongs to someone else: callers must not learn which.
    pub async fn revoke_api_key(&self, owner: UserId, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE id = $1 AND user_id = $2 RETURNING {KEY_COLUMNS}"
        );
        let row: Option<ApiKeyRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id.as_uuid())
                .bind(owner.as_uuid())
                .bind(now())
                .fetch_optional(pool)
                .await?
        });
        row.map(ApiKey::from).ok_or(StoreError::NotFound)
    }

    /// Records use, at most once a minute per key to spare the database writes.
    pub async fn touch_api_key(&self, id: ApiKeyId) -> Result<(), StoreError> {
        let at = now();
        let stale_before = at - time::Duration::minutes(1);
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $2 \
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(id.as_uuid())
            .bind(at)
            .bind(stale_before)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
