//! Faultline on the open internet, tried as an attacker would, over real HTTP on both
//! databases: a DSN is public, so every request before authentication must cost almost
//! nothing, every string is hostile, and no acknowledged event may read back broken.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{each_db, TestDb};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Srv {
    base: String,
    project_id: i64,
    key: String,
    http: Client,
}

impl Srv {
    async fn start(t: &TestDb) -> Srv {
        Srv::start_with(t, faultline::listen::Limits::default()).await
    }

    async fn start_with(t: &TestDb, limits: faultline::listen::Limits) -> Srv {
        let base = common::start_server_with(t, limits).await;
        let org = match t.db.org_by_slug("acme").await.unwrap() {
            Some(o) => o,
            None => t.db.create_org("acme", "Acme").await.unwrap(),
        };
        let (project, key) = t.db.create_project(org.id, "web", "Web", "python").await.unwrap();
        Srv { base, project_id: project.id, key: key.public_key, http: Client::new() }
    }

    fn auth(&self) -> String {
        format!("Sentry sentry_version=7, sentry_key={}, sentry_client=test/1.0", self.key)
    }

    fn dsn(&self) -> String {
        format!("http://{}@{}/{}", self.key, self.base.trim_start_matches("http://"), self.project_id)
    }

    async fn post(&self, body: Vec<u8>, headers: &[(&str, &str)]) -> (StatusCode, String) {
        let mut req = self.http.post(format!("{}/api/{}/envelope/", self.base, self.project_id)).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn envelope_bytes(header: &Value, event: &[u8]) -> Vec<u8> {
    let mut out = serde_json::to_vec(header).unwrap();
    out.extend_from_slice(format!("\n{{\"type\":\"event\",\"length\":{}}}\n", event.len()).as_bytes());
    out.extend_from_slice(event);
    out.push(b'\n');
    out
}

/// The resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let mut s = String::new();
    std::fs::File::open("/proc/self/statm").unwrap().read_to_string(&mut s).unwrap();
    s.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
}

/// `{}\n` and 1.3 million tiny items, 40 KB or so gzipped: refused before it is decoded
/// without a key, and at the 1,001st item with one; the server's memory does not grow by
/// more than the bound the issue sets (64 MB) for any of them.
#[tokio::test]
async fn an_envelope_bomb_costs_nothing() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let items = "{\"type\":\"x\",\"length\":0}\n\n".repeat(1_300_000);
        let bomb = gzip(format!("{{}}\n{items}").as_bytes());
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        // With the key in the first line: decoded (16 MB, under the 20 MiB cap), then refused
        // at the 1,001st item.
        let keyed = gzip(format!("{{\"dsn\":\"{}\"}}\n{}", s.dsn(), &items[..600_000 * 26]).as_bytes());
        let before = rss();
        for _ in 0..3 {
            let (status, body) = s.post(bomb.clone(), &[("content-encoding", "gzip")]).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            assert!(body.contains("missing authentication"), "{body}");
            // 20 MB that never name a key: refused after the first 64 KiB, not read whole.
            // (The server answers before the upload ends and closes, so the client may see the
            // connection reset instead of the answer: both are a refusal.)
            let url = format!("{}/api/{}/envelope/", s.base, s.project_id);
            match s.http.post(url).body(vec![b'x'; 20 << 20]).send().await {
                Ok(r) => assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE),
                Err(e) => assert!(e.is_request() || e.is_body() || e.is_connect(), "{e}"),
            }
            let (status, body) = s.post(keyed.clone(), &[("content-encoding", "gzip")]).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
            assert!(body.contains("more than 1000 items"), "{body}");
            let (status, _) = s.post(bomb.clone(), &[("content-encoding", "gzip"), ("x-sentry-auth", &s.auth())]).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        }
        let grown = rss().saturating_sub(before);
        // Decoding the whole 52 MB would take it past the decoded cap (20 MiB), so what grows
        // is at most one decoded envelope and its parse up to the limit.
        assert!(grown < 64 << 20, "RSS grew by {} MB", grown >> 20);
        t
    })
    .await;
}

