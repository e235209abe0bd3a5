-- The marketplace: freelancer profiles and jobs. Lists (skills, languages,
-- portfolio links) are JSON text; money is in minor units with its currency.

CREATE TABLE profiles (
    user_id            UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    headline           TEXT NOT NULL,
    bio                TEXT NOT NULL,
    -- [{"name": "Rust", "level": "expert"}, …]
    skills             TEXT NOT NULL,
    hourly_rate_minor  BIGINT,
    currency           TEXT,
    region             TEXT,
    utc_offset_minutes INTEGER,
    availability       TEXT NOT NULL CHECK (availability IN ('available', 'limited', 'unavailable')),
    years_experience   DOUBLE PRECISION NOT NULL,
    languages          TEXT NOT NULL,
    portfolio          TEXT NOT NULL,
    -- Self-declared, for fairness audits and constraints only: never a
    -- scoring feature, never shown to clients.
    group_attributes   TEXT NOT NULL,
    completed_jobs     INTEGER NOT NULL DEFAULT 0,
    rating_sum         DOUBLE PRECISION NOT NULL DEFAULT 0,
    rating_count       INTEGER NOT NULL DEFAULT 0,
    last_active_at     TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX profiles_available ON profiles (availability);

CREATE TABLE jobs (
    id                 UUID PRIMARY KEY,
    owner_id           UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The submission it came from, when it came through the pipeline.
    submission_id      UUID UNIQUE,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    required_skills    TEXT NOT NULL,
    preferred_skills   TEXT NOT NULL,
    -- The most the client pays per hour.
    max_hourly_minor   BIGINT,
    currency           TEXT,
    region             TEXT,
    remote             BOOLEAN NOT NULL,
    utc_offset_minutes INTEGER,
    experience_level   TEXT CHECK (experience_level IN ('entry', 'intermediate', 'expert')),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'open', 'in_progress', 'completed', 'cancelled')),
    -- The bias check of title and description (JSON), and whether the owner
    -- acknowledged findings that needed review.
    bias_report        TEXT NOT NULL,
    bias_acknowledged  BOOLEAN NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_owner ON jobs (owner_id, created_at);
CREATE INDEX jobs_status ON jobs (status, created_at);
