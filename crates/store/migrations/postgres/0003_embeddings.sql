-- Embeddings: a cache so an unchanged text is never embedded twice, and the
-- current vector of each embedded thing (submission, job, profile) with the
-- model that made it, so a model change can re-embed in the background.
-- Vectors are little-endian f32, unit length.

CREATE TABLE embedding_cache (
    model_id    TEXT NOT NULL,
    text_sha256 BYTEA NOT NULL,
    vector      BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (model_id, text_sha256)
);

CREATE TABLE entity_embeddings (
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('submission', 'job', 'profile')),
    entity_id   UUID NOT NULL,
    model_id    TEXT NOT NULL,
    text        TEXT NOT NULL,
    vector      BYTEA NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entity_kind, entity_id)
);
CREATE INDEX entity_embeddings_model ON entity_embeddings (model_id);
