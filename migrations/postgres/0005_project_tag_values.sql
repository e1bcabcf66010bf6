-- Filter menus (PostgreSQL). Mirrors migrations/sqlite; see it for comments.
CREATE TABLE project_tag_values (
    project_id  BIGINT  NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    count       BIGINT  NOT NULL,
    first_seen  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    PRIMARY KEY (project_id, key, value)
);

INSERT INTO project_tag_values (project_id, key, value, count, first_seen, last_seen)
SELECT i.project_id, t.key, t.value, SUM(t.count), MIN(t.first_seen), MAX(t.last_seen)
FROM issue_tag_values t JOIN issues i ON i.id = t.issue_id
WHERE t.key IN ('environment', 'release')
GROUP BY i.project_id, t.key, t.value;
