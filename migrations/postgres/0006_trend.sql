-- The trend sort (PostgreSQL). Mirrors migrations/sqlite; see it for comments.
ALTER TABLE issues ADD COLUMN trend DOUBLE PRECISION NOT NULL DEFAULT -1000000000.0;
ALTER TABLE issues ADD COLUMN trend_hour BIGINT NOT NULL DEFAULT 0;
CREATE INDEX issues_list_trend ON issues (project_id, status, trend, last_seen, id);

UPDATE issues SET trend = 0.0
WHERE last_seen >= (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) - 172800) * 1000;
