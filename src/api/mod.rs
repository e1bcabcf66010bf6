//! The JSON API under `/api/0/`, shaped like Sentry's web API so that tools written for
//! Sentry (GitLab's Sentry integration, sentry-cli, scripts) work against Faultline.
//!
//! Authentication is an API token (`Authorization: Bearer flt_…`) and nothing else: no
//! session cookie is read here, so this router sits outside the session and CSRF layers
//! (a bearer token is not an ambient credential a cross-site page could ride on). The
//! token's user sees what they see in the UI, through the same triage layer: a project,
//! issue or event they may not see is answered 404, exactly like one that does not exist.
//! Errors are Sentry's: `{"detail": "..."}`.

mod events;
mod issues;
mod projects;
pub mod releases;
pub mod serialize;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::{Json, Router};

use crate::error::AppError;
use crate::model::{Issue, Org, Project, User};
use crate::server::AppState;
use crate::store::Db;

/// The API's paths (the route table `router` serves), for tests that cover every route.
pub fn paths() -> Vec<&'static str> {
    routes().into_iter().map(|(path, _)| path).collect()
}

/// The route table: each path with its handlers.
fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/0/", get(projects::index)),
        ("/api/0/projects/", get(projects::list)),
        ("/api/0/organizations/", get(projects::organizations)),
        ("/api/0/organizations/{org}/", get(projects::organization)),
        ("/api/0/organizations/{org}/projects/", get(projects::organization_projects)),
        ("/api/0/projects/{org}/{project}/", get(projects::detail)),
        (
            "/api/0/projects/{org}/{project}/issues/",
            get(issues::list).put(issues::bulk_update).delete(issues::bulk_delete),
        ),
        ("/api/0/projects/{org}/{project}/events/{event_id}/", get(events::project_event)),
        ("/api/0/projects/{org}/{project}/events/{event_id}/committers/", get(events::committers)),
        ("/api/0/projects/{org}/{project}/releases/", get(releases::project_list)),
        ("/api/0/organizations/{org}/repos/", get(releases::repos)),
        ("/api/0/organizations/{org}/releases/", post(releases::create)),
        ("/api/0/organizations/{org}/releases/{version}/", get(releases::detail).put(releases::update)),
        ("/api/0/organizations/{org}/releases/{version}/previous-with-commits/", get(releases::previous_with_commits)),
        ("/api/0/organizations/{org}/releases/{version}/commits/", get(releases::commits)),
        (
            "/api/0/organizations/{org}/releases/{version}/deploys/",
            get(releases::deploys).post(releases::create_deploy),
        ),
        ("/api/0/issues/{id}/", get(issues::detail).put(issues::update).delete(issues::delete)),
        ("/api/0/issues/{id}/events/", get(events::list)),
        ("/api/0/issues/{id}/events/{event_id}/", get(events::issue_event)),
        // Newer Sentry clients put issues under their organization.
        ("/api/0/organizations/{org}/issues/{id}/", get(issues::detail).put(issues::update).delete(issues::delete)),
        ("/api/0/organizations/{org}/issues/{id}/events/", get(events::list)),
        ("/api/0/organizations/{org}/issues/{id}/events/{event_id}/", get(events::issue_event)),
    ]
}

/// The API's routes, each with and without the trailing slash (Sentry's URLs have it).
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (path, route) in routes() {
        router = router.route(path, route.clone()).route(path.trim_end_matches('/'), route);
    }
    router
        .route("/api/0/{*rest}", any(not_found))
        // Where Sentry's web UI shows an issue, and so where GitLab's "View in Sentry" leads.
        .route("/{org}/{project}/issues/{id}", get(issue_page))
        .route("/{org}/{project}/issues/{id}/", get(issue_page))
        .with_state(state)
}

