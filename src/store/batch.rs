//! What the ingestion batch ([`super::ingest`]) runs its statements on: a transaction of
//! either kind of sqlx pool, or the ingestion writer's own SQLite connection
//! ([`Writer::Sqlite`]).
//!
//! Why a connection of its own: sqlx runs every SQLite statement on a worker thread of the
//! connection's, so each statement of a batch is two thread wake-ups (the statement there,
//! its rows back). A batch is a dozen statements; on the 2-core machine those wake-ups cost
//! about a fifth of the server's CPU under load. The writer already has a thread of its own,
//! so it drives SQLite directly (rusqlite, on the same libsqlite3 as sqlx) and a batch is
//! plain function calls. The SQL, and the code that builds it, are the same for all three.

use std::path::Path;
use std::time::Duration;

use sqlx::Row;

use super::ingest::{NewEvent, NewUserReport, Stored};
use super::{Db, Result};

/// A value bound to a statement (`$1`, `$2`… in the order of the slice).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    OptText(Option<&'a str>),
    Blob(&'a [u8]),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::OptText(v.as_deref())
    }
}
impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Blob(v)
    }
}

/// The type of a column read back (PostgreSQL needs it to decode; SQLite's values carry it).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Int,
    Text,
    OptText,
    Bool,
}

/// A column read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

impl Val {
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(v) => *v,
            Val::Bool(b) => i64::from(*b),
            _ => 0,
        }
    }

    pub fn text(&self) -> String {
        self.opt_text().unwrap_or_default()
    }

    pub fn opt_text(&self) -> Option<String> {
        match self {
            Val::Text(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn bool(&self) -> bool {
        self.int() != 0
    }
}

/// One open transaction of the batch.
pub(crate) trait BatchTx {
    fn is_postgres(&self) -> bool;
    /// Runs a statement that returns rows (a `SELECT`, or `… RETURNING`).
    async fn rows(&mut self, sql: &str, args: &[Arg<'_>], kinds: &[Kind]) -> Result<Vec<Vec<Val>>>;
    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64>;
}

macro_rules! sqlx_batch_tx {
    ($db:ty, $postgres:expr) => {
        const _: () = {
            fn query<'q>(
                sql: &'q str,
                args: &[Arg<'q>],
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
                let mut q = sqlx::query::<$db>(sql);
                for a in args {
                    q = match *a {
                        Arg::Int(v) => q.bind(v),
                        Arg::Text(v) => q.bind(v),
                        Arg::OptText(v) => q.bind(v),
                        Arg::Blob(v) => q.bind(v),
                    };
                }
                q
            }

            impl BatchTx for sqlx::Transaction<'_, $db> {
                fn is_postgres(&self) -> bool {
                    $postgres
                }

                async fn rows(&mut self, sql: &str, args: &[Arg<'_>], kinds: &[Kind]) -> Result<Vec<Vec<Val>>> {
                    let mut out = Vec::new();
                    for row in query(sql, args).fetch_all(&mut **self).await? {
                        let mut vals = Vec::with_capacity(kinds.len());
                        for (i, kind) in kinds.iter().enumerate() {
                            vals.push(match kind {
                                Kind::Int => Val::Int(row.try_get::<i64, _>(i)?),
                                Kind::Text => Val::Text(row.try_get::<String, _>(i)?),
                                Kind::OptText => row.try_get::<Option<String>, _>(i)?.map_or(Val::Null, Val::Text),
                                Kind::Bool => Val::Bool(row.try_get::<bool, _>(i)?),
                            });
                        }
                        out.push(vals);
                    }
                    Ok(out)
                }

                async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
                    Ok(query(sql, args).execute(&mut **self).await?.rows_affected())
                }
            }
        };
    };
}
sqlx_batch_tx!(sqlx::Sqlite, false);
sqlx_batch_tx!(sqlx::Postgres, true);

/// Binds `args` to a prepared statement by the number in each parameter's name (`$3` takes
/// `args[2]`), as sqlx does, so that the same SQL text serves both. A parameter without its
/// argument is an error, as it is with sqlx (never a silent NULL).
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg<'_>]) -> Result<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt.parameter_name(i).and_then(|name| name.get(1..)?.parse::<usize>().ok()).unwrap_or(i);
        let Some(&arg) = n.checked_sub(1).and_then(|k| args.get(k)) else {
            return Err(rusqlite::Error::InvalidParameterCount(n, args.len()).into());
        };
        match arg {
            Arg::Int(v) => stmt.raw_bind_parameter(i, v)?,
            Arg::Text(v) => stmt.raw_bind_parameter(i, v)?,
            Arg::OptText(v) => stmt.raw_bind_parameter(i, v)?,
            Arg::Blob(v) => stmt.raw_bind_parameter(i, v)?,
        }
    }
    Ok(())
}

impl BatchTx for rusqlite::Transaction<'_> {
    fn is_postgres(&self) -> bool {
        false
    }

    async fn rows(&mut self, sql: &str, args: &[Arg<'_>], _kinds: &[Kind]) -> Result<Vec<Vec<Val>>> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.prepare_cached(sql)?;
        bind(&mut stmt, args)?;
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut vals = Vec::with_capacity(columns);
            for i in 0..columns {
                vals.push(match row.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Int(v as i64),
                    ValueRef::Text(v) | ValueRef::Blob(v) => Val::Text(String::from_utf8_lossy(v).into_owned()),
                });
            }
            out.push(vals);
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let mut stmt = self.prepare_cached(sql)?;
        bind(&mut stmt, args)?;
        Ok(stmt.raw_execute()? as u64)
    }
}

