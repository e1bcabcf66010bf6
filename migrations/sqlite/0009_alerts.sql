-- Alerts (SQLite): rules per project, the last time each rule fired for each issue (no
-- alert storms), and the deliveries with their status. Mirrored in migrations/postgres.

CREATE TABLE alert_rules (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id        INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- 'new_issue', 'regression', 'spike', 'events' (passes N events), 'users' (N users)
    kind              TEXT    NOT NULL,
    threshold         INTEGER,                    -- events / users: N
    spike_factor      REAL,                       -- spike: last 5 min >= factor x trailing rate
    spike_min         INTEGER,                    -- ... and >= this many events
    environment       TEXT,                       -- only events of this environment; NULL: any
    level             TEXT,                       -- only events of this level; NULL: any
    channel           TEXT    NOT NULL,           -- 'webhook' (generic JSON), 'slack' or 'email'
    target            TEXT    NOT NULL,           -- the URL posted to, or e-mail addresses
    interval_minutes  INTEGER NOT NULL,           -- at most one alert per issue per interval
    created_at        INTEGER NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules (project_id);

-- When a rule last fired for an issue; claimed with a conditional upsert, so two nodes
-- cannot both fire within an interval.
CREATE TABLE alert_fires (
    rule_id    INTEGER NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    issue_id   INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    fired_at   INTEGER NOT NULL,
    PRIMARY KEY (rule_id, issue_id)
);

-- Every alert sent or to send, with retries (backoff) and the last error.
CREATE TABLE alert_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id          INTEGER NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    issue_id         INTEGER REFERENCES issues(id) ON DELETE SET NULL,
    reason           TEXT    NOT NULL,            -- what fired: 'new_issue', 'regression', 'spike'...
    payload          TEXT    NOT NULL,            -- the JSON body posted
    status           TEXT    NOT NULL,            -- 'pending', 'sent', 'failed'
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
CREATE INDEX alert_deliveries_rule ON alert_deliveries (rule_id, id);
