//! The Sentry-compatible JSON API over real HTTP, on both databases, with real API tokens
//! and events sent through the real ingestion endpoint: projects, the issue list (sorts,
//! search, pages through `Link`), an issue, its updates, its events, and what a token of a
//! user without access to the project gets.

mod common;

use std::collections::{HashMap, HashSet};

use common::{each_db, TestDb};
use faultline::model::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// A server with two projects (`acme/backend`, `acme/web`), four users with tokens, and
/// the issues of [`send_events`] in `backend`.
struct Api {
    base: String,
    http: Client,
    /// Site administrator: sees and may delete everything.
    admin: String,
    /// Member of `backend`.
    member: String,
    member_id: i64,
    /// Member of `web` only.
    outsider: String,
    backend_id: i64,
    web_id: i64,
    backend_key: String,
    web_key: String,
}

async fn token_for(t: &TestDb, user_id: i64) -> String {
    let (token, digest) = faultline::auth::new_api_token();
    t.db.create_api_token(user_id, &digest, "test").await.unwrap();
    token
}

impl Api {
    async fn start(t: &TestDb) -> Api {
        let base = common::start_server(t).await;
        let db = &t.db;
        let org = db.create_org("acme", "Acme Corp").await.unwrap();
        let (backend, backend_key) = db.create_project(org.id, "backend", "Backend", "python").await.unwrap();
        let (web, web_key) = db.create_project(org.id, "web", "Web", "javascript").await.unwrap();
        let admin = db.create_user("admin@example.com", "h", true).await.unwrap();
        let member = db.create_user("member@example.com", "h", false).await.unwrap();
        let outsider = db.create_user("outsider@example.com", "h", false).await.unwrap();
        db.set_membership(backend.id, member.id, Role::Member).await.unwrap();
        db.set_membership(web.id, outsider.id, Role::Member).await.unwrap();
        Api {
            base,
            http: Client::new(),
            admin: token_for(t, admin.id).await,
            member: token_for(t, member.id).await,
            member_id: member.id,
            outsider: token_for(t, outsider.id).await,
            backend_id: backend.id,
            web_id: web.id,
            backend_key: backend_key.public_key,
            web_key: web_key.public_key,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// GET with a token; the status and the JSON body.
    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self.call(Method::GET, path, Some(token), None).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let r = self.call(Method::PUT, path, Some(token), Some(body)).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The issue list: ids in order, the `Link` header's links, `X-Hits`.
    async fn list(&self, query: &str, token: &str) -> (Vec<String>, Links, i64) {
        let r =
            self.call(Method::GET, &format!("/api/0/projects/acme/backend/issues/{query}"), Some(token), None).await;
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        let links = parse_links(r.headers().get("link").unwrap().to_str().unwrap());
        let hits = r.headers().get("x-hits").unwrap().to_str().unwrap().parse().unwrap();
        assert_eq!(r.headers().get("x-max-hits").unwrap(), "1000", "X-Hits counts up to X-Max-Hits");
        let body: Value = r.json().await.unwrap();
        (ids(&body), links, hits)
    }

    /// Sends an event to a project through the ingestion endpoint.
    async fn send(&self, project_id: i64, key: &str, event: &Value) {
        let mut body = serde_json::to_vec(&json!({"event_id": event["event_id"]})).unwrap();
        let payload = serde_json::to_vec(event).unwrap();
        body.extend_from_slice(format!("\n{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).as_bytes());
        body.extend_from_slice(&payload);
        let r = self
            .http
            .post(format!("{}/api/{project_id}/envelope/", self.base))
            .header("x-sentry-auth", format!("Sentry sentry_version=7, sentry_key={key}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array().unwrap().iter().map(|i| i["id"].as_str().expect("ids are strings").to_string()).collect()
}

/// `rel` → (url, results, cursor), read the way GitLab's pagination parser does.
type Links = HashMap<String, (String, bool, String)>;

fn parse_links(header: &str) -> Links {
    // GitLab's own pattern (lib/error_tracking/sentry_client/pagination_parser.rb), applied
    // to each comma-separated link, must match both.
    let gitlab =
        regex::Regex::new(r#"rel="(?<direction>\w+)";\sresults="(?<results>\w+)";\scursor="(?<cursor>.+)""#).unwrap();
    for link in header.split(',') {
        let m = gitlab.captures(link).unwrap_or_else(|| panic!("GitLab cannot read {link:?}"));
        assert!(!m["cursor"].contains('"'));
    }
    header
        .split(',')
        .map(|link| {
            let url = link.trim().trim_start_matches('<').split('>').next().unwrap().to_string();
            let attr = |name: &str| {
                let start = link.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                link[start..].split('"').next().unwrap().to_string()
            };
            (attr("rel"), (url, attr("results") == "true", attr("cursor")))
        })
        .collect()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn python_error(ty: &str, value: &str, function: &str, user: Option<&str>, at: f64) -> Value {
    let mut e = json!({
        "event_id": new_id(),
        "timestamp": at,
        "platform": "python",
        "level": "error",
        "release": "shop@1.2.0",
        "environment": "production",
        "tags": {"customer": "acme"},
        "breadcrumbs": {"values": [{"category": "http", "message": "GET /cart", "timestamp": at - 1.0}]},
        "request": {"url": "https://shop.example/cart", "method": "POST", "query_string": "step=2",
                    "headers": {"Content-Type": "application/json"}},
        "exception": {"values": [{
            "type": ty,
            "value": value,
            "mechanism": {"type": "django", "handled": false},
            "stacktrace": {"frames": [
                {"filename": "django/core/handlers/base.py", "function": "_get_response", "lineno": 197, "in_app": false},
                {"filename": "app/views.py", "abs_path": "/srv/app/views.py", "module": "app.views",
                 "function": function, "lineno": 42, "colno": 5, "in_app": true,
                 "pre_context": ["def divide(a, b):"], "context_line": "    return a / b", "post_context": [""]}
            ]}
        }]}
    });
    if let Some(user) = user {
        e["user"] = json!({"id": user, "email": format!("{user}@example.com")});
    }
    e
}

/// The issues of `backend`, in the order they are first seen (so their ids grow that way):
/// A ZeroDivisionError (3 events, 1 user, unhandled), B KeyError (warning, staging),
/// C ValueError (2 events, 2 users), D a message (info, no user), then seven messages
/// E1..E7 with one event each, seen an hour earlier. Returns the event ids of A, oldest first.
async fn send_events(api: &Api) -> Vec<String> {
    let base = now_s() - 3000.0;
    let min = 60.0;
    let a = |n: f64| python_error("ZeroDivisionError", "division by zero", "divide", Some("u1"), base + n * min);
    let mut b = python_error("KeyError", "'id'", "lookup", Some("u1"), base + min);
    b["level"] = json!("warning");
    b["environment"] = json!("staging");
    b["exception"]["values"][0]["mechanism"]["handled"] = json!(true);
    let c = |user: &str, n: f64| {
        let mut c = python_error("ValueError", "bad", "parse", Some(user), base + n * min);
        c["exception"]["values"][0]["mechanism"]["handled"] = json!(true);
        c
    };
    let d = json!({"event_id": new_id(), "timestamp": base + 3.0 * min, "level": "info",
                   "message": "Payment failed for the cart"});
    let a_events = [a(0.0), a(6.0), a(9.0)];
    api.send(api.backend_id, &api.backend_key, &a_events[0]).await;
    api.send(api.backend_id, &api.backend_key, &b).await;
    api.send(api.backend_id, &api.backend_key, &c("u1", 2.0)).await;
    api.send(api.backend_id, &api.backend_key, &d).await;
    api.send(api.backend_id, &api.backend_key, &c("u2", 5.0)).await;
    api.send(api.backend_id, &api.backend_key, &a_events[1]).await;
    api.send(api.backend_id, &api.backend_key, &a_events[2]).await;
    for (i, word) in ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"].iter().enumerate() {
        let e = json!({"event_id": new_id(), "timestamp": base - 3600.0 + i as f64 * min, "level": "info",
                       "message": format!("{word} job stalled")});
        api.send(api.backend_id, &api.backend_key, &e).await;
    }
    // Another project's error, which no list of `backend` may show.
    api.send(api.web_id, &api.web_key, &python_error("TypeError", "x is undefined", "render", None, base)).await;
    a_events.iter().map(|e| e["event_id"].as_str().unwrap().to_string()).collect()
}

/// The issue ids of `backend` by title: A, B, C, D.
async fn abcd(api: &Api) -> [String; 4] {
    let (_, body) = api.get("/api/0/projects/acme/backend/issues/?query=&limit=100", &api.admin).await;
    let find = |title: &str| {
        body.as_array().unwrap().iter().find(|i| i["title"] == title).unwrap_or_else(|| panic!("{title}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    [
        find("ZeroDivisionError: division by zero"),
        find("KeyError: 'id'"),
        find("ValueError: bad"),
        find("Payment failed for the cart"),
    ]
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        let path = "/api/0/projects/acme/backend/issues/";
        for (header, detail) in [
            (None, "Authentication credentials were not provided."),
            (Some("Bearer flt_not_a_token".to_string()), "Invalid token"),
            (Some("Bearer".to_string()), "Invalid token header. No credentials provided."),
            (
                Some(format!("Bearer {} extra", api.admin)),
                "Invalid token header. Token string should not contain spaces.",
            ),
            // Only the Bearer scheme carries a token, as in Sentry.
            (Some(format!("Token {}", api.admin)), "Authentication credentials were not provided."),
        ] {
            let mut req = api.http.get(api.url(path));
            if let Some(h) = &header {
                req = req.header("authorization", h);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{header:?}");
            assert!(r.headers().get("www-authenticate").is_some());
            assert_eq!(r.json::<Value>().await.unwrap(), json!({"detail": detail}), "{header:?}");
        }
        // The scheme is case-insensitive; the API sits outside the session layer (no cookie).
        let r =
            api.http.get(api.url(path)).header("authorization", format!("bearer {}", api.admin)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get("set-cookie").is_none());
        // Unknown API paths answer JSON too.
        let (status, body) = api.get("/api/0/nothing/here/", &api.admin).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "The requested resource does not exist"})));
        // Who am I.
        let (status, body) = api.get("/api/0/", &api.member).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["email"], "member@example.com");
        let r = api.call(Method::GET, "/api/0/", None, None).await;
        assert_eq!(r.json::<Value>().await.unwrap()["user"], Value::Null);
        // Ingestion still answers beside the API.
        send_events(&api).await;
        t
    })
    .await;
}

#[tokio::test]
async fn projects_and_organizations() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        let (status, body) = api.get("/api/0/projects/", &api.admin).await;
        assert_eq!(status, StatusCode::OK);
        let slugs: Vec<&str> = body.as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
        assert_eq!(slugs, ["backend", "web"]);
        let backend = &body[0];
        // What GitLab reads of a project, with Sentry's types.
        assert_eq!(backend["id"], json!(api.backend_id.to_string()));
        assert_eq!(backend["name"], "Backend");
        assert_eq!(backend["status"], "active");
        assert_eq!(backend["platform"], "python");
        assert!(backend["dateCreated"].as_str().unwrap().ends_with('Z'));
        assert_eq!(backend["organization"]["slug"], "acme");
        assert_eq!(backend["organization"]["name"], "Acme Corp");
        assert!(backend["organization"]["id"].is_string());

        // Each user sees their own projects only.
        let (_, body) = api.get("/api/0/projects/", &api.member).await;
        assert_eq!(ids(&body), [api.backend_id.to_string()]);
        let (_, body) = api.get("/api/0/organizations/acme/projects/", &api.outsider).await;
        assert_eq!(ids(&body), [api.web_id.to_string()]);
        let (_, body) = api.get("/api/0/organizations/acme/projects/", &api.admin).await;
        assert_eq!(body.as_array().unwrap().len(), 2);
        let (status, _) = api.get("/api/0/organizations/nope/projects/", &api.admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, body) = api.get("/api/0/organizations/", &api.member).await;
        assert_eq!(body[0]["slug"], "acme");
        // A project by slugs or ids; another's project is not found.
        let (status, body) = api.get("/api/0/projects/acme/backend/", &api.member).await;
        assert_eq!((status, body["slug"].clone()), (StatusCode::OK, json!("backend")));
        let (_, body) = api.get(&format!("/api/0/projects/acme/{}", api.backend_id), &api.member).await;
        assert_eq!(body["slug"], "backend");
        let (status, _) = api.get("/api/0/projects/acme/backend/", &api.outsider).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        t
    })
    .await;
}

#[tokio::test]
async fn issue_list_sorts_searches_and_pages() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        send_events(&api).await;
        let [a, b, c, d] = abcd(&api).await;

