-- Applications to jobs (one per freelancer and job) and reviews after a
-- completed job (one per party). A review whose text needs a bias review
-- waits for a moderator before it is shown or counted.

CREATE TABLE applications (
    id                  UUID PRIMARY KEY,
    job_id              UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    freelancer_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cover_letter        TEXT NOT NULL,
    proposed_rate_minor BIGINT,
    currency            TEXT,
    status              TEXT NOT NULL CHECK (status IN ('applied', 'shortlisted', 'hired', 'rejected', 'withdrawn')),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (job_id, freelancer_id)
);
CREATE INDEX applications_freelancer ON applications (freelancer_id, created_at);

CREATE TABLE reviews (
    id              UUID PRIMARY KEY,
    job_id          UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    author_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    -- Sub-ratings as JSON: communication, quality, expertise, professionalism.
    sub_ratings     TEXT NOT NULL,
    body            TEXT NOT NULL,
    bias_report     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('published', 'pending', 'rejected')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (job_id, author_id)
);
CREATE INDEX reviews_subject ON reviews (subject_id, status, created_at);
CREATE INDEX reviews_pending ON reviews (status, created_at);
