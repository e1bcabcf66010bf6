-- Releases (SQLite): what sentry-cli registers (releases, their commits and deploys), the
-- repository a project is linked to, and "resolve in the next release". Mirrored in
-- migrations/postgres.
--
-- A release is known from two sources: the events that carry it (counted by ingestion in
-- project_tag_values, key 'release') and the release API (this table). The releases page
-- shows the union of both.

-- The project's repository: its web URL (GitHub or GitLab, for commit links; its path,
-- 'owner/name', is the repository name sentry-cli's `set-commits --commit` uses) and the
-- path of a git clone on the Faultline host (read for commit lists and blame).
ALTER TABLE projects ADD COLUMN repository_url  TEXT;
ALTER TABLE projects ADD COLUMN repository_path TEXT;

-- A release of one project, as registered through the API. sentry-cli names releases per
-- organization with a list of projects; Faultline keeps one row per project.
CREATE TABLE releases (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id        INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version           TEXT    NOT NULL,
    url               TEXT,
    ref_repository    TEXT,                       -- set-commits --commit REPO@[PREV..]SHA
    ref_commit        TEXT,
    ref_previous      TEXT,
    date_released     INTEGER,                    -- set by `releases finalize`
    created_at        INTEGER NOT NULL,
    UNIQUE (project_id, version)
);

-- The commits of a release, newest first (position 0), as set-commits sent them.
CREATE TABLE release_commits (
    release_id    INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    sha           TEXT    NOT NULL,
    repository    TEXT,
    author_name   TEXT,
    author_email  TEXT,
    message       TEXT,
    committed_at  INTEGER,                        -- epoch ms; NULL when not sent
    files         TEXT    NOT NULL DEFAULT '[]',  -- JSON: [{"path": "...", "type": "A|M|D"}]
    PRIMARY KEY (release_id, position)
);

-- Deploys of a release (`sentry-cli deploys new`).
CREATE TABLE deploys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id     INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    environment    TEXT    NOT NULL,
    name           TEXT,
    url            TEXT,
    date_started   INTEGER,
    date_finished  INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX deploys_release ON deploys (release_id, id);

-- "Resolved in the next release": the project's latest release when the issue was resolved
-- ('' when it had none). NULL for every other status. An event of that release or an older
-- one (first seen no later) leaves the issue resolved; an event of a newer release reopens
-- it as a regression.
ALTER TABLE issues ADD COLUMN resolved_in_release TEXT;

-- The releases page counts the issues each release introduced.
CREATE INDEX issues_first_release ON issues (project_id, first_release);
