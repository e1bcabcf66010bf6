//! The web server: one axum router for the pages, the server functions and the static
//! assets, with the session, CSRF and security-header layers around it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::app::{shell, App};
use crate::cli::Config;
use crate::model::User;
use crate::store::{Db, SessionStore};

/// The prefix of every server function's URL (kept clear of the Sentry `/api/` namespace).
pub const SERVER_FN_PREFIX: &str = "/_fn/";
const SESSION_USER_ID: &str = "user_id";
/// The user's session epoch when this session signed in (see `Db::end_sessions`).
const SESSION_EPOCH: &str = "epoch";

/// What every handler and server function can reach (server functions via `expect_context`).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub public_url: Arc<str>,
    /// Whether X-Forwarded-For names the client (see `--trust-proxy`).
    pub trust_proxy: bool,
    /// Becomes true once a user exists; never goes back, so it can be cached.
    has_users: Arc<AtomicBool>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(db: Db, public_url: &str, site_addr: SocketAddr) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("faultline")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .site_addr(site_addr)
            .build();
        AppState {
            leptos_options,
            db,
            public_url: public_url.into(),
            trust_proxy: false,
            has_users: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the first administrator exists yet.
    pub async fn has_users(&self) -> bool {
        if self.has_users.load(Ordering::Relaxed) {
            return true;
        }
        let yes = self.db.count_users().await.map(|n| n > 0).unwrap_or(false);
        self.has_users.store(yes, Ordering::Relaxed);
        yes
    }
}

/// The signed-in user of this session, if the session names one that still exists and
/// was signed in since the user's sessions were last ended (a password change, "sign out
/// everywhere").
pub async fn session_user(db: &Db, session: &Session) -> Option<User> {
    let id = session.get::<i64>(SESSION_USER_ID).await.ok().flatten()?;
    let epoch = session.get::<i64>(SESSION_EPOCH).await.ok().flatten().unwrap_or(0);
    db.session_user(id, epoch).await.ok().flatten()
}

/// Keeps this session signed in at the user's new epoch (after the user ended the others),
/// under a new id, so that a stolen copy of its cookie ends with them.
pub async fn keep_session(session: &Session, epoch: i64) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SESSION_EPOCH, epoch).await
}

/// The client's address: the peer, or with `trust_proxy` the last X-Forwarded-For entry
/// (the one our own proxy added).
pub fn client_ip(headers: &http::HeaderMap, peer: Option<SocketAddr>, trust_proxy: bool) -> String {
    // With several X-Forwarded-For lines, the last is our proxy's; its last entry is the
    // address that proxy saw. Anything earlier may be forged by the client.
    let forwarded = trust_proxy
        .then(|| headers.get_all("x-forwarded-for").iter().next_back().and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(|ip| ip.trim().to_string())
        .filter(|ip| !ip.is_empty());
    forwarded.or_else(|| peer.map(|p| p.ip().to_string())).unwrap_or_else(|| "unknown".into())
}

/// Signs `user` in: a new session id (against fixation), then the user id and their
/// session epoch in the session.
pub async fn start_session(db: &Db, session: &Session, user: &User) -> Result<(), crate::error::AppError> {
    let epoch = db.session_epoch(user.id).await?;
    let failed = |e: tower_sessions::session::Error| {
        tracing::error!("session: {e}");
        crate::error::AppError::Internal
    };
    session.cycle_id().await.map_err(failed)?;
    session.insert(SESSION_USER_ID, user.id).await.map_err(failed)?;
    session.insert(SESSION_EPOCH, epoch).await.map_err(failed)
}

pub fn router(state: AppState, secure_cookies: bool) -> Router {
    let store = SessionStore::new(state.db.clone());
    let cookie_name = if secure_cookies { "__Host-faultline_session" } else { "faultline_session" };
    let sessions = SessionManagerLayer::new(store)
        .with_name(cookie_name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));

    let ingest =
        crate::ingest::router(crate::ingest::Ingest::new(state.db.clone(), state.trust_proxy, Some(&state.public_url)));
    let https = state.public_url.starts_with("https://");
    let api = crate::api::router(state.clone()).layer(middleware::from_fn_with_state(https, security_headers));
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let site = Router::new()
        .route("/issues/{id}/events/{event_id}/json", axum::routing::get(crate::pages::issue::event_json_file))
        .leptos_routes_with_context(&state, routes, || {}, move || shell(options.clone()))
        .route("/_live/issues", axum::routing::get(crate::live::issues_stream))
        .fallback(static_asset)
        .layer(middleware::from_fn_with_state(state.clone(), page_guard))
        .layer(middleware::from_fn_with_state(state.clone(), csrf_guard))
        .layer(sessions)
        .layer(middleware::from_fn(server_fn_status))
        .layer(middleware::from_fn_with_state(https, security_headers))
        .with_state(state);
    // Ingestion sits outside the session and CSRF layers: SDKs have neither cookies nor a
    // same-origin page, and it sets its own (CORS) headers. So does the JSON API: it reads
    // no cookie, only a bearer token, which a cross-site page cannot make a browser send.
    let app = ingest.merge(api).merge(site);
    // Rewrites a DSN path prefix on ingestion paths before routing (a layer on a router runs
    // after its routing, so the whole app sits in an outer router's fallback).
    Router::new().fallback_service(app).layer(middleware::from_fn(crate::ingest::strip_path_prefix))
}

