-- Filter menus (SQLite): the environments and releases each project has seen, kept by
-- ingestion, so the issue list reads a few rows instead of aggregating the tag values of
-- thousands of issues on every page. Mirrored in migrations/postgres.
CREATE TABLE project_tag_values (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,                 -- 'environment' or 'release'
    value       TEXT    NOT NULL,
    count       INTEGER NOT NULL,                 -- events stored with this value
    first_seen  INTEGER NOT NULL,                 -- epoch ms of the events
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (project_id, key, value)
);

-- What the events stored so far tell.
INSERT INTO project_tag_values (project_id, key, value, count, first_seen, last_seen)
SELECT i.project_id, t.key, t.value, SUM(t.count), MIN(t.first_seen), MAX(t.last_seen)
FROM issue_tag_values t JOIN issues i ON i.id = t.issue_id
WHERE t.key IN ('environment', 'release')
GROUP BY i.project_id, t.key, t.value;
