//! Ingestion over real HTTP on both databases: the Sentry endpoints, their answers to bad
//! input, grouping into issues, exact counts under concurrency, regressions, item types,
//! and every payload of the shared corpus.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{each_db, TestDb};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A running server with one project.
struct Srv {
    base: String,
    project_id: i64,
    key: String,
    key_id: i64,
    http: Client,
}

impl Srv {
    async fn start(t: &TestDb) -> Srv {
        let base = common::start_server(t).await;
        let org = t.db.create_org("acme", "Acme").await.unwrap();
        let (project, key) = t.db.create_project(org.id, "web", "Web", "python").await.unwrap();
        Srv { base, project_id: project.id, key: key.public_key, key_id: key.id, http: Client::new() }
    }

    fn auth(&self) -> String {
        format!("Sentry sentry_version=7, sentry_key={}, sentry_client=test/1.0", self.key)
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/api/{}/{endpoint}/", self.base, self.project_id)
    }

    async fn post(&self, endpoint: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(endpoint)).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Posts an event in an envelope with X-Sentry-Auth; returns the answer.
    async fn send(&self, event: &Value) -> (StatusCode, Value) {
        self.post("envelope", envelope(event), &[("x-sentry-auth", &self.auth())]).await
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn envelope(event: &Value) -> Vec<u8> {
    let id = event.get("event_id").cloned().unwrap_or(json!(new_id()));
    let mut out = serde_json::to_vec(&json!({"event_id": id, "sent_at": "2026-11-29T10:00:00Z"})).unwrap();
    out.push(b'\n');
    let payload = serde_json::to_vec(event).unwrap();
    out.extend_from_slice(format!("{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).as_bytes());
    out.extend_from_slice(&payload);
    out.push(b'\n');
    out
}

fn python_error(ty: &str, value: &str, function: &str, user: &str) -> Value {
    json!({
        "event_id": new_id(),
        "platform": "python",
        "level": "error",
        "release": "shop@1.2.0",
        "environment": "production",
        "user": {"id": user},
        "exception": {"values": [{
            "type": ty,
            "value": value,
            "module": "builtins",
            "stacktrace": {"frames": [
                {"filename": "django/core/handlers/base.py", "module": "django.core.handlers.base", "function": "_get_response", "lineno": 197, "in_app": false},
                {"filename": "app/views.py", "module": "app.views", "function": function, "lineno": 42, "in_app": true,
                 "context_line": "    return a / b", "pre_context": ["def divide(a, b):"], "post_context": [""]}
            ]}
        }]}
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn events_become_issues() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let first = python_error("ZeroDivisionError", "division by zero", "divide", "u1");
        let (status, body) = s.send(&first).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["id"], first["event_id"]);

        // The same error again, from another user and another line: the same issue.
        let mut again = python_error("ZeroDivisionError", "division by zero", "divide", "u2");
        again["exception"]["values"][0]["stacktrace"]["frames"][1]["lineno"] = json!(43);
        assert_eq!(s.send(&again).await.0, StatusCode::OK);
        // A retry of the same event id changes nothing.
        assert_eq!(s.send(&again).await.0, StatusCode::OK);
        // Another exception type and another function: two more issues.
        assert_eq!(s.send(&python_error("KeyError", "'id'", "lookup", "u1")).await.0, StatusCode::OK);
        assert_eq!(s.send(&python_error("ValueError", "bad", "parse", "u1")).await.0, StatusCode::OK);
        // A message, through the legacy store endpoint.
        let message = json!({"message": "Payment 4411 failed for user 17", "level": "warning"});
        let (status, body) =
            s.post("store", serde_json::to_vec(&message).unwrap(), &[("x-sentry-auth", &s.auth())]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["id"].as_str().unwrap().len(), 32);

        let issues = t.db.project_issues(s.project_id, 100).await.unwrap();
        assert_eq!(issues.len(), 4, "{issues:#?}");
        let zde = issues.iter().find(|i| i.title == "ZeroDivisionError: division by zero").expect("grouped issue");
        assert_eq!((zde.event_count, zde.user_count), (2, 2));
        assert_eq!(zde.culprit, "app.views in divide");
        assert_eq!(zde.first_release.as_deref(), Some("shop@1.2.0"));
        assert_eq!(zde.status, "unresolved");
        assert_eq!(t.db.issue_events(zde.id, 10).await.unwrap().len(), 2);
        assert_eq!(t.db.issue_tag_values(zde.id, "environment").await.unwrap(), vec![("production".into(), 2)]);
        let msg = issues.iter().find(|i| i.kind == "default").unwrap();
        assert_eq!(msg.title, "Payment 4411 failed for user 17");
        assert_eq!(msg.level, "warning");
        assert_eq!(t.db.count_events(s.project_id).await.unwrap(), 5);

        // The whole event is kept, normalized.
        let stored = t.db.event_json(s.project_id, first["event_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(stored["exception"]["values"][0]["stacktrace"]["frames"][1]["context_line"], "    return a / b");
        assert_eq!(stored["user"]["id"], "u1");
        assert_eq!(stored["grouping"]["version"], 1);
        t
    })
    .await;
}

#[tokio::test]
async fn authentication_forms_and_encodings() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let event = |n: u32| serde_json::to_vec(&json!({"event_id": new_id(), "message": format!("m{n}")})).unwrap();

        // Query-string key (browsers), text/plain, no auth header.
        let url = format!("{}?sentry_key={}&sentry_version=7", s.url("envelope"), s.key);
        let body = envelope(&json!({"message": "from a browser"}));
        let res = s.http.post(url).header("content-type", "text/plain;charset=UTF-8").body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["access-control-allow-origin"], "*");

        // The DSN in the envelope header.
        let dsn = format!("http://{}@{}/{}", s.key, s.base.trim_start_matches("http://"), s.project_id);
        let mut body = serde_json::to_vec(&json!({"event_id": new_id(), "dsn": dsn})).unwrap();
        body.extend_from_slice(b"\n{\"type\":\"event\"}\n{\"message\":\"dsn auth\"}\n");
        assert_eq!(s.post("envelope", body, &[]).await.0, StatusCode::OK);

        // Authorization: Sentry ...
        let auth = s.auth();
        assert_eq!(s.post("store", event(1), &[("authorization", &auth)]).await.0, StatusCode::OK);

        // Every encoding SDKs use.
        let plain = event(2);
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 5, 22).write_all(&plain).unwrap();
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(&event(3)).unwrap();
        for (encoding, body) in [
            ("gzip", gzip(&event(4))),
            ("br", br),
            ("deflate", zlib.finish().unwrap()),
            ("zstd", zstd::bulk::compress(&event(5), 3).unwrap()),
        ] {
            let (status, body) =
                s.post("store", body, &[("x-sentry-auth", &auth), ("content-encoding", encoding)]).await;
            assert_eq!(status, StatusCode::OK, "{encoding}: {body}");
        }
        let gz = gzip(&envelope(&json!({"message": "gzipped envelope"})));
        assert_eq!(s.post("envelope", gz, &[("x-sentry-auth", &auth), ("content-encoding", "gzip")]).await.0, StatusCode::OK);

        // Python's NaN, and the legacy interfaces of old clients.
        let legacy = br#"{"sentry.interfaces.Exception": {"values": [{"type": "OldError", "value": "x"}]}, "extra": {"ratio": NaN}}"#;
        assert_eq!(s.post("store", legacy.to_vec(), &[("x-sentry-auth", &auth)]).await.0, StatusCode::OK);
        let issues = t.db.project_issues(s.project_id, 100).await.unwrap();
        assert!(issues.iter().any(|i| i.title == "OldError: x"), "{issues:#?}");
        assert_eq!(t.db.count_events(s.project_id).await.unwrap(), 9);
        t
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_clear_answers() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let auth = s.auth();
        let ok_event = || envelope(&json!({"message": "fine"}));
        let detail = |v: &Value| v["detail"].as_str().unwrap_or_default().to_string();

        // Authentication.
        let (status, body) = s.post("envelope", ok_event(), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(detail(&body).contains("missing authentication"), "{body}");
        let unknown = "Sentry sentry_key=0123456789abcdef0123456789abcdef, sentry_version=7";
        let (status, body) = s.post("envelope", ok_event(), &[("x-sentry-auth", unknown)]).await;
        assert_eq!((status, detail(&body)), (StatusCode::UNAUTHORIZED, "unknown public key".into()));
        let (status, _) = s.post("envelope", ok_event(), &[("x-sentry-auth", "Sentry sentry_version=7")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = s
            .post(
                "envelope",
                ok_event(),
                &[("x-sentry-auth", &format!("Sentry sentry_key={}, sentry_version=9", s.key))],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // A key of another project, then a disabled key.
        let other =
            s.http.post(format!("{}/api/999/envelope/", s.base)).header("x-sentry-auth", &auth).body(ok_event());
        assert_eq!(other.send().await.unwrap().status(), StatusCode::FORBIDDEN);
        t.db.set_key_active(s.project_id, s.key_id, false).await.unwrap();
        let (status, body) = s.post("envelope", ok_event(), &[("x-sentry-auth", &auth)]).await;
        assert_eq!((status, detail(&body)), (StatusCode::FORBIDDEN, "this key is disabled".into()));
        t.db.set_key_active(s.project_id, s.key_id, true).await.unwrap();
        assert_eq!(s.post("envelope", ok_event(), &[("x-sentry-auth", &auth)]).await.0, StatusCode::OK);
        // A rotated key is refused at once.
        let rotated = t.db.rotate_key(s.project_id, s.key_id).await.unwrap();
        assert_eq!(s.post("envelope", ok_event(), &[("x-sentry-auth", &auth)]).await.0, StatusCode::UNAUTHORIZED);
        let s = Srv { key: rotated.public_key, ..s };
        let auth = s.auth();
        let h = [("x-sentry-auth", auth.as_str())];

        // Malformed bodies: 400 with a reason.
        for (body, reason) in [
            (b"".to_vec(), "empty envelope"),
            (b"not json\n".to_vec(), "envelope header"),
            (b"{}\n{\"type\":\"event\",\"length\":99}\n{}".to_vec(), "runs past the end"),
            (b"{}\n{\"type\":\"event\"}\n{\"broken\": \n".to_vec(), "invalid JSON"),
            (b"{}\n{\"type\":\"event\"}\n[1, 2]\n".to_vec(), "not a JSON object"),
        ] {
            let (status, answer) = s.post("envelope", body, &h).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{reason}: {answer}");
            assert!(detail(&answer).contains(reason), "{reason}: {answer}");
        }
        let (status, _) = s.post("store", b"{\"a\": ".to_vec(), &h).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = s.post("envelope", b"garbage".to_vec(), &[h[0], ("content-encoding", "gzip")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = s.post("envelope", ok_event(), &[h[0], ("content-encoding", "compress")]).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

        // Too large: an event over 1 MiB, a decompression bomb, a body over the wire limit.
        let big = json!({"message": "x".repeat(1_100_000)});
        assert_eq!(s.send(&big).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        let bomb = gzip(&vec![b' '; 64 << 20]);
        let (status, _) = s.post("envelope", bomb, &[h[0], ("content-encoding", "gzip")]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let (status, _) = s.post("envelope", vec![b'\n'; 21 << 20], &h).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

        // Nothing of the refused requests was stored; the good ones were.
        assert_eq!(t.db.count_events(s.project_id).await.unwrap(), 1);

        // CORS preflight on ingestion routes, and only there.
        let pre = s.http.request(reqwest::Method::OPTIONS, s.url("envelope")).send().await.unwrap();
        assert_eq!(pre.status(), StatusCode::OK);
        assert_eq!(pre.headers()["access-control-allow-origin"], "*");
        assert!(pre.headers()["access-control-allow-headers"].to_str().unwrap().contains("x-sentry-auth"));
        let page = s.http.get(format!("{}/login", s.base)).send().await.unwrap();
        assert!(page.headers().get("access-control-allow-origin").is_none());
        t
    })
    .await;
}

#[tokio::test]
async fn rate_limits_answer_429() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        t.db.set_rate_limit(s.project_id, Some(3)).await.unwrap();
        let mut statuses = Vec::new();
        let mut limited = None;
        for i in 0..5 {
            let res = s
                .http
                .post(s.url("envelope"))
                .header("x-sentry-auth", s.auth())
                .body(envelope(&json!({"message": format!("n{i}")})))
                .send()
                .await
                .unwrap();
            statuses.push(res.status().as_u16());
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                limited = Some(res);
            }
        }
        // (The minute may roll over between requests; at most one extra is let through.)
        assert!(statuses[..3].iter().all(|&c| c == 200), "{statuses:?}");
        let res = limited.expect("a 429");
        let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        let header = res.headers()["x-sentry-rate-limits"].to_str().unwrap().to_string();
        assert_eq!(header, format!("{retry}:error;default;security:project"));
        t.db.set_rate_limit(s.project_id, None).await.unwrap();
        assert_eq!(s.send(&json!({"message": "again"})).await.0, StatusCode::OK);
        t
    })
    .await;
}

#[tokio::test]
async fn resolved_issues_regress_and_counts_stay_exact() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        // 200 events of one error from 10 users, 20 at a time.
        let mut tasks = Vec::new();
        for worker in 0..20 {
            let (url, auth, http) = (s.url("envelope"), s.auth(), s.http.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    let e =
                        python_error("TimeoutError", "timed out", "fetch", &format!("user{}", (worker * 10 + i) % 10));
                    let res = http.post(&url).header("x-sentry-auth", &auth).body(envelope(&e)).send().await.unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let issues = t.db.project_issues(s.project_id, 10).await.unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].event_count, issues[0].user_count), (200, 10));
        assert_eq!(t.db.count_events(s.project_id).await.unwrap(), 200);

        // Resolved, then it happens again: unresolved, a regression, with an activity entry.
        let id = issues[0].id;
        t.db.update_issues(&[id], &faultline::model::IssueChange::Resolve, None).await.unwrap();
        let mut e = python_error("TimeoutError", "timed out", "fetch", "user1");
        e["release"] = json!("shop@1.3.0");
        assert_eq!(s.send(&e).await.0, StatusCode::OK);
        let issue = t.db.issue_by_id(id).await.unwrap().unwrap();
        assert_eq!((issue.status.as_str(), issue.is_regression, issue.event_count), ("unresolved", true, 201));
        assert_eq!(issue.last_release.as_deref(), Some("shop@1.3.0"));
        let activity = t.db.issue_activity(id).await.unwrap();
        assert!(
            activity.iter().any(|(kind, data)| kind == "regression" && data.contains("shop@1.3.0")),
            "{activity:?}"
        );
        t
    })
    .await;
}

