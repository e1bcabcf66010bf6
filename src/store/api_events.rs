//! What the JSON API reads beside the triage layer: pages of an issue's events with their
//! payloads (keyset on the row id, in both directions), single events with their payload and
//! neighbours, and the per-issue extras of Sentry's issue JSON (tag rows, the unhandled flag,
//! comment and user-report counts).

use std::collections::HashMap;

use super::ingest::decompress_payload;
use super::{on_db, Db, Result};
use crate::model::EventRow;

const EVENT_COLUMNS: &str = "id, issue_id, event_id, timestamp, received_at, level, release, environment, user_key";

/// A stored event with its normalized JSON (`Null` if the payload cannot be read).
#[derive(Debug, Clone)]
pub struct ApiEvent {
    pub row: EventRow,
    pub json: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct EventPayloadRow {
    #[sqlx(flatten)]
    row: EventRow,
    payload: Vec<u8>,
}

impl From<EventPayloadRow> for ApiEvent {
    fn from(r: EventPayloadRow) -> Self {
        let json = serde_json::from_slice(&decompress_payload(&r.payload)).unwrap_or(serde_json::Value::Null);
        ApiEvent { row: r.row, json }
    }
}

/// Where a page of an issue's events starts. Events are listed newest (highest row id) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsFrom {
    /// The newest events.
    Newest,
    /// The events older than the one with this row id (the next page).
    OlderThan(i64),
    /// The events newer than the one with this row id (the previous page).
    NewerThan(i64),
}

/// One of an issue's events chosen by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEnd {
    Latest,
    Oldest,
}

/// One `issue_tag_values` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TagValueRow {
    pub key: String,
    pub value: String,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// `$start, $start+1, ...` for `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Db {
    /// Up to `limit` events of an issue from `from`, newest first, with their payloads.
    pub async fn issue_events_page(&self, issue_id: i64, from: EventsFrom, limit: i64) -> Result<Vec<ApiEvent>> {
        let (cond, order, bound) = match from {
            EventsFrom::Newest => ("", "DESC", None),
            EventsFrom::OlderThan(id) => (" AND id < $3", "DESC", Some(id)),
            EventsFrom::NewerThan(id) => (" AND id > $3", "ASC", Some(id)),
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, payload FROM events WHERE issue_id = $1{cond} ORDER BY id {order} LIMIT $2"
        );
        let rows: Vec<EventPayloadRow> = on_db!(self, |pool| {
            let q = sqlx::query_as::<_, EventPayloadRow>(&sql).bind(issue_id).bind(limit);
            match bound {
                Some(id) => q.bind(id).fetch_all(pool).await?,
                None => q.fetch_all(pool).await?,
            }
        });
        let mut events: Vec<ApiEvent> = rows.into_iter().map(ApiEvent::from).collect();
        if matches!(from, EventsFrom::NewerThan(_)) {
            events.reverse();
        }
        Ok(events)
    }

    /// The most recently received or the first received event of an issue.
    pub async fn issue_event_at(&self, issue_id: i64, end: EventEnd) -> Result<Option<ApiEvent>> {
        let order = match end {
            EventEnd::Latest => "DESC",
            EventEnd::Oldest => "ASC",
        };
        let sql =
            format!("SELECT {EVENT_COLUMNS}, payload FROM events WHERE issue_id = $1 ORDER BY id {order} LIMIT 1");
        let row =
            on_db!(self, |pool| sqlx::query_as::<_, EventPayloadRow>(&sql).bind(issue_id).fetch_optional(pool).await?);
        Ok(row.map(ApiEvent::from))
    }

    /// A project's event by its 32-hex id, with its payload.
    pub async fn project_event(&self, project_id: i64, event_id: &str) -> Result<Option<ApiEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS}, payload FROM events WHERE project_id = $1 AND event_id = $2");
        let row = on_db!(self, |pool| sqlx::query_as::<_, EventPayloadRow>(&sql)
            .bind(project_id)
            .bind(event_id)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(ApiEvent::from))
    }

    /// The event ids received just before and just after the event with row id `id` in its
    /// issue: `(previous, next)`.
    pub async fn event_siblings(&self, issue_id: i64, id: i64) -> Result<(Option<String>, Option<String>)> {
        let previous = "SELECT event_id FROM events WHERE issue_id = $1 AND id < $2 ORDER BY id DESC LIMIT 1";
        let next = "SELECT event_id FROM events WHERE issue_id = $1 AND id > $2 ORDER BY id ASC LIMIT 1";
        Ok(on_db!(self, |pool| (
            sqlx::query_scalar(previous).bind(issue_id).bind(id).fetch_optional(pool).await?,
            sqlx::query_scalar(next).bind(issue_id).bind(id).fetch_optional(pool).await?,
        )))
    }

    /// Every tag value of an issue with its counts, by key, then most frequent first.
    pub async fn issue_tag_rows(&self, issue_id: i64) -> Result<Vec<TagValueRow>> {
        let sql = "SELECT key, value, count, first_seen, last_seen FROM issue_tag_values WHERE issue_id = $1 \
                   ORDER BY key, count DESC, value";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, TagValueRow>(sql).bind(issue_id).fetch_all(pool).await?))
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
}
