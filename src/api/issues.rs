//! Issues: a project's issue list (search, sorts, pages), one issue's details, and the triage
//! actions (status, assignment, deletion), one issue or several at once. Listing and every
//! action go through `triage`, the layer the UI's server functions use too.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::serialize::{self, IssueContext, IssueDetails};
use super::{find_issue, find_project, link_header, paged, param, ApiError, ApiUser, PageLink, Params};
use crate::model::{normalize_email, Issue, IssueChange, Project, StatsPeriod, User};
use crate::protocol::event::normalize_event_id;
use crate::search::{self, Sort};
use crate::server::AppState;
use crate::store::events::EventEnd;
use crate::store::triage::hour_of;
use crate::store::{now_ms, Db};
use crate::triage::{self, ListRequest};

const HOUR_MS: i64 = 3_600_000;

/// The unhandled flags and comment counts of a page of issues.
async fn extras(db: &Db, ids: &[i64]) -> Result<(HashSet<i64>, HashMap<i64, i64>), ApiError> {
    let unhandled = db.issues_with_tag(ids, "handled", "no").await?.into_iter().collect();
    Ok((unhandled, db.comment_counts(ids).await?))
}

/// Issues as the list shows them (without `stats`).
async fn issues_json(state: &AppState, project: &Project, issues: &[&Issue]) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    let (unhandled, comments) = extras(&state.db, &ids).await?;
    let now = now_ms();
    Ok(issues
        .iter()
        .map(|i| {
            let cx = IssueContext {
                project,
                public_url: &state.public_url,
                now,
                unhandled: unhandled.contains(&i.id),
                comments: comments.get(&i.id).copied().unwrap_or(0),
            };
            serialize::issue(i, &cx)
        })
        .collect())
}

/// `statsPeriod`: `24h` (the default), `14d`, or empty for no stats.
fn stats_period(params: &Params) -> Result<Option<StatsPeriod>, ApiError> {
    match params.get("statsPeriod") {
        None | Some("24h") => Ok(Some(StatsPeriod::Day)),
        Some("14d") => Ok(Some(StatsPeriod::TwoWeeks)),
        Some("") => Ok(None),
        Some(_) => Err(ApiError::BadRequest("Invalid stats_period. Valid choices are '', '24h', and '14d'".into())),
    }
}

