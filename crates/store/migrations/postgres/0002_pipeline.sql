-- Request pipeline: submissions with their files, runs of steps, and the
-- durable task queue that drives them.

CREATE TABLE submissions (
    id              UUID PRIMARY KEY,
    owner_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('job', 'request')),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    budget_minor    BIGINT,
    budget_currency TEXT,
    deadline        DATE,
    region          TEXT,
    contact         TEXT,
    status          TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (owner_id, idempotency_key)
);
CREATE INDEX submissions_owner ON submissions (owner_id, id);

CREATE TABLE submission_files (
    id            UUID PRIMARY KEY,
    submission_id UUID NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('attachment', 'voice')),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX submission_files_submission ON submission_files (submission_id);

CREATE TABLE runs (
    id            UUID PRIMARY KEY,
    submission_id UUID NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ
);
CREATE INDEX runs_submission ON runs (submission_id);

CREATE TABLE steps (
    run_id      UUID NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    error       TEXT,
    output      TEXT,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE tasks (
    id           UUID PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedupe_key   TEXT UNIQUE,
    -- The pipeline run a step task belongs to (no FK: the queue is generic).
    run_id       UUID,
    priority     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    TIMESTAMPTZ NOT NULL,
    lease_until  TIMESTAMPTZ,
    worker       TEXT,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_ready ON tasks (status, priority DESC, run_after);
CREATE INDEX tasks_lease ON tasks (status, lease_until);
CREATE INDEX tasks_run ON tasks (run_id);