pub async fn serve(db: Db, config: &Config) -> anyhow::Result<()> {
    let public_url = config.public_url();
    let secure = public_url.starts_with("https://");
    let mut state = AppState::new(db.clone(), &public_url, config.listen);
    state.trust_proxy = config.trust_proxy;

    let cleanup = SessionStore::new(db.clone());
    let cleanup_db = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = cleanup.delete_expired().await {
                tracing::warn!("deleting expired sessions: {e}");
            }
            let stale = crate::store::now_ms() - crate::auth::FAILURE_WINDOW.as_millis() as i64;
            if let Err(e) = cleanup_db.delete_stale_login_failures(stale).await {
                tracing::warn!("deleting stale login counters: {e}");
            }
        }
    });

    let app = router(state, secure);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!("Faultline listening on http://{} (public URL {public_url}, {} database)", config.listen, db.kind());
    // Behind a proxy every connection comes from the proxy: no per-address cap then.
    let mut limits = crate::listen::Limits::default();
    if config.trust_proxy {
        limits.max_per_address = limits.max_connections;
    }
    crate::listen::serve(listener, app, limits, shutdown_signal()).await?;
    Ok(())
}

/// Ctrl-C or SIGTERM (what systemd and container runtimes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Paths that are not pages: server functions, the live stream, ingestion and APIs (each
/// authenticates itself), and the built site's files. Everything else is a page, whatever
/// its method and whatever its last segment looks like (`/issues/1.json` is a page path).
fn is_page(path: &str) -> bool {
    !(path.starts_with(SERVER_FN_PREFIX)
        || path.starts_with("/_live/")
        || path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || is_site_file(path))
}

/// A file of the built site (`public/`: the icon and the like), served to anyone.
fn is_site_file(path: &str) -> bool {
    let name = path.trim_start_matches('/');
    !name.is_empty() && !name.ends_with('/') && Site::get(name).is_some()
}