/// The issue a query names directly, as Sentry answers it: an event id of the project, or
/// with `shortIdLookup=1` a short id such as `BACKEND-42`.
async fn direct_hit(db: &Db, project: &Project, params: &Params) -> Result<Option<(Issue, Option<String>)>, ApiError> {
    let Some(q) = params.get("query").map(str::trim).filter(|q| !q.is_empty() && !q.contains(char::is_whitespace))
    else {
        return Ok(None);
    };
    let (issue_id, event_id) = if let Some(event_id) = normalize_event_id(q) {
        match db.event_by_event_id(project.id, &event_id).await? {
            Some(row) => (row.issue_id, Some(event_id)),
            None => return Ok(None),
        }
    } else if params.get("shortIdLookup") == Some("1") {
        match q.rsplit_once('-') {
            Some((slug, n)) if slug.eq_ignore_ascii_case(&project.slug) => match n.parse::<i64>() {
                Ok(id) => (id, None),
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    Ok(db.issue_by_id(issue_id).await?.filter(|i| i.project_id == project.id).map(|i| (i, event_id)))
}

/// `GET /api/0/projects/{org}/{project}/issues/?query=&sort=&limit=&cursor=&statsPeriod=`.
///
/// The cursor is `<offset>:<store cursor>`: the store pages forward by keyset; the offset of
/// the page's first row gives the previous page (by offset, which Sentry clients only use to
/// go back a page).
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let db = &state.db;
    let (project, _) = find_project(db, &user, param(&p, "org"), param(&p, "project")).await?;
    let params = Params::parse(raw.as_deref());

    if let Some((issue, event_id)) = direct_hit(db, &project, &params).await? {
        let mut body = issues_json(&state, &project, &[&issue]).await?;
        if let Some(event_id) = event_id {
            body[0]["matchingEventId"] = json!(event_id);
        }
        let mut res = Json(Value::Array(body)).into_response();
        res.headers_mut().insert("x-sentry-direct-hit", axum::http::HeaderValue::from_static("1"));
        return Ok(res);
    }

    // No `query` at all means Sentry's default; `query=` means every issue.
    let query = params.get("query").map(str::trim).unwrap_or(search::DEFAULT_QUERY).to_string();
    let parsed = search::parse(&query, now_ms());
    if !parsed.errors.is_empty() {
        return Err(ApiError::BadRequest(parsed.errors.join(" ")));
    }
    let sort = match params.get("sort") {
        None => Sort::LastSeen,
        Some(s) => Sort::parse(s)
            .ok_or_else(|| ApiError::BadRequest(format!("Invalid sort {s:?}: use date, new, freq, user or trend.")))?,
    };
    let stats = stats_period(&params)?;
    let limit = params.limit(25)?;
    let (start, cursor) = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => (0, None),
        Some(c) => {
            let (start, rest) = c
                .split_once(':')
                .and_then(|(s, rest)| Some((s.parse::<i64>().ok().filter(|s| *s >= 0)?, rest)))
                .ok_or_else(|| ApiError::BadRequest("This page link is not valid.".into()))?;
            (start, Some(rest.to_string()))
        }
    };

    let now = now_ms();
    let list = triage::list(
        db,
        &user,
        &ListRequest { project_id: Some(project.id), query, sort, cursor, limit, stats: stats.unwrap_or_default() },
    )
    .await?;

    let issues: Vec<&Issue> = list.items.iter().map(|item| &item.issue).collect();
    let mut body = issues_json(&state, &project, &issues).await?;
    if let Some(stats) = stats {
        // `triage::list` bucketed the counts up to its own clock's hour, read just after `now`
        // (an hour boundary in between would shift these labels by one bucket).
        let this_hour = hour_of(now);
        let (key, first_hour, width) = match stats {
            StatsPeriod::Day => ("24h", this_hour - 23, 1),
            StatsPeriod::TwoWeeks => ("14d", this_hour - 14 * 24 + 1, 24),
        };
        for (json, item) in body.iter_mut().zip(&list.items) {
            json["stats"] =
                json!({ key: serialize::stats_series(&item.series, first_hour * HOUR_MS, width * HOUR_MS) });
        }
    }

    let end = start + list.items.len() as i64;
    let back = (start - limit).max(0);
    let previous = PageLink { cursor: format!("{back}:o{back}"), results: start > 0 };
    let next = match &list.next_cursor {
        Some(c) => PageLink { cursor: format!("{end}:{c}"), results: true },
        None => PageLink { cursor: format!("{end}:o{end}"), results: false },
    };
    let link = link_header(&state.public_url, uri.path(), &params, &previous, &next);
    Ok(paged(Value::Array(body), link, Some(list.total)))
}

/// `GET /api/0/issues/{id}/`: the issue with its releases, tags, activity and stats.
pub async fn detail(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let (issue, project) = find_issue(db, &user, param(&p, "id"), p.get("org").map(String::as_str)).await?;
    let now = now_ms();
    let this_hour = hour_of(now);
    let hours = db.hourly_counts(&[issue.id], this_hour - 30 * 24 + 1).await?.remove(&issue.id).unwrap_or_default();
    let (day, day_start) = serialize::bucket_hours(&hours, this_hour, 24, 1);
    let (month, month_start) = serialize::bucket_hours(&hours, this_hour, 30, 24);
    let stats = json!({
        "24h": serialize::stats_series(&day, day_start, HOUR_MS),
        "30d": serialize::stats_series(&month, month_start, 24 * HOUR_MS),
    });
    let tags = db.issue_tag_rows(issue.id).await?;
    let activity = db.activity(issue.id).await?;
    let user_reports = db.issue_user_report_count(issue.id).await?;
    let latest = db.issue_event_at(issue.id, EventEnd::Latest).await?;
    let cx = IssueContext {
        project: &project,
        public_url: &state.public_url,
        now,
        unhandled: tags.iter().any(|t| t.key == "handled" && t.value == "no"),
        comments: activity.iter().filter(|a| a.kind == "comment").count() as i64,
    };
    let details = IssueDetails {
        tags: &tags,
        activity: &activity,
        user_reports,
        latest_event: latest.as_ref().map(|e| &e.json),
        stats,
    };
    Ok(Json(serialize::issue_details(&issue, &cx, &details)))
}

/// What a `PUT` asks for: an assignment (`None`: nobody) and a status with its details.
struct Changes {
    assign: Option<Option<User>>,
    status: Option<(&'static str, IssueChange, Value)>,
}

/// Reads Sentry's update body: `status` (`resolved`, `unresolved`, `ignored`; also
/// `resolvedInNextRelease`), `statusDetails` (`inNextRelease`, `ignoreDuration` in minutes, `ignoreCount`),
/// `assignedTo` (`user:ID`, an id, an e-mail, `""` or `null`). Other fields are ignored.
async fn parse_changes(db: &Db, body: &[u8]) -> Result<Changes, ApiError> {
    let v: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))?
    };
    let obj = v.as_object().ok_or_else(|| ApiError::BadRequest("The body must be a JSON object.".into()))?;
    let details = obj.get("statusDetails").and_then(Value::as_object);
    let number = |key: &str| -> Result<Option<i64>, ApiError> {
        match details.and_then(|d| d.get(key)).or_else(|| obj.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(_) => Err(ApiError::BadRequest(format!("{key} must be a whole number."))),
        }
    };
    let status = match obj.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "resolvedInNextRelease" | "resolvedInUpcomingRelease" => {
                ("resolved", IssueChange::ResolveInNextRelease, json!({"inNextRelease": true}))
            }
            "resolved" if details.and_then(|d| d.get("inNextRelease")).and_then(Value::as_bool) == Some(true) => {
                ("resolved", IssueChange::ResolveInNextRelease, json!({"inNextRelease": true}))
            }
            "resolved" => ("resolved", IssueChange::Resolve, json!({})),
            "unresolved" => ("unresolved", IssueChange::Reopen, json!({})),
            "ignored" | "muted" | "archived" => {
                let (minutes, events) = (number("ignoreDuration")?, number("ignoreCount")?);
                let mut echo = Map::new();
                if let Some(m) = minutes {
                    echo.insert("ignoreDuration".into(), json!(m));
                }
                if let Some(n) = events {
                    echo.insert("ignoreCount".into(), json!(n));
                }
                ("ignored", IssueChange::Ignore { minutes, events }, Value::Object(echo))
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "\"{other}\" is not a valid status; use resolved, unresolved or ignored."
                )))
            }
        }),
        Some(_) => return Err(ApiError::BadRequest("status must be a string.".into())),
    };
    let assign = match obj.get("assignedTo") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => Some(None),
        Some(Value::String(s)) => Some(Some(actor(db, s).await?)),
        Some(Value::Number(n)) => Some(Some(actor(db, &n.to_string()).await?)),
        Some(_) => return Err(ApiError::BadRequest("assignedTo must be a string.".into())),
    };
    Ok(Changes { assign, status })
}

