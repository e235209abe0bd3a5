-- Background re-embedding after a model change is shared between processes:
-- each claims a batch of stale vectors until this moment, so two workers
-- never embed the same rows.
ALTER TABLE entity_embeddings ADD COLUMN reembed_until TEXT;
