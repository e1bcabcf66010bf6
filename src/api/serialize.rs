//! The JSON shapes of Sentry's web API, field for field where Faultline has the data: users,
//! organizations, projects, issues ("groups": `GroupSerializer`, `StreamGroupSerializer` and
//! the issue details) and events (`EventSerializer`, `SimpleEventSerializer`, with Sentry's
//! camelCase `entries`). Pure: everything comes in as arguments.
//!
//! Types as Sentry has them, because clients rely on them: ids are strings, an issue's
//! `count` is a string and its `userCount` a number, dates are ISO 8601 in UTC with `Z`.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::grouping;
use crate::model::{Activity, EventRow, Issue, Org, Project, ReleaseCommit, ReleaseSummary, SuspectCommit, User};
use crate::protocol::event::{parse_timestamp, summary_tags};
use crate::store::releases::{Deploy, Release};
use crate::store::{events::FullEvent, issues::TagValueRow};

const DAY_MS: i64 = 24 * 3_600_000;

/// Epoch milliseconds as `2026-01-31T09:15:02.123Z`.
pub fn iso(ms: i64) -> String {
    let format = time::format_description::parse_borrowed::<2>(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z",
    )
    .expect("constant format");
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn base(public_url: &str) -> &str {
    public_url.trim_end_matches('/')
}

fn avatar() -> Value {
    json!({"avatarType": "letter_avatar", "avatarUuid": null, "avatarUrl": null})
}

/// The user a token belongs to (`/api/0/` and activity entries).
pub fn user(u: &User) -> Value {
    json!({
        "id": u.id.to_string(),
        "name": u.email,
        "username": u.email,
        "email": u.email,
        "avatarUrl": null,
        "isActive": true,
        "hasPasswordAuth": true,
        "isManaged": false,
        "dateJoined": iso(u.created_at),
        "lastLogin": null,
        "has2fa": false,
        "lastActive": null,
        "isSuperuser": u.is_admin,
        "isStaff": false,
        "emails": [{"id": u.id.to_string(), "email": u.email, "is_verified": true}],
        "avatar": avatar(),
    })
}

/// `assignedTo` of an issue: Sentry's actor shape.
pub fn assignee(id: i64, email: &str) -> Value {
    json!({"type": "user", "id": id.to_string(), "name": email, "email": email})
}

pub fn organization(o: &Org, public_url: &str) -> Value {
    let url = base(public_url);
    json!({
        "id": o.id.to_string(),
        "slug": o.slug,
        "name": o.name,
        "dateCreated": iso(o.created_at),
        "status": {"id": "active", "name": "active"},
        "avatar": avatar(),
        "isEarlyAdopter": false,
        "require2FA": false,
        "requireEmailVerification": false,
        "features": [],
        "hasAuthProvider": false,
        // sentry-cli sends an organization's requests to its `regionUrl`.
        "links": {"organizationUrl": url, "regionUrl": url},
    })
}

/// A project as `GET /api/0/projects/` lists it (with its organization when given).
pub fn project(p: &Project, org: Option<&Org>, public_url: &str) -> Value {
    let mut v = json!({
        "id": p.id.to_string(),
        "slug": p.slug,
        "name": p.name,
        "platform": p.platform,
        "dateCreated": iso(p.created_at),
        "isBookmarked": false,
        "isMember": true,
        "hasAccess": true,
        "isPublic": false,
        "isInternal": false,
        "color": "#3f70dd",
        "features": [],
        "firstEvent": null,
        "firstTransactionEvent": false,
        "hasSessions": false,
        "hasMinifiedStackTrace": false,
        "access": ["project:read", "project:write", "event:read", "event:write", "event:admin"],
        "status": "active",
        "avatar": avatar(),
        "team": null,
        "teams": [],
    });
    if let Some(org) = org {
        v["organization"] = organization(org, public_url);
    }
    v
}

/// `BACKEND-42`: the project's slug in capitals and the issue's id.
pub fn short_id(project_slug: &str, issue_id: i64) -> String {
    format!("{}-{issue_id}", project_slug.to_uppercase())
}

/// What an issue's JSON needs beside the issue itself.
pub struct IssueContext<'a> {
    pub project: &'a Project,
    pub public_url: &'a str,
    /// Epoch ms, for the `new` substatus.
    pub now: i64,
    /// Some event of the issue was not handled by the application (`handled:no`).
    pub unhandled: bool,
    pub comments: i64,
}