        // The default query is `is:unresolved`; sorts as Sentry names them.
        let (all, _, hits) = api.list("?limit=100", &api.member).await;
        assert_eq!((all.len(), hits), (11, 11));
        for (sort, first_four) in [
            ("", [&a, &c, &d, &b]),
            ("date", [&a, &c, &d, &b]),
            ("new", [&d, &c, &b, &a]),
            ("freq", [&a, &c, &d, &b]),
            ("user", [&c, &b, &a, &d]),
        ] {
            let (ids, _, _) = api.list(&format!("?sort={sort}&limit=100"), &api.member).await;
            let of_abcd: Vec<&String> = ids.iter().filter(|id| [&a, &b, &c, &d].contains(id)).collect();
            assert_eq!(of_abcd, first_four, "sort={sort}");
            if sort != "user" && sort != "freq" {
                // The seven older messages come after A..D by date and by first seen.
                assert_eq!(&ids[..4], first_four.map(String::as_str), "sort={sort}");
            }
        }
        let (trend, _, _) = api.list("?sort=trend", &api.member).await;
        assert_eq!(trend.len(), 11);

        // Search: the language of the UI.
        for (query, expected) in [
            ("level:warning", vec![&b]),
            ("environment:staging", vec![&b]),
            ("division", vec![&a]),
            ("\"Payment failed\"", vec![&d]),
            ("is:unresolved level:error timesSeen:>1", vec![&a, &c]),
            ("user.email:u2@example.com", vec![&c]),
        ] {
            let q: String = url_encode(query);
            let (ids, _, hits) = api.list(&format!("?query={q}"), &api.member).await;
            assert_eq!(ids.iter().collect::<Vec<_>>(), expected, "{query}");
            assert_eq!(hits, expected.len() as i64);
        }
        for (query, needle) in [("?query=foo:bar", "Unknown search key `foo`"), ("?query=level:loud", "level:loud")] {
            let (status, body) = api.get(&format!("/api/0/projects/acme/backend/issues/{query}"), &api.member).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert!(body["detail"].as_str().unwrap().contains(needle), "{body}");
        }
        for bad in ["?sort=loudest", "?statsPeriod=7d", "?limit=zero", "?cursor=garbage"] {
            let (status, body) = api.get(&format!("/api/0/projects/acme/backend/issues/{bad}"), &api.member).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
            assert!(body["detail"].is_string());
        }

