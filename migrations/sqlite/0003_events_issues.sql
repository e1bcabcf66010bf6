-- Ingestion: events grouped into issues (SQLite). Mirrored in migrations/postgres.
-- Conventions as in 0001: integer ids, epoch-millisecond integers, booleans as 0/1.

-- Per-project rate limit of accepted events per minute; NULL: no limit.
ALTER TABLE projects ADD COLUMN rate_limit_per_minute INTEGER;

-- An issue: the events of one project that share a grouping key.
CREATE TABLE issues (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    title            TEXT    NOT NULL,            -- "ZeroDivisionError: division by zero"
    culprit          TEXT    NOT NULL,            -- "app.views in divide"
    kind             TEXT    NOT NULL,            -- 'error' (has an exception) or 'default'
    exception_type   TEXT,
    exception_value  TEXT,
    level            TEXT    NOT NULL,            -- of the latest event
    platform         TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'unresolved'
                     CHECK (status IN ('unresolved', 'resolved', 'ignored')),
    is_regression    INTEGER NOT NULL DEFAULT 0,  -- reopened by an event after being resolved
    event_count      INTEGER NOT NULL DEFAULT 0,  -- exact: bumped in the event's transaction
    user_count       INTEGER NOT NULL DEFAULT 0,  -- distinct rows of issue_users
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    first_release    TEXT,
    last_release     TEXT,
    resolved_at      INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX issues_project_last_seen ON issues (project_id, last_seen);

-- Grouping keys → issues. The strategy version is kept with each key, so a later version can
-- map its new keys onto existing issues instead of splitting them.
CREATE TABLE groupings (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    hash        TEXT    NOT NULL,                 -- 32 hex
    version     INTEGER NOT NULL,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    components  TEXT    NOT NULL,                 -- JSON list: why these events group together
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, hash)
);
CREATE INDEX groupings_issue ON groupings (issue_id);

-- Every accepted event, whole: the normalized JSON, zstd-compressed, plus the columns that
-- lists and filters need. (project_id, event_id) is unique: an SDK's retry is stored once.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id     INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    event_id     TEXT    NOT NULL,                -- 32 hex, from the SDK
    timestamp    INTEGER NOT NULL,                -- when it happened (clock skew corrected)
    received_at  INTEGER NOT NULL,
    level        TEXT    NOT NULL,
    release      TEXT,
    environment  TEXT,
    user_key     TEXT,                            -- 'id:..', 'email:..', 'username:..', 'ip:..'
    payload      BLOB    NOT NULL,                -- zstd(normalized event JSON)
    UNIQUE (project_id, event_id)
);
CREATE INDEX events_issue ON events (issue_id, id);

-- Distinct users per issue (the primary key makes counting them exact).
CREATE TABLE issue_users (
    issue_id  INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    user_key  TEXT    NOT NULL,
    PRIMARY KEY (issue_id, user_key)
);

-- Tag values seen per issue, with counts: environments and releases seen, and the tag
-- distributions of the issue page.
CREATE TABLE issue_tag_values (
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (issue_id, key, value)
);

-- Events per issue per hour (hour = epoch ms / 3600000), for trends and sparklines.
CREATE TABLE issue_hourly (
    issue_id  INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    hour      INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (issue_id, hour)
);

-- What happened to an issue: 'first_seen', 'regression', later status changes and comments.
CREATE TABLE issue_activity (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,  -- NULL: Faultline itself
    data        TEXT    NOT NULL DEFAULT '{}',                    -- JSON
    created_at  INTEGER NOT NULL
);
CREATE INDEX issue_activity_issue ON issue_activity (issue_id, id);

-- Attachments sent with an event (envelope items of type 'attachment'), up to a size limit.
CREATE TABLE attachments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    event_id         TEXT    NOT NULL,
    filename         TEXT    NOT NULL,
    content_type     TEXT,
    attachment_type  TEXT    NOT NULL,            -- 'event.attachment', 'event.minidump', ...
    size             INTEGER NOT NULL,
    data             BLOB    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX attachments_event ON attachments (project_id, event_id);

-- User feedback: 'user_report' items and 'feedback' events, linked to an event when known.
CREATE TABLE user_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    event_id    TEXT,
    name        TEXT,
    email       TEXT,
    comments    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX user_reports_event ON user_reports (project_id, event_id);

-- Envelope items accepted but not stored (transactions, sessions, client reports, ...) and
-- refusals (rate limits), counted per project, type and UTC day (day = epoch ms / 86400000).
CREATE TABLE ingest_counts (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    item_type   TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (project_id, item_type, day)
);
