//! The append-only, hash-chained audit log.
//!
//! Each entry stores `hash = SHA-256(prev_hash ‖ canonical(entry))`, where
//! `prev_hash` is the previous entry's hash (64 zeros for the first). Editing
//! any stored field changes that entry's hash; deleting an entry breaks the
//! sequence and the link of its successor; deleting the newest entries leaves
//! `audit_head` ahead of the table. [`Store::verify_audit`] checks all three.
//!
//! Appends serialise on the single `audit_head` row, which is updated first in
//! the transaction (a row lock on PostgreSQL, the write lock on SQLite).

use fairgig_core::audit::{AuditEntry, NewAuditEntry};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{with_pool, BeginWrite, Store, StoreError};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Filters for listing; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Only entries older than this sequence number (the cursor).
    pub before_seq: Option<i64>,
}

/// What verification found wrong, per entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The entry's content no longer matches its hash.
    Edited { seq: i64 },
    /// Entries between `after` and `seq` are gone.
    Missing { after: i64, seq: i64 },
    /// The entry does not point at its predecessor's hash.
    BrokenLink { seq: i64 },
    /// The newest entries after `last_seq` up to `head_seq` are gone.
    TruncatedTail { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditProblem::Edited { seq } => write!(f, "entry {seq} was edited"),
            AuditProblem::Missing { after, seq } => {
                write!(f, "entries {}..={} were deleted", after + 1, seq - 1)
            }
            AuditProblem::BrokenLink { seq } => {
                write!(f, "entry {seq} does not link to its predecessor")
            }
            AuditProblem::TruncatedTail { last_seq, head_seq } => {
                write!(f, "entries {}..={head_seq} were deleted from the end", last_seq + 1)
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditVerification {
    pub entries_checked: u64,
    pub problems: Vec<AuditProblem>,
}

impl AuditVerification {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: OffsetDateTime,
    actor: String,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn computed_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            &ChainedFields {
                seq: self.seq,
                at: self.at,
                actor: &self.actor,
                action: &self.action,
                target: self.target.as_deref(),
                ip: self.ip.as_deref(),
                user_agent: self.user_agent.as_deref(),
                request_id: self.request_id.as_deref(),
                details: &self.details,
            },
        )
    }

    pub(crate) fn into_entry(self) -> AuditEntry {
        let details =
            serde_json::from_str(&self.details).unwrap_or(serde_json::Value::String(self.details));
        AuditEntry {
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            target: self.target,
            ip: self.ip,
            user_agent: self.user_agent,
            request_id: self.request_id,
            details,
            hash: self.hash,
        }
    }
}

/// The fields covered by an entry's hash.
#[derive(Debug)]
pub struct ChainedFields<'a> {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub details: &'a str,
}

