//! Releases, as `sentry-cli` drives them: `releases new`, `set-commits` (a repository
//! reference or a commit list), `finalize`, `deploys new`, `releases list` and `info`, and
//! the repository list `set-commits --commit` looks its repository up in.
//!
//! Sentry keeps a release per organization with a list of projects; Faultline keeps one row
//! per project. A request names the organization and the version; it acts on the rows of
//! the projects the token's user sees in that organization (or of the `projects` it names).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::serialize::{self, ReleasePart};
use super::{find_project, is_org, param, ApiError, ApiUser};
use crate::model::{repository_name, Project, ReleaseCommit, User};
use crate::protocol::event::parse_timestamp;
use crate::server::AppState;
use crate::store::releases::{Release, ReleaseUpdate};
use crate::store::Db;

/// The projects of organization `org` that the user sees.
async fn org_projects(db: &Db, user: &User, org: &str) -> Result<Vec<Project>, ApiError> {
    let projects: Vec<Project> =
        crate::access::projects(db, user, None).await?.into_iter().filter(|p| is_org(p, org)).collect();
    if projects.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(projects)
}

/// A JSON object body (an empty body is `{}`).
fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::BadRequest("The body must be a JSON object.".into())),
        Err(e) => Err(ApiError::BadRequest(format!("JSON parse error - {e}"))),
    }
}

/// Sentry's rules for a version: not empty, at most 200 characters, no line breaks, tabs or
/// slashes, not `.`, `..` or `latest`.
fn check_version(v: &str) -> Result<(), ApiError> {
    let bad = v.trim().is_empty()
        || v.chars().count() > 200
        || v.chars().any(|c| c.is_control() || c == '/' || c == '\\')
        || matches!(v, "." | ".." | "latest");
    if bad {
        return Err(ApiError::BadRequest(format!(
            "Invalid release version {v:?}: 1 to 200 characters, no slashes, tabs or line breaks, not \".\", \"..\" or \"latest\"."
        )));
    }
    Ok(())
}

/// An optional string field.
fn text(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ApiError::BadRequest(format!("{key} must be a string."))),
    }
}

/// An optional date field (RFC 3339 or epoch seconds).
fn date(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_timestamp(v)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{key} must be a date (ISO 8601)."))),
    }
}

/// The projects a body names (`projects`: slugs or ids), among `visible`; all of `visible`
/// when it names none and `required` is false.
fn named_projects(
    obj: &serde_json::Map<String, Value>,
    visible: &[Project],
    required: bool,
) -> Result<Vec<Project>, ApiError> {
    let names: Vec<String> = match obj.get("projects") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(ApiError::BadRequest("projects must be a list of project slugs.".into())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ApiError::BadRequest("projects must be a list of project slugs.".into())),
    };
    if names.is_empty() {
        if required {
            return Err(ApiError::BadRequest("Name at least one project (projects).".into()));
        }
        return Ok(visible.to_vec());
    }
    names
        .iter()
        .map(|n| {
            visible.iter().find(|p| &p.slug == n || &p.id.to_string() == n).cloned().ok_or_else(|| {
                ApiError::BadRequest(format!("Invalid project slugs: {n:?} is not a project you can see."))
            })
        })
        .collect()
}

/// What `refs` and `commits` of a body ask for.
fn commit_changes(obj: &serde_json::Map<String, Value>) -> Result<ReleaseUpdate, ApiError> {
    let mut u =
        ReleaseUpdate { url: text(obj, "url")?, date_released: date(obj, "dateReleased")?, ..Default::default() };
    if let Some(refs) = obj.get("refs").filter(|v| !v.is_null()) {
        let refs = refs.as_array().ok_or_else(|| ApiError::BadRequest("refs must be a list.".into()))?;
        // Faultline keeps one repository per project: the first reference.
        if let Some(r) = refs.first() {
            let r = r.as_object().ok_or_else(|| ApiError::BadRequest("Each ref must be an object.".into()))?;
            let repository =
                text(r, "repository")?.ok_or_else(|| ApiError::BadRequest("Each ref needs a repository.".into()))?;
            let commit = text(r, "commit")?.ok_or_else(|| ApiError::BadRequest("Each ref needs a commit.".into()))?;
            u.reference = Some((repository, commit, text(r, "previousCommit")?));
        }
    }
    if let Some(commits) = obj.get("commits").filter(|v| !v.is_null()) {
        let commits = commits.as_array().ok_or_else(|| ApiError::BadRequest("commits must be a list.".into()))?;
        let mut out = Vec::new();
        for c in commits.iter().take(1000) {
            let c = c.as_object().ok_or_else(|| ApiError::BadRequest("Each commit must be an object.".into()))?;
            let sha = text(c, "id")?.ok_or_else(|| ApiError::BadRequest("Each commit needs an id.".into()))?;
            let files = match c.get("patch_set") {
                Some(Value::Array(files)) => files
                    .iter()
                    .filter_map(|f| {
                        let path = f.get("path")?.as_str()?.to_string();
                        let kind = f.get("type").and_then(Value::as_str).unwrap_or("M").to_string();
                        Some((path, kind))
                    })
                    .collect(),
                _ => vec![],
            };
            out.push(ReleaseCommit {
                sha,
                repository: text(c, "repository")?,
                author_name: text(c, "author_name")?,
                author_email: text(c, "author_email")?,
                message: text(c, "message")?,
                committed_at: date(c, "timestamp")?,
                files,
            });
        }
        u.commits = Some(out);
    }
    Ok(u)
}

