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
    /// disabled one or one of another project. A key that is not 32 hex digits (as every
    /// key Faultline and Sentry make) is refused without a lookup, so guessing costs nothing.
    pub async fn check(&self, public_key: &str, project_id: i64) -> Result<IngestKey, IngestError> {
        if !plausible(public_key) {
            return Err(IngestError::Unauthorized("unknown public key".into()));
        }
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
                // Unknown keys go first: a flood of made-up keys must not evict the real ones.
                entries.retain(|_, (key, at, _)| key.is_some() && at.elapsed() < TTL);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(public_key.to_string(), (key.clone(), Instant::now(), generation));
        }
        Ok(key)
    }
}

fn plausible(public_key: &str) -> bool {
    public_key.len() == 32 && public_key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Failed authentications per client address, in windows of [`FAILURE_WINDOW`]: past
/// [`MAX_FAILURES`] in a window, that address is answered 429 before any lookup until the
/// window ends. Bounded: at most [`MAX_ADDRESSES`] addresses are tracked.
pub struct FailureLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

pub const FAILURE_WINDOW: Duration = Duration::from_secs(10);
pub const MAX_FAILURES: u32 = 100;
const MAX_ADDRESSES: usize = 10_000;

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter { windows: Mutex::new(HashMap::new()) }
    }
}

/// The client an address stands for: itself, or for IPv6 its /64 (one host or LAN gets a
/// whole /64, so single addresses in it are no limit).
fn subject(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_string(),
    }
}

impl FailureLimiter {
    /// `Err` (429) while `ip` is over its failures.
    pub fn check(&self, ip: &str) -> Result<(), IngestError> {
        let ip = subject(ip);
        let Ok(windows) = self.windows.lock() else { return Ok(()) };
        match windows.get(&ip) {
            Some((start, n)) if *n >= MAX_FAILURES && start.elapsed() < FAILURE_WINDOW => {
                let left = FAILURE_WINDOW.saturating_sub(start.elapsed()).as_secs().max(1);
                Err(IngestError::TooManyFailures { retry_after: left })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed authentication of `ip`.
    pub fn failed(&self, ip: &str) {
        let ip = subject(ip);
        let ip = ip.as_str();
        let Ok(mut windows) = self.windows.lock() else { return };
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(ip) {
            windows.retain(|_, (start, _)| start.elapsed() < FAILURE_WINDOW);
            if windows.len() >= MAX_ADDRESSES {
                windows.clear();
            }
        }
        let entry = windows.entry(ip.to_string()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_address() {
        let limiter = FailureLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("198.51.100.1").is_ok());
            limiter.failed("198.51.100.1");
        }
        assert!(matches!(limiter.check("198.51.100.1"), Err(IngestError::TooManyFailures { .. })));
        assert!(limiter.check("198.51.100.2").is_ok());
        // IPv6 addresses count by /64.
        for i in 0..MAX_FAILURES {
            limiter.failed(&format!("2001:db8:1:2::{i:x}"));
        }
        assert!(limiter.check("2001:db8:1:2:ffff::1").is_err());
        assert!(limiter.check("2001:db8:1:3::1").is_ok());
    }

    #[test]
    fn only_plausible_keys_are_looked_up() {
        assert!(plausible("0123456789abcdef0123456789ABCDEF"));
        assert!(!plausible("0123456789abcdef0123456789abcde"));
        assert!(!plausible("0123456789abcdef0123456789abcdeg"));
        assert!(!plausible(&"a".repeat(10_000)));
    }
}