/// An issue as Sentry's `GroupSerializer` shows it (the list adds `stats`, the details
/// endpoint more: see [`issue_details`]).
pub fn issue(i: &Issue, cx: &IssueContext) -> Value {
    let assigned = match (i.assignee_id, &i.assignee_email) {
        (Some(id), Some(email)) => assignee(id, email),
        _ => Value::Null,
    };
    let p = cx.project;
    json!({
        "id": i.id.to_string(),
        "shareId": null,
        "shortId": short_id(&p.slug, i.id),
        "title": i.title,
        "culprit": i.culprit,
        "permalink": format!("{}/issues/{}", base(cx.public_url), i.id),
        "logger": null,
        "level": i.level,
        "status": i.status,
        "statusDetails": status_details(i),
        "substatus": substatus(i, cx.now),
        "isPublic": false,
        "platform": i.platform,
        "priority": priority(&i.level),
        "priorityLockedAt": null,
        "project": {"id": p.id.to_string(), "name": p.name, "slug": p.slug, "platform": p.platform},
        "type": i.kind,
        "issueType": "error",
        "issueCategory": "error",
        "metadata": issue_metadata(i, None),
        "numComments": cx.comments,
        "assignedTo": assigned,
        "isBookmarked": false,
        "isSubscribed": false,
        "subscriptionDetails": null,
        "hasSeen": false,
        "annotations": [],
        "isUnhandled": cx.unhandled,
        "count": i.event_count.to_string(),
        "userCount": i.user_count,
        "firstSeen": iso(i.first_seen),
        "lastSeen": iso(i.last_seen),
    })
}

/// `statusDetails`: `inNextRelease` while resolved in the next release; empty unless ignored with a condition (`ignoreUntil`, `ignoreCount`:
/// the events still to come before the issue is back).
pub fn status_details(i: &Issue) -> Value {
    let mut m = Map::new();
    if i.status == "resolved" && i.resolved_in_release.is_some() {
        m.insert("inNextRelease".into(), json!(true));
    }
    if i.status == "ignored" {
        if let Some(until) = i.ignore_until {
            m.insert("ignoreUntil".into(), json!(iso(until)));
        }
        if let Some(count) = i.ignore_until_count {
            m.insert("ignoreCount".into(), json!((count - i.event_count).max(1)));
        }
    }
    Value::Object(m)
}

fn substatus(i: &Issue, now: i64) -> Value {
    match i.status.as_str() {
        "unresolved" if i.is_regression => json!("regressed"),
        "unresolved" if i.first_seen >= now - 7 * DAY_MS => json!("new"),
        "unresolved" => json!("ongoing"),
        "ignored" if i.ignore_until.is_some() || i.ignore_until_count.is_some() => {
            json!("archived_until_condition_met")
        }
        "ignored" => json!("archived_forever"),
        _ => Value::Null,
    }
}

/// Sentry's initial priority by level.
fn priority(level: &str) -> &'static str {
    match level {
        "fatal" | "error" => "high",
        "warning" => "medium",
        _ => "low",
    }
}

/// `metadata`: the exception's `type` and `value`, where it happened (`filename`, `function`,
/// from `event` when given, else the function from the culprit), and the `title`.
pub fn issue_metadata(i: &Issue, event: Option<&Value>) -> Value {
    let mut m = Map::new();
    if i.kind == "error" {
        m.insert("type".into(), json!(i.exception_type.as_deref().unwrap_or("Error")));
        m.insert("value".into(), json!(i.exception_value.as_deref().unwrap_or("")));
        let (filename, function) = event.map(top_frame).unwrap_or_default();
        let function = function.or_else(|| i.culprit.rsplit_once(" in ").map(|(_, f)| f.to_string()));
        if let Some(f) = filename {
            m.insert("filename".into(), json!(f));
        }
        if let Some(f) = function {
            m.insert("function".into(), json!(f));
        }
    }
    m.insert("title".into(), json!(i.title));
    Value::Object(m)
}

/// `[[epoch seconds, count], ...]`: bucket `k` starts at `first_ms + k * width_ms`.
pub fn stats_series(counts: &[i64], first_ms: i64, width_ms: i64) -> Value {
    Value::Array(counts.iter().enumerate().map(|(k, c)| json!([(first_ms + k as i64 * width_ms) / 1000, c])).collect())
}

