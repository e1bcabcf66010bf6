//! Client keys, cached for a moment so that ingestion does not query the database per
//! request. A key changed on this node (rotated, disabled) is refused at once; other nodes
//! see the change within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::IngestError;
use crate::store::ingest::IngestKey;
use crate::store::{keys_generation, Db};

pub const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

/// A cached lookup: the key (or that there is none), when it was read, and the keys
/// generation it was read at.
type Entry = (Option<IngestKey>, Instant, u64);

pub struct KeyCache {
    db: Db,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    pub fn new(db: Db) -> KeyCache {
        KeyCache { db, entries: Mutex::new(HashMap::new()) }
    }

    /// The key if it may send events to `project_id`: 401 for an unknown key, 403 for a
    /// disabled one or one of another project.
    pub async fn check(&self, public_key: &str, project_id: i64) -> Result<IngestKey, IngestError> {
        let key = self.lookup(public_key).await?;
        let key = key.ok_or_else(|| IngestError::Unauthorized("unknown public key".into()))?;
        if key.project_id != project_id {
            return Err(IngestError::Forbidden(format!("this key does not belong to project {project_id}")));
        }
        if !key.is_active {
            return Err(IngestError::Forbidden("this key is disabled".into()));
        }
        Ok(key)
    }

    async fn lookup(&self, public_key: &str) -> Result<Option<IngestKey>, IngestError> {
        let generation = keys_generation();
        if let Ok(entries) = self.entries.lock() {
            if let Some((key, at, gen)) = entries.get(public_key) {
                if *gen == generation && at.elapsed() < TTL {
                    return Ok(key.clone());
                }
            }
        }
        let key = self.db.ingest_key(public_key).await.map_err(|e| {
            tracing::warn!("looking up a client key: {e}");
            IngestError::Overloaded { retry_after: 5 }
        })?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(public_key.to_string(), (key.clone(), Instant::now(), generation));
        }
        Ok(key)
    }
}
