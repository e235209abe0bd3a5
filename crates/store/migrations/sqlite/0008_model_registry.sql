-- The model registry: versions with parameters, metrics and lineage, and
-- the champion/challenger aliases (the champion's predecessor is kept, so
-- a rollback is one update).

CREATE TABLE models (
    id         BLOB PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('ranker', 'embedder', 'bias_rules')),
    version    TEXT NOT NULL UNIQUE,
    parameters TEXT NOT NULL,
    metrics    TEXT NOT NULL,
    lineage    TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE model_aliases (
    kind       TEXT NOT NULL,
    alias      TEXT NOT NULL CHECK (alias IN ('champion', 'challenger')),
    model_id   BLOB NOT NULL REFERENCES models (id),
    previous   BLOB REFERENCES models (id),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, alias)
);
