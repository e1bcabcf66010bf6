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

type Mails = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// How the local mail relay speaks: plain, offering STARTTLS, or TLS from the first byte.
#[derive(Clone)]
enum SinkTls {
    Plain,
    StartTls(tokio_rustls::TlsAcceptor),
    Implicit(tokio_rustls::TlsAcceptor),
}

/// A local mail relay: takes every message (the SMTP dialogue) and keeps its recipients and
/// text; with `AUTH PLAIN`, the text starts with `AUTH <decoded credentials>` and whether
/// the dialogue was encrypted then (`tls` / `plain`).
async fn smtp_sink(tls: SinkTls) -> (u16, Mails) {
    let mails: Mails = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (store, tls) = (store.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    SinkTls::Plain => {
                        converse(stream, store, false, false, true).await;
                    }
                    SinkTls::StartTls(acceptor) => {
                        // The dialogue goes on over TLS after STARTTLS.
                        if let Some(tcp) = converse(stream, store.clone(), true, false, true).await {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                converse(tls, store, false, true, false).await;
                            }
                        }
                    }
                    SinkTls::Implicit(acceptor) => {
                        if let Ok(tls) = acceptor.accept(stream).await {
                            converse(tls, store, false, true, true).await;
                        }
                    }
                }
            });
        }
    });
    (port, mails)
}

/// One SMTP dialogue; with `starttls` the relay offers the upgrade, and when the client
/// takes it, the dialogue ends here and gives the stream back for the TLS handshake (after
/// which the dialogue goes on without a new greeting).
async fn converse<S>(stream: S, store: Mails, starttls: bool, encrypted: bool, greet: bool) -> Option<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    use base64::Engine as _;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut s = BufReader::new(stream);
    if greet {
        s.write_all(b"220 sink ESMTP\r\n").await.unwrap();
        s.flush().await.unwrap();
    }
    let (mut rcpt, mut data, mut in_data, mut auth) = (Vec::new(), String::new(), false, String::new());
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if in_data {
            if line == "." {
                in_data = false;
                let text = format!("{auth}{}", std::mem::take(&mut data));
                store.lock().unwrap().push((std::mem::take(&mut rcpt), text));
                s.write_all(b"250 queued\r\n").await.unwrap();
                s.flush().await.unwrap();
            } else {
                data.push_str(&line);
                data.push('\n');
            }
            continue;
        }
        let reply: &[u8] = match line.get(..4).unwrap_or("") {
            "EHLO" if starttls => b"250-sink\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
            "EHLO" => b"250-sink\r\n250 AUTH PLAIN\r\n",
            "STAR" if starttls => {
                s.write_all(b"220 go ahead\r\n").await.unwrap();
                s.flush().await.unwrap();
                return Some(s.into_inner());
            }
            "AUTH" => {
                let token = line.trim_start_matches("AUTH PLAIN ");
                let decoded = base64::engine::general_purpose::STANDARD.decode(token).unwrap_or_default();
                let how = if encrypted { "tls" } else { "plain" };
                auth = format!("AUTH {} ({how})\n", String::from_utf8_lossy(&decoded).replace('\0', " "));
                b"235 ok\r\n"
            }
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
                let _ = s.write_all(b"221 bye\r\n").await;
                return None;
            }
            _ => b"502 unknown\r\n",
        };
        s.write_all(reply).await.unwrap();
        s.flush().await.unwrap();
    }
}

/// A TLS acceptor with a self-signed certificate for 127.0.0.1 and localhost, and that
/// certificate as a PEM file (what `FAULTLINE_SMTP_CA_FILE` names).
fn self_signed(dir: &std::path::Path) -> (tokio_rustls::TlsAcceptor, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let pem = dir.join("relay.pem");
    std::fs::write(&pem, cert.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem.display().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn email_goes_over_tls_and_passwords_never_in_clear_text() {
    let dir = tempfile::tempdir().unwrap();
    let (acceptor, ca) = self_signed(dir.path());
    let to = vec!["ops@example.com".to_string()];
    let relay = |url: String, ca: Option<&str>| {
        let mut s = faultline::alerts::smtp::Smtp::parse(&url, Some("faultline@example.com")).unwrap();
        s.ca_file = ca.map(str::to_string);
        s
    };

    // SMTPS (TLS from the start), with credentials.
    let (port, mails) = smtp_sink(SinkTls::Implicit(acceptor.clone())).await;
    relay(format!("smtps://alerts:s3cret@127.0.0.1:{port}"), Some(&ca)).send(&to, "Over SMTPS", "body").await.unwrap();
    let (rcpt, text) = mails.lock().unwrap().last().cloned().unwrap();
    assert_eq!(rcpt, to);
    assert!(text.starts_with("AUTH  alerts s3cret (tls)\n"), "{text}");
    assert!(text.contains("Subject: Over SMTPS\n"), "{text}");

    // STARTTLS, offered by the relay: always taken.
    let (port, mails) = smtp_sink(SinkTls::StartTls(acceptor.clone())).await;
    relay(format!("smtp://alerts:s3cret@localhost:{port}"), Some(&ca))
        .send(&to, "Over STARTTLS", "body")
        .await
        .unwrap();
    let (_, text) = mails.lock().unwrap().last().cloned().unwrap();
    assert!(text.starts_with("AUTH  alerts s3cret (tls)\n"), "{text}");

    // A certificate nobody vouches for is refused, and nothing is sent.
    let (port, mails) = smtp_sink(SinkTls::Implicit(acceptor)).await;
    let err = relay(format!("smtps://127.0.0.1:{port}"), None).send(&to, "x", "y").await.unwrap_err();
    assert!(err.contains("TLS with the mail relay 127.0.0.1") && err.contains("certificate"), "{err}");
    assert!(mails.lock().unwrap().is_empty());

    // A relay on this host without STARTTLS may take a password in the clear (loopback only;
    // a relay elsewhere without STARTTLS gets none: see `smtp::Smtp::session`).
    let (port, mails) = smtp_sink(SinkTls::Plain).await;
    relay(format!("smtp://alerts:s3cret@127.0.0.1:{port}"), None).send(&to, "Local", "body").await.unwrap();
    let (_, text) = mails.lock().unwrap().last().cloned().unwrap();
    assert!(text.starts_with("AUTH  alerts s3cret (plain)\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn email_alerts_reach_the_mail_relay() {
    let (port, mails) = smtp_sink(SinkTls::Plain).await;
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