/// The release `version` in the given projects, with what its answer needs.
async fn answer(db: &Db, rows: &[(Project, Release)]) -> Result<Value, ApiError> {
    let mut summaries = Vec::new();
    let mut deploys = Vec::new();
    let mut commits = Vec::new();
    for (p, r) in rows {
        summaries.push(db.release_summaries(p.id).await?.into_iter().find(|s| s.version == r.version));
        deploys.push(db.deploys(r.id).await?.into_iter().next());
        commits.push(db.release_commits(r.id).await?.into_iter().next());
    }
    let parts: Vec<ReleasePart> = rows
        .iter()
        .enumerate()
        .map(|(i, (project, release))| ReleasePart {
            project,
            release,
            summary: summaries[i].as_ref(),
            last_deploy: deploys[i].as_ref(),
            last_commit: commits[i].as_ref(),
        })
        .collect();
    Ok(serialize::registered_release(&parts))
}

/// The registered rows of `version` among `projects`; 404 when there are none.
async fn rows_of(db: &Db, projects: &[Project], version: &str) -> Result<Vec<(Project, Release)>, ApiError> {
    let mut rows = Vec::new();
    for p in projects {
        if let Some(r) = db.release(p.id, version).await? {
            rows.push((p.clone(), r));
        }
    }
    if rows.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(rows)
}

/// `GET /api/0/organizations/{org}/repos/`: the repositories the organization's projects are
/// linked to, named `owner/name` as on GitHub or GitLab (what `set-commits --commit` names).
pub async fn repos(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let projects = org_projects(&state.db, &user, param(&p, "org")).await?;
    let mut out: Vec<Value> = Vec::new();
    for project in &projects {
        let Some(url) = project.repository_url.as_deref() else { continue };
        let Some((name, provider)) = repository_name(url) else { continue };
        if out.iter().any(|r| r["name"] == name) {
            continue;
        }
        out.push(json!({
            "id": project.id.to_string(),
            "name": name,
            "url": url,
            "provider": {"id": format!("integrations:{provider}"), "name": provider},
            "status": "active",
            "dateCreated": serialize::iso(project.created_at),
            "integrationId": null,
            "externalSlug": name,
        }));
    }
    Ok(Json(Value::Array(out)))
}

/// `POST /api/0/organizations/{org}/releases/` (`sentry-cli releases new`): registers the
/// version in each named project. 201 when it is new in one of them, else 200.
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let db = &state.db;
    // Access first: an organization the user does not see answers 404 whatever the body.
    let visible = org_projects(db, &user, param(&p, "org")).await?;
    let obj = object(&body)?;
    let version = text(&obj, "version")?.ok_or_else(|| ApiError::BadRequest("version is required.".into()))?;
    check_version(&version)?;
    let projects = named_projects(&obj, &visible, true)?;
    let changes = commit_changes(&obj)?;
    let mut created = false;
    let mut rows = Vec::new();
    for project in projects {
        created |= db.release(project.id, &version).await?.is_none();
        let r = db.upsert_release(project.id, &version, changes.url.as_deref(), changes.date_released).await?;
        db.update_release(r.id, &changes).await?;
        let r = db.release(project.id, &version).await?.ok_or(ApiError::Internal)?;
        rows.push((project, r));
    }
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(answer(db, &rows).await?)).into_response())
}

