-- Triage (SQLite): assignment, ignore conditions, and the indexes of the issue list.
-- Mirrored in migrations/postgres.

-- Who looks after the issue; NULL: nobody.
ALTER TABLE issues ADD COLUMN assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
-- An ignored issue comes back (unresolved) at this time, epoch ms; NULL: no deadline.
ALTER TABLE issues ADD COLUMN ignore_until INTEGER;
-- ... or when its event_count reaches this number; NULL: no such condition.
ALTER TABLE issues ADD COLUMN ignore_until_count INTEGER;

-- The issue list sorts one project's issues of one status by each sortable column; the
-- trailing id makes every order total, which keyset ("cursor") pagination needs.
DROP INDEX issues_project_last_seen;
CREATE INDEX issues_list_last_seen  ON issues (project_id, status, last_seen, id);
CREATE INDEX issues_list_first_seen ON issues (project_id, status, first_seen, id);
CREATE INDEX issues_list_events     ON issues (project_id, status, event_count, id);
CREATE INDEX issues_list_users      ON issues (project_id, status, user_count, id);
CREATE INDEX issues_assignee        ON issues (assignee_id);

-- Filters by environment, release or user e-mail look issues up by tag value.
CREATE INDEX issue_tag_values_lookup ON issue_tag_values (key, value, issue_id);

-- The trend sort and the "spiking" badge read the last day of hourly counts of all issues.
CREATE INDEX issue_hourly_recent ON issue_hourly (hour, issue_id, count);
