-- Faultline foundation schema (SQLite).
-- Portable conventions, mirrored in migrations/postgres: integer ids chosen by the
-- database, timestamps as integer epoch milliseconds (UTC), booleans as 0/1.

-- An organization groups projects, as in Sentry; its slug appears in API paths.
CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- People who log in. `is_admin` users manage everything and see every project;
-- other users see the projects they hold a membership of. Passwords: argon2id PHC strings.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT    NOT NULL UNIQUE,        -- stored lowercased
    password_hash  TEXT    NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

-- A project receives events; its integer id is the last part of its DSN.
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    slug        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    platform    TEXT    NOT NULL DEFAULT 'other',
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, slug)
);

-- Client keys (the public part of a DSN). Rotation replaces `public_key`, so the old key
-- is refused at once; a disabled key stays listed but is refused by ingestion.
CREATE TABLE project_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    public_key  TEXT    NOT NULL UNIQUE,
    label       TEXT    NOT NULL,
    is_active   INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE INDEX project_keys_project ON project_keys (project_id);

-- Per-project access of non-admin users. role: 'admin' (keys, members) or 'member'.
CREATE TABLE memberships (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX memberships_project ON memberships (project_id);

-- API tokens for the JSON API (Authorization: Bearer). Only a SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_sha256  TEXT    NOT NULL UNIQUE,
    label         TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins, per account ('email:...') and per client address ('ip:...'), for throttling.
-- Kept in the database so that several Faultline nodes share the count.
CREATE TABLE login_failures (
    subject       TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL
);
