//! The store: the only module that holds SQL.
//!
//! One code path for SQLite and PostgreSQL: [`Db`] wraps the concrete pool and
//! [`on_db!`] runs the same runtime query against either. Queries use `$1`-style
//! placeholders, which both drivers accept, and portable column types (integer ids,
//! epoch-millisecond integers, TEXT), so one SQL text serves both databases.

mod accounts;
pub mod alerts;
pub mod batch;
pub mod events;
pub mod ingest;
pub mod issues;
pub mod payload;
mod projects;
pub mod releases;
mod sessions;
pub mod trackers;
pub mod triage;

pub use sessions::SessionStore;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

pub use batch::Writer;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// A connection pool to one of the supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// A request the store cannot make sense of (a bad cursor, say); the text is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    BadUrl(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// From the ingestion writer's own SQLite connection (see `batch::Writer`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {0}: {1}")]
    Io(String, std::io::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl StoreError {
    /// A busy or locked SQLite database, a PostgreSQL serialization failure or deadlock, a
    /// lost connection or an exhausted pool: worth another attempt, and for a person "try
    /// again in a moment" (503), not a server fault.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(d)) => {
                matches!(d.code().as_deref(), Some("5") | Some("6") | Some("517") | Some("40001") | Some("40P01"))
            }
            StoreError::Sqlx(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Protocol(_)) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            }
            _ => false,
        }
    }
}

/// The WAL is truncated back to this size whenever it starts over (`journal_size_limit`),
/// so a burst does not leave a large file behind.
pub const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Maps a unique-constraint violation to a [`StoreError::Conflict`] with `what` as message.
fn conflict(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.to_string()),
        _ => StoreError::Sqlx(e),
    }
}

/// Bumped whenever a client key or a project's ingestion setting changes on this node, so
/// that ingestion's key cache drops what it holds.
static KEYS_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn keys_generation() -> u64 {
    KEYS_GENERATION.load(std::sync::atomic::Ordering::Acquire)
}

fn keys_changed() {
    KEYS_GENERATION.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// Milliseconds since the Unix epoch, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The write-ahead log of an SQLite database file, synced on demand.
///
/// A connection with `synchronous=NORMAL` writes a commit's pages to the WAL (into the OS
/// page cache) and returns without fsync; the commit is consistent but not yet durable.
/// [`WalFile::sync`] makes every commit that returned before it durable: `fdatasync` on the
/// WAL flushes the file's dirty pages whichever descriptor wrote them. SQLite still syncs
/// the WAL header and the checkpoints itself at `NORMAL`, so crash safety is SQLite's own.
#[derive(Debug)]
pub struct WalFile {
    path: std::path::PathBuf,
    open: Option<(std::fs::File, u64)>,
    /// A sync failed once: Linux reports a lost write-back once and then marks the pages
    /// clean, so a later fsync that succeeds proves nothing about earlier commits. From then
    /// on every sync fails (ingestion answers 429) until Faultline is restarted and SQLite
    /// recovers the WAL from what is really on disk.
    failed: bool,
}

impl Clone for WalFile {
    fn clone(&self) -> WalFile {
        WalFile { path: self.path.clone(), open: None, failed: self.failed }
    }
}

impl WalFile {
    fn of(db_file: &Path) -> WalFile {
        let mut path = db_file.as_os_str().to_owned();
        path.push("-wal");
        WalFile { path: path.into(), open: None, failed: false }
    }

    /// `fdatasync` of the WAL (reopened if the file was replaced since the last call).
    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.failed {
            return Err(std::io::Error::other("an earlier sync of the WAL failed: restart Faultline"));
        }
        let synced = self.sync_once();
        self.failed = synced.is_err();
        synced
    }

    fn sync_once(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(&self.path)?.ino();
        if self.open.as_ref().map(|(_, i)| *i) != Some(ino) {
            self.open = Some((std::fs::File::open(&self.path)?, ino));
        }
        match &self.open {
            Some((file, _)) => file.sync_data(),
            None => Ok(()),
        }
    }
}

/// Prepared statements kept per connection (see [`Db::connect`]).
const STATEMENT_CACHE: usize = 1024;