/// `(hour, count)` rows bucketed into `buckets` bars of `width` hours, the last one holding
/// `this_hour`; returns the counts and the start of the first bucket (epoch ms).
pub fn bucket_hours(hours: &[(i64, i64)], this_hour: i64, buckets: i64, width: i64) -> (Vec<i64>, i64) {
    let first = this_hour - buckets * width + 1;
    let mut out = vec![0; buckets as usize];
    for &(hour, count) in hours {
        if hour >= first && hour <= this_hour {
            out[((hour - first) / width) as usize] += count;
        }
    }
    (out, first * 3_600_000)
}

/// What the issue details endpoint adds to [`issue`].
pub struct IssueDetails<'a> {
    pub tags: &'a [TagValueRow],
    pub activity: &'a [Activity],
    pub user_reports: i64,
    /// The latest event's JSON, for the metadata's file and function.
    pub latest_event: Option<&'a Value>,
    /// `stats`: `{"24h": [...], "30d": [...]}`.
    pub stats: Value,
}

pub fn issue_details(i: &Issue, cx: &IssueContext, d: &IssueDetails) -> Value {
    let mut v = issue(i, cx);
    let release_seen = |version: &str| {
        d.tags.iter().find(|t| t.key == "release" && t.value == version).map(|t| (t.first_seen, t.last_seen))
    };
    let release_json = |version: &Option<String>| match version {
        Some(version) => release(version, cx.project, release_seen(version)),
        None => Value::Null,
    };
    v["metadata"] = issue_metadata(i, d.latest_event);
    v["firstRelease"] = release_json(&i.first_release);
    v["lastRelease"] = release_json(&i.last_release);
    v["tags"] = issue_tags(d.tags);
    // Newest first, ending with the issue's first sighting as Sentry shows it.
    let mut log: Vec<Value> = d.activity.iter().rev().map(activity).collect();
    if !d.activity.iter().any(|a| a.kind == "first_seen") {
        log.push(json!({"id": "0", "type": "first_seen", "user": null, "data": {}, "dateCreated": iso(i.first_seen)}));
    }
    v["activity"] = Value::Array(log);
    v["userReportCount"] = json!(d.user_reports);
    v["stats"] = d.stats.clone();
    for key in ["seenBy", "participants", "pluginActions", "pluginIssues", "pluginContexts"] {
        v[key] = json!([]);
    }
    v
}

/// A release as issue details show `firstRelease` / `lastRelease`; `seen` is when the issue
/// first and last had an event of it.
pub fn release(version: &str, p: &Project, seen: Option<(i64, i64)>) -> Value {
    json!({
        "version": version,
        "shortVersion": short_version(version),
        "ref": null,
        "url": null,
        "dateCreated": seen.map(|(first, _)| iso(first)),
        "dateReleased": null,
        "firstEvent": seen.map(|(first, _)| iso(first)),
        "lastEvent": seen.map(|(_, last)| iso(last)),
        "newGroups": null,
        "commitCount": 0,
        "lastCommit": null,
        "deployCount": 0,
        "lastDeploy": null,
        "authors": [],
        "data": {},
        "projects": [{"id": p.id.to_string(), "slug": p.slug, "name": p.name, "platform": p.platform}],
    })
}

/// One project's part of a registered release: the project, its release row, what the
/// releases page knows of it (events, new issues), its latest deploy and commit.
pub struct ReleasePart<'a> {
    pub project: &'a Project,
    pub release: &'a Release,
    pub summary: Option<&'a ReleaseSummary>,
    pub last_deploy: Option<&'a Deploy>,
    pub last_commit: Option<&'a ReleaseCommit>,
}

