//! Alerts end to end on both databases: events sent to the real ingestion endpoint, rules
//! evaluated on what the writer stored, alerts posted to a local webhook receiver the test
//! starts. A new issue fires one alert, a burst fires exactly one spike alert, a regression
//! fires one, an issue passing N events fires once, and a failed delivery is retried.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use common::{each_db, TestDb};
use faultline::model::{AlertRule, IssueChange};
use serde_json::{json, Value};

type Posts = Arc<Mutex<Vec<(String, Value)>>>;

/// Records every POST to `/{name}`; `/flaky` answers 500 the first time.
async fn receiver() -> (String, Posts) {
    let posts: Posts = Arc::new(Mutex::new(Vec::new()));
    let log = posts.clone();
    let app = axum::Router::new().route(
        "/{name}",
        axum::routing::post(move |Path(name): Path<String>, body: Bytes| {
            let log = log.clone();
            async move {
                let mut log = log.lock().unwrap();
                let first_flaky = name == "flaky" && !log.iter().any(|(n, _)| n == "flaky-failed");
                if first_flaky {
                    log.push(("flaky-failed".into(), Value::Null));
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                log.push((name, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, posts)
}

fn rule(project_id: i64, kind: &str, target: String) -> AlertRule {
    AlertRule {
        id: 0,
        project_id,
        kind: kind.into(),
        threshold: None,
        spike_factor: None,
        spike_min: None,
        environment: None,
        level: None,
        channel: "webhook".into(),
        target,
        interval_minutes: 60,
        created_at: 0,
    }
}

async fn send(base: &str, project: i64, key: &str, ty: &str, environment: &str) {
    let event = json!({
        "event_id": uuid::Uuid::new_v4().simple().to_string(),
        "platform": "python",
        "level": "error",
        "environment": environment,
        "exception": {"values": [{"type": ty, "value": "boom", "stacktrace": {"frames": [
            {"module": "shop.jobs", "function": ty.to_lowercase(), "filename": "shop/jobs.py", "lineno": 3, "in_app": true}
        ]}}]},
    });
    let body = format!("{{}}\n{{\"type\":\"event\"}}\n{event}\n");
    let url = format!("{base}/api/{project}/envelope/?sentry_key={key}&sentry_version=7");
    let res = reqwest::Client::new().post(url).body(body).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

fn count(posts: &Posts, name: &str) -> usize {
    posts.lock().unwrap().iter().filter(|(n, _)| n == name).count()
}

/// Waits (up to 20 s) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn new_issues_spikes_regressions_and_thresholds_alert_once() {
    each_db(|t: TestDb| async move {
        let base = common::start_server(&t).await;
        let (hooks, posts) = receiver().await;
        let db = &t.db;
        let org = db.create_org("acme", "Acme").await.unwrap();
        let (p, key) = db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
        let key = key.public_key;
        db.create_alert_rule(&rule(p.id, "new_issue", format!("{hooks}/new"))).await.unwrap();
        db.create_alert_rule(&rule(p.id, "regression", format!("{hooks}/regression"))).await.unwrap();
        let mut spike = rule(p.id, "spike", format!("{hooks}/spike"));
        (spike.spike_factor, spike.spike_min, spike.channel) = (Some(3.0), Some(10), "slack".into());
        db.create_alert_rule(&spike).await.unwrap();
        let mut passes = rule(p.id, "events", format!("{hooks}/flaky"));
        passes.threshold = Some(5);
        db.create_alert_rule(&passes).await.unwrap();
        // Filtered out: only staging.
        let mut staging = rule(p.id, "new_issue", format!("{hooks}/staging"));
        staging.environment = Some("staging".into());
        db.create_alert_rule(&staging).await.unwrap();

        // A new issue: one alert, with the issue and a link to it.
        send(&base, p.id, &key, "ImportError", "production").await;
        until("the new-issue alert", || count(&posts, "new") == 1).await;
        let body = posts.lock().unwrap().iter().find(|(n, _)| n == "new").unwrap().1.clone();
        assert_eq!(body["event"], "new_issue");
        assert_eq!(body["issue"]["title"], "ImportError: boom");
        assert!(body["issue"]["url"].as_str().unwrap().starts_with(&format!("{base}/issues/")));

        // A burst of one error: its new-issue alert, exactly one spike alert (Slack's shape),
        // and once it passes 5 events one threshold alert, delivered on the second attempt.
        for _ in 0..15 {
            send(&base, p.id, &key, "TimeoutError", "production").await;
        }
        until("the spike alert", || count(&posts, "spike") == 1).await;
        until("the threshold alert, retried", || count(&posts, "flaky") == 1).await;
        let text = posts.lock().unwrap().iter().find(|(n, _)| n == "spike").unwrap().1["text"].clone();
        assert!(text.as_str().unwrap().starts_with("[Faultline] Spike in Shop: <"), "{text}");

        // A regression: one alert.
        let issues = db.project_issues(p.id, 10).await.unwrap();
        let import = issues.iter().find(|i| i.title.starts_with("ImportError")).unwrap().id;
        db.update_issues(&[import], &IssueChange::Resolve, None).await.unwrap();
        send(&base, p.id, &key, "ImportError", "production").await;
        until("the regression alert", || count(&posts, "regression") == 1).await;

        // Nothing more comes: no storm, and the staging rule never matched.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(count(&posts, "new"), 2, "ImportError and TimeoutError");
        assert_eq!(count(&posts, "spike"), 1);
        assert_eq!(count(&posts, "flaky"), 1);
        assert_eq!(count(&posts, "regression"), 1);
        assert_eq!(count(&posts, "staging"), 0);

        // The log on the alerts page: every delivery sent; the flaky one after 2 attempts.
        let log = db.alert_deliveries(p.id, 50).await.unwrap();
        assert_eq!(log.len(), 5);
        assert!(log.iter().all(|d| d.status == "sent"), "{log:?}");
        let flaky = log.iter().find(|d| d.reason == "events").unwrap();
        assert_eq!(flaky.attempts, 2);
        assert_eq!(flaky.last_error, None);
        t
    })
    .await;
}

/// A local mail relay: takes every message (the SMTP dialogue, no TLS) and keeps its text.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<(Vec<String>, String)>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mails = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let reply: &[u8] = match line.get(..4).unwrap_or("") {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "MAIL" => b"250 ok\r\n",
                        "RCPT" => {
                            rcpt.push(line.trim_start_matches("RCPT TO:").trim_matches(['<', '>']).to_string());
                            b"250 ok\r\n"
                        }
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"502 unknown\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn email_alerts_reach_the_mail_relay() {
    let (port, mails) = smtp_sink().await;
    // Read by the servers this test starts (alerts::start).
    std::env::set_var("FAULTLINE_SMTP_URL", format!("smtp://127.0.0.1:{port}"));
    std::env::set_var("FAULTLINE_SMTP_FROM", "faultline@example.com");
    each_db(|t: TestDb| {
        let mails = mails.clone();
        async move {
            let base = common::start_server(&t).await;
            let db = &t.db;
            let org = db.create_org("acme", "Acme").await.unwrap();
            let (p, key) = db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
            let mut r = rule(p.id, "new_issue", "ops@example.com, dev@example.com".into());
            r.channel = "email".into();
            db.create_alert_rule(&r).await.unwrap();
            let before = mails.lock().unwrap().len();
            send(&base, p.id, &key.public_key, "MailError", "production").await;
            until("the e-mail", || mails.lock().unwrap().len() == before + 1).await;
            let (to, text) = mails.lock().unwrap().last().cloned().unwrap();
            assert_eq!(to, ["ops@example.com", "dev@example.com"]);
            assert!(text.contains("Subject: [Faultline] New issue in Shop: MailError: boom\n"), "{text}");
            assert!(text.contains("From: Faultline <faultline@example.com>\n"), "{text}");
            assert!(text.contains(&format!("{base}/issues/")), "{text}");
            // The log says sent (recorded right after the relay took it).
            let mut log = Vec::new();
            for _ in 0..50 {
                log = db.alert_deliveries(p.id, 10).await.unwrap();
                if log.first().is_some_and(|d| d.status == "sent") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!((log.len(), log[0].status.as_str()), (1, "sent"));
            t
        }
    })
    .await;
}