        // Pages: following `next` until `results="false"` gives every issue once, in order,
        // for every sort (ties on counts included); `previous` goes back.
        for sort in ["date", "new", "freq", "user", "trend"] {
            let (everything, _, _) = api.list(&format!("?sort={sort}&limit=100&query="), &api.member).await;
            let mut seen: Vec<String> = Vec::new();
            let (mut page, mut links, hits) = api.list(&format!("?sort={sort}&limit=3&query="), &api.member).await;
            assert_eq!(hits, 11);
            assert!(!links["previous"].1, "no page before the first");
            let mut pages = 1;
            loop {
                assert!(page.len() <= 3);
                seen.extend(page.iter().cloned());
                let (url, more, cursor) = links["next"].clone();
                if !more {
                    break;
                }
                assert!(url.contains(&format!("sort={sort}")) && url.contains("limit=3"), "{url}");
                assert!(url.starts_with(&api.base), "{url}");
                let r = api.call(Method::GET, &url, Some(&api.member), None).await;
                assert_eq!(r.status(), StatusCode::OK);
                let next_links = parse_links(r.headers().get("link").unwrap().to_str().unwrap());
                let body: Value = r.json().await.unwrap();
                assert!(next_links["previous"].1, "page after {cursor} has a previous page");
                if pages == 1 {
                    // Back from the second page is the first page.
                    let r = api.call(Method::GET, &next_links["previous"].0, Some(&api.member), None).await;
                    let back: Value = r.json().await.unwrap();
                    assert_eq!(ids(&back), seen[..3], "sort={sort}");
                }
                page = ids(&body);
                links = next_links;
                pages += 1;
            }
            assert_eq!(seen, everything, "sort={sort}: every issue once, in order");
            assert_eq!(pages, 4);
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), 11);
        }

        // A query that is an event id finds its issue directly.
        let (_, events) = api.get(&format!("/api/0/issues/{b}/events/"), &api.member).await;
        let event_id = events[0]["eventID"].as_str().unwrap().to_string();
        let r = api
            .call(
                Method::GET,
                &format!("/api/0/projects/acme/backend/issues/?query={event_id}"),
                Some(&api.member),
                None,
            )
            .await;
        assert_eq!(r.headers().get("x-sentry-direct-hit").unwrap(), "1");
        let body: Value = r.json().await.unwrap();
        assert_eq!(ids(&body), [b.as_str()]);
        assert_eq!(body[0]["matchingEventId"], json!(event_id));
        let path = format!("/api/0/projects/acme/backend/issues/?query=BACKEND-{c}&shortIdLookup=1");
        let (_, by_short_id) = api.get(&path, &api.member).await;
        assert_eq!(ids(&by_short_id), [c.as_str()]);
        t
    })
    .await;
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn an_issue_as_sentry_shows_it() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        send_events(&api).await;
        let [a, _, _, d] = abcd(&api).await;

        // In the list, with 24 hourly buckets of stats.
        let (_, list) = api.get("/api/0/projects/acme/backend/issues/?query=division", &api.member).await;
        let item = &list[0];
        let stats = item["stats"]["24h"].as_array().unwrap();
        assert_eq!(stats.len(), 24);
        assert_eq!(stats.iter().map(|b| b[1].as_i64().unwrap()).sum::<i64>(), 3);
        assert!(stats[0][0].is_i64());
        let (_, list14) =
            api.get("/api/0/projects/acme/backend/issues/?query=division&statsPeriod=14d", &api.member).await;
        assert_eq!(list14[0]["stats"]["14d"].as_array().unwrap().len(), 14);
        let (_, nostats) =
            api.get("/api/0/projects/acme/backend/issues/?query=division&statsPeriod=", &api.member).await;
        assert!(nostats[0].get("stats").is_none());

        let (status, issue) = api.get(&format!("/api/0/issues/{a}/"), &api.member).await;
        assert_eq!(status, StatusCode::OK);
        // Every field GitLab's Sentry client reads, with Sentry's types.
        assert_eq!(issue["id"], json!(a));
        assert_eq!(issue["shortId"], json!(format!("BACKEND-{a}")));
        assert_eq!(issue["title"], "ZeroDivisionError: division by zero");
        assert_eq!(issue["culprit"], "app.views in divide");
        assert_eq!(issue["permalink"], json!(format!("{}/issues/{a}", api.base)));
        assert_eq!(issue["type"], "error");
        assert_eq!(issue["level"], "error");
        assert_eq!(issue["status"], "unresolved");
        assert_eq!(issue["statusDetails"], json!({}));
        assert_eq!(issue["count"], "3");
        assert_eq!(issue["userCount"], 1);
        assert!(issue["firstSeen"].as_str().unwrap().ends_with('Z'));
        assert!(issue["lastSeen"].as_str().unwrap() > issue["firstSeen"].as_str().unwrap());
        assert_eq!(
            issue["project"],
            json!({"id": api.backend_id.to_string(), "name": "Backend", "slug": "backend", "platform": "python"})
        );
        assert_eq!(issue["metadata"]["type"], "ZeroDivisionError");
        assert_eq!(issue["metadata"]["value"], "division by zero");
        assert_eq!(issue["metadata"]["filename"], "app/views.py");
        assert_eq!(issue["metadata"]["function"], "divide");
        assert_eq!(issue["isUnhandled"], true);
        assert_eq!(issue["assignedTo"], Value::Null);
        assert_eq!(issue["annotations"], json!([]));
        assert_eq!(issue["firstRelease"]["version"], "shop@1.2.0");
        assert_eq!(issue["firstRelease"]["shortVersion"], "1.2.0");
        assert_eq!(issue["lastRelease"]["version"], "shop@1.2.0");
        assert_eq!(issue["stats"]["24h"].as_array().unwrap().len(), 24);
        assert_eq!(issue["stats"]["30d"].as_array().unwrap().len(), 30);
        let env = issue["tags"].as_array().unwrap().iter().find(|t| t["key"] == "environment").unwrap();
        assert_eq!(env["topValues"][0]["value"], "production");
        assert_eq!(env["totalValues"], 3);
        assert_eq!(issue["activity"][0]["type"], "first_seen");
        // The same issue under its organization (newer clients' URLs).
        let (status, same) = api.get(&format!("/api/0/organizations/acme/issues/{a}/"), &api.member).await;
        assert_eq!((status, same["id"].clone()), (StatusCode::OK, json!(a)));
        let (status, _) = api.get(&format!("/api/0/organizations/other/issues/{a}/"), &api.member).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // GitLab links an issue to Sentry's page for it, `<host>/<org>/<project>/issues/<id>`.
        let no_redirect = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = no_redirect.get(format!("{}/acme/backend/issues/{a}/", api.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], format!("/issues/{a}").as_str());

        // A message issue.
        let (_, msg) = api.get(&format!("/api/0/issues/{d}/"), &api.member).await;
        assert_eq!(msg["type"], "default");
        assert_eq!(msg["metadata"]["title"], "Payment failed for the cart");
        assert_eq!(msg["isUnhandled"], false);
        assert_eq!(msg["firstRelease"], Value::Null);
        assert_eq!(msg["userCount"], 0);

        let (status, body) = api.get("/api/0/issues/999999/", &api.member).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "The requested resource does not exist"})));
        let (status, _) = api.get("/api/0/issues/abc/", &api.member).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        t
    })
    .await;
}

