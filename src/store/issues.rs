//! Reading issues back, with what hangs off them: grouping keys, tag values and their
//! distributions, activity, comment and user-report counts; and the project's ingest counts.

use std::collections::HashMap;

use super::{on_db, Db, Result};
use crate::model::Issue;

/// Every column of [`Issue`]: `issues` as `i`, its assignee's e-mail from `users` as `a`.
pub(super) const ISSUE_SELECT: &str =
    "SELECT i.id, i.project_id, i.title, i.culprit, i.kind, i.exception_type, i.exception_value, i.level, \
     i.platform, i.status, i.is_regression, i.event_count, i.user_count, i.first_seen, i.last_seen, \
     i.first_release, i.last_release, i.assignee_id, a.email AS assignee_email, i.ignore_until, \
     i.ignore_until_count, i.resolved_in_release FROM issues i LEFT JOIN users a ON a.id = i.assignee_id";

/// One `issue_tag_values` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TagValueRow {
    pub key: String,
    pub value: String,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A tag key of an issue: how many events carry it, how many distinct values, the top values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagKeyCounts {
    pub key: String,
    pub total: i64,
    pub distinct: i64,
    /// (value, count), most frequent first.
    pub top: Vec<(String, i64)>,
}

/// `$start, $start+1, ...` for `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

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

    /// Every tag value of an issue with its counts, by key, then most frequent first.
    pub async fn issue_tag_rows(&self, issue_id: i64) -> Result<Vec<TagValueRow>> {
        let sql = "SELECT key, value, count, first_seen, last_seen FROM issue_tag_values WHERE issue_id = $1 \
                   ORDER BY key, count DESC, value";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, TagValueRow>(sql).bind(issue_id).fetch_all(pool).await?))
    }

    /// Every tag key of an issue with its `top` most frequent values, keys in name order.
    pub async fn issue_tag_distribution(&self, issue_id: i64, top: i64) -> Result<Vec<TagKeyCounts>> {
        let totals = "SELECT key, CAST(SUM(count) AS BIGINT), COUNT(*) FROM issue_tag_values WHERE issue_id = $1 \
                      GROUP BY key ORDER BY key";
        // Window functions: SQLite >= 3.25 and PostgreSQL alike.
        let values = "SELECT key, value, count FROM ( \
                        SELECT key, value, count, \
                               ROW_NUMBER() OVER (PARTITION BY key ORDER BY count DESC, value) AS n \
                        FROM issue_tag_values WHERE issue_id = $1) ranked \
                      WHERE n <= $2 ORDER BY key, n";
        // (key, events with it, distinct values); (key, value, count)
        let totals: Vec<(String, i64, i64)> =
            on_db!(self, |pool| sqlx::query_as(totals).bind(issue_id).fetch_all(pool).await?);
        let values: Vec<(String, String, i64)> =
            on_db!(self, |pool| sqlx::query_as(values).bind(issue_id).bind(top).fetch_all(pool).await?);
        let mut out: Vec<TagKeyCounts> = totals
            .into_iter()
            .map(|(key, total, distinct)| TagKeyCounts { key, total, distinct, top: Vec::new() })
            .collect();
        // The databases' collations may order keys differently from Rust: index by name.
        let index: std::collections::HashMap<String, usize> =
            out.iter().enumerate().map(|(i, t)| (t.key.clone(), i)).collect();
        for (key, value, count) in values {
            if let Some(&i) = index.get(&key) {
                out[i].top.push((value, count));
            }
        }
        Ok(out)
    }

    /// Those of these issues that have an event with tag `key` = `value`.
    pub async fn issues_with_tag(&self, issue_ids: &[i64], key: &str, value: &str) -> Result<Vec<i64>> {
        if issue_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT issue_id FROM issue_tag_values WHERE key = $1 AND value = $2 AND issue_id IN ({})",
            placeholders(3, issue_ids.len())
        );
        Ok(on_db!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(key).bind(value);
            for id in issue_ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// An issue's activity entries (kind, data JSON), oldest first.
    pub async fn issue_activity(&self, issue_id: i64) -> Result<Vec<(String, String)>> {
        let sql = "SELECT kind, data FROM issue_activity WHERE issue_id = $1 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(issue_id).fetch_all(pool).await?))
    }

    /// The number of comments of each of these issues that has any.
    pub async fn comment_counts(&self, issue_ids: &[i64]) -> Result<HashMap<i64, i64>> {
        if issue_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT issue_id, COUNT(*) FROM issue_activity WHERE kind = 'comment' AND issue_id IN ({}) \
             GROUP BY issue_id",
            placeholders(1, issue_ids.len())
        );
        let rows: Vec<(i64, i64)> = on_db!(self, |pool| {
            let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
            for id in issue_ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows.into_iter().collect())
    }

    /// User reports (feedback) attached to the events of an issue.
    pub async fn issue_user_report_count(&self, issue_id: i64) -> Result<i64> {
        // Driven from the project's reports (few), not from the issue's events (maybe millions).
        let sql = "SELECT COUNT(*) FROM user_reports r \
                   WHERE r.project_id = (SELECT project_id FROM issues WHERE id = $1) \
                   AND EXISTS (SELECT 1 FROM events e WHERE e.project_id = r.project_id \
                               AND e.event_id = r.event_id AND e.issue_id = $1)";
        Ok(on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).bind(issue_id).fetch_one(pool).await?))
    }

    /// User reports of a project: (event_id, name, email, comments).
    pub async fn user_reports(
        &self,
        project_id: i64,
    ) -> Result<Vec<(Option<String>, Option<String>, Option<String>, String)>> {
        let sql = "SELECT event_id, name, email, comments FROM user_reports WHERE project_id = $1 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(project_id).fetch_all(pool).await?))
    }

    /// Counts of accepted-but-not-stored items (and refusals) per type, over all days.
    pub async fn ingest_counts(&self, project_id: i64) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT item_type, CAST(SUM(count) AS BIGINT) FROM ingest_counts WHERE project_id = $1 GROUP BY item_type ORDER BY item_type";
        let rows: Vec<(String, i64)> =
            on_db!(self, |pool| sqlx::query_as::<_, (String, i64)>(sql).bind(project_id).fetch_all(pool).await?);
        Ok(rows)
    }
}
