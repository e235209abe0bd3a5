//! Announcements: notifications decided inside a transaction and delivered
//! after it (an outbox for the dispatcher).
//!
//! Addressing a notification reads the user's preferences and writes one row
//! per channel, which does not belong in the transaction of the change that
//! causes it (a submission's receipt). So that change writes an announcement
//! in its own transaction, and whoever delivers it (the request right after
//! commit, a retry with the same `Idempotency-Key`, or the sweep after a
//! crash) hands it to the dispatcher and then deletes it. Delivering twice is
//! harmless: the notifications' dedupe key (source, kind, channel, address)
//! keeps one.

use fairgig_core::ids::UserId;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{notifications::JsonText, with_pool, Store, StoreError};

/// A notification to announce to `user`, as the dispatcher takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAnnouncement {
    pub user: UserId,
    /// A `NotificationKind` as stored (`submission_received`).
    pub kind: String,
    /// What caused it (`submission/<id>`): part of the dedupe key.
    pub source: String,
    pub context: Value,
}

/// An announcement not yet delivered.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub new: NewAnnouncement,
}

type AnnouncementRow = (Uuid, Uuid, String, String, String, OffsetDateTime);

const COLUMNS: &str = "id, user_id, kind, source, context, created_at";

fn announcement((id, user, kind, source, context, created_at): AnnouncementRow) -> Announcement {
    // A context that no longer parses is announced without one rather than
    // never (the templates render what they have).
    let context = JsonText::try_from(context).map_or(Value::Null, |json| json.0);
    Announcement {
        id,
        created_at,
        new: NewAnnouncement { user: UserId::from_uuid(user), kind, source, context },
    }
}

/// Inserts `$announcement` in the open transaction `$tx`: the outbox write
/// of a change that must not commit without it.
macro_rules! insert_announcement_in {
    ($tx:expr, $announcement:expr, $at:expr) => {{
        let announcement: &$crate::announcements::NewAnnouncement = $announcement;
        sqlx::query(
            "INSERT INTO announcements (id, user_id, kind, source, context, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(announcement.user.as_uuid())
        .bind(&announcement.kind)
        .bind(&announcement.source)
        .bind(announcement.context.to_string())
        .bind($at)
        .execute($tx)
        .await?;
    }};
}
pub(crate) use insert_announcement_in;

impl Store {
    /// Undelivered announcements created before `before`, oldest first.
    pub async fn announcements_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Announcement>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements WHERE created_at < $1 \
             ORDER BY created_at, id LIMIT $2"
        );
        let rows: Vec<AnnouncementRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(before).bind(i64::from(limit)).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(announcement).collect())
    }

    /// Undelivered announcements caused by `source`.
    pub async fn announcements_from(&self, source: &str) -> Result<Vec<Announcement>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements WHERE source = $1 ORDER BY created_at, id"
        );
        let rows: Vec<AnnouncementRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(source).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(announcement).collect())
    }

    /// Forgets a delivered announcement (already gone: nothing to do).
    pub async fn delete_announcement(&self, id: Uuid) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM announcements WHERE id = $1").bind(id).execute(pool).await?;
        });
        Ok(())
    }
}
