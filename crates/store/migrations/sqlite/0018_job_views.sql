-- Who opened a job, once per viewer and day: what its owner sees as views.
-- Owners and admins opening their own job are not counted.
CREATE TABLE job_views (
    job_id    BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    viewer_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    PRIMARY KEY (job_id, viewer_id, day)
);
