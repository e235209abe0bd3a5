-- Notifications: each user's channel preferences, their webhook endpoints,
-- and every delivery, which is also the delivery queue (claimed under a
-- lease, retried, fallen back, dead-lettered). `dedupe_key` is unique, so a
-- retried pipeline step or a second watcher never enqueues a message twice.
-- `runs.notified_at` marks runs whose outcome has been turned into messages.

ALTER TABLE runs ADD COLUMN notified_at TEXT;
CREATE INDEX runs_unnotified ON runs (status) WHERE notified_at IS NULL;
-- Runs that ended before this migration count as announced: an upgrade
-- must not mail every past outcome at once.
UPDATE runs SET notified_at = COALESCE(finished_at, created_at)
WHERE status IN ('succeeded', 'failed', 'cancelled');

CREATE TABLE notification_preferences (
    user_id    BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- {channels: [{channel, address}], kinds: {kind: mode}, locale}
    document   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE webhook_endpoints (
    id                  BLOB PRIMARY KEY NOT NULL,
    user_id             BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url                 TEXT NOT NULL,
    secret              TEXT NOT NULL,
    -- The secret before the last rotation, still signed with until it expires.
    previous_secret     TEXT,
    previous_expires_at TEXT,
    -- JSON list of notification kinds; empty means every kind.
    events              TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id);

CREATE TABLE notifications (
    id              BLOB PRIMARY KEY NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    -- What caused it (`run/<id>`, `submission/<id>`…); with kind, channel and
    -- address it makes the dedupe key, and a fallback keeps it.
    source          TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    -- The template context, kept to render again for a fallback channel.
    context         TEXT NOT NULL,
    locale          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'retrying', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Position of `channel` in the user's channel list (the next one is the fallback).
    channel_rank    INTEGER NOT NULL,
    -- Waits for the user's daily digest, sent as one message with the
    -- other digest items due for the same channel and address.
    digest          BOOLEAN NOT NULL DEFAULT FALSE,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    provider_id     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
