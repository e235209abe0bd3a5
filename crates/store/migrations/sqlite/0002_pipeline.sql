-- Request pipeline: submissions with their files, runs of steps, and the
-- durable task queue that drives them.

CREATE TABLE submissions (
    id              BLOB PRIMARY KEY NOT NULL,
    owner_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('job', 'request')),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    budget_minor    INTEGER,
    budget_currency TEXT,
    deadline        TEXT,
    region          TEXT,
    contact         TEXT,
    status          TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (owner_id, idempotency_key)
);
CREATE INDEX submissions_owner ON submissions (owner_id, id);

CREATE TABLE submission_files (
    id            BLOB PRIMARY KEY NOT NULL,
    submission_id BLOB NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('attachment', 'voice')),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX submission_files_submission ON submission_files (submission_id);

CREATE TABLE runs (
    id            BLOB PRIMARY KEY NOT NULL,
    submission_id BLOB NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX runs_submission ON runs (submission_id);

CREATE TABLE steps (
    run_id      BLOB NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT,
    finished_at TEXT,
    error       TEXT,
    output      TEXT,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE tasks (
    id           BLOB PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedupe_key   TEXT UNIQUE,
    -- The pipeline run a step task belongs to (no FK: the queue is generic).
    run_id       BLOB,
    priority     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    TEXT NOT NULL,
    lease_until  TEXT,
    worker       TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX tasks_ready ON tasks (status, priority DESC, run_after);
CREATE INDEX tasks_lease ON tasks (status, lease_until);
CREATE INDEX tasks_run ON tasks (run_id);
