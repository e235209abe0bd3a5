-- One-time links sent by email: password reset and email verification.
-- Only a SHA-256 of the token is kept, so a database leak opens no account.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;

CREATE TABLE account_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX account_links_user ON account_links (user_id, purpose, created_at);
