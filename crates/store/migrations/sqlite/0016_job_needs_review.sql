-- Whether a job's bias check asks for review, as a column: the draft/open
-- rule reads it instead of a key inside the stored report.
ALTER TABLE jobs ADD COLUMN needs_review BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE jobs SET needs_review = COALESCE(json_extract(bias_report, '$.requires_review'), 0) = 1;