impl Db {
    /// Opens a pool. `sqlite://PATH` (or `sqlite:PATH`) creates the file and its directory
    /// if needed; `postgres://...` / `postgresql://...` connects to an existing database.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // The ingestion writer's statements have one text per batch size (multi-row
            // VALUES); a cache of a few hundred (sqlx keeps 100) spares re-preparing them.
            let options = sqlx::postgres::PgConnectOptions::from_str(url)?.statement_cache_capacity(STATEMENT_CACHE);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let file = path.split('?').next().unwrap_or(path);
            if file != ":memory:" {
                if let Some(dir) = Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.display().to_string(), e))?;
                }
            }
            // WAL + synchronous=FULL: a committed transaction survives a process kill and an
            // OS crash or power cut (see ARCHITECTURE.md).
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Checkpoints run in the background (`checkpoint`), not inside the commit of
                // whichever write crosses the threshold, so the ingestion writer never stalls
                // on copying the WAL back; closing the last connection still checkpoints.
                .pragma("wal_autocheckpoint", "0")
                // Events are stored as ~2-3 KB rows: 8 KiB pages hold three where 4 KiB pages
                // hold one (only takes effect when the database file is created).
                .page_size(8192)
                // Temporary tables and statement journals (multi-row upserts make them) in
                // memory: as files they were created and unlinked 40 times a second.
                .pragma("temp_store", "memory")
                // 32 MiB of page cache per connection (SQLite's default is 2 MiB): the writer
                // re-read index pages with a syscall each.
                .pragma("cache_size", "-32768")
                .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
                .statement_cache_capacity(STATEMENT_CACHE);
            // No ping before handing out a connection: a local file does not drop connections,
            // and each ping is a round trip to the connection's thread.
            let pool =
                SqlitePoolOptions::new().max_connections(8).test_before_acquire(false).connect_with(options).await?;
            return Ok(Db::Sqlite(pool));
        }
        Err(StoreError::BadUrl(url.to_string()))
    }

    /// Applies the pending migrations of this database's kind (idempotent), including the
    /// session table.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        SessionStore::new(self.clone()).migrate().await?;
        Ok(())
    }

    /// A handle for one long-lived writer: on an SQLite file in WAL mode, a connection of its
    /// own driven from the caller's thread (see [`batch::Writer`]), so that every batch finds
    /// that connection's page cache warm (a connection that sees another one's commit drops
    /// its whole cache, and a shared pool hands out its connections in turn); on another
    /// SQLite database a pool of its own holding one connection; on PostgreSQL, this pool.
    ///
    /// On an SQLite file, the writer's connection commits with `synchronous=NORMAL` and the
    /// returned [`WalFile`] must be synced before a commit counts as durable: the digest
    /// does it on a thread of its own, so that the fsync of one batch overlaps the SQL of
    /// the next (see ARCHITECTURE.md). `None`: every commit is durable when it returns.
    pub async fn dedicated_writer(&self) -> Result<(Writer, Option<WalFile>)> {
        let Db::Sqlite(pool) = self else { return Ok((Writer::Pool(self.clone()), None)) };
        // The WAL beside the file SQLite really opened (symlinks and relative paths resolved);
        // none for an in-memory database or when WAL mode is not in force: then the writer
        // keeps `synchronous=FULL`.
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await?;
        let files: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list").fetch_all(pool).await?;
        let main = files.into_iter().find(|(_, name, _)| name == "main").map(|(_, _, file)| file);
        match main {
            Some(file) if mode.eq_ignore_ascii_case("wal") && !file.is_empty() => {
                let file = Path::new(&file);
                Ok((Writer::open_sqlite(file, STATEMENT_CACHE)?, Some(WalFile::of(file))))
            }
            _ => {
                let own = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .test_before_acquire(false)
                    .connect_with((*pool.connect_options()).clone())
                    .await?;
                Ok((Writer::Pool(Db::Sqlite(own)), None))
            }
        }
    }

    /// Copies committed WAL pages back into the SQLite database file without blocking
    /// writers (a no-op on PostgreSQL). Run periodically by the server.
    pub async fn checkpoint(&self) -> Result<()> {
        if let Db::Sqlite(pool) = self {
            // (busy, frames in the WAL, frames copied back)
            let (_, log, done): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
            // Under sustained writes the WAL is never idle long enough to start over; once
            // it is fully copied back (and not tiny), start it over and truncate the file
            // (TRUNCATE), so the WAL stays bounded whatever the load. TRUNCATE holds new
            // writers back while it waits for readers of older snapshots (1.5-3.4 s seen
            // while seeding), so it may wait 50 ms at most: when busy it gives up until the
            // next round.
            if log > 256 && done == log {
                let mut conn = pool.acquire().await?;
                sqlx::query("PRAGMA busy_timeout = 50").execute(&mut *conn).await?;
                let truncated = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).await;
                sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                truncated?;
            }
        }
        Ok(())
    }

    /// The size of the SQLite WAL file in bytes (0 without one, and on PostgreSQL).
    pub async fn wal_bytes(&self) -> Result<u64> {
        let Db::Sqlite(pool) = self else { return Ok(0) };
        let files: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list").fetch_all(pool).await?;
        let main = files.into_iter().find(|(_, name, _)| name == "main").map(|(_, _, file)| file);
        Ok(main
            .filter(|f| !f.is_empty())
            .and_then(|f| std::fs::metadata(format!("{f}-wal")).ok())
            .map(|m| m.len())
            .unwrap_or(0))
    }

    /// SQLite's `PRAGMA integrity_check` ("ok" when the file is sound); "ok" on PostgreSQL.
    pub async fn integrity_check(&self) -> Result<String> {
        match self {
            Db::Sqlite(pool) => Ok(sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await?),
            Db::Postgres(_) => Ok("ok".into()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}
