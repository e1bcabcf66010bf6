-- Issue trackers (SQLite): a project's GitLab or GitHub integration, and the tracker issues
-- linked to Faultline issues (created from them, or linked by URL). Mirrored in
-- migrations/postgres.

-- One integration per project and kind. The token is only ever sent to the tracker: the UI
-- shows that one is saved, never the token.
CREATE TABLE project_trackers (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('gitlab', 'github')),
    base_url    TEXT    NOT NULL,                 -- https://gitlab.com, https://api.github.com
    target      TEXT    NOT NULL,                 -- GitLab project path or id; GitHub owner/repo
    token       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, kind)
);

-- Tracker issues of a Faultline issue.
CREATE TABLE issue_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,                 -- 'gitlab', 'github' or 'other'
    url         TEXT    NOT NULL,
    number      INTEGER,                          -- GitLab iid, GitHub number
    title       TEXT,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (issue_id, url)
);
