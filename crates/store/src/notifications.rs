//! Notification preferences, webhook endpoints and deliveries.
//!
//! The `notifications` table is both the delivery log users read and the
//! queue the dispatcher claims from, so a delivery's state lives in exactly
//! one row: enqueued once per dedupe key, claimed under a lease (a crashed
//! sender's delivery is claimed again when the lease runs out), finished as
//! sent, scheduled again, fallen back or dead.

use fairgig_core::{
    ids::{NotificationId, RunId, SubmissionId, UserId},
    submission::RunStatus,
    work::NotificationStatus,
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{found, now, with_pool, Pool, Store, StoreError};

/// A delivery to record (status `pending`, due now).
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub user: UserId,
    pub kind: String,
    pub channel: String,
    pub address: String,
    /// What caused it: `run/<id>`, `submission/<id>`, `run/<id>/match`…
    pub source: String,
    pub context: Value,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub channel_rank: i32,
    /// Not before this moment (quiet hours, the digest time); `None`: now.
    pub not_before: Option<OffsetDateTime>,
    /// Waits for the digest and goes out with the other items due then.
    pub digest: bool,
    /// Recorded straight as `dead` with this reason (e.g. a template that
    /// rendered too large): the log shows why nothing was sent.
    pub refused: Option<String>,
}

/// One delivery, as the log shows it and the dispatcher sends it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Notification {
    #[sqlx(try_from = "Uuid")]
    pub id: NotificationId,
    #[sqlx(try_from = "Uuid")]
    pub user_id: UserId,
    pub kind: String,
    pub channel: String,
    pub address: String,
    pub source: String,
    pub dedupe_key: String,
    #[sqlx(try_from = "String")]
    pub context: JsonText,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: NotificationStatus,
    pub attempts: i32,
    pub channel_rank: i32,
    pub digest: bool,
    pub next_attempt_at: OffsetDateTime,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    /// The trace context of the span that addressed it ([`fairgig_trace`]).
    pub trace_parent: Option<String>,
}

/// A JSON document stored as text (both backends keep JSON as `TEXT`).
#[derive(Clone, Debug, PartialEq)]
pub struct JsonText(pub Value);

impl TryFrom<String> for JsonText {
    type Error = serde_json::Error;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(JsonText)
    }
}

/// How a send attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryOutcome {
    Sent {
        provider_id: Option<String>,
    },
    /// Try this channel again at `at`.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// This channel gave up; a fallback delivery was (or is being) enqueued.
    FellBack {
        error: String,
    },
    /// Nothing more to try.
    Dead {
        error: String,
    },
}

/// A user's webhook endpoint.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub user_id: Uuid,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<OffsetDateTime>,
    #[sqlx(try_from = "String")]
    pub events: JsonText,
    pub created_at: OffsetDateTime,
}

impl WebhookEndpoint {
    /// The secrets to sign with at `at`: the current one and, during the
    /// rotation overlap, the previous one.
    pub fn signing_secrets(&self, at: OffsetDateTime) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_expires_at) {
            if at < until {
                secrets.push(previous);
            }
        }
        secrets
    }

    /// Whether this endpoint wants `kind` (an empty filter wants everything).
    pub fn wants(&self, kind: &str) -> bool {
        match self.events.0.as_array() {
            Some(events) if !events.is_empty() => events.iter().any(|event| event == kind),
            _ => true,
        }
    }
}

/// A finished run whose outcome has not been turned into messages yet.
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedRun {
    pub run: RunId,
    pub submission: SubmissionId,
    /// `succeeded` or `failed`.
    pub status: RunStatus,
}

const COLUMNS: &str =
    "id, user_id, kind, channel, address, source, dedupe_key, context, locale, subject, \
     body_text, body_html, status, attempts, channel_rank, digest, next_attempt_at, provider_id, \
     last_error, created_at, updated_at, sent_at, trace_parent";

const ENDPOINT_COLUMNS: &str =
    "id, user_id, url, secret, previous_secret, previous_expires_at, events, created_at";

impl NewNotification {
    /// One message per source, kind, channel and recipient, ever.
    pub fn dedupe_key(&self) -> String {
        format!("{}|{}|{}|{}", self.source, self.kind, self.channel, self.address)
    }
}

