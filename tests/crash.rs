//! Durability as databases test it: the real server binary under concurrent load is killed
//! with SIGKILL at an arbitrary moment; after a restart, every event that was answered 200
//! is stored exactly once and the database is intact. On SQLite and PostgreSQL.

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{each_db, TestDb};
use reqwest::{Client, StatusCode};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn spawn_server(url: &str, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("serve")
        .env("FAULTLINE_DATABASE_URL", url)
        .env("FAULTLINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("FAULTLINE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = Client::new();
    for _ in 0..200 {
        if http.get(format!("http://127.0.0.1:{port}/login")).send().await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

fn envelope(id: &str) -> Vec<u8> {
    format!(
        "{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\"}}\n{{\"exception\":{{\"values\":[{{\"type\":\"CrashTest\",\"value\":\"v\"}}]}},\"user\":{{\"id\":\"{}\"}}}}\n",
        &id[..2]
    )
    .into_bytes()
}

/// Kills per database: `FAULTLINE_CRASH_KILLS` (CI runs the default; a long run takes
/// 1,000 or more).
fn kills() -> usize {
    std::env::var("FAULTLINE_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(4)
}

#[tokio::test]
async fn acknowledged_events_survive_sigkill() {
    each_db(|t: TestDb| async move {
        let org = t.db.create_org("acme", "Acme").await.unwrap();
        let (project, key) = t.db.create_project(org.id, "web", "Web", "python").await.unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/api/{}/envelope/?sentry_key={}", project.id, key.public_key);
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        // xorshift: the moments of the kills, reproducible.
        let mut seed = 0x6b11_1e5d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..kills() {
            let mut server = spawn_server(&t.url, port).await;
            let mut workers = Vec::new();
            for w in 0..16u32 {
                let (url, acked, http) = (url.clone(), acked.clone(), Client::new());
                workers.push(tokio::spawn(async move {
                    for i in 0u32.. {
                        let id = format!("{:04x}{:04x}{:024x}", round, w, i);
                        match http.post(&url).body(envelope(&id)).timeout(Duration::from_secs(5)).send().await {
                            Ok(res) if res.status() == StatusCode::OK => acked.lock().unwrap().push(id),
                            // Overload answers are not acknowledgements; the SDK would drop them.
                            Ok(res) if res.status() == StatusCode::TOO_MANY_REQUESTS => {}
                            Ok(res) => panic!("unexpected answer {}", res.status()),
                            Err(_) => return, // the server is gone
                        }
                    }
                }));
            }
            // Kill it mid-flight, without warning, at a moment of its own each round.
            tokio::time::sleep(Duration::from_millis(200 + next() % 1300)).await;
            server.kill().unwrap();
            server.wait().unwrap();
            for w in workers {
                w.await.unwrap();
            }
        }
        let acked = acked.lock().unwrap().clone();
        assert!(acked.len() > 50 * kills(), "only {} events were acknowledged", acked.len());

        // Restart: every acknowledged event is there, once; counters agree with the rows.
        let mut server = spawn_server(&t.url, port).await;
        assert_eq!(t.db.integrity_check().await.unwrap(), "ok");
        for id in &acked {
            assert!(t.db.event_by_event_id(project.id, id).await.unwrap().is_some(), "acknowledged event {id} is lost");
        }
        let stored = t.db.count_events(project.id).await.unwrap();
        assert!(stored as usize >= acked.len());
        let issues = t.db.project_issues(project.id, 10).await.unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].event_count, stored, "the issue's count matches its rows");
        let users: HashSet<&str> = acked.iter().map(|id| &id[..2]).collect();
        assert!(issues[0].user_count as usize >= users.len());
        eprintln!("{} kills on {}: {} acknowledged events, {stored} stored, 0 lost", kills(), t.db.kind(), acked.len());

        // And it keeps working.
        let res = Client::new().post(&url).body(envelope(&format!("{:032x}", u128::MAX))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        server.kill().unwrap();
        server.wait().unwrap();
        t
    })
    .await;
}