/// `GET /api/0/organizations/{org}/releases/{version}/` (`sentry-cli releases info`).
pub async fn detail(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let projects = org_projects(&state.db, &user, param(&p, "org")).await?;
    let rows = rows_of(&state.db, &projects, param(&p, "version")).await?;
    Ok(Json(answer(&state.db, &rows).await?))
}

/// `PUT /api/0/organizations/{org}/releases/{version}/`: `set-commits` (`refs` or
/// `commits`), `finalize` (`dateReleased`), a URL.
pub async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let obj = object(&body)?;
    let visible = org_projects(db, &user, param(&p, "org")).await?;
    let projects = named_projects(&obj, &visible, false)?;
    let changes = commit_changes(&obj)?;
    let rows = rows_of(db, &projects, param(&p, "version")).await?;
    for (_, r) in &rows {
        db.update_release(r.id, &changes).await?;
    }
    let rows = rows_of(db, &projects, param(&p, "version")).await?;
    Ok(Json(answer(db, &rows).await?))
}

/// `GET …/releases/{version}/previous-with-commits/`: the release before this one that has
/// commits, or `{}` (sentry-cli's `set-commits --local` lists the commits since then).
pub async fn previous_with_commits(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let projects = org_projects(db, &user, param(&p, "org")).await?;
    let rows = rows_of(db, &projects, param(&p, "version")).await?;
    for (project, r) in &rows {
        if let Some(previous) = db.previous_release_with_commits(r).await? {
            return Ok(Json(answer(db, &[(project.clone(), previous)]).await?));
        }
    }
    Ok(Json(json!({})))
}

/// `GET …/releases/{version}/commits/`: the release's commits, newest first.
pub async fn commits(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let projects = org_projects(db, &user, param(&p, "org")).await?;
    let rows = rows_of(db, &projects, param(&p, "version")).await?;
    let mut out = Vec::new();
    for (_, r) in &rows {
        for c in db.release_commits(r.id).await? {
            let v = serialize::commit(&c);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    Ok(Json(Value::Array(out)))
}

/// `GET …/releases/{version}/deploys/`.
pub async fn deploys(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let projects = org_projects(db, &user, param(&p, "org")).await?;
    let rows = rows_of(db, &projects, param(&p, "version")).await?;
    let mut out = Vec::new();
    for (_, r) in &rows {
        out.extend(db.deploys(r.id).await?.iter().map(serialize::deploy));
    }
    Ok(Json(Value::Array(out)))
}

/// `POST …/releases/{version}/deploys/` (`sentry-cli deploys new -e ENV`): a deploy of the
/// release in each of its projects (or those named).
pub async fn create_deploy(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let db = &state.db;
    let visible = org_projects(db, &user, param(&p, "org")).await?;
    let obj = object(&body)?;
    let environment =
        text(&obj, "environment")?.ok_or_else(|| ApiError::BadRequest("environment is required.".into()))?;
    let projects = named_projects(&obj, &visible, false)?;
    let rows = rows_of(db, &projects, param(&p, "version")).await?;
    let (name, url) = (text(&obj, "name")?, text(&obj, "url")?);
    let (started, finished) = (date(&obj, "dateStarted")?, date(&obj, "dateFinished")?);
    let mut first = None;
    for (_, r) in &rows {
        let d = db.add_deploy(r.id, &environment, name.as_deref(), url.as_deref(), started, finished).await?;
        first.get_or_insert(d);
    }
    let d = first.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(serialize::deploy(&d))).into_response())
}

/// `GET /api/0/projects/{org}/{project}/releases/` (`sentry-cli releases list`): the
/// project's registered releases, newest first.
pub async fn project_list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let (project, _) = find_project(db, &user, param(&p, "org"), param(&p, "project")).await?;
    let summaries = db.release_summaries(project.id).await?;
    let mut out = Vec::new();
    for r in db.releases(project.id).await? {
        let (deploy, commit) =
            (db.deploys(r.id).await?.into_iter().next(), db.release_commits(r.id).await?.into_iter().next());
        out.push(serialize::registered_release(&[ReleasePart {
            project: &project,
            release: &r,
            summary: summaries.iter().find(|s| s.version == r.version),
            last_deploy: deploy.as_ref(),
            last_commit: commit.as_ref(),
        }]));
    }
    Ok(Json(Value::Array(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(check_version("shop@1.2.0").is_ok());
        assert!(check_version("2f1a0c9e").is_ok());
        for bad in ["", " ", "latest", ".", "..", "a/b", "a\nb", &"x".repeat(201)] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }
}