/// A registered release as the release API answers (`OrganizationReleaseSerializer`),
/// summed over its projects (`parts` is not empty).
pub fn registered_release(parts: &[ReleasePart]) -> Value {
    let first = &parts[0];
    let r = first.release;
    let min = |f: &dyn Fn(&ReleasePart) -> Option<i64>| parts.iter().filter_map(f).min();
    let max = |f: &dyn Fn(&ReleasePart) -> Option<i64>| parts.iter().filter_map(f).max();
    let created = min(&|p| Some(p.release.created_at)).unwrap_or(r.created_at);
    let released = max(&|p| p.release.date_released);
    let first_event = min(&|p| p.summary.and_then(|s| s.first_event));
    let last_event = max(&|p| p.summary.and_then(|s| s.last_event));
    let reference = parts.iter().find_map(|p| p.release.ref_commit.clone());
    let last_deploy = parts.iter().filter_map(|p| p.last_deploy).max_by_key(|d| (d.date_finished, d.id)).map(deploy);
    let last_commit = parts.iter().find_map(|p| p.last_commit).map(commit);
    json!({
        "id": r.id,
        "version": r.version,
        "shortVersion": short_version(&r.version),
        "status": "open",
        "ref": reference,
        "url": parts.iter().find_map(|p| p.release.url.clone()),
        "dateCreated": iso(created),
        "dateReleased": released.map(iso),
        "dateStarted": null,
        "firstEvent": first_event.map(iso),
        "lastEvent": last_event.map(iso),
        "newGroups": parts.iter().filter_map(|p| p.summary.map(|s| s.new_issues)).sum::<i64>(),
        "commitCount": parts.iter().map(|p| p.release.commit_count).max().unwrap_or(0),
        "deployCount": parts.iter().map(|p| p.release.deploy_count).sum::<i64>(),
        "lastCommit": last_commit,
        "lastDeploy": last_deploy,
        "authors": [],
        "owner": null,
        "data": {},
        "versionInfo": null,
        "projects": parts.iter().map(|p| json!({
            "id": p.project.id,
            "slug": p.project.slug,
            "name": p.project.name,
            "platform": p.project.platform,
            "platforms": [p.project.platform],
            "newGroups": p.summary.map(|s| s.new_issues).unwrap_or(0),
            "hasHealthData": false,
        })).collect::<Vec<_>>(),
    })
}

/// A deploy (`DeploySerializer`).
pub fn deploy(d: &Deploy) -> Value {
    json!({
        "id": d.id.to_string(),
        "environment": d.environment,
        "name": d.name,
        "url": d.url,
        "dateStarted": d.date_started.map(iso),
        "dateFinished": iso(d.date_finished),
    })
}

/// A commit of a release (`CommitSerializer`).
pub fn commit(c: &ReleaseCommit) -> Value {
    json!({
        "id": c.sha,
        "message": c.message,
        "dateCreated": c.committed_at.map(iso),
        "repository": c.repository.as_ref().map(|name| json!({"name": name})),
        "author": c.author_email.as_ref().map(|email| json!({"name": c.author_name, "email": email})),
    })
}

/// Suspect commits grouped by author (`committers`), best first.
pub fn committers(commits: &[SuspectCommit]) -> Value {
    let mut out: Vec<(Option<String>, Option<String>, Vec<Value>)> = Vec::new();
    for (rank, c) in commits.iter().enumerate() {
        let commit = json!({
            "id": c.sha,
            "message": c.message,
            "dateCreated": c.committed_at.map(iso),
            "score": commits.len() - rank,
            "suspectCommitType": if c.via == "release" { "via commit in release" } else { "via SCM integration" },
            "pullRequest": null,
            "filename": c.file,
            "lineno": c.line,
            "url": c.commit_url,
        });
        match out.iter_mut().find(|(name, email, _)| *email == c.author_email && *name == c.author_name) {
            Some(entry) => entry.2.push(commit),
            None => out.push((c.author_name.clone(), c.author_email.clone(), vec![commit])),
        }
    }
    json!({
        "committers": out
            .into_iter()
            .map(|(name, email, commits)| json!({"author": {"name": name, "email": email}, "commits": commits}))
            .collect::<Vec<_>>(),
    })
}

/// `shop@1.2.0` → `1.2.0`; a commit hash → its first 12 characters.
pub fn short_version(version: &str) -> String {
    let v = version.split_once('@').map(|(_, v)| v).filter(|v| !v.is_empty()).unwrap_or(version);
    if v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return v[..12].to_string();
    }
    v.to_string()
}

/// Issue details' `tags`: per key, the number of events and the most frequent values.
fn issue_tags(rows: &[TagValueRow]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let key = &rows[start].key;
        let end = start + rows[start..].iter().take_while(|r| &r.key == key).count();
        let group = &rows[start..end];
        let top: Vec<Value> = group
            .iter()
            .take(9)
            .map(|r| {
                json!({
                    "key": r.key, "name": r.value, "value": r.value, "count": r.count,
                    "firstSeen": iso(r.first_seen), "lastSeen": iso(r.last_seen),
                })
            })
            .collect();
        out.push(json!({
            "key": key,
            "name": tag_label(key),
            "totalValues": group.iter().map(|r| r.count).sum::<i64>(),
            "topValues": top,
        }));
        start = end;
    }
    Value::Array(out)
}