/// What a real Python SDK sends for `surrogateescape`d bytes, bytes that are not UTF-8,
/// and nesting the full parser takes: answered 200 and read back whole, not empty.
#[tokio::test]
async fn broken_strings_are_stored_and_read_back_whole() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (br#"{"message":"opened caf\udce9.csv","extra":{"v":"\udc00"}}"#.to_vec(), "opened caf\u{fffd}.csv"),
            (b"{\"message\":\"bytes caf\xe9 here\",\"level\":\"warning\"}".to_vec(), "bytes caf\u{fffd} here"),
            (format!("{{\"message\":\"deep extra\",\"extra\":{{\"d\":{deep}}}}}").into_bytes(), "deep extra"),
            (br#"{"message":"huge number","extra":{"n":1e999}}"#.to_vec(), "huge number"),
            (
                br#"{"message":"lone high \ud800","breadcrumbs":{"values":[{"message":"\udfff"}]}}"#.to_vec(),
                "lone high \u{fffd}",
            ),
        ];
        for (event, message) in cases {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let (status, body) =
                s.post(envelope_bytes(&json!({"event_id": id}), &event), &[("x-sentry-auth", &s.auth())]).await;
            assert_eq!(status, StatusCode::OK, "{message}: {body}");
            let row = t.db.event_by_event_id(s.project_id, &id).await.unwrap().expect("stored");
            let json = t.db.issue_event_payload(s.project_id, row.issue_id, &id).await.unwrap().expect("readable");
            let v: Value = serde_json::from_slice(&json).expect("the stored event reads back as JSON");
            assert_eq!(v["event_id"], id.as_str());
            let text = v["logentry"]["formatted"].as_str().or(v["message"].as_str()).unwrap_or_default().to_string();
            assert!(text.contains(message), "{message}: {v}");
            assert!(v.get("errors").is_none_or(|e| !e.to_string().contains("unreadable_payload")), "{v}");
        }
        // Deeper than the parser takes: a clear 400, never a 200 that reads back empty.
        let too_deep = format!("{{\"message\":\"m\",\"extra\":{{\"d\":{}{}}}}}", "[".repeat(130), "]".repeat(130));
        let (status, body) =
            s.post(envelope_bytes(&json!({}), too_deep.as_bytes()), &[("x-sentry-auth", &s.auth())]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("nested deeper than 127 levels"), "{body}");
        t
    })
    .await;
}

/// Made-up item types are counted under one name: the counts stay a short list.
#[tokio::test]
async fn unknown_item_types_add_no_rows() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        for round in 0..3 {
            let mut body = b"{}\n".to_vec();
            for i in 0..999 {
                body.extend_from_slice(format!("{{\"type\":\"made_up_{round}_{i}\"}}\n{{}}\n").as_bytes());
            }
            body.extend_from_slice(format!("{{\"type\":\"{}\"}}\n{{}}\n", "t".repeat(12_000)).as_bytes());
            let (status, answer) = s.post(body, &[("x-sentry-auth", &s.auth())]).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        let mut counts = Vec::new();
        for _ in 0..50 {
            counts = t.db.ingest_counts(s.project_id).await.unwrap();
            if counts.iter().any(|(ty, n)| ty == "unknown" && *n == 3000) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(counts, vec![("unknown".to_string(), 3000)]);
        t
    })
    .await;
}

