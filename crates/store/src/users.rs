//! User accounts.

use fairgig_core::{
    ids::UserId,
    user::{DisplayName, Email, Region, Role, User},
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{found, now, with_pool, BeginWrite, Store, StoreError};

/// A user to create; the password is already hashed.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub display_name: DisplayName,
    pub role: Role,
    pub region: Option<Region>,
    pub password_hash: String,
}

/// Fields a user may change about themselves; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub display_name: Option<DisplayName>,
    /// `Some(None)` clears the region.
    pub region: Option<Option<Region>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    role: String,
    region: Option<String>,
    created_at: OffsetDateTime,
    disabled_at: Option<OffsetDateTime>,
    email_verified_at: Option<OffsetDateTime>,
    erased_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct UserWithHashRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

const USER_COLUMNS: &str =
    "id, email, display_name, role, region, created_at, disabled_at, email_verified_at, erased_at";

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let role = row
            .role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown role {:?}", row.role)))?;
        Ok(User {
            id: UserId::from_uuid(row.id),
            email: row.email,
            display_name: row.display_name,
            role,
            region: row.region,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            email_verified_at: row.email_verified_at,
            erased_at: row.erased_at,
        })
    }
}

impl Store {
    pub async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let at = now();
        let sql = format!(
            "INSERT INTO users (id, email, display_name, role, region, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(UserId::new().as_uuid())
                .bind(new.email.as_ref())
                .bind(new.display_name.as_ref())
                .bind(new.role.as_str())
                .bind(new.region.as_ref().map(|region| region.as_ref().to_owned()))
                .bind(&new.password_hash)
                .bind(at)
                .fetch_one(pool)
                .await
                .map_err(StoreError::conflict_on("email"))?
        });
        row.try_into()
    }

    pub async fn get_user(&self, id: UserId) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The user with this email and their password hash, for login.
    pub async fn find_user_for_login(
        &self,
        email: &Email,
    ) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row: Option<UserWithHashRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(email.as_ref()).fetch_optional(pool).await?
        });
        row.map(|row| Ok((row.user.try_into()?, row.password_hash))).transpose()
    }

    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self.find_user_for_login(email).await?.map(|(user, _)| user))
    }

    pub async fn password_hash(&self, id: UserId) -> Result<String, StoreError> {
        let hash: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        hash.ok_or(StoreError::NotFound)
    }

    /// Users ordered by id (= creation time), after the cursor `after`.
    pub async fn list_users(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(after.map(|id| id.as_uuid()))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(User::try_from).collect()
    }

    pub async fn update_user(&self, id: UserId, changes: UserChanges) -> Result<User, StoreError> {
        let set_region = changes.region.is_some();
        let region = changes.region.flatten().map(|region| region.as_ref().to_owned());
        let sql = format!(
            "UPDATE users SET \
               display_name = COALESCE($2, display_name), \
               region = CASE WHEN $3 THEN $4 ELSE region END, \
               updated_at = $5 \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id.as_uuid())
                .bind(changes.display_name.as_ref().map(|name| name.as_ref().to_owned()))
                .bind(set_region)
                .bind(region)
                .bind(now())
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_uuid())
                .bind(hash)
                .bind(now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(changed)
    }

    pub async fn set_role(&self, id: UserId, role: Role) -> Result<User, StoreError> {
        let sql = format!(
            "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id.as_uuid())
                .bind(role.as_str())
                .bind(now())
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Disables the account and, in the same transaction, revokes its
    /// sessions and API keys so that nothing it holds keeps working.
    pub async fn disable_user(&self, id: UserId) -> Result<User, StoreError> {
        let at = now();
        let sql = format!(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, $2), updated_at = $2 \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let row: Option<UserRow> = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query_as(&sql)
                .bind(id.as_uuid())
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE sessions SET revoked_at = $2, revoked_why = 'user disabled' \
                 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(id.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }
}