/// Every page needs a signed-in user, except the login page and, while no user exists,
/// the first-administrator page (the only page then).
async fn page_guard(State(state): State<AppState>, session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !is_page(&path) {
        return next.run(req).await;
    }
    if !state.has_users().await {
        return if path == "/setup" { next.run(req).await } else { Redirect::to("/setup").into_response() };
    }
    let user = session_user(&state.db, &session).await;
    match (path.as_str(), user) {
        ("/setup", _) => Redirect::to("/login").into_response(),
        ("/login", Some(_)) => Redirect::to("/").into_response(),
        ("/login", None) => next.run(req).await,
        (_, Some(_)) => next.run(req).await,
        (_, None) => {
            let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Redirect::to(&format!("/login?next={}", urlencode(target))).into_response()
        }
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Server functions have no CSRF protection of their own: refuse a state-changing request
/// whose `Origin` is not this site, or that the browser marks as cross-site. This site is the
/// public URL's origin, or the `Host` the request was sent to when that is the public host
/// or a loopback name (so a DNS-rebinding page cannot pass as same-origin).
async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(SERVER_FN_PREFIX) && req.method() != Method::GET && req.method() != Method::HEAD {
        let headers = req.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        let origin_ok = match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            Some(origin) => same_site(origin, host, &state.public_url),
            None => true,
        };
        let fetch_site_ok = !matches!(
            headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
            Some("cross-site") | Some("same-site")
        );
        if !(origin_ok && fetch_site_ok) {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

fn same_site(origin: &str, host: &str, public_url: &str) -> bool {
    let authority = |url: &str| url.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or("").to_string());
    let hostname = |authority: &str| match authority.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name.to_string(),
        _ => authority.to_string(),
    };
    let public = public_url.trim_end_matches('/');
    let public_origin = authority(public).map(|a| format!("{}://{a}", public.split("://").next().unwrap_or("")));
    if Some(origin) == public_origin.as_deref() {
        return true;
    }
    let public_host = authority(public).map(|a| hostname(&a)).unwrap_or_default();
    let known_host =
        matches!(hostname(host).as_str(), "localhost" | "127.0.0.1" | "[::1]") || hostname(host) == public_host;
    known_host && authority(origin).as_deref() == Some(host)
}

/// Server functions answer every error with HTTP 500 and the `AppError` as JSON; this gives
/// each error its real status (401, 403, 404, 400, 503 with `Retry-After`) so that a denial
/// or a validation error is never logged or monitored as a server fault. The browser's
/// server-function client reads the error the same way from any 4xx or 5xx.
async fn server_fn_status(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(SERVER_FN_PREFIX) {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 10).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong").into_response();
    };
    if let Ok(e) = serde_json::from_slice::<crate::error::AppError>(&bytes) {
        parts.status = e.status();
        if parts.status == StatusCode::SERVICE_UNAVAILABLE {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Headers on every response of the site and the API. A page brings its own CSP (with the
/// response's nonce, `app::App`); anything else gets one that lets nothing run.
async fn security_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(crate::html::NON_PAGE_CSP));
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// The site built by cargo-leptos (wasm, JS, CSS, `public/`), embedded in release builds
/// so that the binary alone is a deployment; debug builds read the same folder from disk.
#[derive(rust_embed::RustEmbed)]
#[folder = "target/site"]
#[allow_missing = true]
struct Site;

async fn static_asset(req: Request<Body>) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    let Some(file) = Site::get(path) else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let headers = req.headers();
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    // Release builds carry brotli and gzip copies made at build time (`--precompress`).
    let accepts = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (body, encoding) = ["br", "gzip"]
        .into_iter()
        .filter(|enc| accepts.contains(enc))
        .find_map(|enc| {
            let suffix = if enc == "gzip" { "gz" } else { enc };
            Site::get(&format!("{path}.{suffix}")).map(|f| (f.data, Some(enc)))
        })
        .unwrap_or((file.data, None));
    let mut res = (
        [
            (header::CONTENT_TYPE, file.metadata.mimetype().to_string()),
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::ETAG, etag),
            (header::VARY, "accept-encoding".to_string()),
        ],
        body,
    )
        .into_response();
    if let Some(enc) = encoding {
        res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_address() {
        let peer: Option<SocketAddr> = Some("10.0.0.1:5000".parse().unwrap());
        let mut headers = http::HeaderMap::new();
        assert_eq!(client_ip(&headers, peer, true), "10.0.0.1");
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1, 203.0.113.9"));
        // Only a trusted proxy's header counts, and only its own (last) entry.
        assert_eq!(client_ip(&headers, peer, false), "10.0.0.1");
        assert_eq!(client_ip(&headers, peer, true), "203.0.113.9");
        // A forged first line does not win over the proxy's own line.
        headers.append("x-forwarded-for", HeaderValue::from_static("198.51.100.7"));
        assert_eq!(client_ip(&headers, peer, true), "198.51.100.7");
        assert_eq!(client_ip(&http::HeaderMap::new(), None, false), "unknown");
    }

    #[test]
    fn same_site_origins() {
        let public = "https://errors.example.com";
        for (origin, host, ok) in [
            ("https://errors.example.com", "127.0.0.1:8000", true), // behind a proxy
            ("http://errors.example.com", "errors.example.com", true),
            ("http://127.0.0.1:8000", "127.0.0.1:8000", true),
            ("http://localhost:8000", "localhost:8000", true),
            ("http://evil.example:8000", "evil.example:8000", false), // DNS rebinding
            ("http://evil.example", "errors.example.com", false),
            ("http://localhost:9999", "localhost:8000", false),
        ] {
            assert_eq!(same_site(origin, host, public), ok, "{origin} -> {host}");
        }
    }

    #[test]
    fn pages_and_other_paths() {
        for (path, page) in [
            ("/", true),
            ("/projects/3", true),
            ("/_fn/login", false),
            ("/api/1/envelope/", false),
            ("/pkg/faultline.wasm", false),
            ("/issues/1.json", true),
            ("/projects/1/settings.", true),
            ("/nothing.svg", true),
        ] {
            assert_eq!(is_page(path), page, "{path}");
        }
    }
}