/// Idle sockets, slow heads and slow bodies are closed; past the per-address cap a new
/// connection is told 503 at once instead of stalling the server.
#[tokio::test]
async fn slow_and_idle_connections_are_closed() {
    let t = TestDb::sqlite().await;
    let limits = faultline::listen::Limits {
        max_connections: 64,
        max_per_address: 8,
        header_timeout: Duration::from_millis(800),
        body_deadline: Duration::from_millis(1500),
    };
    let s = Srv::start_with(&t, limits).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let closed_within = |mut sock: tokio::net::TcpStream, limit: Duration| async move {
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        let started = Instant::now();
        loop {
            match tokio::time::timeout(limit, sock.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Some((started.elapsed(), String::from_utf8_lossy(&got).into_owned())),
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Err(_) => return None,
            }
        }
    };
    // An idle connection, and one whose head trickles in, are closed.
    let idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert!(closed_within(idle, Duration::from_secs(10)).await.is_some(), "an idle socket stays open");
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /api/1/envelope/ HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(closed_within(slow, Duration::from_secs(10)).await.is_some(), "a slow head stays open");
    // A body that trickles in is answered 408.
    let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/{}/envelope/ HTTP/1.1\r\nHost: x\r\nX-Sentry-Auth: {}\r\nContent-Length: 1000\r\n\r\n{{}}",
        s.project_id,
        s.auth()
    );
    body.write_all(head.as_bytes()).await.unwrap();
    let (_, answer) = closed_within(body, Duration::from_secs(20)).await.expect("answered");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // Past the per-address cap: 503 at once, with Retry-After.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let extra = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (_, answer) = closed_within(extra, Duration::from_secs(5)).await.expect("told at once");
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("Retry-After: 1"), "{answer}");
    drop(held);
    // Once they are gone, service goes on.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = s.post(b"{}\n".to_vec(), &[("x-sentry-auth", &s.auth())]).await;
    assert_eq!(status, StatusCode::OK);
    t.finish().await;
}

