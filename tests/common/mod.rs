//! Test support: every database test runs against a real SQLite file and the real
//! PostgreSQL of this machine (a fresh database per test).
#![allow(dead_code)]

use std::future::Future;

use std::net::SocketAddr;

use faultline::server::{router, AppState};
use faultline::store::Db;

/// The PostgreSQL server to create test databases on.
pub fn pg_admin_url() -> String {
    std::env::var("FAULTLINE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database for one test; the PostgreSQL one is dropped by `finish`.
pub struct TestDb {
    pub url: String,
    pub db: Db,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/faultline.db", dir.path().display());
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        TestDb { url, db, pg_name: None, _dir: Some(dir) }
    }

    pub async fn postgres() -> TestDb {
        let name = format!("faultline_test_{}", uuid_like());
        let admin = Db::connect(&pg_admin_url()).await.expect("PostgreSQL must run for the tests (see README)");
        if let Db::Postgres(pool) = &admin {
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.unwrap();
        }
        admin.close().await;
        let base = pg_admin_url();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        TestDb { url, db, pg_name: Some(name), _dir: None }
    }

    pub async fn finish(self) {
        self.db.close().await;
        if let Some(name) = self.pg_name {
            let admin = Db::connect(&pg_admin_url()).await.unwrap();
            if let Db::Postgres(pool) = &admin {
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(pool).await.unwrap();
            }
            admin.close().await;
        }
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{:x}", std::process::id(), nanos)
}

/// Runs `test` once on SQLite and once on PostgreSQL.
pub async fn each_db<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = TestDb>,
{
    for make in [0, 1] {
        let t = if make == 0 { TestDb::sqlite().await } else { TestDb::postgres().await };
        let t = test(t).await;
        t.finish().await;
    }
}

/// Serves the whole application (pages, server functions, ingestion) on a random local port
/// over `t`'s database; returns its base URL.
/// Through the server's own accept loop (`listen::serve`) with its default limits.
pub async fn start_server(t: &TestDb) -> String {
    start_server_with(t, faultline::listen::Limits::default()).await
}

/// [`start_server`] with other connection limits.
pub async fn start_server_with(t: &TestDb, limits: faultline::listen::Limits) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let app = router(AppState::new(t.db.clone(), &base, addr), false);
    tokio::spawn(async move {
        faultline::listen::serve(listener, app, limits, std::future::pending()).await.unwrap();
    });
    base
}

/// The real event payloads of `../shared/corpus/event-samples/` (every `.json` file of its
/// SDK folders), in a fixed order.
pub fn corpus_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/event-samples"));
    let mut files = Vec::new();
    for sub in ["bugsink", "glitchtip", "sentry"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "json") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    files
}
