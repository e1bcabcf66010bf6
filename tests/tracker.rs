//! Tracker issues: the requests Faultline makes to GitLab and GitHub (a local HTTP server
//! plays both and records what it gets), how their error answers come back, and the store
//! of trackers and links on both databases.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use common::each_db;
use faultline::tracker::{create_issue, Tracker};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Value,
}

/// A local GitLab + GitHub: the token `good` creates issue 12 (GitLab) or 7 (GitHub); `bad`
/// is refused (401); a project or repository named `missing` does not exist (404).
async fn fake_tracker() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let log = log.clone();
        async move {
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let path = uri.path().to_string();
            log.lock().unwrap().push(Seen { path: path.clone(), headers: headers.clone(), body });
            let token = headers
                .get("private-token")
                .or_else(|| headers.get("authorization"))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .trim_start_matches("Bearer ")
                .to_string();
            if token != "good" {
                return (StatusCode::UNAUTHORIZED, Json(json!({"message": "401 Unauthorized"}))).into_response();
            }
            if path.contains("missing") {
                return (StatusCode::NOT_FOUND, Json(json!({"message": "404 Project Not Found"}))).into_response();
            }
            if path.starts_with("/api/v4/projects/") {
                let answer =
                    json!({"id": 900, "iid": 12, "web_url": "https://gitlab.example.com/group/app/-/issues/12"});
                (StatusCode::CREATED, Json(answer)).into_response()
            } else {
                let answer = json!({"id": 901, "number": 7, "html_url": "https://github.com/acme/shop/issues/7"});
                (StatusCode::CREATED, Json(answer)).into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

fn tracker(kind: &str, base: &str, target: &str, token: &str) -> Tracker {
    Tracker { project_id: 1, kind: kind.into(), base_url: base.into(), target: target.into(), token: token.into() }
}

#[tokio::test]
async fn gitlab_and_github_issues_are_created_as_their_apis_want() {
    let (base, seen) = fake_tracker().await;

    let created =
        create_issue(&tracker("gitlab", &base, "group/app", "good"), "ZeroDivisionError", "**body**").await.unwrap();
    assert_eq!((created.url.as_str(), created.number), ("https://gitlab.example.com/group/app/-/issues/12", 12));
    let r = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(r.path, "/api/v4/projects/group%2Fapp/issues");
    assert_eq!(r.headers["private-token"], "good");
    assert!(r.headers.get("authorization").is_none());
    assert_eq!(r.body, json!({"title": "ZeroDivisionError", "description": "**body**"}));

    let created =
        create_issue(&tracker("github", &base, "acme/shop", "good"), "ZeroDivisionError", "**body**").await.unwrap();
    assert_eq!((created.url.as_str(), created.number), ("https://github.com/acme/shop/issues/7", 7));
    let r = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(r.path, "/repos/acme/shop/issues");
    assert_eq!(r.headers["authorization"], "Bearer good");
    assert_eq!(r.headers["accept"], "application/vnd.github+json");
    assert!(r.headers["user-agent"].to_str().unwrap().starts_with("Faultline/"));
    assert_eq!(r.body, json!({"title": "ZeroDivisionError", "body": "**body**"}));

    // Their errors, in the user's words.
    let e = create_issue(&tracker("gitlab", &base, "group/app", "bad"), "t", "d").await.unwrap_err().to_string();
    assert!(e.contains("GitLab refused the token (401 Unauthorized)"), "{e}");
    let e = create_issue(&tracker("github", &base, "acme/missing", "good"), "t", "d").await.unwrap_err().to_string();
    assert!(e.contains("GitHub does not know acme/missing (404"), "{e}");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let e = create_issue(&tracker("gitlab", &closed, "group/app", "good"), "t", "d").await.unwrap_err().to_string();
    assert!(e.starts_with(&format!("Could not reach GitLab at {closed}")), "{e}");
}

#[tokio::test]
async fn trackers_keep_their_tokens_and_issues_their_links() {
    each_db(|t| async move {
        let db = &t.db;
        let org = db.create_org("acme", "Acme").await.unwrap();
        let (p, _) = db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
        assert!(db.save_tracker(p.id, "gitlab", "https://gitlab.com", "group/app", None).await.is_err());
        db.save_tracker(p.id, "gitlab", "https://gitlab.com", "group/app", Some("secret")).await.unwrap();
        // Saving again without a token keeps the saved one.
        db.save_tracker(p.id, "gitlab", "https://gitlab.example.com", "group/app2", None).await.unwrap();
        let saved = db.tracker(p.id, "gitlab").await.unwrap().unwrap();
        assert_eq!(
            (saved.base_url.as_str(), saved.target.as_str(), saved.token.as_str()),
            ("https://gitlab.example.com", "group/app2", "secret")
        );
        let listed = db.trackers(p.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!format!("{listed:?}").contains("secret"), "the UI's view carries no token");
        db.delete_tracker(p.id, "gitlab").await.unwrap();
        assert!(db.tracker(p.id, "gitlab").await.unwrap().is_none());

        // Links: the same URL twice is one link; one tracker issue links to several issues.
        let now = faultline::store::now_ms();
        let ctx =
            faultline::protocol::event::Context { event_id: None, received_ms: now, sent_at_ms: None, client_ip: None };
        let events: Vec<_> = ["boom", "bang"]
            .iter()
            .map(|m| {
                let ev =
                    json!({"platform": "python", "level": "error", "message": m, "timestamp": now as f64 / 1000.0});
                faultline::ingest::prepare_event(ev, ctx.clone(), p.id, now).unwrap()
            })
            .collect();
        db.write_batch(&events, &[], &[]).await.unwrap();
        let issues = db.project_issues(p.id, 10).await.unwrap();
        assert_eq!(issues.len(), 2);
        let (a, b) = (issues[0].id, issues[1].id);
        let url = "https://gitlab.com/group/app/-/issues/12";
        db.add_issue_links(&[a], "gitlab", url, Some(12), Some("boom"), None).await.unwrap();
        db.add_issue_links(&[a, b], "gitlab", url, Some(12), Some("boom"), None).await.unwrap();
        let links = db.issue_links(a).await.unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!((links[0].number, links[0].url.as_str()), (Some(12), url));
        assert_eq!(db.issue_links(b).await.unwrap().len(), 1);
        // Removing it from one issue leaves the other's.
        db.delete_issue_link(a, links[0].id).await.unwrap();
        assert!(db.issue_links(a).await.unwrap().is_empty());
        assert_eq!(db.issue_links(b).await.unwrap().len(), 1);
        t
    })
    .await;
}
