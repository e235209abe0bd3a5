-- What a running step has written so far (a language model's answer as it
-- is written), shown while it runs; cleared when the step finishes or fails.
ALTER TABLE steps ADD COLUMN progress TEXT;