/// After a load, the WAL is truncated by the background checkpoint: it does not stay large.
#[tokio::test]
async fn the_wal_stays_bounded() {
    let t = TestDb::sqlite().await;
    let s = Srv::start(&t).await;
    use futures_util::StreamExt;
    let sends = (0..600).map(|i| {
        // Incompressible padding, so the WAL really grows (about 10 MB in all).
        let pad: String = (0..300).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
        let event = json!({"message": format!("event {i}"), "extra": {"pad": pad}}).to_string();
        let body = envelope_bytes(&json!({}), event.as_bytes());
        let (http, url, auth) = (s.http.clone(), format!("{}/api/{}/envelope/", s.base, s.project_id), s.auth());
        async move { http.post(url).header("x-sentry-auth", auth).body(body).send().await.unwrap().status() }
    });
    let statuses: Vec<StatusCode> = futures_util::stream::iter(sends).buffer_unordered(16).collect().await;
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    let mut wal = u64::MAX;
    for _ in 0..100 {
        t.db.checkpoint().await.unwrap();
        wal = t.db.wal_bytes().await.unwrap();
        if wal < 1 << 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(wal < 1 << 20, "the WAL is still {wal} bytes");
    t.finish().await;
}

/// Another process holds SQLite's write lock for a long time: ingestion answers 429 with
/// Retry-After within its deadline (never hangs), login answers 503 (never 500), and both
/// work again once the lock is gone.
#[tokio::test]
async fn a_held_write_lock_is_answered_429_and_503() {
    let t = TestDb::sqlite().await;
    let s = Srv::start(&t).await;
    let c = Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
    let r = c
        .post(format!("{}/_fn/create_first_admin", s.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("organization", "Other")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection() || r.status().is_success());
    let file = t.url.trim_start_matches("sqlite://").to_string();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO organizations (slug, name, created_at) VALUES ('lock', 'Lock', 0);",
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv_timeout(Duration::from_secs(120)).ok();
        conn.execute_batch("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();
    let event = br#"{"message":"while locked"}"#;
    let (status, body) = s.post(envelope_bytes(&json!({}), event), &[("x-sentry-auth", &s.auth())]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let login = Client::new()
        .post(format!("{}/_fn/login", s.base))
        .header("accept", "application/json")
        .form(&[("email", "admin@example.com"), ("password", "wrong password here")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE, "{:?}", login.text().await);
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let (status, body) = s.post(envelope_bytes(&json!({}), event), &[("x-sentry-auth", &s.auth())]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    t.finish().await;
}

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn call(c: &Client, base: &str, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(format!("{base}/_fn/{name}")).header("accept", "application/json").form(form).send().await.unwrap()
}

async fn sign_in(c: &Client, base: &str, email: &str, password: &str) {
    let r = call(c, base, "login", &[("email", email), ("password", password)]).await;
    assert!(r.status().is_success() || r.status().is_redirection(), "{:?}", r.text().await);
}

/// An event whose every field is markup: the issue page renders it as text (in the body and
/// in `<title>`), under a CSP whose nonce is on every script the page has and nowhere else.
#[tokio::test]
async fn event_markup_stays_text_under_a_strict_csp() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let c = client();
        let r = call(
            &c,
            &s.base,
            "create_first_admin",
            &[("email", "admin@example.com"), ("password", "correct horse battery"), ("organization", "Other")],
        )
        .await;
        assert!(r.status().is_success() || r.status().is_redirection());
        let evil = "x </title><script>alert(document.domain)</script><img src=x onerror=alert(1)>";
        let event = json!({
            "message": evil,
            "exception": {"values": [{"type": "</style><!--", "value": evil, "stacktrace": {"frames": [
                {"function": "\"><svg onload=alert(2)>", "filename": "javascript:alert(3)", "lineno": 1, "in_app": true}
            ]}}]},
            "tags": {"t": evil}, "user": {"email": evil}, "release": "r</title>", "environment": "<b>e</b>",
        });
        let (status, body) =
            s.post(envelope_bytes(&json!({}), event.to_string().as_bytes()), &[("x-sentry-auth", &s.auth())]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let issue = t.db.project_issues(s.project_id, 10).await.unwrap().remove(0);
        for path in [format!("/issues/{}", issue.id), format!("/projects/{}", s.project_id)] {
            let r = c.get(format!("{}{path}", s.base)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
            let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_string();
            assert!(
                !csp.contains("unsafe-inline") && csp.contains("object-src 'none'") && csp.contains("base-uri 'none'")
            );
            let html = r.text().await.unwrap();
            for bad in ["<script>alert", "<img src=x", "<svg onload", "</style><!--", "<b>e</b>"] {
                assert!(!html.contains(bad), "{path}: unescaped {bad:?}");
            }
            if let Some(title) = html.split("<title>").nth(1).and_then(|r| r.split("</title>").next()) {
                assert!(!title.contains('<'), "{path}: {title}");
            }
            // Every script element carries the nonce.
            for tag in html.split("<script").skip(1) {
                let open = tag.split('>').next().unwrap_or("");
                assert!(open.contains(&format!("nonce=\"{nonce}\"")), "{path}: a script without the nonce: {open}");
            }
        }
        t
    })
    .await;
}

/// Denials answer their real status (never 500); a password change and "sign out
/// everywhere else" end the other sessions; a project admin cannot tell whether an e-mail
/// has an account; the page guard covers HEAD and any path.
#[tokio::test]
async fn access_answers_and_sessions() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let base = s.base.clone();
        let admin = client();
        let r = call(
            &admin,
            &base,
            "create_first_admin",
            &[("email", "admin@example.com"), ("password", "correct horse battery"), ("organization", "Other")],
        )
        .await;
        assert!(r.status().is_success() || r.status().is_redirection());
        for (email, password) in [
            ("dev@example.com", "dev password 1"),
            ("lead@example.com", "lead password 1"),
            ("stranger@example.com", "stranger pass 1"),
        ] {
            let r = call(&admin, &base, "create_user", &[("email", email), ("password", password)]).await;
            assert!(r.status().is_success(), "{:?}", r.text().await);
        }
        let pid = s.project_id.to_string();
        for (email, role) in [("dev@example.com", "member"), ("lead@example.com", "admin")] {
            let r =
                call(&admin, &base, "grant_access", &[("project_id", &pid), ("email", email), ("role", role)]).await;
            assert!(r.status().is_success(), "{:?}", r.text().await);
        }

        // Statuses: anonymous 401, a member's admin action 403, another project 404, bad input 400.
        let anon = client();
        assert_eq!(
            call(&anon, &base, "project_settings", &[("project_id", &pid)]).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let dev = client();
        sign_in(&dev, &base, "dev@example.com", "dev password 1").await;
        assert_eq!(
            call(&dev, &base, "rotate_key", &[("project_id", &pid), ("key_id", "1")]).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            call(&dev, &base, "project_settings", &[("project_id", "999")]).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(call(&dev, &base, "list_users", &[]).await.status(), StatusCode::FORBIDDEN);
        let wrong =
            call(&dev, &base, "change_password", &[("current", "not it at all"), ("new", "another password")]).await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

        // A project admin gets one answer for an unknown e-mail and for a stranger's.
        let lead = client();
        sign_in(&lead, &base, "lead@example.com", "lead password 1").await;
        let unknown = call(
            &lead,
            &base,
            "grant_access",
            &[("project_id", &pid), ("email", "nobody@example.com"), ("role", "member")],
        )
        .await;
        let stranger = call(
            &lead,
            &base,
            "grant_access",
            &[("project_id", &pid), ("email", "stranger@example.com"), ("role", "member")],
        )
        .await;
        assert_eq!((unknown.status(), stranger.status()), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
        assert_eq!(unknown.text().await.unwrap(), stranger.text().await.unwrap());
        let colleague = call(
            &lead,
            &base,
            "grant_access",
            &[("project_id", &pid), ("email", "dev@example.com"), ("role", "admin")],
        )
        .await;
        assert!(colleague.status().is_success());

        // A password change ends the other sessions of that user, not this one.
        let dev2 = client();
        sign_in(&dev2, &base, "dev@example.com", "dev password 1").await;
        let r = call(&dev, &base, "change_password", &[("current", "dev password 1"), ("new", "dev password 2")]).await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
        assert_eq!(call(&dev, &base, "current_user", &[]).await.status(), StatusCode::OK);
        assert_eq!(call(&dev2, &base, "current_user", &[]).await.status(), StatusCode::UNAUTHORIZED);
        // "Sign out everywhere else" does the same without a password change.
        sign_in(&dev2, &base, "dev@example.com", "dev password 2").await;
        assert!(call(&dev, &base, "sign_out_elsewhere", &[]).await.status().is_success());
        assert_eq!(call(&dev, &base, "current_user", &[]).await.status(), StatusCode::OK);
        assert_eq!(call(&dev2, &base, "current_user", &[]).await.status(), StatusCode::UNAUTHORIZED);

        // The page guard: every method, and paths whose last segment has a dot.
        for (method, path) in [
            ("HEAD", "/"),
            ("HEAD", "/issues/1"),
            ("GET", "/issues/1.json"),
            ("GET", "/projects/1/settings.x"),
            ("POST", "/users"),
        ] {
            let r = anon.request(method.parse().unwrap(), format!("{base}{path}")).send().await.unwrap();
            assert!(r.status().is_redirection(), "{method} {path}: {}", r.status());
            assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"), "{method} {path}");
        }
        t
    })
    .await;
}

/// On PostgreSQL, a transaction elsewhere that locks the events table holds the writer up:
/// ingestion answers 429 within its deadline (never hangs), then works once it is gone.
#[tokio::test]
async fn a_held_table_lock_on_postgres_is_answered_429() {
    let t = TestDb::postgres().await;
    let s = Srv::start(&t).await;
    let faultline::store::Db::Postgres(pool) = &t.db else { unreachable!() };
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE").execute(&mut *holder).await.unwrap();
    let event = br#"{"message":"while locked"}"#;
    let (status, body) = s.post(envelope_bytes(&json!({}), event), &[("x-sentry-auth", &s.auth())]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    holder.rollback().await.unwrap();
    let mut ok = false;
    for _ in 0..50 {
        let (status, _) = s.post(envelope_bytes(&json!({}), event), &[("x-sentry-auth", &s.auth())]).await;
        if status == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ok, "ingestion did not come back after the lock");
    t.finish().await;
}