/// The user named by `assignedTo`: `user:ID`, `ID` or an e-mail address (Faultline's user
/// names). Teams do not exist here.
async fn actor(db: &Db, s: &str) -> Result<User, ApiError> {
    let s = s.trim();
    if s.starts_with("team:") {
        return Err(ApiError::BadRequest("Faultline has no teams; assign the issue to a user.".into()));
    }
    let id = s.strip_prefix("user:").unwrap_or(s);
    let found = match id.parse::<i64>() {
        Ok(id) => db.user_by_id(id).await?,
        Err(_) => db.user_by_email(&normalize_email(s)).await?,
    };
    // As for a user without access (`triage::update`): whether an account exists is not told.
    found.ok_or_else(|| ApiError::BadRequest(triage::NOT_ASSIGNABLE.into()))
}

/// Applies the changes to the issues through `triage` (which checks the user's access):
/// the assignment first (the part most likely to be refused), then the status.
async fn apply(db: &Db, user: &User, ids: &[i64], changes: &Changes) -> Result<(), ApiError> {
    if let Some(assignee) = &changes.assign {
        triage::update(db, user, ids, &IssueChange::Assign { user_id: assignee.as_ref().map(|u| u.id) }).await?;
    }
    if let Some((_, change, _)) = &changes.status {
        triage::update(db, user, ids, change).await?;
    }
    Ok(())
}

