-- The issue list, faster. The trend sort (SQLite), read from an index instead of aggregating a day of hourly counts
-- of every issue on each page. Mirrored in migrations/postgres.
--
-- trend = events in the hour `trend_hour` minus the hourly rate of the 23 hours before it;
-- -1e9 when the issue had no event in those 24 hours. The ingest writer sets it for the
-- issues of each batch; a background task recomputes the others when the hour moves on.
ALTER TABLE issues ADD COLUMN trend REAL NOT NULL DEFAULT -1000000000.0;
ALTER TABLE issues ADD COLUMN trend_hour INTEGER NOT NULL DEFAULT 0;
CREATE INDEX issues_list_trend ON issues (project_id, status, trend, last_seen, id);

-- Issues seen in the last two days get their score from the task's first run.
UPDATE issues SET trend = 0.0
WHERE last_seen >= (CAST(strftime('%s', 'now') AS INTEGER) - 172800) * 1000;

-- Free-text search matches one lower-cased column (title, culprit and exception value,
-- lower-cased by the writer) instead of lower-casing three columns of every issue.
ALTER TABLE issues ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE issues SET search_text = LOWER(title || ' ' || culprit || ' ' || COALESCE(exception_value, ''));
