-- The RabbitMQ transport's outbox. The tasks table stays the source of truth;
-- a relay publishes each ready (or soon due) queued task's id to the broker
-- and records when. Every change that puts a task back in the queue clears
-- the mark, so the task is published again. Unused by the database-only queue.

ALTER TABLE tasks ADD COLUMN published_at TIMESTAMPTZ;
CREATE INDEX tasks_unpublished ON tasks (run_after) WHERE status = 'queued' AND published_at IS NULL;