/// Sentry's issue page URL → Faultline's (which asks for a session as every page does).
async fn issue_page(Path(p): Path<HashMap<String, String>>) -> Response {
    match param(&p, "id").parse::<i64>() {
        Ok(id) => Redirect::to(&format!("/issues/{id}")).into_response(),
        Err(_) => ApiError::NotFound.into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// An API error, answered as Sentry does: the status and `{"detail": "..."}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, a malformed `Authorization` header or an unknown token (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The user sees the thing but may not do this to it (403).
    #[error("You do not have permission to perform this action.")]
    Forbidden,
    /// Missing, or not visible to the token's user (404): the two are not told apart.
    #[error("The requested resource does not exist")]
    NotFound,
    /// A bad parameter or body (400); the text says which.
    #[error("{0}")]
    BadRequest(String),
    /// The database is busy (503 with `Retry-After`).
    #[error("The server is busy; retry in a moment.")]
    Busy,
    #[error("Internal Error")]
    Internal,
}

pub const NO_CREDENTIALS: &str = "Authentication credentials were not provided.";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut res = (status, Json(serde_json::json!({ "detail": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"api\""));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        res
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotSignedIn => ApiError::Unauthorized(NO_CREDENTIALS),
            AppError::Forbidden => ApiError::Forbidden,
            AppError::NotFound => ApiError::NotFound,
            AppError::Invalid(m) => ApiError::BadRequest(m),
            AppError::Busy => ApiError::Busy,
            AppError::Internal | AppError::Transport(_) => ApiError::Internal,
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::from(e).into()
    }
}

/// The user of the request's API token.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match token_user(&state.db, &parts.headers).await? {
            Some(user) => Ok(ApiUser(user)),
            None => Err(ApiError::Unauthorized(NO_CREDENTIALS)),
        }
    }
}

/// The user of the `Authorization: Bearer <token>` header; `None` without one. A malformed
/// header or an unknown token is an error, with Sentry's words.
pub async fn token_user(db: &Db, headers: &HeaderMap) -> Result<Option<User>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("Invalid token header."))?;
    let parts: Vec<&str> = value.split_whitespace().collect();
    // Like Sentry, only the `Bearer` scheme (any case) carries a token.
    if !parts.first().is_some_and(|s| s.eq_ignore_ascii_case("bearer")) {
        return Ok(None);
    }
    let token = match parts.as_slice() {
        [_] => return Err(ApiError::Unauthorized("Invalid token header. No credentials provided.")),
        [_, token] => *token,
        _ => return Err(ApiError::Unauthorized("Invalid token header. Token string should not contain spaces.")),
    };
    match db.user_by_api_token(&crate::auth::token_digest(token)).await? {
        Some(user) => Ok(Some(user)),
        None => Err(ApiError::Unauthorized("Invalid token")),
    }
}

/// A request's query string, decoded; keys may repeat (`?id=1&id=2`).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `limit` (or `per_page`): `default` when absent, at most 100.
    pub fn limit(&self, default: i64) -> Result<i64, ApiError> {
        match self.get("limit").or_else(|| self.get("per_page")) {
            None | Some("") => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= 1 => Ok(n.min(100)),
                _ => Err(ApiError::BadRequest(format!("Invalid limit: {v:?} is not a positive number."))),
            },
        }
    }

    /// This page's URL with another cursor, everything else kept.
    fn with_cursor(&self, public_url: &str, path: &str, cursor: &str) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.iter().filter(|(k, _)| k != "cursor") {
            query.append_pair(k, v);
        }
        query.append_pair("cursor", cursor);
        format!("{}{path}?{}", public_url.trim_end_matches('/'), query.finish())
    }
}

/// A neighbouring page for the `Link` header: its cursor and whether it has results.
pub struct PageLink {
    pub cursor: String,
    pub results: bool,
}

