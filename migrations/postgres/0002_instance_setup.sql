-- At most one row: written in the same transaction as the first administrator, so that two
-- concurrent first-run requests cannot both create one (the second hits the primary key).
CREATE TABLE instance_setup (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    completed_at  BIGINT NOT NULL
);
