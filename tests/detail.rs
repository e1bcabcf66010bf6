//! The issue page's data on both databases: an issue's events in order with their
//! neighbours, raw payloads and tag distributions, and over real HTTP the page's server functions and the
//! raw JSON download, with who may see what.

mod common;

use common::{each_db, TestDb};
use faultline::model::Role;
use faultline::protocol::event::Context;
use faultline::store::events::EventEnd;
use faultline::store::now_ms;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// Stores events (each `extra` merged into a Python error raised in `function`), one batch
/// each so that they are received in this order; returns their event ids.
async fn send(t: &TestDb, project: i64, function: &str, extras: &[Value]) -> Vec<String> {
    let mut ids = Vec::new();
    for (k, extra) in extras.iter().enumerate() {
        let now = now_ms();
        let event_id = format!("{:032x}", (function.len() as u128) << 64 | (now as u128) << 8 | k as u128);
        let mut ev = json!({
            "event_id": event_id,
            "platform": "python",
            "exception": {"values": [{"type": "KeyError", "value": format!("'{k}'"), "stacktrace": {"frames": [
                {"module": "shop.views", "function": function, "filename": "shop/views.py", "lineno": 10, "in_app": true,
                 "context_line": "    return table[key]", "pre_context": ["def f(table, key):"], "post_context": [""]}
            ]}}]},
        });
        if let (Value::Object(ev), Value::Object(extra)) = (&mut ev, extra) {
            ev.extend(extra.clone());
        }
        let ctx = Context { event_id: None, received_ms: now, sent_at_ms: None, client_ip: None };
        let prepared = faultline::ingest::prepare_event(ev, ctx, project, now).unwrap();
        t.db.write_batch(&[prepared], &[], &[]).await.unwrap();
        ids.push(event_id);
    }
    ids
}

async fn issue_of(t: &TestDb, project: i64, event_id: &str) -> i64 {
    t.db.event_by_event_id(project, event_id).await.unwrap().expect("stored").issue_id
}

#[tokio::test]
async fn events_in_order_with_neighbours_and_tags() {
    each_db(|t| async move {
        let org = t.db.create_org("acme", "Acme").await.unwrap();
        let (p, _) = t.db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
        let browsers = ["Chrome", "Chrome", "Chrome", "Firefox", "Safari", "Edge", "Opera", "Brave", "Vivaldi", "Arc"];
        let extras: Vec<Value> = browsers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                json!({
                    "release": if i < 5 { "shop@1.0" } else { "shop@2.0" },
                    "contexts": {"browser": {"name": b, "type": "browser"}},
                    "tags": {"tenant": format!("t{i}")},
                })
            })
            .collect();
        let ids = send(&t, p.id, "lookup", &extras).await;
        let other = send(&t, p.id, "elsewhere", &[json!({})]).await;
        let issue = issue_of(&t, p.id, &ids[0]).await;
        assert_eq!(issue_of(&t, p.id, &ids[9]).await, issue);
        let other_issue = issue_of(&t, p.id, &other[0]).await;
        assert_ne!(other_issue, issue);

        // What the page's navigation stands on (`store::events`): ends, one event, neighbours.
        let latest = t.db.issue_event_at(issue, EventEnd::Latest).await.unwrap().unwrap();
        assert_eq!(latest.row.event_id, ids[9]);
        assert_eq!(latest.json["exception"]["values"][0]["value"], "'9'");
        let oldest = t.db.issue_event_at(issue, EventEnd::Oldest).await.unwrap().unwrap();
        assert_eq!(oldest.row.event_id, ids[0]);
        let third = t.db.project_event(p.id, &ids[3]).await.unwrap().unwrap();
        assert_eq!(third.row.issue_id, issue);
        let siblings = |id| t.db.event_siblings(issue, id);
        assert_eq!(siblings(third.row.id).await.unwrap(), (Some(ids[2].clone()), Some(ids[4].clone())));
        assert_eq!(siblings(latest.row.id).await.unwrap(), (Some(ids[8].clone()), None));
        assert_eq!(siblings(oldest.row.id).await.unwrap(), (None, Some(ids[1].clone())));

        let raw = t.db.issue_event_payload(p.id, issue, &ids[3]).await.unwrap().unwrap();
        let raw: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(raw["event_id"], ids[3]);
        assert!(t.db.issue_event_payload(p.id, other_issue, &ids[3]).await.unwrap().is_none());

        // Tags: every key, the top values by count, and the totals to compute "other".
        let tags = t.db.issue_tag_distribution(issue, 3).await.unwrap();
        let get = |k: &str| tags.iter().find(|t| t.key == k).unwrap_or_else(|| panic!("{k} missing: {tags:?}"));
        let browser = get("browser");
        assert_eq!((browser.total, browser.distinct), (10, 8));
        assert_eq!(browser.top[0], ("Chrome".to_string(), 3));
        assert_eq!(browser.top.len(), 3);
        assert_eq!(browser.top[1].1, 1);
        let release = get("release");
        assert_eq!(release.top, [("shop@1.0".to_string(), 5), ("shop@2.0".to_string(), 5)]);
        assert_eq!((get("tenant").total, get("tenant").distinct, get("tenant").top.len()), (10, 10, 3));
        assert_eq!(get("environment").top, [("production".to_string(), 10)]);
        t
    })
    .await;
}

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn call(c: &Client, base: &str, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(format!("{base}/_fn/{name}")).form(form).send().await.unwrap()
}

async fn sign_in(base: &str, email: &str) -> Client {
    let c = client();
    let r = call(&c, base, "login", &[("email", email), ("password", "correct horse battery")]).await;
    assert!(r.status().is_success() || r.status().is_redirection(), "{:?}", r.status());
    c
}

