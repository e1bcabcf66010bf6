//! Reading events back: an issue's events page by page (keyset on the row id, both
//! directions), single events with their normalized JSON, their neighbours in the issue, their
//! stored bytes and attachments.

use super::payload::decompress_payload;
use super::{on_db, Db, Result};
use crate::model::EventRow;

const EVENT_COLUMNS: &str = "id, issue_id, event_id, timestamp, received_at, level, release, environment, user_key";

/// A stored event with its normalized JSON (`Null` if the payload cannot be read).
#[derive(Debug, Clone)]
pub struct FullEvent {
    pub row: EventRow,
    pub json: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct EventPayloadRow {
    #[sqlx(flatten)]
    row: EventRow,
    payload: Vec<u8>,
}

impl From<EventPayloadRow> for FullEvent {
    fn from(r: EventPayloadRow) -> Self {
        let json = serde_json::from_slice(&decompress_payload(&r.payload)).unwrap_or(serde_json::Value::Null);
        FullEvent { row: r.row, json }
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

impl Db {
    /// Up to `limit` events of an issue from `from`, newest first, with their payloads.
    pub async fn issue_events_page(&self, issue_id: i64, from: EventsFrom, limit: i64) -> Result<Vec<FullEvent>> {
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
        let mut events: Vec<FullEvent> = rows.into_iter().map(FullEvent::from).collect();
        if matches!(from, EventsFrom::NewerThan(_)) {
            events.reverse();
        }
        Ok(events)
    }

    /// The most recently received or the first received event of an issue.
    pub async fn issue_event_at(&self, issue_id: i64, end: EventEnd) -> Result<Option<FullEvent>> {
        let order = match end {
            EventEnd::Latest => "DESC",
            EventEnd::Oldest => "ASC",
        };
        let sql =
            format!("SELECT {EVENT_COLUMNS}, payload FROM events WHERE issue_id = $1 ORDER BY id {order} LIMIT 1");
        let row =
            on_db!(self, |pool| sqlx::query_as::<_, EventPayloadRow>(&sql).bind(issue_id).fetch_optional(pool).await?);
        Ok(row.map(FullEvent::from))
    }

    /// A project's event by its 32-hex id, with its payload.
    pub async fn project_event(&self, project_id: i64, event_id: &str) -> Result<Option<FullEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS}, payload FROM events WHERE project_id = $1 AND event_id = $2");
        let row = on_db!(self, |pool| sqlx::query_as::<_, EventPayloadRow>(&sql)
            .bind(project_id)
            .bind(event_id)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(FullEvent::from))
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

    /// The stored (normalized) JSON of one event of an issue, as bytes.
    pub async fn issue_event_payload(&self, project_id: i64, issue_id: i64, event_id: &str) -> Result<Option<Vec<u8>>> {
        let sql = "SELECT payload FROM events WHERE project_id = $1 AND event_id = $2 AND issue_id = $3";
        let blob: Option<Vec<u8>> = on_db!(self, |pool| sqlx::query_scalar(sql)
            .bind(project_id)
            .bind(event_id)
            .bind(issue_id)
            .fetch_optional(pool)
            .await?);
        Ok(blob.map(|b| decompress_payload(&b)))
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

    /// Attachments of an event: (filename, attachment_type, data).
    pub async fn event_attachments(&self, project_id: i64, event_id: &str) -> Result<Vec<(String, String, Vec<u8>)>> {
        let sql = "SELECT filename, attachment_type, data FROM attachments WHERE project_id = $1 AND event_id = $2 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as(sql).bind(project_id).bind(event_id).fetch_all(pool).await?))
    }
}
