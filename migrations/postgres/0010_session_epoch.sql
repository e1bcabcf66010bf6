-- Sessions carry their user's epoch (PostgreSQL): a password change or "sign out
-- everywhere" bumps it, and every session signed in before that ends. Mirrored in
-- migrations/sqlite.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
