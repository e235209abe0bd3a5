-- Notifications decided in a transaction (a submission's receipt) but not
-- yet addressed to the user's channels: written with the change that causes
-- them, deleted once the dispatcher has queued them. A crash in between
-- leaves the row for the sweep; the notifications' dedupe key makes a
-- second delivery a no-op.
CREATE TABLE announcements (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    context    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX announcements_by_source ON announcements (source);
CREATE INDEX announcements_by_age ON announcements (created_at);
