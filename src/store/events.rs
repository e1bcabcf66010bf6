//! What the issue page reads beside the triage layer and `api_events` (events with their
//! neighbours): an event's stored JSON as it is, and the tag distributions.

use super::ingest::decompress_payload;
use super::{on_db, Db, Result};

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
