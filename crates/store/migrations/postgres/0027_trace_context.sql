-- The W3C trace context (`traceparent`) of the span that queued the work,
-- so the step or delivery that takes it up continues the same trace.
-- NULL when tracing is off.
ALTER TABLE tasks ADD COLUMN trace_parent TEXT;
ALTER TABLE notifications ADD COLUMN trace_parent TEXT;
