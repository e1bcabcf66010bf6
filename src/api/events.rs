//! Events: an issue's events page by page, one event of an issue (`latest`, `oldest`,
//! `recommended` or by id), and a project's event by id.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::{find_issue, find_project, link_header, paged, param, serialize, ApiError, ApiUser, PageLink, Params};
use crate::model::Project;
use crate::protocol::event::normalize_event_id;
use crate::server::AppState;
use crate::store::events::{EventEnd, EventsFrom, FullEvent};
use crate::store::Db;

/// A cursor of the events list, Sentry-like `<row id>:0:<is previous>`: the page after
/// (older than) or before (newer than) that event.
fn parse_cursor(c: &str) -> Option<EventsFrom> {
    let mut parts = c.split(':');
    let id: i64 = parts.next()?.parse().ok()?;
    let _offset = parts.next()?;
    match parts.next()? {
        "0" => Some(EventsFrom::OlderThan(id)),
        "1" => Some(EventsFrom::NewerThan(id)),
        _ => None,
    }
}

/// `GET /api/0/issues/{id}/events/?full=&limit=&cursor=`: newest first; with `full=true`
/// each event as the event endpoints show it.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (issue, project) = find_issue(&state.db, &user, param(&p, "id"), p.get("org").map(String::as_str)).await?;
    let params = Params::parse(raw.as_deref());
    let full = matches!(params.get("full"), Some("1" | "true" | "True"));
    let limit = params.limit(100)?;
    let from = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => EventsFrom::Newest,
        Some(c) => parse_cursor(c).ok_or_else(|| ApiError::BadRequest("This page link is not valid.".into()))?,
    };

    let mut events = state.db.issue_events_page(issue.id, from, limit + 1).await?;
    let more = events.len() as i64 > limit;
    if more {
        // The extra row is the one farthest from the cursor.
        match from {
            EventsFrom::NewerThan(_) => drop(events.remove(0)),
            _ => drop(events.pop()),
        }
    }
    let anchor = match from {
        EventsFrom::Newest => None,
        EventsFrom::OlderThan(id) | EventsFrom::NewerThan(id) => Some(id),
    };
    let first = events.first().map(|e| e.row.id).or(anchor).unwrap_or(0);
    let last = events.last().map(|e| e.row.id).or(anchor).unwrap_or(0);
    let previous = PageLink {
        cursor: format!("{first}:0:1"),
        results: match from {
            EventsFrom::Newest => false,
            EventsFrom::OlderThan(_) => true,
            EventsFrom::NewerThan(_) => more,
        },
    };
    let next = PageLink {
        cursor: format!("{last}:0:0"),
        results: match from {
            EventsFrom::NewerThan(_) => true,
            _ => more,
        },
    };
    let body: Vec<Value> = events.iter().map(|e| serialize::event(e, &project, full)).collect();
    let link = link_header(&state.public_url, uri.path(), &params, &previous, &next);
    Ok(paged(Value::Array(body), link, None))
}

/// The full event with the ids of its issue's previous and next events.
async fn detailed(db: &Db, event: &FullEvent, project: &Project) -> Result<Json<Value>, ApiError> {
    let (previous, next) = db.event_siblings(event.row.issue_id, event.row.id).await?;
    let mut v = serialize::event(event, project, true);
    v["previousEventID"] = json!(previous);
    v["nextEventID"] = json!(next);
    Ok(Json(v))
}

/// `GET /api/0/issues/{id}/events/{latest|oldest|recommended|event id}/`.
pub async fn issue_event(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let (issue, project) = find_issue(db, &user, param(&p, "id"), p.get("org").map(String::as_str)).await?;
    let event = match param(&p, "event_id") {
        "latest" | "recommended" => db.issue_event_at(issue.id, EventEnd::Latest).await?,
        "oldest" => db.issue_event_at(issue.id, EventEnd::Oldest).await?,
        id => match normalize_event_id(id) {
            Some(id) => db.project_event(project.id, &id).await?.filter(|e| e.row.issue_id == issue.id),
            None => None,
        },
    };
    detailed(db, &event.ok_or(ApiError::NotFound)?, &project).await
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/`.
pub async fn project_event(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let (project, _) = find_project(db, &user, param(&p, "org"), param(&p, "project")).await?;
    let id = normalize_event_id(param(&p, "event_id")).ok_or(ApiError::NotFound)?;
    let event = db.project_event(project.id, &id).await?.ok_or(ApiError::NotFound)?;
    detailed(db, &event, &project).await
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/committers/`: the event's suspect
/// commits grouped by author, as Sentry answers (`suspectCommitType` tells blame from a
/// release's commit).
pub async fn committers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let (project, _) = find_project(db, &user, param(&p, "org"), param(&p, "project")).await?;
    let id = normalize_event_id(param(&p, "event_id")).ok_or(ApiError::NotFound)?;
    let event = db.project_event(project.id, &id).await?.ok_or(ApiError::NotFound)?;
    let issue = db.issue_by_id(event.row.issue_id).await?.ok_or(ApiError::NotFound)?;
    let suspects = crate::suspects::for_event(db, &issue, &project, &event, 10).await?;
    Ok(Json(serialize::committers(&suspects.commits)))
}
