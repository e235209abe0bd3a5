-- A viewer who reloads the same ranked list is shown one impression, not a
-- new list each time: the list keeps who was shown it, a hash of what was
-- shown, and how often and when last (0007 wrote ~2.7 KB per view).
ALTER TABLE match_lists ADD COLUMN viewer_id BLOB;
ALTER TABLE match_lists ADD COLUMN list_hash TEXT;
ALTER TABLE match_lists ADD COLUMN views INTEGER NOT NULL DEFAULT 1;
ALTER TABLE match_lists ADD COLUMN last_viewed_unix INTEGER NOT NULL DEFAULT 0;
CREATE INDEX match_lists_repeats ON match_lists (job_id, viewer_id, list_hash, last_viewed_unix);