/// `SHA-256(prev_hash ‖ "\n" ‖ JSON array of the fields)`, hex. JSON makes the
/// encoding unambiguous (no field can smuggle a separator into the next).
pub fn chain_hash(prev_hash: &str, fields: &ChainedFields<'_>) -> String {
    let at = fields.at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default();
    let canonical = serde_json::json!([
        fields.seq,
        at,
        fields.actor,
        fields.action,
        fields.target,
        fields.ip,
        fields.user_agent,
        fields.request_id,
        fields.details,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

pub(crate) const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, target, ip, user_agent, request_id, details, prev_hash, hash";

/// Appends `$entry` (a [`NewAuditEntry`]) to the chain inside the open
/// transaction `$tx` (of either backend) and evaluates to its `AuditRow`;
/// `?` returns the store error from the enclosing function. A macro, not a
/// function, because the two backends' transactions share no usable trait:
/// writes that must be audited atomically (a shown match list) run it in
/// their own transaction.
macro_rules! append_audit_in {
    ($tx:ident, $entry:expr) => {{
        let entry: fairgig_core::audit::NewAuditEntry = $entry;
        let at = $crate::now();
        let actor = entry.actor.as_stored();
        let details = entry.details.to_string();
        let sql = format!(
            "INSERT INTO audit_log ({}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {}",
            $crate::audit::AUDIT_COLUMNS,
            $crate::audit::AUDIT_COLUMNS
        );
        let (seq, prev_hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *$tx)
                .await?;
        let hash = $crate::audit::chain_hash(
            &prev_hash,
            &$crate::audit::ChainedFields {
                seq,
                at,
                actor: &actor,
                action: entry.action,
                target: entry.target.as_deref(),
                ip: entry.context.ip.as_deref(),
                user_agent: entry.context.user_agent.as_deref(),
                request_id: entry.context.request_id.as_deref(),
                details: &details,
            },
        );
        let row: $crate::audit::AuditRow = sqlx::query_as(&sql)
            .bind(seq)
            .bind(at)
            .bind(&actor)
            .bind(entry.action)
            .bind(entry.target.as_deref())
            .bind(entry.context.ip.as_deref())
            .bind(entry.context.user_agent.as_deref())
            .bind(entry.context.request_id.as_deref())
            .bind(&details)
            .bind(&prev_hash)
            .bind(&hash)
            .fetch_one(&mut *$tx)
            .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
        row
    }};
}
pub(crate) use append_audit_in;

impl Store {
    /// Appends an entry to the chain and returns it as stored.
    pub async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let row: AuditRow = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row = append_audit_in!(tx, entry);
            tx.commit().await?;
            row
        });
        Ok(row.into_entry())
    }

    /// Newest first, at most `limit` entries.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE \
               ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
               AND ($3 IS NULL OR target = $3) AND ($4 IS NULL OR at >= $4) \
               AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq < $6) \
             ORDER BY seq DESC LIMIT $7"
        );
        let rows: Vec<AuditRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(filter.actor.as_deref())
                .bind(filter.action.as_deref())
                .bind(filter.target.as_deref())
                .bind(filter.from)
                .bind(filter.until)
                .bind(filter.before_seq)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(AuditRow::into_entry).collect())
    }

    /// Walks the whole chain in order, in pages, and reports every break.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        const PAGE: i64 = 1000;
        // The head first: entries appended while we read (the system appends
        // in the background) lie beyond it and are left for the next check,
        // instead of looking like a truncated or edited tail.
        let (head_seq, head_hash): (i64, String) = with_pool!(self, pool => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(pool)
                .await?
        });
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $3 ORDER BY seq LIMIT $2"
        );
        let mut problems = Vec::new();
        let mut checked = 0u64;
        let mut last_seq = 0i64;
        let mut last_hash = GENESIS_HASH.to_owned();
        loop {
            let rows: Vec<AuditRow> = with_pool!(self, pool => {
                sqlx::query_as(&sql).bind(last_seq).bind(PAGE).bind(head_seq).fetch_all(pool).await?
            });
            let page_len = rows.len();
            for row in rows {
                if row.seq != last_seq + 1 {
                    problems.push(AuditProblem::Missing { after: last_seq, seq: row.seq });
                } else if row.prev_hash != last_hash {
                    problems.push(AuditProblem::BrokenLink { seq: row.seq });
                }
                if row.computed_hash() != row.hash {
                    problems.push(AuditProblem::Edited { seq: row.seq });
                }
                checked += 1;
                last_seq = row.seq;
                last_hash = row.hash;
            }
            if page_len < PAGE as usize {
                break;
            }
        }
        if head_seq > last_seq {
            problems.push(AuditProblem::TruncatedTail { last_seq, head_seq });
        } else if head_hash != last_hash && head_seq == last_seq {
            problems.push(AuditProblem::Edited { seq: last_seq });
        }
        Ok(AuditVerification { entries_checked: checked, problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(details: &str) -> ChainedFields<'_> {
        ChainedFields {
            seq: 1,
            at: OffsetDateTime::UNIX_EPOCH,
            actor: "cli",
            action: "user.created",
            target: Some("user:1"),
            ip: None,
            user_agent: None,
            request_id: None,
            details,
        }
    }

    #[test]
    fn the_hash_covers_the_previous_hash() {
        assert_ne!(
            chain_hash(GENESIS_HASH, &fields("{}")),
            chain_hash(&"1".repeat(64), &fields("{}"))
        );
    }

    #[test]
    fn the_hash_covers_every_field() {
        assert_ne!(
            chain_hash(GENESIS_HASH, &fields("{}")),
            chain_hash(GENESIS_HASH, &fields("{\"a\":1}"))
        );
    }

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(
            chain_hash(GENESIS_HASH, &fields("{}")),
            chain_hash(GENESIS_HASH, &fields("{}"))
        );
    }
}