#[tokio::test]
async fn issue_page_over_http_and_who_may_see_it() {
    each_db(|t| async move {
        let base = common::start_server(&t).await;
        let org = t.db.create_org("acme", "Acme").await.unwrap();
        let (shop, _) = t.db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
        let (intranet, _) = t.db.create_project(org.id, "intranet", "Intranet", "python").await.unwrap();
        faultline::auth::create_user(&t.db, "admin@example.com", "correct horse battery", true).await.unwrap();
        let dev = faultline::auth::create_user(&t.db, "dev@example.com", "correct horse battery", false).await.unwrap();
        t.db.set_membership(intranet.id, dev.id, Role::Member).await.unwrap();
        let evil = "<script>alert(1)</script>";
        let ids = send(
            &t,
            shop.id,
            "lookup",
            &[
                json!({"release": "shop@1.0"}),
                json!({"release": "shop@1.1", "message": evil, "user": {"email": "ann@example.com"}}),
            ],
        )
        .await;
        let issue = issue_of(&t, shop.id, &ids[0]).await.to_string();

        let admin = sign_in(&base, "admin@example.com").await;
        let r = call(&admin, &base, "issue_detail", &[("issue_id", &issue)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let d: Value = r.json().await.unwrap();
        assert_eq!(d["issue"]["event_count"], 2);
        assert_eq!(d["project"]["slug"], "shop");
        assert_eq!(d["hourly"].as_array().unwrap().len(), 24);
        assert_eq!(d["hourly"][23], 2);
        assert_eq!(d["daily"].as_array().unwrap().len(), 30);
        assert_eq!(d["daily"][29], 2);
        assert_eq!(d["tags"][0]["key"], "environment");
        assert_eq!(d["tags"][1]["key"], "release");
        assert_eq!(d["activity"][0]["kind"], "first_seen");
        assert_eq!(d["activity"][0]["detail"], "in shop@1.0");
        assert_eq!(d["can_delete"], true);

        let r = call(&admin, &base, "issue_event", &[("issue_id", &issue), ("event", "latest")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["event"]["event_id"], ids[1]);
        assert_eq!((e["newer"].clone(), e["older"].clone()), (Value::Null, json!(ids[0])));
        assert_eq!(e["event"]["message"], evil);
        assert_eq!(e["event"]["exceptions"][0]["stack"]["frames"][0]["context"][1]["current"], true);
        assert_eq!(e["event"]["user"][0], json!(["email", "ann@example.com"]));
        let elsewhere = send(&t, shop.id, "elsewhere", &[json!({})]).await;
        let r = call(&admin, &base, "issue_event", &[("issue_id", &issue), ("event", &elsewhere[0])]).await;
        assert!(r.text().await.unwrap().contains("NotFound"), "another issue's event");
        let r = call(&admin, &base, "issue_event", &[("issue_id", &issue), ("event", "oldest")]).await;
        let e: Value = r.json().await.unwrap();
        assert_eq!((e["event"]["event_id"].clone(), e["newer"].clone()), (json!(ids[0]), json!(ids[1])));
        // Dashed UUIDs and upper case name the same event.
        let dashed = format!("{}-{}", &ids[0][..8], &ids[0][8..]).to_uppercase();
        let r = call(&admin, &base, "issue_event", &[("issue_id", &issue), ("event", &dashed)]).await;
        assert_eq!(r.json::<Value>().await.unwrap()["event"]["event_id"], ids[0]);
        for bad in ["nonsense", "00000000000000000000000000000000"] {
            let r = call(&admin, &base, "issue_event", &[("issue_id", &issue), ("event", bad)]).await;
            assert!(r.text().await.unwrap().contains("NotFound"), "{bad}");
        }

        let r = call(&admin, &base, "event_raw_json", &[("issue_id", &issue), ("event_id", &ids[1])]).await;
        let text: String = r.json().await.unwrap();
        assert!(text.contains("\n  \"event_id\""), "pretty-printed: {text}");

        let url = format!("{base}/issues/{issue}/events/{}/json", ids[1]);
        let r = admin.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["content-disposition"], format!("attachment; filename=\"event-{}.json\"", ids[1]));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["event_id"], ids[1]);
        let r = admin.get(format!("{url}?inline")).send().await.unwrap();
        assert_eq!(r.headers()["content-disposition"], "inline");
        let r = admin.get(format!("{base}/issues/{issue}/events/{}/json", "f".repeat(32))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // A user without access to the project: as if the issue did not exist.
        let dev = sign_in(&base, "dev@example.com").await;
        for (name, form) in [
            ("issue_detail", vec![("issue_id", issue.as_str())]),
            ("issue_event", vec![("issue_id", issue.as_str()), ("event", "latest")]),
            ("event_raw_json", vec![("issue_id", issue.as_str()), ("event_id", ids[0].as_str())]),
        ] {
            let r = call(&dev, &base, name, &form).await;
            assert!(!r.status().is_success(), "{name}");
            assert!(r.text().await.unwrap().contains("NotFound"), "{name}");
        }
        assert_eq!(dev.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let missing = call(&admin, &base, "issue_detail", &[("issue_id", "999999")]).await;
        assert!(missing.text().await.unwrap().contains("NotFound"));

        // Signed out: nothing, and the download leads to the login page.
        let anon = client();
        let r = call(&anon, &base, "issue_detail", &[("issue_id", &issue)]).await;
        assert!(r.text().await.unwrap().contains("NotSignedIn"));
        let r = anon.get(&url).send().await.unwrap();
        assert!(r.status().is_redirection());
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
        t
    })
    .await;
}