impl Store {
    /// The user's stored preferences document, if they saved one.
    pub async fn notification_preferences(
        &self,
        user: UserId,
    ) -> Result<Option<Value>, StoreError> {
        let row: Option<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT document FROM notification_preferences WHERE user_id = $1")
                .bind(user.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        row.map(|(text,)| {
            serde_json::from_str(&text)
                .map_err(|err| StoreError::Corrupt(format!("preferences of {user}: {err}")))
        })
        .transpose()
    }

    pub async fn set_notification_preferences(
        &self,
        user: UserId,
        document: &Value,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO notification_preferences (user_id, document, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET document = $2, updated_at = $3",
            )
            .bind(user.as_uuid())
            .bind(document.to_string())
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a delivery unless one with the same source, kind, channel and
    /// address exists (the dedupe key); `None` then.
    pub async fn enqueue_notification(
        &self,
        new: &NewNotification,
    ) -> Result<Option<Notification>, StoreError> {
        let at = now();
        let (status, error) = match &new.refused {
            Some(reason) => (NotificationStatus::Dead, Some(reason.as_str())),
            None => (NotificationStatus::Pending, None),
        };
        let sql = format!(
            "INSERT INTO notifications (id, user_id, kind, channel, address, source, dedupe_key, \
               context, locale, subject, body_text, body_html, status, attempts, channel_rank, \
               digest, next_attempt_at, last_error, created_at, updated_at, trace_parent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $17, \
               $18, $18, $19) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING {COLUMNS}"
        );
        let row: Option<Notification> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(Uuid::now_v7())
                .bind(new.user.as_uuid())
                .bind(&new.kind)
                .bind(&new.channel)
                .bind(&new.address)
                .bind(&new.source)
                .bind(new.dedupe_key())
                .bind(new.context.to_string())
                .bind(&new.locale)
                .bind(&new.subject)
                .bind(&new.body_text)
                .bind(&new.body_html)
                .bind(status.as_str())
                .bind(new.channel_rank)
                .bind(new.digest)
                .bind(new.not_before.unwrap_or(at).max(at))
                .bind(error)
                .bind(at)
                .bind(fairgig_trace::current())
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Claims up to `limit` due deliveries (and any whose sender's lease ran
    /// out) until `lease_until`, counting the attempt.
    pub async fn claim_notifications(
        &self,
        limit: u32,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<Notification>, StoreError> {
        let lock = match self.pool {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE notifications SET status = 'sending', attempts = attempts + 1, \
               lease_until = $1, updated_at = $2 \
             WHERE id IN (SELECT id FROM notifications \
               WHERE (status IN ('pending', 'retrying') AND next_attempt_at <= $2) \
                  OR (status = 'sending' AND lease_until < $2) \
               ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
             RETURNING {COLUMNS}"
        );
        let rows: Vec<Notification> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(lease_until)
                .bind(now())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Claims the other due digest items for the same recipient (a batch
    /// limit may have left them out), so a digest goes out as one message.
    pub async fn claim_digest_items(
        &self,
        user: UserId,
        channel: &str,
        address: &str,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = format!(
            "UPDATE notifications SET status = 'sending', attempts = attempts + 1, \
               lease_until = $1, updated_at = $2 \
             WHERE digest = TRUE AND user_id = $3 AND channel = $4 AND address = $5 \
               AND status IN ('pending', 'retrying') AND next_attempt_at <= $2 \
             RETURNING {COLUMNS}"
        );
        let rows: Vec<Notification> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(lease_until)
                .bind(now())
                .bind(user.as_uuid())
                .bind(channel)
                .bind(address)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Records how an attempt ended. Only a delivery still `sending` changes
    /// (an admin retry or a second sender cannot be overwritten by a late result).
    pub async fn finish_notification(
        &self,
        id: NotificationId,
        outcome: &DeliveryOutcome,
    ) -> Result<(), StoreError> {
        let at = now();
        let (status, provider_id, error, next, sent_at) = match outcome {
            DeliveryOutcome::Sent { provider_id } => {
                (NotificationStatus::Sent, provider_id.as_deref(), None, at, Some(at))
            }
            DeliveryOutcome::Retry { at: next, error } => {
                (NotificationStatus::Retrying, None, Some(error.as_str()), *next, None)
            }
            DeliveryOutcome::FellBack { error } => {
                (NotificationStatus::Failed, None, Some(error.as_str()), at, None)
            }
            DeliveryOutcome::Dead { error } => {
                (NotificationStatus::Dead, None, Some(error.as_str()), at, None)
            }
        };
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notifications SET status = $2, provider_id = COALESCE($3, provider_id), \
                   last_error = COALESCE($4, last_error), next_attempt_at = $5, sent_at = $6, \
                   lease_until = NULL, updated_at = $7 \
                 WHERE id = $1 AND status = 'sending'",
            )
            .bind(id.as_uuid())
            .bind(status.as_str())
            .bind(provider_id)
            .bind(error)
            .bind(next)
            .bind(sent_at)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records how far a multi-part send got (the provider ids of the parts
    /// delivered so far) while it is still `sending`, so a retry or another
    /// sender after a crash resumes instead of repeating them.
    pub async fn checkpoint_notification(
        &self,
        id: NotificationId,
        provider_id: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notifications SET provider_id = $2, updated_at = $3 \
                 WHERE id = $1 AND status = 'sending'",
            )
            .bind(id.as_uuid())
            .bind(provider_id)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Replaces a sent message's body and template values with `placeholder`:
    /// for messages carrying a one-time secret, which must not outlive its
    /// delivery in the database.
    pub async fn scrub_notification(
        &self,
        id: NotificationId,
        placeholder: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notifications SET body_text = $2, body_html = NULL, context = '{}', \
                   updated_at = $3 \
                 WHERE id = $1 AND status = 'sent'",
            )
            .bind(id.as_uuid())
            .bind(placeholder)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A user's deliveries, newest first (their inbox).
    pub async fn notifications_for_user(
        &self,
        user: UserId,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let rows: Vec<Notification> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user.as_uuid())
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Every user's deliveries, newest first, optionally in one status:
    /// the operator's notification log.
    pub async fn notification_log(
        &self,
        status: Option<NotificationStatus>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE ($1 IS NULL OR status = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<Notification> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(status.map(NotificationStatus::as_str))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    pub async fn notification(&self, id: NotificationId) -> Result<Notification, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
        let row: Option<Notification> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// Hands a claimed delivery back untried (its channel's circuit is open):
    /// due again at `at`, and the claim's attempt does not count.
    pub async fn postpone_notification(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notifications SET status = 'retrying', attempts = attempts - 1, \
                   next_attempt_at = $2, lease_until = NULL, updated_at = $3 \
                 WHERE id = $1 AND status = 'sending'",
            )
            .bind(id.as_uuid())
            .bind(at)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Puts a dead or failed delivery back in the queue with fresh attempts.
    /// `NotFound` when there is no such delivery in either state.
    pub async fn retry_notification(&self, id: NotificationId) -> Result<(), StoreError> {
        let at = now();
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = $2, \
                   updated_at = $2 WHERE id = $1 AND status IN ('dead', 'failed')",
            )
            .bind(id.as_uuid())
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        found(changed)
    }

    /// Runs that finished (succeeded or failed) and whose outcome has not
    /// been announced yet, oldest first.
    pub async fn runs_to_notify(&self, limit: u32) -> Result<Vec<FinishedRun>, StoreError> {
        let rows: Vec<(Uuid, Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, submission_id, status FROM runs WHERE notified_at IS NULL \
                 AND status IN ('succeeded', 'failed') ORDER BY finished_at, id LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(run, submission, status)| {
                Ok(FinishedRun {
                    run: RunId::from_uuid(run),
                    submission: SubmissionId::from_uuid(submission),
                    status: status
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("run {run} status {status:?}")))?,
                })
            })
            .collect()
    }

    /// Marks a run's outcome as announced (its messages are enqueued).
    pub async fn mark_run_notified(&self, run: RunId) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE runs SET notified_at = $2 WHERE id = $1")
                .bind(run.as_uuid())
                .bind(now())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn create_webhook_endpoint(
        &self,
        user: UserId,
        url: &str,
        secret: &str,
        events: &[String],
    ) -> Result<WebhookEndpoint, StoreError> {
        let sql = format!(
            "INSERT INTO webhook_endpoints (id, user_id, url, secret, events, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ENDPOINT_COLUMNS}"
        );
        let events = serde_json::to_string(events)
            .map_err(|err| StoreError::Corrupt(format!("webhook events: {err}")))?;
        let row: WebhookEndpoint = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(Uuid::now_v7())
                .bind(user.as_uuid())
                .bind(url)
                .bind(secret)
                .bind(events)
                .bind(now())
                .fetch_one(pool)
                .await?
        });
        Ok(row)
    }

    pub async fn webhook_endpoints(
        &self,
        user: UserId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<WebhookEndpoint> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user.as_uuid()).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// One endpoint of `user` (`NotFound` for anyone else's).
    pub async fn webhook_endpoint(
        &self,
        user: UserId,
        id: Uuid,
    ) -> Result<WebhookEndpoint, StoreError> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND user_id = $2"
        );
        let row: Option<WebhookEndpoint> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(user.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// Replaces the signing secret; the old one keeps signing until `overlap_until`.
    pub async fn rotate_webhook_secret(
        &self,
        user: UserId,
        id: Uuid,
        secret: &str,
        overlap_until: OffsetDateTime,
    ) -> Result<WebhookEndpoint, StoreError> {
        let sql = format!(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_expires_at = $3, \
               secret = $4 WHERE id = $1 AND user_id = $2 RETURNING {ENDPOINT_COLUMNS}"
        );
        let row: Option<WebhookEndpoint> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id)
                .bind(user.as_uuid())
                .bind(overlap_until)
                .bind(secret)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    pub async fn delete_webhook_endpoint(&self, user: UserId, id: Uuid) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user.as_uuid())
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(changed)
    }
}