/// Where the ingestion writer stores its batches (see [`Db::dedicated_writer`]).
pub enum Writer {
    /// Through a pool (PostgreSQL, or an SQLite database that is not a WAL file).
    Pool(Db),
    /// The writer's own connection to an SQLite file in WAL mode, with `synchronous=NORMAL`.
    Sqlite(std::sync::Mutex<rusqlite::Connection>),
}

impl Writer {
    /// Opens the writer's own connection to an SQLite file, set up as the pool's are
    /// (`Db::connect`), but committing with `synchronous=NORMAL` (the digest syncs the WAL).
    pub(crate) fn open_sqlite(file: &Path, statement_cache: usize) -> Result<Writer> {
        let conn = rusqlite::Connection::open(file)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA temp_store = memory; PRAGMA cache_size = -32768; PRAGMA journal_size_limit = {};",
            super::WAL_SIZE_LIMIT
        ))?;
        conn.set_prepared_statement_cache_capacity(statement_cache);
        Ok(Writer::Sqlite(std::sync::Mutex::new(conn)))
    }

    /// Stores a batch in one transaction, as [`Db::write_batch`].
    pub async fn write_batch(
        &self,
        events: &[NewEvent],
        reports: &[NewUserReport],
        counts: &[(i64, String, i64)],
    ) -> Result<Vec<Stored>> {
        match self {
            Writer::Pool(db) => db.write_batch(events, reports, counts).await,
            Writer::Sqlite(conn) => {
                use futures_util::FutureExt;
                let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                // IMMEDIATE: take the write lock at BEGIN (waiting up to the busy timeout while
                // another connection writes), rather than fail later upgrading a read snapshot.
                let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                // Nothing in it waits: every statement runs to completion when called.
                let stored = super::ingest::write_in(&mut tx, events, reports, counts)
                    .now_or_never()
                    .expect("SQLite statements complete without waiting")?;
                tx.commit()?;
                Ok(stored)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    /// Runs `sql` with `args` on an in-memory SQLite connection through the writer's executor.
    fn check(sql: &str, args: &[Arg<'_>], expected: &[Val]) {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut tx = conn.transaction().unwrap();
        let rows = tx.rows(sql, args, &[]).now_or_never().unwrap().unwrap();
        assert_eq!(rows, vec![expected.to_vec()], "{sql}");
    }

    #[test]
    fn binds_by_parameter_number_and_reads_values_back() {
        check("SELECT $1, $2", &[Arg::Int(7), Arg::Text("a")], &[Val::Int(7), Val::Text("a".into())]);
        // Numbers out of order and repeated, as in the issue insert ($9, $9).
        check("SELECT $2, $1, $2", &[Arg::Text("x"), Arg::Int(1)], &[Val::Int(1), Val::Text("x".into()), Val::Int(1)]);
        check(
            "SELECT $1 IS NULL, $2",
            &[Arg::OptText(None), Arg::OptText(Some("y"))],
            &[Val::Int(1), Val::Text("y".into())],
        );
        check("SELECT length($1)", &[Arg::Blob(&[0, 1, 2])], &[Val::Int(3)]);
        // A parameter without its argument is an error, not a NULL.
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut tx = conn.transaction().unwrap();
        assert!(tx.rows("SELECT $1, $2", &[Arg::Int(1)], &[]).now_or_never().unwrap().is_err());
    }

    #[test]
    fn counts_the_rows_a_statement_changed() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)").unwrap();
        let mut tx = conn.transaction().unwrap();
        let insert = "INSERT INTO t (k, n) VALUES ($1, $2), ($3, $4) ON CONFLICT (k) DO NOTHING";
        let args = [Arg::Text("a"), Arg::Int(1), Arg::Text("b"), Arg::Int(2)];
        assert_eq!(tx.execute(insert, &args).now_or_never().unwrap().unwrap(), 2);
        assert_eq!(tx.execute(insert, &args).now_or_never().unwrap().unwrap(), 0);
        let rows = tx.rows("SELECT k, n FROM t ORDER BY k", &[], &[]).now_or_never().unwrap().unwrap();
        assert_eq!(rows, vec![vec![Val::Text("a".into()), Val::Int(1)], vec![Val::Text("b".into()), Val::Int(2)]]);
    }
}
