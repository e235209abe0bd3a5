-- Every ranked list shown (by the API or the pipeline's match step) with
-- the features of each item, so feedback on it can train later rankers,
-- and the feedback itself: one row per (actor, list, freelancer, kind).

CREATE TABLE match_lists (
    id              BLOB PRIMARY KEY NOT NULL,
    job_id          BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    ranker          TEXT NOT NULL,
    embedding_model TEXT NOT NULL,
    algorithm       TEXT NOT NULL,
    -- [{freelancer, rank, relevance_rank, score, newcomer, features: [8 numbers]}]
    items           TEXT NOT NULL,
    fairness        TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX match_lists_job ON match_lists (job_id, created_at);

CREATE TABLE feedback (
    id            BLOB PRIMARY KEY NOT NULL,
    actor_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    match_list_id BLOB NOT NULL REFERENCES match_lists (id) ON DELETE CASCADE,
    freelancer_id BLOB NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('impression', 'click', 'shortlist', 'apply', 'hire', 'reject', 'rating')),
    -- 1-based position the item was shown at.
    rank          INTEGER NOT NULL,
    rating        INTEGER CHECK (rating BETWEEN 1 AND 5),
    created_at    TEXT NOT NULL,
    UNIQUE (actor_id, match_list_id, freelancer_id, kind)
);
CREATE INDEX feedback_time ON feedback (created_at);