/// `environment` → `Environment`, `user.email` → `User Email`.
fn tag_label(key: &str) -> String {
    key.split(['.', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An activity entry with Sentry's type names.
fn activity(a: &Activity) -> Value {
    let kind = match a.kind.as_str() {
        "regression" => "set_regression",
        "unignored" => "set_unresolved",
        "comment" => "note",
        other => other,
    };
    let data: Value = serde_json::from_str(&a.data).unwrap_or_else(|_| json!({}));
    let user = a.user_email.as_ref().map(|e| json!({"name": e, "email": e, "username": e}));
    json!({"id": a.id.to_string(), "type": kind, "user": user, "data": data, "dateCreated": iso(a.created_at)})
}

// ---------------------------------------------------------------------------------------
// Events

/// An event as `GET /issues/{id}/events/` lists it (`SimpleEventSerializer`), or with
/// `full` as the event endpoints show it (`EventSerializer`, with `entries`).
pub fn event(e: &FullEvent, project: &Project, full: bool) -> Value {
    let ev = &e.json;
    let g = grouping::group(ev);
    let message = ev
        .pointer("/logentry/formatted")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| g.title.clone());
    let platform = ev.get("platform").and_then(Value::as_str).unwrap_or(&project.platform);
    let mut v = json!({
        "id": e.row.event_id,
        "eventID": e.row.event_id,
        "groupID": e.row.issue_id.to_string(),
        "projectID": project.id.to_string(),
        "event.type": g.kind,
        "type": g.kind,
        "title": g.title,
        "message": message,
        "culprit": g.culprit,
        "location": top_frame(ev).0,
        "user": event_user(ev),
        "tags": event_tags(ev, &e.row),
        "platform": platform,
        "dateCreated": iso(e.row.timestamp),
        "crashFile": null,
        "metadata": event_metadata(ev, &g),
    });
    if !full {
        return v;
    }
    let extra = |key: &str| ev.get(key).filter(|v| v.is_object()).cloned().unwrap_or_else(|| json!({}));
    let sdk = ev.get("sdk").and_then(Value::as_object).map(|s| {
        json!({"name": s.get("name").cloned().unwrap_or(Value::Null), "version": s.get("version").cloned().unwrap_or(Value::Null)})
    });
    let fields = [
        ("dateReceived", json!(iso(e.row.received_at))),
        ("entries", Value::Array(entries(ev))),
        ("contexts", extra("contexts")),
        ("context", extra("extra")),
        ("packages", extra("modules")),
        ("sdk", sdk.unwrap_or(Value::Null)),
        ("release", e.row.release.as_ref().map(|r| release(r, project, None)).unwrap_or(Value::Null)),
        ("environment", json!(e.row.environment)),
        ("dist", ev.get("dist").cloned().unwrap_or(Value::Null)),
        ("level", json!(e.row.level)),
        ("fingerprints", json!([g.hash])),
        ("groupingConfig", json!({"id": format!("faultline:{}", g.version), "enhancements": null})),
        ("errors", event_errors(ev)),
        ("size", Value::Null),
        ("occurrence", Value::Null),
        ("userReport", Value::Null),
        ("sdkUpdates", json!([])),
        ("resolvedWith", json!([])),
        ("_meta", json!({})),
    ];
    for (k, val) in fields {
        v[k] = val;
    }
    v
}

fn event_metadata(ev: &Value, g: &grouping::Grouping) -> Value {
    let mut m = Map::new();
    if g.kind == "error" {
        m.insert("type".into(), json!(g.exception_type.as_deref().unwrap_or("Error")));
        m.insert("value".into(), json!(g.exception_value.as_deref().unwrap_or("")));
        let (filename, function) = top_frame(ev);
        if let Some(f) = filename {
            m.insert("filename".into(), json!(f));
        }
        if let Some(f) = function {
            m.insert("function".into(), json!(f));
        }
    }
    m.insert("title".into(), json!(g.title));
    Value::Object(m)
}

/// The file and function where the outermost exception happened: its last in-app frame,
/// else its last frame.
fn top_frame(ev: &Value) -> (Option<String>, Option<String>) {
    let frames = ev
        .pointer("/exception/values")
        .and_then(Value::as_array)
        .and_then(|values| values.iter().rev().find_map(|e| e.pointer("/stacktrace/frames")))
        .or_else(|| ev.pointer("/stacktrace/frames"))
        .and_then(Value::as_array);
    let Some(frames) = frames else { return (None, None) };
    let frame =
        frames.iter().rev().find(|f| f.get("in_app").and_then(Value::as_bool) == Some(true)).or_else(|| frames.last());
    let text = |key: &str| frame.and_then(|f| f.get(key)).and_then(Value::as_str).map(str::to_string);
    (text("filename").or_else(|| text("abs_path")), text("function"))
}

/// The event's user as Sentry shows it: the known fields, everything else under `data`.
fn event_user(ev: &Value) -> Value {
    let Some(user) = ev.get("user").and_then(Value::as_object) else { return Value::Null };
    const KNOWN: [&str; 6] = ["id", "email", "username", "ip_address", "name", "geo"];
    let mut out = Map::new();
    for k in KNOWN {
        out.insert(k.into(), user.get(k).cloned().unwrap_or(Value::Null));
    }
    let data: Map<String, Value> =
        user.iter().filter(|(k, _)| !KNOWN.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    out.insert("data".into(), if data.is_empty() { Value::Null } else { Value::Object(data) });
    Value::Object(out)
}

/// `[{key, value}]` sorted by key: the event's tags, those derived from it (level,
/// environment, release, os, browser...) and `user`, as Sentry indexes them.
fn event_tags(ev: &Value, row: &EventRow) -> Value {
    let empty = Map::new();
    let obj = ev.as_object().unwrap_or(&empty);
    let mut tags = summary_tags(obj, &row.level, row.release.as_deref(), row.environment.as_deref());
    if let Some(user) = &row.user_key {
        tags.push(("user".into(), user.clone()));
    }
    let mut seen = HashSet::new();
    tags.retain(|(k, _)| seen.insert(k.clone()));
    tags.sort();
    Value::Array(tags.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect())
}

/// The event's processing errors as Sentry lists them.
fn event_errors(ev: &Value) -> Value {
    let Some(list) = ev.get("errors").and_then(Value::as_array) else { return json!([]) };
    Value::Array(
        list.iter()
            .map(|e| {
                let name = e.get("name").and_then(Value::as_str).unwrap_or("");
                json!({
                    "type": e.get("type").cloned().unwrap_or(json!("invalid_data")),
                    "message": format!("Discarded invalid value for {name}"),
                    "data": {"name": name, "value": e.get("value").cloned().unwrap_or(Value::Null)},
                })
            })
            .collect(),
    )
}

/// The event's interfaces as Sentry's `entries`: `message`, `exception`, `stacktrace`,
/// `threads`, `breadcrumbs`, `request`, each `{type, data}` with camelCase fields.
pub fn entries(ev: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(log) = ev.get("logentry").and_then(Value::as_object) {
        let field = |k: &str| log.get(k).cloned().unwrap_or(Value::Null);
        out.push(json!({
            "type": "message",
            "data": {"formatted": field("formatted"), "message": field("message"), "params": field("params")},
        }));
    }
    if let Some(values) = ev.pointer("/exception/values").and_then(Value::as_array) {
        let has_app_frames = values.iter().filter_map(|e| e.get("stacktrace")).any(has_in_app_frame);
        out.push(json!({
            "type": "exception",
            "data": {
                "values": values.iter().map(exception).collect::<Vec<_>>(),
                "hasSystemFrames": has_app_frames,
                "excOmitted": null,
            },
        }));
    }
    if let Some(st) = ev.get("stacktrace").filter(|s| s.is_object()) {
        out.push(json!({"type": "stacktrace", "data": stacktrace(st)}));
    }
    if let Some(threads) = ev.pointer("/threads/values").and_then(Value::as_array) {
        let values: Vec<Value> = threads
            .iter()
            .map(|t| {
                let f = |k: &str| t.get(k).cloned().unwrap_or(Value::Null);
                json!({
                    "id": f("id"), "name": f("name"), "crashed": f("crashed"), "current": f("current"),
                    "stacktrace": t.get("stacktrace").map(stacktrace).unwrap_or(Value::Null),
                    "rawStacktrace": null,
                })
            })
            .collect();
        out.push(json!({"type": "threads", "data": {"values": values}}));
    }
    if let Some(crumbs) = ev.pointer("/breadcrumbs/values").and_then(Value::as_array) {
        let values: Vec<Value> = crumbs.iter().map(breadcrumb).collect();
        out.push(json!({"type": "breadcrumbs", "data": {"values": values}}));
    }
    if let Some(req) = ev.get("request").and_then(Value::as_object) {
        out.push(json!({"type": "request", "data": request(req)}));
    }
    out
}

fn has_in_app_frame(st: &Value) -> bool {
    st.get("frames")
        .and_then(Value::as_array)
        .is_some_and(|frames| frames.iter().any(|f| f.get("in_app").and_then(Value::as_bool) == Some(true)))
}

fn exception(e: &Value) -> Value {
    let f = |k: &str| e.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "type": f("type"),
        "value": f("value"),
        "module": f("module"),
        "mechanism": f("mechanism"),
        "threadId": f("thread_id"),
        "stacktrace": e.get("stacktrace").map(stacktrace).unwrap_or(Value::Null),
        "rawStacktrace": null,
    })
}

fn stacktrace(st: &Value) -> Value {
    let frames: Vec<Value> =
        st.get("frames").and_then(Value::as_array).map(|fs| fs.iter().map(frame).collect()).unwrap_or_default();
    json!({
        "frames": frames,
        "framesOmitted": st.get("frames_omitted").cloned().unwrap_or(Value::Null),
        "registers": st.get("registers").cloned().unwrap_or(Value::Null),
        "hasSystemFrames": has_in_app_frame(st),
    })
}

/// A stack frame as Sentry's API shows it (what GitLab's stack trace view reads:
/// `filename`/`absPath`, `function`, `lineNo`, `colNo`, `context` as `[[line number, code]]`).
fn frame(f: &Value) -> Value {
    let g = |k: &str| f.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "filename": g("filename"),
        "absPath": g("abs_path"),
        "module": g("module"),
        "package": g("package"),
        "platform": g("platform"),
        "instructionAddr": g("instruction_addr"),
        "symbolAddr": g("symbol_addr"),
        "function": g("function"),
        "rawFunction": g("raw_function"),
        "symbol": g("symbol"),
        "context": frame_context(f),
        "lineNo": g("lineno"),
        "colNo": g("colno"),
        "inApp": f.get("in_app").and_then(Value::as_bool).unwrap_or(false),
        "trust": g("trust"),
        "errors": null,
        "vars": g("vars"),
    })
}