/// Sentry's pagination header, which GitLab and sentry-cli read:
/// `<url>; rel="previous"; results="false"; cursor="...", <url>; rel="next"; results="true"; cursor="..."`.
pub fn link_header(public_url: &str, path: &str, params: &Params, previous: &PageLink, next: &PageLink) -> String {
    [("previous", previous), ("next", next)]
        .iter()
        .map(|(rel, link)| {
            format!(
                "<{}>; rel=\"{rel}\"; results=\"{}\"; cursor=\"{}\"",
                params.with_cursor(public_url, path, &link.cursor),
                link.results,
                link.cursor
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A JSON answer with the pagination headers.
pub fn paged(body: serde_json::Value, link: String, hits: Option<i64>) -> Response {
    let mut res = Json(body).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&link) {
        h.insert(header::LINK, v);
    }
    if let Some(hits) = hits {
        h.insert("x-hits", HeaderValue::from(hits));
        h.insert("x-max-hits", HeaderValue::from(crate::store::triage::MAX_HITS));
    }
    res
}

/// A path parameter (`{org}`, `{id}`...), present by construction of the routes.
pub fn param<'a>(params: &'a HashMap<String, String>, key: &str) -> &'a str {
    params.get(key).map(String::as_str).unwrap_or("")
}

/// Whether `wanted` (a slug or an id, as Sentry's URLs accept both) names the organization.
pub(crate) fn is_org(project: &Project, wanted: &str) -> bool {
    project.org_slug == wanted || project.org_id.to_string() == wanted
}

/// The project `{org}/{project}` (slugs or ids) among those the user may see, and its
/// organization.
pub async fn find_project(db: &Db, user: &User, org: &str, project: &str) -> Result<(Project, Org), ApiError> {
    let visible: Vec<Project> =
        crate::access::projects(db, user, None).await?.into_iter().filter(|p| is_org(p, org)).collect();
    let found = visible
        .iter()
        .position(|p| p.slug == project)
        .or_else(|| visible.iter().position(|p| p.id.to_string() == project))
        .ok_or(ApiError::NotFound)?;
    let project = visible.into_iter().nth(found).ok_or(ApiError::NotFound)?;
    let org = db.org_by_slug(&project.org_slug).await?.ok_or(ApiError::NotFound)?;
    Ok((project, org))
}

/// The issue `{id}` if the user may see it (and it is in `org` when the URL names one).
pub async fn find_issue(db: &Db, user: &User, id: &str, org: Option<&str>) -> Result<(Issue, Project), ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let (_, issue) = crate::access::issue(db, user, id, crate::access::Need::See).await?;
    let project = db.project_by_id(issue.project_id).await?.ok_or(ApiError::NotFound)?;
    if org.is_some_and(|org| !is_org(&project, org)) {
        return Err(ApiError::NotFound);
    }
    Ok((issue, project))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn answer(router: &Router, path: &str) -> (StatusCode, String) {
        let res = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let location = res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
        (res.status(), location.unwrap_or_default())
    }

    /// Sentry's issue page URL sits beside the site's own pages (`/issues/{id}/events/...`,
    /// `/projects/{id}/settings`) without taking their paths.
    #[tokio::test]
    async fn sentry_issue_links_redirect_without_shadowing_pages() {
        let page = || get(|| async { "page" });
        let site: Router = Router::new()
            .route("/issues/{id}/events/{event_id}", page())
            .route("/projects/{id}/settings", page())
            .route("/pkg/{file}", page());
        let api: Router = Router::new()
            .route("/{org}/{project}/issues/{id}", get(issue_page))
            .route("/{org}/{project}/issues/{id}/", get(issue_page));
        let app = api.merge(site);
        assert_eq!(answer(&app, "/acme/backend/issues/42/").await, (StatusCode::SEE_OTHER, "/issues/42".into()));
        assert_eq!(answer(&app, "/acme/backend/issues/42").await, (StatusCode::SEE_OTHER, "/issues/42".into()));
        assert_eq!(answer(&app, "/acme/backend/issues/x").await.0, StatusCode::NOT_FOUND);
        assert_eq!(answer(&app, "/issues/42/events/abc").await.0, StatusCode::OK);
        assert_eq!(answer(&app, "/projects/3/settings").await.0, StatusCode::OK);
        assert_eq!(answer(&app, "/pkg/faultline.js").await.0, StatusCode::OK);
    }
}
