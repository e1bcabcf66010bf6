//! `/api/0/` (who am I), organizations and projects.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::{find_project, param, serialize, token_user, ApiError, ApiUser};
use crate::model::{Org, Project, User};
use crate::server::AppState;

/// `GET /api/0/`: the API version and, with a token, its user (what `sentry-cli info` shows).
pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let user = token_user(&state.db, &headers).await?;
    Ok(Json(json!({
        "version": "0",
        "auth": user.as_ref().map(|_| json!({"scopes": [
            "org:read", "project:read", "project:write", "event:read", "event:write", "event:admin",
        ]})),
        "user": user.as_ref().map(serialize::user),
    })))
}

/// The projects the user sees, each with its organization.
async fn visible(state: &AppState, user: &User) -> Result<Vec<(Project, Org)>, ApiError> {
    let projects = crate::access::projects(&state.db, user, None).await?;
    let orgs: HashMap<i64, Org> = state.db.list_orgs().await?.into_iter().map(|o| (o.id, o)).collect();
    Ok(projects.into_iter().filter_map(|p| orgs.get(&p.org_id).cloned().map(|o| (p, o))).collect())
}

/// `GET /api/0/projects/`: every project the token's user may see.
pub async fn list(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Value>, ApiError> {
    let projects = visible(&state, &user).await?;
    Ok(Json(Value::Array(projects.iter().map(|(p, o)| serialize::project(p, Some(o), &state.public_url)).collect())))
}

/// The organizations the user sees: all for an administrator, else those of their projects.
async fn visible_orgs(state: &AppState, user: &User) -> Result<Vec<Org>, ApiError> {
    if user.is_admin {
        return Ok(state.db.list_orgs().await?);
    }
    let mut orgs: Vec<Org> = visible(state, user).await?.into_iter().map(|(_, o)| o).collect();
    orgs.sort_by(|a, b| a.slug.cmp(&b.slug));
    orgs.dedup_by_key(|o| o.id);
    Ok(orgs)
}

fn find_org(orgs: Vec<Org>, wanted: &str) -> Result<Org, ApiError> {
    orgs.into_iter().find(|o| o.slug == wanted || o.id.to_string() == wanted).ok_or(ApiError::NotFound)
}

/// `GET /api/0/organizations/`.
pub async fn organizations(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Value>, ApiError> {
    let orgs = visible_orgs(&state, &user).await?;
    Ok(Json(Value::Array(orgs.iter().map(|o| serialize::organization(o, &state.public_url)).collect())))
}

/// `GET /api/0/organizations/{org}/`: 404 for an organization the user has nothing in.
pub async fn organization(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let org = find_org(visible_orgs(&state, &user).await?, param(&p, "org"))?;
    Ok(Json(serialize::organization(&org, &state.public_url)))
}

/// `GET /api/0/organizations/{org}/projects/`: the organization's projects the user sees.
pub async fn organization_projects(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let org = find_org(visible_orgs(&state, &user).await?, param(&p, "org"))?;
    let projects = visible(&state, &user).await?;
    Ok(Json(Value::Array(
        projects
            .iter()
            .filter(|(p, _)| p.org_id == org.id)
            .map(|(p, o)| serialize::project(p, Some(o), &state.public_url))
            .collect(),
    )))
}

/// `GET /api/0/projects/{org}/{project}/`.
pub async fn detail(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (project, org) = find_project(&state.db, &user, param(&p, "org"), param(&p, "project")).await?;
    Ok(Json(serialize::project(&project, Some(&org), &state.public_url)))
}
