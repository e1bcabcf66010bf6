//! Per-project limits of accepted events per minute (fixed one-minute windows, per node).

use std::collections::HashMap;
use std::sync::Mutex;

use super::IngestError;
use crate::digest::Digest;
use crate::store::now_ms;

#[derive(Default)]
pub struct RateLimiter {
    /// project → (minute, events accepted in it)
    windows: Mutex<HashMap<i64, (i64, i64)>>,
}

impl RateLimiter {
    /// Takes one event from the project's budget of this minute, or refuses with the
    /// seconds until the next minute (refusals are counted as `event.rate_limited`).
    pub fn check(&self, digest: &Digest, project_id: i64, limit: Option<i64>) -> Result<(), IngestError> {
        let Some(limit) = limit else { return Ok(()) };
        let now = now_ms();
        let minute = now.div_euclid(60_000);
        let allowed = match self.windows.lock() {
            Ok(mut windows) => {
                let w = windows.entry(project_id).or_insert((minute, 0));
                if w.0 != minute {
                    *w = (minute, 0);
                }
                w.1 += 1;
                w.1 <= limit
            }
            Err(_) => true,
        };
        if allowed {
            return Ok(());
        }
        digest.count(project_id, "event.rate_limited", 1);
        let retry_after = (60 - (now.rem_euclid(60_000) / 1000)).max(1) as u64;
        Err(IngestError::RateLimited { limit, retry_after })
    }
}
