-- When an account was erased at its owner's (or an admin's) request: the
-- row stays, pseudonymised, so that what others keep (reviews they were
-- given, the audit log) still points at one account.
ALTER TABLE users ADD COLUMN erased_at TEXT;
