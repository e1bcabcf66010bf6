//! Two Faultline processes on one PostgreSQL, as a team runs it when it outgrows one machine:
//! both ingest the same project at once, and every count is exact, every grouping key has
//! one issue, a regression is recorded once, a new event on node A shows live on a page
//! served by node B, and each alert fires once.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use common::TestDb;
use faultline::model::{AlertRule, IssueChange};
use futures_util::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Node(Child, String);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn node(url: &str) -> Node {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("serve")
        .env("FAULTLINE_DATABASE_URL", url)
        .env("FAULTLINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("FAULTLINE_PUBLIC_URL", &base)
        .env("FAULTLINE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = Node(child, base.clone());
    for _ in 0..300 {
        if Client::new().get(format!("{base}/login")).send().await.is_ok() {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node {base} did not start");
}

fn event(ty: &str, user: usize) -> String {
    let event = json!({
        "event_id": uuid::Uuid::new_v4().simple().to_string(),
        "platform": "python",
        "level": "error",
        "user": {"id": format!("u{user}")},
        "exception": {"values": [{"type": ty, "value": "boom", "stacktrace": {"frames": [
            {"module": "shop.jobs", "function": ty.to_lowercase(), "filename": "shop/jobs.py", "lineno": 3, "in_app": true}
        ]}}]},
    });
    format!("{{}}\n{{\"type\":\"event\"}}\n{event}\n")
}

type Posts = Arc<Mutex<Vec<String>>>;

async fn webhook() -> (String, Posts) {
    let posts: Posts = Arc::default();
    let log = posts.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("{base}/hook"), posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgres() {
    let t = TestDb::postgres().await;
    let db = &t.db;
    let org = db.create_org("acme", "Acme").await.unwrap();
    let (project, key) = db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
    faultline::auth::create_user(db, "admin@example.com", "correct horse battery", true).await.unwrap();
    let (hook, posts) = webhook().await;
    db.create_alert_rule(&AlertRule {
        id: 0,
        project_id: project.id,
        kind: "new_issue".into(),
        threshold: None,
        spike_factor: None,
        spike_min: None,
        environment: None,
        level: None,
        channel: "webhook".into(),
        target: hook,
        interval_minutes: 60,
        created_at: 0,
    })
    .await
    .unwrap();
    let (a, b) = (node(&t.url).await, node(&t.url).await);

    // A person watches the project's list on node B (a session stored in the database).
    let browser = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = browser
        .post(format!("{}/_fn/login", b.1))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection() || r.status().is_success(), "{:?}", r.status());
    let live = browser.get(format!("{}/_live/issues?project={}", b.1, project.id)).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let mut live = live;

    // Both nodes ingest the same ten errors from twenty users, 400 events each, at once.
    let types: Vec<String> = (0..10).map(|i| format!("Error{i}")).collect();
    let http = Client::new();
    let mut sends = Vec::new();
    for (n, base) in [&a.1, &b.1].into_iter().enumerate() {
        for i in 0..400 {
            let url = format!("{base}/api/{}/envelope/?sentry_key={}", project.id, key.public_key);
            let body = event(&types[i % types.len()], (i / types.len() + n) % 20);
            let http = http.clone();
            sends.push(async move { http.post(url).body(body).send().await.unwrap().status() });
        }
    }
    let statuses: Vec<StatusCode> = futures_util::stream::iter(sends).buffer_unordered(32).collect().await;
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");

    // Node B's page learnt of node A's events.
    let got = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(chunk) = live.chunk().await.unwrap() {
            if String::from_utf8_lossy(&chunk).contains("data: changed") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(got, Ok(true), "no live update on node B");

    let issues = db.project_issues(project.id, 100).await.unwrap();
    assert_eq!(issues.len(), 10, "one issue per grouping key");
    for i in &issues {
        assert_eq!((i.event_count, i.user_count), (80, 20), "{}", i.title);
    }
    assert!(db.issues_with_wrong_counts(project.id).await.unwrap().is_empty());

    // Resolved, then hit on both nodes at once: one regression.
    let first = &issues[0];
    db.update_issues(&[first.id], &IssueChange::Resolve, None).await.unwrap();
    let ty = first.title.split(':').next().unwrap().to_string();
    let again: Vec<_> = [&a.1, &b.1]
        .into_iter()
        .flat_map(|base| (0..5).map(move |u| (base.clone(), u)))
        .map(|(base, u)| {
            let url = format!("{base}/api/{}/envelope/?sentry_key={}", project.id, key.public_key);
            let body = event(&ty, u);
            let http = http.clone();
            async move { http.post(url).body(body).send().await.unwrap().status() }
        })
        .collect();
    for s in futures_util::future::join_all(again).await {
        assert_eq!(s, StatusCode::OK);
    }
    let activity = db.issue_activity(first.id).await.unwrap();
    assert_eq!(activity.iter().filter(|(kind, _)| kind == "regression").count(), 1, "{activity:?}");
    assert_eq!(db.issue_by_id(first.id).await.unwrap().unwrap().status, "unresolved");

    // Each new issue alerted once, though two nodes evaluated the rules.
    for _ in 0..100 {
        if posts.lock().unwrap().len() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(posts.lock().unwrap().len(), 10);
    drop((a, b));
    t.finish().await;
}