#[tokio::test]
async fn status_assignment_and_deletion() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        send_events(&api).await;
        let [a, b, c, d] = abcd(&api).await;
        let issue_url = format!("/api/0/issues/{a}/");

        // Resolved (what GitLab's "Resolve" sends): the issue leaves the default list.
        let (status, body) = api.put(&issue_url, &api.member, json!({"status": "resolved"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["id"].clone(), body["status"].clone()), (json!(a), json!("resolved")));
        let (unresolved, _, _) = api.list("?limit=100", &api.member).await;
        assert!(!unresolved.contains(&a));
        let (resolved, _, _) = api.list("?query=is:resolved", &api.member).await;
        assert_eq!(resolved, [a.as_str()]);

        // Ignored for 30 minutes, then ignored for good, then unresolved again.
        let (_, body) =
            api.put(&issue_url, &api.member, json!({"status": "ignored", "statusDetails": {"ignoreDuration": 30}})).await;
        assert_eq!(body["status"], "ignored");
        assert!(body["statusDetails"]["ignoreUntil"].as_str().unwrap().ends_with('Z'));
        assert_eq!(body["substatus"], "archived_until_condition_met");
        let (_, body) = api.put(&issue_url, &api.member, json!({"status": "ignored"})).await;
        assert_eq!((body["statusDetails"].clone(), body["substatus"].clone()), (json!({}), json!("archived_forever")));
        let (ignored, _, _) = api.list("?query=is:ignored", &api.member).await;
        assert_eq!(ignored, [a.as_str()]);
        let (_, body) = api.put(&issue_url, &api.member, json!({"status": "unresolved"})).await;
        assert_eq!(body["status"], "unresolved");
        let (unresolved, _, _) = api.list("?limit=100", &api.member).await;
        assert!(unresolved.contains(&a));

        // Assignment: by user id, by e-mail, then nobody.
        let (status, body) =
            api.put(&issue_url, &api.member, json!({"assignedTo": format!("user:{}", api.member_id)})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["assignedTo"],
            json!({"type": "user", "id": api.member_id.to_string(), "name": "member@example.com", "email": "member@example.com"})
        );
        let (assigned, _, _) = api.list("?query=assigned:me", &api.member).await;
        assert_eq!(assigned, [a.as_str()]);
        let (_, body) = api.put(&issue_url, &api.member, json!({"assignedTo": "Member@Example.com"})).await;
        assert_eq!(body["assignedTo"]["id"], json!(api.member_id.to_string()));
        let (_, body) = api.put(&issue_url, &api.member, json!({"assignedTo": ""})).await;
        assert_eq!(body["assignedTo"], Value::Null);
        // Refusals, with the reason in `detail`.
        for bad in [
            json!({"status": "solved"}),
            json!({"assignedTo": "nobody@example.com"}),
            json!({"assignedTo": "team:1"}),
            json!({"status": "ignored", "statusDetails": {"ignoreDuration": "soon"}}),
            json!({"status": "ignored", "statusDetails": {"ignoreDuration": -5}}),
            json!([1, 2]),
        ] {
            let (status, body) = api.put(&issue_url, &api.member, bad.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
            assert!(body["detail"].is_string());
        }
        let r = api
            .http
            .put(api.url(&issue_url))
            .header("authorization", format!("Bearer {}", api.member))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        // The outsider cannot see the issue to assign it; nor can the member assign it to them.
        let (status, _) = api.put(&issue_url, &api.outsider, json!({"status": "resolved"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = api.put(&issue_url, &api.member, json!({"assignedTo": "outsider@example.com"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        // Bulk: ids of the URL's project only (another project's id is left out).
        let (_, web) = api.get("/api/0/projects/acme/web/issues/", &api.admin).await;
        let web_issue = ids(&web)[0].clone();
        let (status, body) = api
            .put(
                &format!("/api/0/projects/acme/backend/issues/?id={b}&id={c}&id={web_issue}"),
                &api.admin,
                json!({"status": "resolved"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"status": "resolved", "statusDetails": {}}));
        let (resolved, _, _) = api.list("?query=is:resolved", &api.member).await;
        assert_eq!(resolved.iter().collect::<HashSet<_>>(), [&b, &c].into_iter().collect());
        let (_, web) = api.get(&format!("/api/0/issues/{web_issue}/"), &api.admin).await;
        assert_eq!(web["status"], "unresolved");
        let r = api.call(Method::PUT, "/api/0/projects/acme/backend/issues/", Some(&api.admin), Some(json!({"status": "resolved"}))).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        // Deletion: project administrators only; then the issue is gone.
        let r = api.call(Method::DELETE, &format!("/api/0/issues/{d}/"), Some(&api.member), None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = api.call(Method::DELETE, &format!("/api/0/issues/{d}/"), Some(&api.outsider), None).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = api.call(Method::DELETE, &format!("/api/0/issues/{d}/"), Some(&api.admin), None).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let (status, _) = api.get(&format!("/api/0/issues/{d}/"), &api.admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let r = api.call(Method::DELETE, &format!("/api/0/projects/acme/backend/issues/?id={b}"), Some(&api.admin), None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let (all, _, hits) = api.list("?query=&limit=100", &api.admin).await;
        assert_eq!((all.len(), hits), (9, 9));
        t
    })
    .await;
}

#[tokio::test]
async fn events_of_an_issue() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        let a_events = send_events(&api).await;
        let [a, ..] = abcd(&api).await;

        // Newest first, each with its issue and tags.
        let (status, events) = api.get(&format!("/api/0/issues/{a}/events/"), &api.member).await;
        assert_eq!(status, StatusCode::OK);
        let event_ids: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["eventID"].as_str().unwrap()).collect();
        assert_eq!(event_ids, a_events.iter().rev().map(String::as_str).collect::<Vec<_>>());
        let e = &events[0];
        assert_eq!(e["groupID"], json!(a));
        assert_eq!(e["id"], e["eventID"]);
        assert_eq!(e["projectID"], json!(api.backend_id.to_string()));
        assert_eq!(e["title"], "ZeroDivisionError: division by zero");
        assert_eq!(e["user"]["id"], "u1");
        let tags: HashMap<&str, &str> = e["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["key"].as_str().unwrap(), t["value"].as_str().unwrap()))
            .collect();
        assert_eq!(tags["environment"], "production");
        assert_eq!(tags["customer"], "acme");
        assert_eq!(tags["level"], "error");
        assert_eq!(tags["handled"], "no");
        assert!(e.get("entries").is_none(), "the list is brief unless full=true");

        // Pages of two: newest two, then the oldest; and back.
        let r = api
            .call(Method::GET, &format!("/api/0/issues/{a}/events/?limit=2&full=true"), Some(&api.member), None)
            .await;
        let links = parse_links(r.headers().get("link").unwrap().to_str().unwrap());
        let first: Value = r.json().await.unwrap();
        assert_eq!(first.as_array().unwrap().len(), 2);
        assert!(first[0]["entries"].is_array());
        assert!(!links["previous"].1 && links["next"].1);
        let r = api.call(Method::GET, &links["next"].0, Some(&api.member), None).await;
        let links = parse_links(r.headers().get("link").unwrap().to_str().unwrap());
        let second: Value = r.json().await.unwrap();
        assert_eq!(second[0]["eventID"], json!(a_events[0]));
        assert_eq!(second.as_array().unwrap().len(), 1);
        assert!(links["previous"].1 && !links["next"].1);
        let r = api.call(Method::GET, &links["previous"].0, Some(&api.member), None).await;
        let back: Value = r.json().await.unwrap();
        assert_eq!(
            back.as_array().unwrap().iter().map(|e| e["eventID"].clone()).collect::<Vec<_>>(),
            [json!(a_events[2]), json!(a_events[1])]
        );

        // The latest event, as GitLab reads it: the exception entry's frames.
        let (status, latest) = api.get(&format!("/api/0/issues/{a}/events/latest/"), &api.member).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(latest["eventID"], json!(a_events[2]));
        assert_eq!(latest["groupID"], json!(a));
        assert!(latest["dateReceived"].as_str().unwrap().ends_with('Z'));
        assert!(latest["dateCreated"].as_str().unwrap().ends_with('Z'));
        assert_eq!(latest["previousEventID"], json!(a_events[1]));
        assert_eq!(latest["nextEventID"], Value::Null);
        assert_eq!(latest["release"]["version"], "shop@1.2.0");
        let entries = latest["entries"].as_array().unwrap();
        let exception = entries.iter().find(|e| e["type"] == "exception").expect("exception entry");
        let value = &exception["data"]["values"][0];
        assert_eq!(value["type"], "ZeroDivisionError");
        assert_eq!(value["mechanism"]["handled"], false);
        let frame = &value["stacktrace"]["frames"][1];
        assert_eq!(frame["filename"], "app/views.py");
        assert_eq!(frame["absPath"], "/srv/app/views.py");
        assert_eq!(frame["function"], "divide");
        assert_eq!(frame["lineNo"], 42);
        assert_eq!(frame["colNo"], 5);
        assert_eq!(frame["inApp"], true);
        assert_eq!(frame["context"], json!([[41, "def divide(a, b):"], [42, "    return a / b"], [43, ""]]));
        assert_eq!(value["stacktrace"]["frames"][0]["context"], json!([]));
        assert_eq!(value["stacktrace"]["frames"][0]["inApp"], false);
        let crumbs = entries.iter().find(|e| e["type"] == "breadcrumbs").expect("breadcrumbs entry");
        assert_eq!(crumbs["data"]["values"][0]["message"], "GET /cart");
        assert!(crumbs["data"]["values"][0]["timestamp"].as_str().unwrap().ends_with('Z'));
        let request = entries.iter().find(|e| e["type"] == "request").expect("request entry");
        assert_eq!(request["data"]["method"], "POST");
        assert_eq!(request["data"]["query"], json!([["step", "2"]]));
        assert_eq!(request["data"]["inferredContentType"], "application/json");

        let (_, oldest) = api.get(&format!("/api/0/issues/{a}/events/oldest/"), &api.member).await;
        assert_eq!(oldest["eventID"], json!(a_events[0]));
        assert_eq!(oldest["previousEventID"], Value::Null);
        assert_eq!(oldest["nextEventID"], json!(a_events[1]));
        let (_, by_id) = api.get(&format!("/api/0/issues/{a}/events/{}/", a_events[1]), &api.member).await;
        assert_eq!(by_id["eventID"], json!(a_events[1]));

        // An event by id in its project, also in dashed UUID form.
        let (status, event) =
            api.get(&format!("/api/0/projects/acme/backend/events/{}/", a_events[1]), &api.member).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((event["eventID"].clone(), event["groupID"].clone()), (json!(a_events[1]), json!(a)));
        let dashed = uuid::Uuid::parse_str(&a_events[1]).unwrap().hyphenated().to_string();
        let (status, _) = api.get(&format!("/api/0/projects/acme/backend/events/{dashed}/"), &api.member).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = api.get(&format!("/api/0/projects/acme/backend/events/{}/", new_id()), &api.member).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Not through another project's URL.
        let (status, _) = api.get(&format!("/api/0/projects/acme/web/events/{}/", a_events[1]), &api.admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        t
    })
    .await;
}

#[tokio::test]
async fn a_user_without_access_gets_not_found() {
    each_db(|t| async move {
        let api = Api::start(&t).await;
        let a_events = send_events(&api).await;
        let [a, ..] = abcd(&api).await;
        let missing = json!({"detail": "The requested resource does not exist"});
        // Everything of `backend` is answered like something that does not exist.
        for path in [
            "/api/0/projects/acme/backend/".to_string(),
            "/api/0/projects/acme/backend/issues/".to_string(),
            format!("/api/0/issues/{a}/"),
            format!("/api/0/issues/{a}/events/"),
            format!("/api/0/issues/{a}/events/latest/"),
            format!("/api/0/projects/acme/backend/events/{}/", a_events[0]),
            format!("/api/0/projects/acme/web/events/{}/", a_events[0]),
        ] {
            let (status, body) = api.get(&path, &api.outsider).await;
            assert_eq!((status, body), (StatusCode::NOT_FOUND, missing.clone()), "{path}");
        }
        for method in [Method::PUT, Method::DELETE] {
            let r = api
                .call(
                    method.clone(),
                    &format!("/api/0/issues/{a}/"),
                    Some(&api.outsider),
                    Some(json!({"status": "resolved"})),
                )
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method}");
        }
        let r = api
            .call(
                Method::PUT,
                &format!("/api/0/projects/acme/backend/issues/?id={a}"),
                Some(&api.outsider),
                Some(json!({"status": "resolved"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // Nothing changed, and the outsider still sees their own project.
        let (_, issue) = api.get(&format!("/api/0/issues/{a}/"), &api.admin).await;
        assert_eq!(issue["status"], "unresolved");
        let (status, web) = api.get("/api/0/projects/acme/web/issues/", &api.outsider).await;
        assert_eq!((status, web.as_array().unwrap().len()), (StatusCode::OK, 1));
        t
    })
    .await;
}
