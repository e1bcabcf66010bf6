-- Triage (PostgreSQL). Mirrors migrations/sqlite; see it for comments.

ALTER TABLE issues ADD COLUMN assignee_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE issues ADD COLUMN ignore_until BIGINT;
ALTER TABLE issues ADD COLUMN ignore_until_count BIGINT;

DROP INDEX issues_project_last_seen;
CREATE INDEX issues_list_last_seen  ON issues (project_id, status, last_seen, id);
CREATE INDEX issues_list_first_seen ON issues (project_id, status, first_seen, id);
CREATE INDEX issues_list_events     ON issues (project_id, status, event_count, id);
CREATE INDEX issues_list_users      ON issues (project_id, status, user_count, id);
CREATE INDEX issues_assignee        ON issues (assignee_id);

CREATE INDEX issue_tag_values_lookup ON issue_tag_values (key, value, issue_id);

CREATE INDEX issue_hourly_recent ON issue_hourly (hour, issue_id, count);
