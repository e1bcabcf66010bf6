//! The web server over real HTTP, on both databases: first-run setup, login and its
//! throttling, sessions, CSRF refusal and per-project access in server functions.

mod common;

use std::net::SocketAddr;

use common::{each_db, TestDb};
use faultline::server::{router, AppState};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

async fn start(t: &TestDb) -> String {
    common::start_server(t).await
}

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

/// Calls a server function the way a plain HTML form does.
async fn call(c: &Client, base: &str, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(format!("{base}/_fn/{name}")).form(form).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn setup_admin(c: &Client, base: &str) {
    let r = call(
        c,
        base,
        "create_first_admin",
        &[("email", "Admin@Example.com"), ("password", "correct horse battery"), ("organization", "Acme Corp")],
    )
    .await;
    // Server functions answer a redirect with a Location header for the client router.
    assert_eq!(location(&r), "/", "{:?}", r.status());
}

#[tokio::test]
async fn first_run_then_login_and_logout() {
    each_db(|t| async move {
        let base = start(&t).await;
        let c = client();
        // Before any user exists every page leads to the first-administrator page.
        let r = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(location(&r), "/setup");
        let r = c.get(format!("{base}/setup")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("Create administrator"));

        setup_admin(&c, &base).await;
        let org = t.db.org_by_slug("acme-corp").await.unwrap().expect("organization created");
        assert_eq!(org.name, "Acme Corp");
        // Signed in right away; setup is closed now.
        let r = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = c.get(format!("{base}/setup")).send().await.unwrap();
        assert_eq!(location(&r), "/login");
        let again = call(
            &c,
            &base,
            "create_first_admin",
            &[("email", "x@y.z"), ("password", "12345678"), ("organization", "X")],
        )
        .await;
        assert!(!again.status().is_success());
        assert!(again.text().await.unwrap().contains("already set up"));

        // Logout deletes the session on the server: the old cookie no longer works.
        let cookie = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(cookie.status(), StatusCode::OK);
        let r = call(&c, &base, "logout", &[]).await;
        assert_eq!(location(&r), "/login");
        let r = c.get(format!("{base}/projects/1")).send().await.unwrap();
        assert_eq!(location(&r), "/login?next=/projects/1");

        // A wrong password gets the generic answer; the right one signs in and returns to `next`.
        let bad = call(&c, &base, "login", &[("email", "admin@example.com"), ("password", "wrong password")]).await;
        assert!(!bad.status().is_success());
        assert!(bad.text().await.unwrap().contains("Invalid e-mail or password."));
        let unknown =
            call(&c, &base, "login", &[("email", "nobody@example.com"), ("password", "wrong password")]).await;
        assert!(unknown.text().await.unwrap().contains("Invalid e-mail or password."));
        let ok = call(
            &c,
            &base,
            "login",
            &[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/users")],
        )
        .await;
        assert_eq!(location(&ok), "/users");
        let set_cookie = ok.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(set_cookie.starts_with("faultline_session="), "{set_cookie}");
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        // No open redirect through `next`.
        let ok = call(
            &c,
            &base,
            "login",
            &[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "//evil.example/")],
        )
        .await;
        assert_eq!(location(&ok), "/");
        t
    })
    .await;
}

#[tokio::test]
async fn cross_site_server_function_calls_are_refused() {
    each_db(|t| async move {
        let base = start(&t).await;
        let c = client();
        setup_admin(&c, &base).await;
        let r = c
            .post(format!("{base}/_fn/create_org"))
            .header("origin", "http://evil.example")
            .form(&[("name", "Evil")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = c
            .post(format!("{base}/_fn/create_org"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("name", "Evil")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(t.db.org_by_slug("evil").await.unwrap().is_none());
        // The same request from our own origin goes through.
        let host = base.trim_start_matches("http://");
        let r = c
            .post(format!("{base}/_fn/create_org"))
            .header("origin", format!("http://{host}"))
            .form(&[("name", "Good")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{:?}", r.status());
        assert!(t.db.org_by_slug("good").await.unwrap().is_some());

        // Names are rendered as text, never as markup.
        let r = call(&c, &base, "create_org", &[("name", "<img src=x onerror=alert(1)>")]).await;
        assert!(r.status().is_success(), "{:?}", r.status());
        let page = c.get(format!("{base}/")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "{page}");
        assert!(!page.contains("<img src=x"), "{page}");
        t
    })
    .await;
}

#[tokio::test]
async fn members_only_reach_their_projects() {
    each_db(|t| async move {
        let base = start(&t).await;
        let admin = client();
        setup_admin(&admin, &base).await;
        let r =
            call(&admin, &base, "create_user", &[("email", "dev@example.com"), ("password", "dev password 1")]).await;
        assert!(r.status().is_success() || r.status().is_redirection(), "{:?}", r.text().await);
        let org = t.db.org_by_slug("acme-corp").await.unwrap().unwrap();
        let (backend, _) = t.db.create_project(org.id, "backend", "backend", "python").await.unwrap();
        let (web, _) = t.db.create_project(org.id, "web", "web", "node").await.unwrap();
        let r = call(
            &admin,
            &base,
            "grant_access",
            &[("project_id", &backend.id.to_string()), ("email", "dev@example.com"), ("role", "member")],
        )
        .await;
        assert!(r.status().is_success() || r.status().is_redirection());

        let dev = client();
        let r = call(&dev, &base, "login", &[("email", "dev@example.com"), ("password", "dev password 1")]).await;
        assert_eq!(location(&r), "/");
        let seen = call(&dev, &base, "project_settings", &[("project_id", &backend.id.to_string())]).await;
        assert_eq!(seen.status(), StatusCode::OK);
        let body = seen.text().await.unwrap();
        assert!(body.contains("backend") && body.contains("\"role\":\"Member\""), "{body}");
        // A member gets no member list and cannot manage keys.
        assert!(body.contains("\"members\":[]"), "{body}");
        let hidden = call(&dev, &base, "project_settings", &[("project_id", &web.id.to_string())]).await;
        assert!(!hidden.status().is_success());
        assert!(hidden.text().await.unwrap().contains("NotFound"));
        let r = call(&dev, &base, "rotate_key", &[("project_id", &backend.id.to_string()), ("key_id", "1")]).await;
        assert!(r.text().await.unwrap().contains("Forbidden"));
        let r = call(&dev, &base, "create_org", &[("name", "Mine")]).await;
        assert!(r.text().await.unwrap().contains("Forbidden"));
        let r = call(&dev, &base, "list_users", &[]).await;
        assert!(r.text().await.unwrap().contains("Forbidden"));
        let overview = call(&dev, &base, "overview", &[]).await.text().await.unwrap();
        assert!(overview.contains("backend") && !overview.contains("\"web\""), "{overview}");
        // Signed-out callers get nothing.
        let anon = client();
        let r = call(&anon, &base, "project_settings", &[("project_id", &backend.id.to_string())]).await;
        assert!(r.text().await.unwrap().contains("NotSignedIn"));
        t
    })
    .await;
}

#[tokio::test]
async fn repeated_login_failures_are_throttled() {
    each_db(|t| async move {
        let base = start(&t).await;
        let c = client();
        setup_admin(&c, &base).await;
        for _ in 0..faultline::auth::MAX_FAILURES {
            let r = call(&c, &base, "login", &[("email", "admin@example.com"), ("password", "guess guess")]).await;
            assert!(r.text().await.unwrap().contains("Invalid e-mail or password."));
        }
        // Now even the right password is refused until the window ends.
        let r =
            call(&c, &base, "login", &[("email", "admin@example.com"), ("password", "correct horse battery")]).await;
        assert_eq!(location(&r), "");
        assert!(r.text().await.unwrap().contains("Too many failed attempts"));
        t
    })
    .await;
}

#[tokio::test]
async fn static_assets_are_served_with_validators() {
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site/pkg/faultline.css");
    assert!(built.exists(), "build the site first: cargo leptos build");
    let t = TestDb::sqlite().await;
    let base = start(&t).await;
    let c = client();
    let r = c.get(format!("{base}/pkg/faultline.css")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/css");
    let etag = r.headers()["etag"].clone();
    assert!(r.text().await.unwrap().contains("--accent"));
    let r = c.get(format!("{base}/pkg/faultline.css")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c.get(format!("{base}/favicon.svg")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let r = c.get(format!("{base}/pkg/nothing.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Security headers on every answer.
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("object-src 'none'"));
    t.finish().await;
}

#[tokio::test]
async fn over_https_the_session_cookie_is_secure_and_host_bound() {
    let t = TestDb::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    // As behind a TLS-terminating proxy: the public URL is https.
    let app = router(AppState::new(t.db.clone(), "https://errors.example.com", addr), true);
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    let r = call(
        &client(),
        &base,
        "create_first_admin",
        &[("email", "admin@example.com"), ("password", "correct horse battery"), ("organization", "Acme")],
    )
    .await;
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-faultline_session="), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    t.finish().await;
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_throttle() {
    each_db(|t| async move {
        let base = start(&t).await;
        let c = client();
        setup_admin(&c, &base).await;
        let guesses = (0..25).map(|i| {
            let (c, base) = (c.clone(), base.clone());
            tokio::spawn(async move {
                let pw = format!("guess number {i}");
                call(&c, &base, "login", &[("email", "admin@example.com"), ("password", &pw)])
                    .await
                    .text()
                    .await
                    .unwrap()
            })
        });
        let mut checked = 0;
        for g in guesses {
            if g.await.unwrap().contains("Invalid e-mail or password.") {
                checked += 1;
            }
        }
        // Only the allowed number of passwords was actually tried; the rest were refused unchecked.
        assert_eq!(checked, faultline::auth::MAX_FAILURES, "passwords checked");
        t
    })
    .await;
}
