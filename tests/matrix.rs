//! The authorization matrix, generated from the route tables: every server function (as
//! registered), every JSON API route (`api::paths`) and every page (the app's route list),
//! called by an administrator, a member of the project, a member of another project only,
//! an anonymous caller and a revoked API token, on both databases. Denials are 401, 403 or
//! 404 (never 500, never data); what a role may do answers as it should.

mod common;

use std::collections::BTreeSet;

use common::{each_db, TestDb};
use reqwest::redirect::Policy;
use reqwest::{Client, Method, StatusCode};
use serde_json::json;

/// What a server function needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// Anyone (sign-in, first run).
    Nobody,
    /// A signed-in user; acts on their own things.
    User,
    /// To see project P (its id or one of its issues is an argument).
    SeeP,
    /// To administer project P.
    AdminP,
    /// An instance administrator.
    Admin,
}

/// Every server function: what it needs, and its arguments for project P (`{P}`), issue I
/// (`{I}`) and event E (`{E}`). JSON-encoded ones start with `{`.
const SERVER_FNS: &[(&str, Needs, &str)] = &[
    ("login", Needs::Nobody, "email=x@example.com&password=wrong+password"),
    ("logout", Needs::Nobody, ""),
    ("create_first_admin", Needs::Nobody, "email=x@example.com&password=whatever+long&organization=X"),
    ("current_user", Needs::User, ""),
    ("overview", Needs::User, ""),
    ("my_tokens", Needs::User, ""),
    ("create_token", Needs::User, "label=t"),
    ("revoke_token", Needs::User, "token_id=999999"),
    ("change_password", Needs::User, "current=not+the+password&new=another+password"),
    ("sign_out_elsewhere", Needs::User, ""),
    ("issue_list", Needs::User, "query=&sort=last_seen&stats=24h"),
    ("issue_filter_options", Needs::SeeP, "project_id={P}"),
    ("issue_detail", Needs::SeeP, "issue_id={I}"),
    ("issue_suspects", Needs::SeeP, "issue_id={I}"),
    ("issue_event", Needs::SeeP, "issue_id={I}&event=latest"),
    ("event_raw_json", Needs::SeeP, "issue_id={I}&event_id={E}"),
    ("project_settings", Needs::SeeP, "project_id={P}"),
    ("project_alerts", Needs::SeeP, "project_id={P}"),
    ("project_releases", Needs::SeeP, "project_id={P}"),
    ("project_trackers", Needs::SeeP, "project_id={P}"),
    ("project_chart", Needs::SeeP, "project_id={P}"),
    ("assignees", Needs::SeeP, "project_id={P}"),
    ("add_comment", Needs::SeeP, "issue_id={I}&text=hello"),
    ("tracker_state", Needs::SeeP, "issue_id={I}"),
    ("tracker_draft", Needs::SeeP, "issue_ids[0]={I}"),
    ("link_tracker_issue", Needs::SeeP, "issue_ids[0]={I}&url=https%3A%2F%2Fgitlab.example%2Fa%2Fb%2F-%2Fissues%2F1"),
    ("unlink_tracker_issue", Needs::SeeP, "issue_id={I}&link_id=999999"),
    ("create_tracker_issue", Needs::SeeP, "issue_ids[0]={I}&kind=gitlab&title=t&description=d"),
    ("update_issues", Needs::SeeP, r#"{"ids":[{I}],"change":"Resolve"}"#),
    ("delete_issues", Needs::AdminP, r#"{"ids":[{I2}]}"#),
    ("add_key", Needs::AdminP, "project_id={P}&label=k"),
    ("set_repository", Needs::AdminP, "project_id={P}&url=&path="),
    ("save_tracker", Needs::AdminP, "project_id={P}&kind=gitlab&base_url=https%3A%2F%2Fgitlab.example&target=a%2Fb&token=x"),
    ("remove_tracker", Needs::AdminP, "project_id={P}&kind=github"),
    ("rotate_key", Needs::AdminP, "project_id={P}&key_id=999999"),
    ("set_key_active", Needs::AdminP, "project_id={P}&key_id=999999&active=true"),
    ("grant_access", Needs::AdminP, "project_id={P}&email=nobody%40example.com&role=member"),
    ("revoke_access", Needs::AdminP, "project_id={P}&user_id=999999"),
    ("add_alert_rule", Needs::AdminP, "project_id={P}&kind=new_issue&threshold=&spike_factor=&spike_min=&environment=&level=&channel=webhook&target=http%3A%2F%2F127.0.0.1%3A9%2Fx&interval_minutes=60"),
    ("delete_alert_rule", Needs::AdminP, "project_id={P}&rule_id=999999"),
    ("list_users", Needs::Admin, ""),
    ("create_user", Needs::Admin, "email=new%40example.com&password=a+long+password"),
    ("create_project", Needs::Admin, "org=acme&name=Another&platform=python"),
    ("create_org", Needs::Admin, "name=Else"),
];

struct World {
    base: String,
    p: i64,
    i: i64,
    i2: i64,
    e: String,
    org: String,
    slug: String,
}

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn form(c: &Client, url: &str, body: &str) -> reqwest::Response {
    let req = c.post(url).header("accept", "application/json");
    let req = if body.starts_with('{') {
        req.header("content-type", "application/json").body(body.to_string())
    } else {
        req.header("content-type", "application/x-www-form-urlencoded").body(body.to_string())
    };
    req.send().await.unwrap()
}

async fn sign_in(base: &str, email: &str, password: &str) -> Client {
    let c = client();
    let r = form(&c, &format!("{base}/_fn/login"), &format!("email={email}&password={password}")).await;
    assert!(r.status().is_success() || r.status().is_redirection(), "{email}: {}", r.status());
    c
}

async fn send_event(base: &str, project: i64, key: &str, ty: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let event = json!({"event_id": id, "release": "shop@1.0", "exception": {"values": [{"type": ty, "value": format!("secret value of {ty}")}]}});
    let url = format!("{base}/api/{project}/envelope/?sentry_key={key}");
    let r = Client::new().post(url).body(format!("{{}}\n{{\"type\":\"event\"}}\n{event}\n")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    id
}

async fn world(t: &TestDb) -> (World, Client, Client, Client) {
    let base = common::start_server(t).await;
    let db = &t.db;
    let acme = db.create_org("acme", "Acme").await.unwrap();
    let other_org = db.create_org("other", "Other").await.unwrap();
    let (p, pkey) = db.create_project(acme.id, "shop", "Shop", "python").await.unwrap();
    let (q, qkey) = db.create_project(other_org.id, "blog", "Blog", "python").await.unwrap();
    faultline::auth::create_user(db, "admin@example.com", "admin password 1", true).await.unwrap();
    let member = faultline::auth::create_user(db, "member@example.com", "member password 1", false).await.unwrap();
    let outsider =
        faultline::auth::create_user(db, "outsider@example.com", "outsider password 1", false).await.unwrap();
    db.set_membership(p.id, member.id, faultline::model::Role::Member).await.unwrap();
    db.set_membership(q.id, outsider.id, faultline::model::Role::Admin).await.unwrap();
    let e = send_event(&base, p.id, &pkey.public_key, "SecretOfP").await;
    send_event(&base, p.id, &pkey.public_key, "SecondOfP").await;
    send_event(&base, q.id, &qkey.public_key, "OfQ").await;
    let issues = db.project_issues(p.id, 10).await.unwrap();
    let find = |ty: &str| issues.iter().find(|i| i.title.starts_with(ty)).unwrap().id;
    let w = World {
        base: base.clone(),
        p: p.id,
        i: find("SecretOfP"),
        i2: find("SecondOfP"),
        e,
        org: "acme".into(),
        slug: "shop".into(),
    };
    let admin = sign_in(&base, "admin%40example.com", "admin+password+1").await;
    let member = sign_in(&base, "member%40example.com", "member+password+1").await;
    let outsider = sign_in(&base, "outsider%40example.com", "outsider+password+1").await;
    (w, admin, member, outsider)
}

fn fill(template: &str, w: &World) -> String {
    template
        .replace("{P}", &w.p.to_string())
        .replace("{I2}", &w.i2.to_string())
        .replace("{I}", &w.i.to_string())
        .replace("{E}", &w.e)
        .replace("{org}", &w.org)
        .replace("{project}", &w.slug)
        .replace("{id}", &w.i.to_string())
        .replace("{event_id}", &w.e)
        .replace("{version}", "shop@1.0")
}

fn denied(s: StatusCode) -> bool {
    matches!(s.as_u16(), 401 | 403 | 404)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_function_checks_access() {
    // The table covers every registered server function, and nothing else.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/_fn/").to_string())
        .collect();
    let listed: BTreeSet<String> = SERVER_FNS.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(registered, listed, "add the new server function to SERVER_FNS");

    each_db(|t| async move {
        let (w, admin, member, outsider) = world(&t).await;
        let anon = client();
        for &(name, needs, args) in SERVER_FNS {
            if needs == Needs::Nobody {
                continue;
            }
            let url = format!("{}/_fn/{name}", w.base);
            let body = fill(args, &w);
            let what = |who: &str, s: StatusCode| format!("{name} as {who}: {s}");
            // Anonymous: 401, whatever the function.
            let r = form(&anon, &url, &body).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{}", what("anonymous", r.status()));
            // A member of another project only: P does not exist for them.
            let r = form(&outsider, &url, &body).await;
            let s = r.status();
            let text = r.text().await.unwrap();
            assert!(
                !text.contains("secret value of SecretOfP") && !text.contains("SecretOfP"),
                "{}: {text}",
                what("outsider", s)
            );
            match needs {
                Needs::SeeP | Needs::AdminP => assert_eq!(s, StatusCode::NOT_FOUND, "{}", what("outsider", s)),
                Needs::Admin => assert_eq!(s, StatusCode::FORBIDDEN, "{}", what("outsider", s)),
                _ => assert!(s.as_u16() < 500, "{}", what("outsider", s)),
            }
            // A member of P: sees it, may not administer it.
            let r = form(&member, &url, &body).await;
            let s = r.status();
            match needs {
                Needs::AdminP | Needs::Admin => assert_eq!(s, StatusCode::FORBIDDEN, "{}", what("member", s)),
                _ => assert!(
                    !denied(s) && s.as_u16() < 500 || s == StatusCode::NOT_FOUND && body.contains("999999"),
                    "{}",
                    what("member", s)
                ),
            }
            // The administrator is never denied (a missing target is a 404 of its own).
            let r = form(&admin, &url, &body).await;
            let s = r.status();
            assert!(s.as_u16() < 500, "{}", what("admin", s));
            if !body.contains("999999") {
                assert!(!denied(s), "{}: {:?}", what("admin", s), r.text().await);
            }
        }
        t
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_checks_its_token() {
    each_db(|t| async move {
        let (w, _, _, _) = world(&t).await;
        let db = &t.db;
        let token = |email: &'static str| async move {
            let user = db.user_by_email(email).await.unwrap().unwrap();
            let (token, digest) = faultline::auth::new_api_token();
            let id = db.create_api_token(user.id, &digest, "t").await.unwrap();
            (token, user.id, id)
        };
        let (admin, _, _) = token("admin@example.com").await;
        let (member, _, _) = token("member@example.com").await;
        let (outsider, _, _) = token("outsider@example.com").await;
        let (revoked, uid, rid) = token("member@example.com").await;
        db.delete_api_token(uid, rid).await.unwrap();
        let http = Client::builder().redirect(Policy::none()).build().unwrap();
        let call = |method: Method, url: String, token: Option<String>| {
            let http = http.clone();
            async move {
                let mut req = http.request(method.clone(), url);
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if method != Method::GET {
                    req = req.json(&json!({}));
                }
                let r = req.send().await.unwrap();
                let s = r.status();
                (s, r.text().await.unwrap())
            }
        };
        // A release of P registered by the administrator.
        let (s, body) =
            call(Method::POST, format!("{}/api/0/organizations/acme/releases/", w.base), Some(admin.clone())).await;
        assert!(s.is_success() || s == StatusCode::BAD_REQUEST, "{s}: {body}");
        let r = http
            .post(format!("{}/api/0/organizations/acme/releases/", w.base))
            .bearer_auth(&admin)
            .json(&json!({"version": "shop@1.0", "projects": ["shop"]}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());

        for path in faultline::api::paths() {
            let url = format!("{}{}", w.base, fill(path, &w));
            let scoped = path.contains('{');
            for method in [Method::GET, Method::PUT, Method::POST, Method::DELETE] {
                let what = |who: &str, s: StatusCode| format!("{method} {path} as {who}: {s}");
                let (s, text) = call(method.clone(), url.clone(), None).await;
                if s == StatusCode::METHOD_NOT_ALLOWED {
                    continue;
                }
                // The index answers anyone (sentry-cli asks it who it is); it tells nothing.
                if path == "/api/0/" {
                    assert!(!text.contains("shop"), "{text}");
                    continue;
                }
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{}", what("nobody", s));
                let (s, _) = call(method.clone(), url.clone(), Some(revoked.clone())).await;
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{}", what("a revoked token", s));
                let (s, text) = call(method.clone(), url.clone(), Some(outsider.clone())).await;
                assert!(
                    !text.contains("secret value of SecretOfP") && !text.contains("SecretOfP"),
                    "{}: {text}",
                    what("outsider", s)
                );
                if scoped {
                    assert!(matches!(s.as_u16(), 403 | 404), "{}", what("outsider", s));
                }
                if method == Method::GET {
                    let (s, _) = call(method.clone(), url.clone(), Some(member.clone())).await;
                    assert!(!denied(s) && s.as_u16() < 500, "{}", what("member", s));
                    let (s, _) = call(method.clone(), url.clone(), Some(admin.clone())).await;
                    assert!(s.is_success(), "{}", what("admin", s));
                }
                if method == Method::DELETE {
                    // Members may not delete; the administrator's DELETE is not tried (it would
                    // remove the world this test stands on). A bulk delete names its issues.
                    let url = if path.ends_with("/issues/") { format!("{url}?id={}", w.i) } else { url.clone() };
                    let (s, _) = call(method.clone(), url, Some(member.clone())).await;
                    assert_eq!(s, StatusCode::FORBIDDEN, "{}", what("member", s));
                }
            }
        }
        t
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_needs_a_session_and_shows_only_what_the_user_sees() {
    each_db(|t| async move {
        let (w, admin, member, outsider) = world(&t).await;
        let anon = client();
        let pages: Vec<String> = leptos_axum::generate_route_list(faultline::app::App)
            .iter()
            .map(|r| r.path().to_string())
            .filter(|p| p != "/setup" && p != "/login")
            .collect();
        assert!(pages.len() >= 10, "{pages:?}");
        for page in &pages {
            let id = if page.starts_with("/projects") { w.p.to_string() } else { w.i.to_string() };
            let path =
                page.replace("{id}", &id).replace(":id", &id).replace("{event_id}", &w.e).replace(":event_id", &w.e);
            let url = format!("{}{path}", w.base);
            let r = anon.get(&url).send().await.unwrap();
            assert!(r.status().is_redirection(), "{path} anonymous: {}", r.status());
            let r = outsider.get(&url).send().await.unwrap();
            let s = r.status();
            let html = r.text().await.unwrap();
            assert!(s.as_u16() < 500, "{path} outsider: {s}");
            assert!(
                !html.contains("secret value of SecretOfP") && !html.contains("SecretOfP"),
                "{path} outsider sees P"
            );
            for c in [&member, &admin] {
                let r = c.get(&url).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{path}");
            }
        }
        t
    })
    .await;
}
