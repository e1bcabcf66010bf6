//! Reading issues and events back.

use super::ingest::decompress_payload;
use super::{now_ms, on_db, Db, Result};
use crate::model::{EventRow, Issue};

/// Every column of [`Issue`]: `issues` as `i`, its assignee's e-mail from `users` as `a`.
pub(super) const ISSUE_SELECT: &str =
    "SELECT i.id, i.project_id, i.title, i.culprit, i.kind, i.exception_type, i.exception_value, i.level, \
     i.platform, i.status, i.is_regression, i.event_count, i.user_count, i.first_seen, i.last_seen, \
     i.first_release, i.last_release, i.assignee_id, a.email AS assignee_email, i.ignore_until, \
     i.ignore_until_count FROM issues i LEFT JOIN users a ON a.id = i.assignee_id";
const EVENT_COLUMNS: &str = "id, issue_id, event_id, timestamp, received_at, level, release, environment, user_key";

impl Db {
    /// A project's issues, most recently seen first.
    pub async fn project_issues(&self, project_id: i64, limit: i64) -> Result<Vec<Issue>> {
        let sql = format!("{ISSUE_SELECT} WHERE i.project_id = $1 ORDER BY i.last_seen DESC, i.id DESC LIMIT $2");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Issue>(&sql).bind(project_id).bind(limit).fetch_all(pool).await?))
    }

    pub async fn issue_by_id(&self, id: i64) -> Result<Option<Issue>> {
        let sql = format!("{ISSUE_SELECT} WHERE i.id = $1");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Issue>(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// An issue's events, newest first.
    pub async fn issue_events(&self, issue_id: i64, limit: i64) -> Result<Vec<EventRow>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE issue_id = $1 ORDER BY id DESC LIMIT $2");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, EventRow>(&sql).bind(issue_id).bind(limit).fetch_all(pool).await?))
    }

    pub async fn event_by_event_id(&self, project_id: i64, event_id: &str) -> Result<Option<EventRow>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE project_id = $1 AND event_id = $2");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, EventRow>(&sql)
            .bind(project_id)
            .bind(event_id)
            .fetch_optional(pool)
            .await?))
    }

    /// The normalized JSON of a stored event.
    pub async fn event_json(&self, project_id: i64, event_id: &str) -> Result<Option<serde_json::Value>> {
        let sql = "SELECT payload FROM events WHERE project_id = $1 AND event_id = $2";
        let blob: Option<Vec<u8>> =
            on_db!(self, |pool| sqlx::query_scalar(sql).bind(project_id).bind(event_id).fetch_optional(pool).await?);
        Ok(blob.and_then(|b| serde_json::from_slice(&decompress_payload(&b)).ok()))
    }

    /// Number of events stored for a project.
    pub async fn count_events(&self, project_id: i64) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM events WHERE project_id = $1";
        Ok(on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).bind(project_id).fetch_one(pool).await?))
    }

    /// The issues of a project whose counters disagree with the rows they count: events
    /// (and hourly counts) for `event_count`, `issue_users` rows and the events' distinct
    /// users for `user_count`. Reads every event of the project: an audit for tests and
    /// `faultline seed --verify`, not for pages.
    pub async fn issues_with_wrong_counts(&self, project_id: i64) -> Result<Vec<i64>> {
        let sql = "SELECT i.id FROM issues i WHERE i.project_id = $1 AND ( \
                   i.event_count <> (SELECT COUNT(*) FROM events e WHERE e.issue_id = i.id) \
                   OR i.event_count <> (SELECT COALESCE(SUM(h.count), 0) FROM issue_hourly h WHERE h.issue_id = i.id) \
                   OR i.user_count <> (SELECT COUNT(*) FROM issue_users u WHERE u.issue_id = i.id) \
                   OR i.user_count <> (SELECT COUNT(DISTINCT e.user_key) FROM events e WHERE e.issue_id = i.id)) \
                   ORDER BY i.id";
        Ok(on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).bind(project_id).fetch_all(pool).await?))
    }

    /// Why an issue's events group together: its grouping keys' version and components.
    pub async fn issue_groupings(&self, issue_id: i64) -> Result<Vec<(String, i32, Vec<String>)>> {
        let sql = "SELECT hash, version, components FROM groupings WHERE issue_id = $1 ORDER BY created_at";
        let rows: Vec<(String, i64, String)> =
            on_db!(self, |pool| sqlx::query_as(sql).bind(issue_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(h, v, c)| (h, v as i32, serde_json::from_str(&c).unwrap_or_default())).collect())
    }

    /// Tag values seen on an issue with their counts, most frequent first.
    pub async fn issue_tag_values(&self, issue_id: i64, key: &str) -> Result<Vec<(String, i64)>> {
        let sql =
            "SELECT value, count FROM issue_tag_values WHERE issue_id = $1 AND key = $2 ORDER BY count DESC, value";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(issue_id).bind(key).fetch_all(pool).await?))
    }

    /// An issue's activity entries (kind, data JSON), oldest first.
    pub async fn issue_activity(&self, issue_id: i64) -> Result<Vec<(String, String)>> {
        let sql = "SELECT kind, data FROM issue_activity WHERE issue_id = $1 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(issue_id).fetch_all(pool).await?))
    }

    /// Sets an issue's status (`resolved`, `unresolved`, `ignored`).
    pub async fn set_issue_status(&self, issue_id: i64, status: &str, user_id: Option<i64>) -> Result<()> {
        let now = now_ms();
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE issues SET status = $1, resolved_at = CASE WHEN $1 = 'resolved' THEN $2 ELSE NULL END, \
                 is_regression = CASE WHEN $1 = 'resolved' THEN FALSE ELSE is_regression END WHERE id = $3",
            )
            .bind(status)
            .bind(now)
            .bind(issue_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO issue_activity (issue_id, kind, user_id, data, created_at) VALUES ($1, $2, $3, '{}', $4)",
            )
            .bind(issue_id)
            .bind(format!("set_{status}"))
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<(), super::StoreError>(())
        })?;
        Ok(())
    }

    /// Counts of accepted-but-not-stored items (and refusals) per type, over all days.
    pub async fn ingest_counts(&self, project_id: i64) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT item_type, CAST(SUM(count) AS BIGINT) FROM ingest_counts WHERE project_id = $1 GROUP BY item_type ORDER BY item_type";
        let rows: Vec<(String, i64)> =
            on_db!(self, |pool| sqlx::query_as::<_, (String, i64)>(sql).bind(project_id).fetch_all(pool).await?);
        Ok(rows)
    }

    /// User reports of a project: (event_id, name, email, comments).
    pub async fn user_reports(
        &self,
        project_id: i64,
    ) -> Result<Vec<(Option<String>, Option<String>, Option<String>, String)>> {
        let sql = "SELECT event_id, name, email, comments FROM user_reports WHERE project_id = $1 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(project_id).fetch_all(pool).await?))
    }

    /// Attachments of an event: (filename, attachment_type, data).
    pub async fn event_attachments(&self, project_id: i64, event_id: &str) -> Result<Vec<(String, String, Vec<u8>)>> {
        let sql = "SELECT filename, attachment_type, data FROM attachments WHERE project_id = $1 AND event_id = $2 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(project_id).bind(event_id).fetch_all(pool).await?))
    }
}
