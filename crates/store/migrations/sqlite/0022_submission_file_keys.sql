-- The orphan-upload sweep asks which stored objects a submission file
-- refers to, by key.
CREATE INDEX submission_files_by_object_key ON submission_files (object_key);
