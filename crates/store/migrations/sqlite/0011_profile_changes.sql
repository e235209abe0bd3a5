-- The matcher's in-memory candidate index follows profile and vector changes
-- by time: it asks for rows changed since its last look on every match.
CREATE INDEX profiles_updated ON profiles (updated_at);
CREATE INDEX entity_embeddings_updated ON entity_embeddings (entity_kind, updated_at);
