-- Periodic work shared between processes (scheduled training): whoever
-- claims a schedule's lease runs it once it is due; the others skip it.
CREATE TABLE schedules (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT,
    lease_until TIMESTAMPTZ,
    last_run_at TIMESTAMPTZ
);
