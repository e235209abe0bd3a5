-- A request's landing-page prototype: served at /p/<token> (the token is
-- the only key, 256 random bits), its HTML in object storage. One per
-- submission; counted per owner for the daily quota.
CREATE TABLE prototypes (
    token         TEXT PRIMARY KEY NOT NULL,
    submission_id BLOB NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    owner         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX prototypes_by_submission ON prototypes (submission_id);
CREATE INDEX prototypes_by_owner ON prototypes (owner, created_at);