/// The source around a frame's line: `[[line number, code], ...]` (Sentry's `get_context`).
pub fn frame_context(f: &Value) -> Value {
    let Some(lineno) = f.get("lineno").and_then(Value::as_i64) else { return json!([]) };
    let lines = |k: &str| f.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let (pre, post) = (lines("pre_context"), lines("post_context"));
    let line = f.get("context_line").filter(|l| l.is_string());
    if line.is_none() && pre.is_empty() && post.is_empty() {
        return json!([]);
    }
    let mut at = lineno - pre.len() as i64;
    let mut out = Vec::with_capacity(pre.len() + 1 + post.len());
    for l in pre {
        out.push(json!([at, l]));
        at += 1;
    }
    out.push(json!([at, line.cloned().unwrap_or(Value::Null)]));
    at += 1;
    for l in post {
        out.push(json!([at, l]));
        at += 1;
    }
    Value::Array(out)
}

fn breadcrumb(b: &Value) -> Value {
    let f = |k: &str| b.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "type": b.get("type").cloned().unwrap_or(json!("default")),
        "category": f("category"),
        "level": b.get("level").cloned().unwrap_or(json!("info")),
        "message": f("message"),
        "data": f("data"),
        "timestamp": b.get("timestamp").and_then(parse_timestamp).map(iso),
        "event_id": f("event_id"),
    })
}