/// `PUT /api/0/issues/{id}/`: answers the updated issue.
pub async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let (issue, project) = find_issue(db, &user, param(&p, "id"), p.get("org").map(String::as_str)).await?;
    let changes = parse_changes(db, &body).await?;
    apply(db, &user, &[issue.id], &changes).await?;
    let issue = db.issue_by_id(issue.id).await?.ok_or(ApiError::NotFound)?;
    let mut body = issues_json(&state, &project, &[&issue]).await?;
    Ok(Json(body.pop().unwrap_or(Value::Null)))
}

/// `DELETE /api/0/issues/{id}/` (project administrators): 202 as Sentry answers.
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let (issue, _) = find_issue(&state.db, &user, param(&p, "id"), p.get("org").map(String::as_str)).await?;
    triage::delete(&state.db, &user, &[issue.id]).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The `?id=` issues of the URL's project (ids of other projects or unknown ids are left
/// out, as Sentry does). Updating all issues of a search without ids is not supported.
async fn project_issue_ids(
    state: &AppState,
    user: &User,
    p: &HashMap<String, String>,
    raw: Option<&str>,
) -> Result<Vec<i64>, ApiError> {
    let (project, _) = find_project(&state.db, user, param(p, "org"), param(p, "project")).await?;
    let ids: Vec<i64> = Params::parse(raw).all("id").filter_map(|s| s.trim().parse().ok()).collect();
    if ids.is_empty() {
        return Err(ApiError::BadRequest("Name the issues with ?id=1&id=2 (at most 1000).".into()));
    }
    if ids.len() > 1000 {
        return Err(ApiError::BadRequest("At most 1000 issues at once.".into()));
    }
    let found = state.db.issue_projects(&ids).await?;
    Ok(found.into_iter().filter(|(_, pid)| *pid == project.id).map(|(id, _)| id).collect())
}

/// `PUT /api/0/projects/{org}/{project}/issues/?id=1&id=2`: answers what changed, as
/// Sentry's bulk update does (204 when no issue matched).
pub async fn bulk_update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ids = project_issue_ids(&state, &user, &p, raw.as_deref()).await?;
    let changes = parse_changes(&state.db, &body).await?;
    if ids.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    apply(&state.db, &user, &ids, &changes).await?;
    let mut delta = Map::new();
    if let Some((status, _, details)) = &changes.status {
        delta.insert("status".into(), json!(status));
        delta.insert("statusDetails".into(), details.clone());
    }
    if let Some(assignee) = &changes.assign {
        delta.insert("assignedTo".into(), json!(assignee.as_ref().map(|u| serialize::assignee(u.id, &u.email))));
    }
    Ok(Json(Value::Object(delta)).into_response())
}

/// `DELETE /api/0/projects/{org}/{project}/issues/?id=1&id=2`: 204.
pub async fn bulk_delete(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(p): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let ids = project_issue_ids(&state, &user, &p, raw.as_deref()).await?;
    if !ids.is_empty() {
        triage::delete(&state.db, &user, &ids).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
