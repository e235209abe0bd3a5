-- The index of open jobs ("jobs for me") follows job rows by time, as the
-- profile index does (0011; vectors are already indexed by kind and time).
CREATE INDEX jobs_updated ON jobs (updated_at);