/// `request`: query string and cookies as `[[name, value]]`, headers as pairs, `env` as
/// an object, as Sentry's HTTP interface shows them.
fn request(r: &Map<String, Value>) -> Value {
    let f = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
    let headers = pairs(r.get("headers"), '&');
    let content_type = headers.as_array().and_then(|hs| {
        hs.iter()
            .find(|h| h.get(0).and_then(Value::as_str).is_some_and(|k| k.eq_ignore_ascii_case("content-type")))
            .and_then(|h| h.get(1).cloned())
    });
    let env: Map<String, Value> = match r.get("env") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1).cloned().unwrap_or(Value::Null))))
            .collect(),
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    json!({
        "url": f("url"),
        "method": f("method"),
        "query": pairs(r.get("query_string"), '&'),
        "fragment": f("fragment"),
        "data": f("data"),
        "headers": headers,
        "cookies": pairs(r.get("cookies"), ';'),
        "env": if env.is_empty() { Value::Null } else { Value::Object(env) },
        "inferredContentType": content_type.unwrap_or(Value::Null),
        "apiTarget": null,
    })
}

/// A list of `[name, value]` from a list of pairs, an object, or a string (`a=1&b=2`, or
/// `a=1; b=2` for cookies).
fn pairs(v: Option<&Value>, separator: char) -> Value {
    let list: Vec<Value> = match v {
        Some(Value::Array(list)) => list.iter().filter(|p| p.is_array()).cloned().collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| json!([k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())]))
            .collect(),
        Some(Value::String(s)) => {
            let s = s.trim_start_matches('?');
            if separator == '&' {
                form_urlencoded::parse(s.as_bytes()).map(|(k, v)| json!([k, v])).collect()
            } else {
                s.split(separator)
                    .filter_map(|p| {
                        let (k, v) = p.split_once('=').unwrap_or((p, ""));
                        let k = k.trim();
                        (!k.is_empty()).then(|| json!([k, v.trim()]))
                    })
                    .collect()
            }
        }
        _ => Vec::new(),
    };
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_versions() {
        assert_eq!(iso(1_714_566_896_789), "2024-05-01T12:34:56.789Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(short_version("shop@1.2.0"), "1.2.0");
        assert_eq!(short_version("1.2.0"), "1.2.0");
        assert_eq!(short_version("4a1b2c3d4e5f60718293a4b5c6d7e8f901234567"), "4a1b2c3d4e5f");
        assert_eq!(short_id("backend", 42), "BACKEND-42");
        assert_eq!(tag_label("user.email"), "User Email");
        assert_eq!(tag_label("environment"), "Environment");
    }

    #[test]
    fn frame_context_like_sentry() {
        let f = json!({"lineno": 10, "pre_context": ["a", "b"], "context_line": "c", "post_context": ["d"]});
        assert_eq!(frame_context(&f), json!([[8, "a"], [9, "b"], [10, "c"], [11, "d"]]));
        assert_eq!(frame_context(&json!({"lineno": 3})), json!([]));
        assert_eq!(frame_context(&json!({"context_line": "x"})), json!([]));
        assert_eq!(frame_context(&json!({"lineno": 3, "context_line": "x"})), json!([[3, "x"]]));
    }

    #[test]
    fn buckets() {
        let (counts, first) = bucket_hours(&[(100, 2), (99, 1), (76, 5), (50, 9)], 100, 24, 1);
        assert_eq!(counts.len(), 24);
        assert_eq!((counts[0], counts[22], counts[23]), (0, 1, 2));
        assert_eq!(first, 77 * 3_600_000);
        let (days, _) = bucket_hours(&[(100, 2), (99, 1), (76, 5), (50, 9)], 100, 30, 24);
        assert_eq!(days.iter().sum::<i64>(), 17);
        // Days end with the current hour: hours 77..=100 are the last one.
        assert_eq!((days[27], days[28], days[29]), (9, 5, 2 + 1));
        let series = stats_series(&[3, 4], 3_600_000, 3_600_000);
        assert_eq!(series, json!([[3600, 3], [7200, 4]]));
    }

    #[test]
    fn request_entry() {
        let req = json!({
            "url": "https://shop.example/cart", "method": "POST", "query_string": "a=1&b=two%20words",
            "headers": [["Content-Type", "application/json"], ["Host", "shop.example"]],
            "cookies": "session=abc; theme=dark", "env": [["REMOTE_ADDR", "10.0.0.1"]],
        });
        let v = request(req.as_object().unwrap());
        assert_eq!(v["query"], json!([["a", "1"], ["b", "two words"]]));
        assert_eq!(v["cookies"], json!([["session", "abc"], ["theme", "dark"]]));
        assert_eq!(v["env"], json!({"REMOTE_ADDR": "10.0.0.1"}));
        assert_eq!(v["inferredContentType"], "application/json");
    }
}
