-- Sessions carry their user's epoch (SQLite): a password change or "sign out everywhere"
-- bumps it, and every session signed in before that ends. Mirrored in migrations/postgres.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
