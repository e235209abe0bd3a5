//! Pruning finished records past their retention period (the audit log is
//! never pruned). Each statement deletes what is finished and older than
//! its cut-off; what is still in use (a pending notification, a live
//! session) is never touched, whatever its age.

use time::OffsetDateTime;

use crate::{with_pool, Store, StoreError};

/// What to prune: each kind's cut-off, `None` to keep it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cutoffs {
    pub notifications: Option<OffsetDateTime>,
    pub sessions: Option<OffsetDateTime>,
    pub embedding_cache: Option<OffsetDateTime>,
    pub feedback: Option<OffsetDateTime>,
    /// One step's outputs in runs that succeeded or were cancelled
    /// before the time; failed runs keep theirs (running one again from
    /// the failed step reads them).
    pub step_outputs: Option<(OffsetDateTime, &'static str)>,
}

/// Rows deleted per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub notifications: u64,
    /// Sessions, refresh tokens and account links together.
    pub sessions: u64,
    pub embedding_cache: u64,
    pub feedback: u64,
    /// Step outputs cleared.
    pub step_outputs: u64,
}

/// The statements, each with one `$1` cut-off.
const NOTIFICATIONS: &str =
    "DELETE FROM notifications WHERE status IN ('sent', 'failed', 'dead') AND updated_at < $1";
const SESSIONS: [&str; 3] = [
    "DELETE FROM refresh_tokens WHERE expires_at < $1",
    "DELETE FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at < $1",
    "DELETE FROM account_links WHERE expires_at < $1",
];
const EMBEDDING_CACHE: &str = "DELETE FROM embedding_cache WHERE created_at < $1";
const FEEDBACK: &str = "DELETE FROM feedback WHERE created_at < $1";
/// Binds: the cut-off, the step's name.
const STEP_OUTPUTS: &str = "UPDATE steps SET output = NULL \
     WHERE name = $2 AND output IS NOT NULL AND run_id IN \
     (SELECT id FROM runs WHERE status IN ('succeeded', 'cancelled') AND finished_at < $1)";

impl Store {
    /// Deletes what `cutoffs` says is past its period.
    pub async fn prune(&self, cutoffs: &Cutoffs) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned::default();
        if let Some(at) = cutoffs.notifications {
            pruned.notifications = self.delete_before(NOTIFICATIONS, at).await?;
        }
        if let Some(at) = cutoffs.sessions {
            for sql in SESSIONS {
                pruned.sessions += self.delete_before(sql, at).await?;
            }
        }
        if let Some(at) = cutoffs.embedding_cache {
            pruned.embedding_cache = self.delete_before(EMBEDDING_CACHE, at).await?;
        }
        if let Some(at) = cutoffs.feedback {
            pruned.feedback = self.delete_before(FEEDBACK, at).await?;
        }
        if let Some((at, step)) = cutoffs.step_outputs {
            pruned.step_outputs = with_pool!(self, pool => {
                sqlx::query(STEP_OUTPUTS).bind(at).bind(step).execute(pool).await?.rows_affected()
            });
        }
        Ok(pruned)
    }

    async fn delete_before(&self, sql: &str, at: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query(sql).bind(at).execute(pool).await?.rows_affected()
        }))
    }
}