#[tokio::test]
async fn every_item_type_is_accepted() {
    each_db(|t| async move {
        let s = Srv::start(&t).await;
        let event_id = new_id();
        let mut body = format!("{{\"event_id\":\"{event_id}\"}}\n").into_bytes();
        let event = json!({"exception": [{"type": "Crash", "value": "boom"}]}).to_string();
        body.extend_from_slice(format!("{{\"type\":\"event\",\"length\":{}}}\n{event}\n", event.len()).as_bytes());
        body.extend_from_slice(b"{\"type\":\"attachment\",\"length\":11,\"filename\":\"log.txt\",\"content_type\":\"text/plain\"}\nline1\nline2\n");
        for ty in ["transaction", "session", "sessions", "client_report", "check_in", "profile", "replay_event", "span", "log", "brand_new_type"] {
            body.extend_from_slice(format!("{{\"type\":\"{ty}\"}}\n{{}}\n").as_bytes());
        }
        let report = json!({"event_id": event_id, "name": "Ann", "email": "ann@example.com", "comments": "It broke when I paid"});
        body.extend_from_slice(format!("{{\"type\":\"user_report\"}}\n{report}\n").as_bytes());
        let feedback = json!({"contexts": {"feedback": {"message": "Button does nothing", "contact_email": "bo@example.com", "associated_event_id": event_id}}});
        body.extend_from_slice(format!("{{\"type\":\"feedback\"}}\n{feedback}").as_bytes());
        let (status, answer) = s.post("envelope", body, &[("x-sentry-auth", &s.auth())]).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["id"], event_id.as_str());

        let attachments = t.db.event_attachments(s.project_id, &event_id).await.unwrap();
        assert_eq!(attachments, vec![("log.txt".into(), "event.attachment".into(), b"line1\nline2".to_vec())]);
        let reports = t.db.user_reports(s.project_id).await.unwrap();
        assert_eq!(reports.len(), 2);
        assert!(reports.iter().all(|r| r.0.as_deref() == Some(event_id.as_str())));
        assert_eq!(reports[1].3, "Button does nothing");

        // An envelope with no event answers {}.
        let (status, answer) =
            s.post("envelope", b"{}\n{\"type\":\"session\"}\n{}\n".to_vec(), &[("x-sentry-auth", &s.auth())]).await;
        assert_eq!((status, answer), (StatusCode::OK, json!({})));

        // Counts are written with the next batch, at most about a second later.
        let mut counts = Vec::new();
        for _ in 0..50 {
            counts = t.db.ingest_counts(s.project_id).await.unwrap();
            if counts.iter().any(|(ty, n)| ty == "session" && *n == 2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let get = |ty: &str| counts.iter().find(|(t, _)| t == ty).map(|c| c.1);
        assert_eq!(get("session"), Some(2), "{counts:?}");
        assert_eq!(get("transaction"), Some(1));
        // A type no SDK sends is counted under one name, so made-up types add no rows.
        assert_eq!(get("unknown"), Some(1));
        assert_eq!(get("brand_new_type"), None);
        t
    })
    .await;
}

/// Every real payload of the corpus: accepted by `store` and in an envelope, grouped into an
/// issue with a title.
#[tokio::test]
async fn the_whole_corpus_is_ingested() {
    let files = common::corpus_files();
    assert!(files.len() >= 100, "the shared corpus is missing ({} files)", files.len());
    each_db(|t| {
        let files = files.clone();
        async move {
            let s = Srv::start(&t).await;
            let auth = s.auth();
            let mut store_ids = std::collections::HashSet::new();
            for path in &files {
                let name = path.display().to_string();
                let raw = std::fs::read(path).unwrap();
                // As sent to /store/ (the event id replaced, so both copies are stored).
                let (status, body) = s.post("store", raw.clone(), &[("x-sentry-auth", &auth)]).await;
                assert_eq!(status, StatusCode::OK, "{name}: {body}");
                let id = body["id"].as_str().unwrap().to_string();
                store_ids.insert(id.clone());
                let event = t.db.event_by_event_id(s.project_id, &id).await.unwrap().expect("stored");
                let issue = t.db.issue_by_id(event.issue_id).await.unwrap().unwrap();
                assert!(!issue.title.trim().is_empty(), "{name}");

                // In an envelope, under a fresh id.
                let mut env =
                    format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n", new_id(), raw.len())
                        .into_bytes();
                env.extend_from_slice(&raw);
                let (status, body) = s.post("envelope", env, &[("x-sentry-auth", &auth)]).await;
                assert_eq!(status, StatusCode::OK, "{name} (envelope): {body}");
            }
            // (A few samples share an event id: the second is a retry, stored once.)
            assert_eq!(t.db.count_events(s.project_id).await.unwrap() as usize, store_ids.len() + files.len());
            t
        }
    })
    .await;
}

#[tokio::test]
async fn csp_reports_become_issues() {
    each_db(|t| async move {
        let srv = Srv::start(&t).await;
        let report = json!({"csp-report": {
            "document-uri": "https://shop.example/cart", "referrer": "",
            "violated-directive": "script-src-elem", "effective-directive": "script-src-elem",
            "original-policy": "script-src 'self'; report-uri /api/1/security/?sentry_key=...",
            "blocked-uri": "https://evil.example/x.js", "status-code": 200, "disposition": "enforce"}});
        let body = serde_json::to_vec(&report).unwrap();
        let ct = [("content-type", "application/csp-report"), ("user-agent", "Mozilla/5.0 Chrome/156.0")];
        for endpoint in ["security", "csp-report"] {
            let url = format!("{}?sentry_key={}", srv.url(endpoint), srv.key);
            let res = srv.http.post(&url).body(body.clone()).headers(headers(&ct)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{endpoint}");
        }
        // Two reports of the same violation: one issue of two events, titled as Sentry does.
        let issues = t.db.project_issues(srv.project_id, 10).await.unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].title, "Blocked 'script' from 'evil.example'");
        assert_eq!(issues[0].culprit, "script-src-elem");
        assert_eq!(issues[0].event_count, 2);

        // The Reporting API's list form; then what is refused.
        let modern = json!([{"type": "csp-violation", "age": 10, "url": "https://shop.example/",
            "body": {"documentURL": "https://shop.example/", "effectiveDirective": "img-src", "blockedURL": "https://cdn.example/a.png"}}]);
        let url = format!("{}?sentry_key={}", srv.url("security"), srv.key);
        let res = srv.http.post(&url).json(&modern).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(t.db.project_issues(srv.project_id, 10).await.unwrap().len(), 2);
        let res = srv.http.post(&url).json(&json!({"not": "a report"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = srv.http.post(srv.url("security")).body(body.clone()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no key");
        let res = srv.http.post(format!("{}?sentry_key={}", srv.url("security"), "0".repeat(32))).body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "unknown key");
        t
    })
    .await;
}

fn headers(pairs: &[(&str, &str)]) -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in pairs {
        h.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    h
}

/// A minidump as Crashpad and Breakpad write one (little-endian): a header, a directory, an
/// exception stream (`code`, on thread 7) and a system info stream (`platform`, x86_64).
fn minidump(platform: u32, code: u32) -> Vec<u8> {
    let mut d = Vec::new();
    for v in [u32::from_le_bytes(*b"MDMP"), 0xa793, 2, 32, 0, 1_700_000_000, 0, 0] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    for (kind, size, rva) in [(6u32, 168u32, 56u32), (7, 56, 224)] {
        for v in [kind, size, rva] {
            d.extend_from_slice(&v.to_le_bytes());
        }
    }
    let mut ex = vec![0u8; 168];
    ex[0..4].copy_from_slice(&7u32.to_le_bytes());
    ex[8..12].copy_from_slice(&code.to_le_bytes());
    ex[24..32].copy_from_slice(&0x7ff0_1234u64.to_le_bytes());
    d.extend_from_slice(&ex);
    let mut si = vec![0u8; 56];
    si[0..2].copy_from_slice(&9u16.to_le_bytes());
    si[20..24].copy_from_slice(&platform.to_le_bytes());
    d.extend_from_slice(&si);
    d
}

/// A `multipart/form-data` body of (name, filename, bytes) fields; returns it and its boundary.
fn form(fields: &[(&str, Option<&str>, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "----crashpad-boundary-7f3a".to_string();
    let mut body = Vec::new();
    for (name, filename, data) in fields {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").unwrap();
        if let Some(f) = filename {
            write!(body, "; filename=\"{f}\"\r\nContent-Type: application/octet-stream").unwrap();
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    (body, boundary)
}

#[tokio::test]
async fn minidumps_become_native_crash_issues() {
    each_db(|t| async move {
        let srv = Srv::start(&t).await;
        let dump = minidump(0x8201, 11); // Linux, SIGSEGV
        let (body, boundary) = form(&[
            ("sentry[release]", None, b"game@1.4.0"),
            ("sentry[environment]", None, b"staging"),
            ("prod", None, b"Game"),
            ("upload_file_minidump", Some("9a3e.dmp"), &dump),
            ("log", Some("game.log"), b"loading level 3"),
        ]);
        let url = format!("{}?sentry_key={}", srv.url("minidump"), srv.key);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let res = srv
            .http
            .post(&url)
            .header("content-type", &content_type)
            .body(gzip(&body))
            .header("content-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let id = res.text().await.unwrap();
        assert_eq!(id.len(), 36, "the event id as text, as Crashpad expects: {id}");
        let event_id = id.replace('-', "");

        let issues = t.db.project_issues(srv.project_id, 10).await.unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].title, "SIGSEGV: Fatal Error: SIGSEGV");
        assert_eq!(issues[0].level, "fatal");
        let ev = t.db.event_json(srv.project_id, &event_id).await.unwrap().expect("stored");
        assert_eq!(ev["release"], "game@1.4.0");
        assert_eq!(ev["environment"], "staging");
        assert_eq!(ev["platform"], "native");
        assert_eq!(ev["extra"]["prod"], "Game");
        assert_eq!(ev["contexts"]["os"]["name"], "Linux");
        let attachments = t.db.event_attachments(srv.project_id, &event_id).await.unwrap();
        let names: Vec<_> = attachments.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(names, ["9a3e.dmp", "game.log"]);
        assert_eq!(attachments[0].2, dump, "the dump is stored whole");

        // A raw dump as the body, behind a DSN path prefix: a second crash, grouped by reason.
        let prefixed = format!("{}/errors/api/{}/minidump?sentry_key={}", srv.base, srv.project_id, srv.key);
        let res = srv
            .http
            .post(&prefixed)
            .header("content-type", "application/octet-stream")
            .body(dump.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let issues = t.db.project_issues(srv.project_id, 10).await.unwrap();
        assert_eq!((issues.len(), issues[0].event_count), (1, 2));

        // What is refused: no dump field, not a dump, no key.
        let (no_dump, b) = form(&[("sentry[release]", None, b"x")]);
        let ct = format!("multipart/form-data; boundary={b}");
        let res = srv.http.post(&url).header("content-type", &ct).body(no_dump).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains("upload_file_minidump"));
        let res = srv.http.post(&url).body(b"ELF not a dump".to_vec()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = srv.http.post(srv.url("minidump")).body(dump).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        t
    })
    .await;
}

#[tokio::test]
async fn a_dsn_path_prefix_reaches_ingestion() {
    each_db(|t| async move {
        let srv = Srv::start(&t).await;
        let event = python_error("KeyError", "'sku'", "lookup", "u-1");
        for path in ["errors", "a/b"] {
            let url = format!("{}/{path}/api/{}/envelope/", srv.base, srv.project_id);
            let res =
                srv.http.post(&url).header("x-sentry-auth", srv.auth()).body(envelope(&event)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
        }
        let issues = t.db.project_issues(srv.project_id, 10).await.unwrap();
        assert_eq!((issues.len(), issues[0].event_count), (1, 1), "the second post is the same event id");
        // Other paths under a prefix are not ingestion: pages, behind the page guard.
        let plain = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = plain.post(format!("{}/errors/api/{}/other/", srv.base, srv.project_id)).send().await.unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        t
    })
    .await;
}
