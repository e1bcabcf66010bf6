//! Reading one issue's events and aggregates for its detail page: an event with its
//! neighbours, the raw payload and the tag distributions.

use super::ingest::decompress_payload;
use super::{on_db, Db, Result};
use crate::model::EventRow;

const EVENT_COLUMNS: &str = "id, issue_id, event_id, timestamp, received_at, level, release, environment, user_key";

/// Which event of an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventPick {
    /// The most recently received.
    Latest,
    /// The first received.
    Oldest,
    /// This one (32 hex), if it belongs to the issue.
    Id(String),
}

/// One stored event with its decoded JSON.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub row: EventRow,
    pub json: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct EventWithPayload {
    #[sqlx(flatten)]
    row: EventRow,
    payload: Vec<u8>,
}

/// The ids of the events received just after and just before another one of the same issue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Neighbours {
    pub newer: Option<String>,
    pub older: Option<String>,
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

impl Db {
    /// An event of an issue with its payload. `project_id` is the issue's project (the
    /// `(project_id, event_id)` index finds an event by id).
    pub async fn issue_event(&self, project_id: i64, issue_id: i64, pick: &EventPick) -> Result<Option<StoredEvent>> {
        let (sql, id) = match pick {
            EventPick::Latest => (
                format!("SELECT {EVENT_COLUMNS}, payload FROM events WHERE issue_id = $1 ORDER BY id DESC LIMIT 1"),
                None,
            ),
            EventPick::Oldest => (
                format!("SELECT {EVENT_COLUMNS}, payload FROM events WHERE issue_id = $1 ORDER BY id ASC LIMIT 1"),
                None,
            ),
            EventPick::Id(id) => (
                format!(
                    "SELECT {EVENT_COLUMNS}, payload FROM events WHERE issue_id = $1 AND project_id = $2 \
                     AND event_id = $3"
                ),
                Some(id.as_str()),
            ),
        };
        let found: Option<EventWithPayload> = on_db!(self, |pool| {
            let q = sqlx::query_as::<_, EventWithPayload>(&sql).bind(issue_id);
            match id {
                Some(id) => q.bind(project_id).bind(id).fetch_optional(pool).await?,
                None => q.fetch_optional(pool).await?,
            }
        });
        Ok(found.map(|e| StoredEvent {
            json: serde_json::from_slice(&decompress_payload(&e.payload)).unwrap_or(serde_json::Value::Null),
            row: e.row,
        }))
    }

    /// The events received just after and just before the event with row id `id`.
    pub async fn event_neighbours(&self, issue_id: i64, id: i64) -> Result<Neighbours> {
        let newer = "SELECT event_id FROM events WHERE issue_id = $1 AND id > $2 ORDER BY id ASC LIMIT 1";
        let older = "SELECT event_id FROM events WHERE issue_id = $1 AND id < $2 ORDER BY id DESC LIMIT 1";
        Ok(on_db!(self, |pool| Neighbours {
            newer: sqlx::query_scalar(newer).bind(issue_id).bind(id).fetch_optional(pool).await?,
            older: sqlx::query_scalar(older).bind(issue_id).bind(id).fetch_optional(pool).await?,
        }))
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
}
