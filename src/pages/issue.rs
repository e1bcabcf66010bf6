//! An issue's page: its header with the triage actions, the events chart, tag
//! distributions, activity and comments, and one of its events (see `pages::event`) with
//! navigation between them. Also the raw JSON of an event, shown in the page and as a
//! download (`GET /issues/{id}/events/{event_id}/json`).

use crate::app::PageTitle;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::app::{load_error, ActionError, HydrationMark};
use crate::error::AppError;
use crate::model::{Issue, IssueChange, Project, SuspectCommit, User};
use crate::pages::account::format_time;
use crate::pages::actions::{AddComment, DeleteIssues, UpdateIssues};
use crate::pages::event::{format_ago, EventBody, EventView, LongText};

const HOUR_MS: i64 = 3_600_000;
/// Values shown per tag key; the rest is summed up as "other".
#[cfg(feature = "ssr")]
const TOP_TAG_VALUES: i64 = 8;

/// How often one value of a tag occurs among the issue's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagDistribution {
    pub key: String,
    /// Events that carry the tag.
    pub total: i64,
    /// Distinct values.
    pub distinct: i64,
    /// The most frequent values with their counts.
    pub values: Vec<(String, i64)>,
    /// Events with any other value.
    pub other: i64,
}

/// One line of the activity log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: i64,
    pub kind: String,
    /// Who did it; `None`: Faultline itself.
    pub who: Option<String>,
    /// What the kind alone does not say: a comment's text, a release, an assignee.
    pub detail: Option<String>,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuePage {
    pub issue: Issue,
    pub project: Project,
    /// The server's clock when this was read (epoch ms), for "3 h ago" and the charts.
    pub now: i64,
    /// Events per hour over the last 24 hours, oldest first, the last being the current hour.
    pub hourly: Vec<i64>,
    /// Events per 24 hours over the last 30 days, oldest first, the last ending now.
    pub daily: Vec<i64>,
    pub tags: Vec<TagDistribution>,
    /// Oldest first.
    pub activity: Vec<ActivityEntry>,
    /// The signed-in user, for "assign to me".
    pub me: User,
    /// Who the issue can be assigned to.
    pub assignees: Vec<User>,
    /// Whether the user may delete the issue (project administrators).
    pub can_delete: bool,
}

/// One event of an issue with what the navigation needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub issue_id: i64,
    pub event: EventView,
    pub received_at: i64,
    /// The event received just after this one, and just before.
    pub newer: Option<String>,
    pub older: Option<String>,
    pub total: i64,
    pub now: i64,
}

#[cfg(feature = "ssr")]
use crate::pages::guard::require_issue;

#[server(prefix = "/_fn", endpoint = "issue_detail")]
pub async fn issue_detail(issue_id: i64) -> Result<IssuePage, AppError> {
    let (me, role, issue) = require_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    let project = db.project_by_id(issue.project_id).await?.ok_or(AppError::NotFound)?;
    let now = crate::store::now_ms();
    let now_hour = now.div_euclid(HOUR_MS);
    let counts = db.hourly_counts(&[issue_id], now_hour - 30 * 24 + 1).await?.remove(&issue_id).unwrap_or_default();
    let (hourly, daily) = buckets(&counts, now_hour);
    let tags = tag_distributions(db.issue_tag_distribution(issue_id, TOP_TAG_VALUES).await?);
    let activity = activity_entries(&issue, db.activity(issue_id).await?);
    let assignees = crate::triage::assignees(db, &me, issue.project_id).await?;
    let can_delete = role == crate::model::Role::Admin;
    Ok(IssuePage { issue, project, now, hourly, daily, tags, activity, me, assignees, can_delete })
}

/// The commits that likely caused the issue (blame of its latest event's in-app frames).
#[server(prefix = "/_fn", endpoint = "issue_suspects")]
pub async fn issue_suspects(issue_id: i64) -> Result<crate::model::Suspects, AppError> {
    let (_, _, issue) = require_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    let project = db.project_by_id(issue.project_id).await?.ok_or(AppError::NotFound)?;
    Ok(crate::suspects::find(db, &issue, &project, 5).await?)
}

/// An event of the issue: `latest`, `oldest` or an event id.
#[server(prefix = "/_fn", endpoint = "issue_event")]
pub async fn issue_event(issue_id: i64, event: String) -> Result<EventPage, AppError> {
    use crate::store::events::EventEnd;
    let (_, _, issue) = require_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    let stored = match event.as_str() {
        "" | "latest" => db.issue_event_at(issue_id, EventEnd::Latest).await?,
        "oldest" => db.issue_event_at(issue_id, EventEnd::Oldest).await?,
        id => {
            let id = crate::protocol::event::normalize_event_id(id).ok_or(AppError::NotFound)?;
            db.project_event(issue.project_id, &id).await?.filter(|e| e.row.issue_id == issue_id)
        }
    }
    .ok_or(AppError::NotFound)?;
    let (older, newer) = db.event_siblings(issue_id, stored.row.id).await?;
    Ok(EventPage {
        issue_id,
        event: crate::pages::event::build(&stored.json),
        received_at: stored.row.received_at,
        newer,
        older,
        total: issue.event_count,
        now: crate::store::now_ms(),
    })
}

/// The stored JSON of an event, pretty-printed, for the page's raw view.
#[server(prefix = "/_fn", endpoint = "event_raw_json")]
pub async fn event_raw_json(issue_id: i64, event_id: String) -> Result<String, AppError> {
    let (_, _, issue) = require_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    let bytes = db.issue_event_payload(issue.project_id, issue_id, &event_id).await?.ok_or(AppError::NotFound)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| AppError::Internal)?;
    serde_json::to_string_pretty(&value).map_err(|_| AppError::Internal)
}

#[cfg(feature = "ssr")]
pub use download::event_json_file;

/// `GET /issues/{id}/events/{event_id}/json`: the stored event as a file (`?inline` to
/// view it in the browser), for signed-in users who may see the issue's project.
#[cfg(feature = "ssr")]
mod download {
    use axum::extract::{Path, RawQuery, State};
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Response};
    use tower_sessions::Session;

    use crate::error::AppError;
    use crate::server::{session_user, AppState};

    pub async fn event_json_file(
        State(state): State<AppState>,
        session: Session,
        Path((issue_id, event_id)): Path<(i64, String)>,
        RawQuery(query): RawQuery,
    ) -> Response {
        let not_found = || (StatusCode::NOT_FOUND, "Not found").into_response();
        let Some(user) = session_user(&state.db, &session).await else {
            return (StatusCode::UNAUTHORIZED, "Not signed in").into_response();
        };
        let Some(event_id) = crate::protocol::event::normalize_event_id(&event_id) else { return not_found() };
        let found = async {
            // As everywhere (`access`): an issue the user may not see does not exist.
            let issue = match crate::access::issue(&state.db, &user, issue_id, crate::access::Need::See).await {
                Ok((_, issue)) => issue,
                Err(AppError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            Ok(state.db.issue_event_payload(issue.project_id, issue_id, &event_id).await?)
        };
        match found.await {
            Ok(Some(json)) => {
                let disposition = if query.is_some_and(|q| q.split('&').any(|p| p == "inline" || p == "inline=1")) {
                    "inline".to_string()
                } else {
                    crate::html::attachment_disposition(&format!("event-{event_id}.json"))
                };
                (
                    [
                        (header::CONTENT_TYPE, "application/json".to_string()),
                        (header::CONTENT_DISPOSITION, disposition),
                        (header::CACHE_CONTROL, "private, no-store".to_string()),
                    ],
                    json,
                )
                    .into_response()
            }
            Ok(None) => not_found(),
            Err(AppError::Busy) => {
                (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "2")], "The server is busy; try again.")
                    .into_response()
            }
            Err(e) => {
                tracing::error!("event JSON: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong").into_response()
            }
        }
    }
}

/// Hourly counts `(hour, count)` → (24 hourly buckets, 30 daily buckets), oldest first,
/// the last bucket ending with `now_hour`.
pub fn buckets(counts: &[(i64, i64)], now_hour: i64) -> (Vec<i64>, Vec<i64>) {
    let mut hourly = vec![0; 24];
    let mut daily = vec![0; 30];
    for &(hour, count) in counts {
        let age = now_hour - hour; // 0: the current hour
        if (0..24).contains(&age) {
            hourly[23 - age as usize] += count;
        }
        if (0..30 * 24).contains(&age) {
            daily[29 - (age / 24) as usize] += count;
        }
    }
    (hourly, daily)
}

/// The tags in the order people look for them: where and what it ran on first, then the
/// SDK's custom tags by name.
#[cfg(feature = "ssr")]
fn tag_distributions(keys: Vec<crate::store::issues::TagKeyCounts>) -> Vec<TagDistribution> {
    const FIRST: [&str; 10] = [
        "environment",
        "release",
        "browser",
        "os",
        "runtime",
        "device",
        "server_name",
        "transaction",
        "level",
        "handled",
    ];
    let mut out: Vec<TagDistribution> = keys
        .into_iter()
        .map(|k| {
            let shown: i64 = k.top.iter().map(|(_, c)| c).sum();
            TagDistribution {
                other: (k.total - shown).max(0),
                key: k.key,
                total: k.total,
                distinct: k.distinct,
                values: k.top,
            }
        })
        .collect();
    let rank = |key: &str| FIRST.iter().position(|k| *k == key).unwrap_or(FIRST.len());
    out.sort_by(|a, b| rank(&a.key).cmp(&rank(&b.key)).then_with(|| a.key.cmp(&b.key)));
    out
}

/// The activity log as shown: "first seen" first (from the issue when the log lacks it).
#[cfg(feature = "ssr")]
fn activity_entries(issue: &Issue, rows: Vec<crate::model::Activity>) -> Vec<ActivityEntry> {
    let mut out = Vec::with_capacity(rows.len() + 1);
    if !rows.iter().any(|r| r.kind == "first_seen") {
        out.push(ActivityEntry {
            id: 0,
            kind: "first_seen".into(),
            who: None,
            detail: issue.first_release.as_ref().map(|r| format!("in {r}")),
            at: issue.first_seen,
        });
    }
    for r in rows {
        let data: serde_json::Value = serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null);
        let field = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let detail = match r.kind.as_str() {
            "comment" => field("text"),
            "assigned" => field("email").or_else(|| field("assignee")),
            "first_seen" | "regression" | "unignored" => field("release").map(|r| format!("in {r}")),
            "set_ignored" => ignore_detail(&data),
            _ => None,
        };
        out.push(ActivityEntry { id: r.id, kind: r.kind, who: r.user_email, detail, at: r.created_at });
    }
    out
}

/// "for 24 h", "until 100 more events", from an ignore entry's data.
#[cfg(feature = "ssr")]
fn ignore_detail(data: &serde_json::Value) -> Option<String> {
    let n = |k: &str| data.get(k).and_then(|v| v.as_i64());
    match (n("minutes"), n("events")) {
        (Some(m), _) => Some(format!("for {}", format_minutes(m))),
        (None, Some(e)) => Some(format!("until {e} more events")),
        _ => None,
    }
}

/// 90 → "1 h 30 min", 1440 → "24 h", 10080 → "7 days".
pub fn format_minutes(m: i64) -> String {
    if m >= 2 * 1440 && m % 1440 == 0 {
        format!("{} days", m / 1440)
    } else if m >= 60 && m % 60 == 0 {
        format!("{} h", m / 60)
    } else if m >= 60 {
        format!("{} h {} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

/// The issue id of the current route.
fn use_issue_id() -> Memo<i64> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0)))
}

/// The triage actions of the page; their versions make the issue reload.
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateIssues>,
    delete: ServerAction<DeleteIssues>,
    comment: ServerAction<AddComment>,
    /// The open menu of the action bar. Kept by the page, not the bar: the bar is built
    /// again whenever the issue reloads (after an action, on a live update), and a menu
    /// opened meanwhile must stay open.
    menu: RwSignal<Option<&'static str>>,
}

#[component]
pub fn IssueDetailPage() -> impl IntoView {
    let issue_id = use_issue_id();
    let actions = Actions {
        update: ServerAction::<UpdateIssues>::new(),
        delete: ServerAction::<DeleteIssues>::new(),
        comment: ServerAction::<AddComment>::new(),
        menu: RwSignal::new(None),
    };
    // Bumped by live updates (new events, someone else's triage): the header and the sidebar
    // reload; the event being read stays as it is.
    let live = RwSignal::new(0u64);
    let detail = Resource::new(
        move || (issue_id.get(), actions.update.version().get(), actions.comment.version().get(), live.get()),
        |(id, ..)| issue_detail(id),
    );
    #[cfg(feature = "hydrate")]
    {
        let project_id = Memo::new(move |_| detail.get().and_then(|d| d.ok()).map(|d| d.project.id));
        Effect::new(move |_| {
            use leptos::wasm_bindgen::closure::Closure;
            use leptos::wasm_bindgen::JsCast;
            let Some(project) = project_id.get() else { return };
            let Ok(source) = leptos::web_sys::EventSource::new(&format!("/_live/issues?project={project}")) else {
                return;
            };
            let on_message =
                Closure::<dyn FnMut(leptos::web_sys::MessageEvent)>::new(move |_| live.update(|n| *n += 1));
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            let source = send_wrapper::SendWrapper::new(source);
            on_cleanup(move || source.close());
        });
    }
    // A deleted issue: back to its project's list.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(n)) = actions.delete.value().get() {
            if n > 0 {
                let project = detail.get_untracked().and_then(|d| d.ok()).map(|d| d.project.id);
                navigate(&project.map(|p| format!("/projects/{p}")).unwrap_or_else(|| "/".into()), Default::default());
            }
        }
    });
    let comment_text = RwSignal::new(String::new());
    keyboard_shortcuts();
    view! {
        <main class="issue-page">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Err(e) => load_error(e),
                        Ok(d) => view! { <IssueHeader d actions/> }.into_any(),
                    }
                })}
            </Transition>
            <crate::pages::tracker::TrackerPanel issue_id/>
            <SuspectPanel issue_id/>
            <div class="issue-layout">
                <div class="issue-main"><Outlet/></div>
                <aside class="issue-side">
                    <Transition>
                        {move || Suspend::new(async move {
                            detail.await.ok().map(|d| view! {
                                <EventsChart hourly=d.hourly daily=d.daily now=d.now/>
                                <TagList tags=d.tags/>
                                <ActivityLog entries=d.activity now=d.now issue_id=d.issue.id actions text=comment_text/>
                            })
                        })}
                    </Transition>
                </aside>
            </div>
        </main>
    }
}

/// The top suspect commit (short sha linked to GitHub/GitLab, author, date, message, the
/// file and line it touched); the others on demand.
#[component]
fn SuspectPanel(issue_id: Memo<i64>) -> impl IntoView {
    let suspects = Resource::new(move || issue_id.get(), issue_suspects);
    let more = RwSignal::new(false);
    view! {
        <Transition>
            {move || Suspend::new(async move {
                let s = suspects.await.ok()?;
                let now = s.now;
                let mut commits = s.commits.into_iter();
                let top = commits.next();
                let rest: Vec<SuspectCommit> = commits.collect();
                let n = rest.len();
                Some(view! {
                    <section class="suspects card" data-testid="suspects">
                        <h2>"Suspect commit"</h2>
                        {match top {
                            Some(c) => view! { <SuspectLine c now/> }.into_any(),
                            None => view! { <p class="muted small">{s.note.unwrap_or_default()}</p> }.into_any(),
                        }}
                        {(n > 0).then(|| view! {
                            <button type="button" class="link small" on:click=move |_| more.update(|m| *m = !*m)>
                                {move || if more.get() { "Hide the others".to_string() } else { format!("{n} more") }}
                            </button>
                            <Show when=move || more.get()>
                                {rest.iter().cloned().map(|c| view! { <SuspectLine c now/> }).collect_view()}
                            </Show>
                        })}
                    </section>
                })
            })}
        </Transition>
    }
}

#[component]
fn SuspectLine(c: SuspectCommit, now: i64) -> impl IntoView {
    let short: String = c.sha.chars().take(8).collect();
    let sha = match c.commit_url.clone() {
        Some(url) => view! { <a class="sha" href=url rel="noopener noreferrer">{short}</a> }.into_any(),
        None => view! { <code class="sha" title=c.sha.clone()>{short}</code> }.into_any(),
    };
    let place = format!("{}{}", c.file, c.line.map(|l| format!(":{l}")).unwrap_or_default());
    let place = match c.file_url.clone() {
        Some(url) => view! { <a href=url rel="noopener noreferrer"><LongText text=place limit=120/></a> }.into_any(),
        None => view! { <LongText text=place limit=120/> }.into_any(),
    };
    let who = c.author_name.clone().or(c.author_email.clone()).unwrap_or_else(|| "unknown author".into());
    let why = if c.via == "release" { "in the release, touched" } else { "last changed" };
    view! {
        <div class="suspect" data-testid="suspect" data-sha=c.sha.clone()>
            {sha}
            <span class="suspect-message"><LongText text=c.message.clone().unwrap_or_default() limit=200/></span>
            <span class="muted small">
                <span data-testid="suspect-author" title=c.author_email.clone().unwrap_or_default()><LongText text=who limit=80/></span>
                {c.committed_at.map(|at| view! { " · "<span title=format_time(at)>{format_ago(now, at)}</span> })}
                " · "{why}" "{place}
            </span>
        </div>
    }
}

/// Title, culprit, status and the numbers of the issue, and the triage actions.
#[component]
fn IssueHeader(d: IssuePage, actions: Actions) -> impl IntoView {
    let IssuePage { issue, project, now, me, assignees, can_delete, .. } = d;
    let status_class = format!("issue-status issue-status-{}", issue.status);
    let seen = |at: i64, release: Option<String>| {
        view! {
            <span title=format_time(at)>{format_ago(now, at)}</span>
            {release.map(|r| view! { <span class="release" title="Release"><LongText text=r limit=40/></span> })}
        }
    };
    let resolved_in = (issue.status == "resolved").then(|| issue.resolved_in_release.clone()).flatten().map(|r| {
        if r.is_empty() {
            "in the next release".to_string()
        } else {
            format!("in the release after {r}")
        }
    });
    let ignored_until = (issue.status == "ignored")
        .then(|| match (issue.ignore_until, issue.ignore_until_count) {
            (Some(t), _) => Some(format!("until {}", format_time(t))),
            (None, Some(n)) => Some(format!("until {} more events", (n - issue.event_count).max(0))),
            _ => None,
        })
        .flatten();
    view! {
        <PageTitle text=format!("{} · {}", issue.title, project.name)/>
        <header class="issue-header">
            <nav class="crumbs-nav muted">
                <A href=format!("/projects/{}", project.id)>{project.name.clone()}</A>
                " › Issue #"{issue.id}
            </nav>
            <div class="issue-heading">
                <div class="issue-title-block">
                    <h1 class="issue-title" data-testid="issue-title"><LongText text=issue.title.clone() limit=300/></h1>
                    <div class="issue-sub">
                        <span class=format!("level level-{}", issue.level)>{issue.level.clone()}</span>
                        <span class=status_class data-testid="issue-status">{issue.status.clone()}</span>
                        {ignored_until.map(|u| view! { <span class="muted small">{u}</span> })}
                        {resolved_in.map(|u| view! { <span class="muted small" data-testid="resolved-in"><LongText text=u limit=60/></span> })}
                        {issue.is_regression.then(|| view! { <span class="badge off">"regression"</span> })}
                        <span class="culprit muted"><LongText text=issue.culprit.clone() limit=200/></span>
                    </div>
                </div>
                <dl class="issue-stats">
                    <div><dt>"Events"</dt><dd data-testid="issue-events">{issue.event_count}</dd></div>
                    <div><dt>"Users"</dt><dd>{issue.user_count}</dd></div>
                    <div><dt>"First seen"</dt><dd>{seen(issue.first_seen, issue.first_release.clone())}</dd></div>
                    <div><dt>"Last seen"</dt><dd>{seen(issue.last_seen, issue.last_release.clone())}</dd></div>
                    <div><dt>"Assignee"</dt><dd class="assignee-name" data-testid="assignee">{issue.assignee_email.clone().unwrap_or_else(|| "nobody".into())}</dd></div>
                </dl>
            </div>
            <IssueActions issue me assignees can_delete actions/>
        </header>
    }
    .into_any()
}

/// Resolve / reopen, ignore (forever, for a while, until more events), assign, delete.
#[component]
fn IssueActions(issue: Issue, me: User, assignees: Vec<User>, can_delete: bool, actions: Actions) -> impl IntoView {
    let Actions { update, delete, menu, .. } = actions;
    let id = issue.id;
    let confirm_delete = RwSignal::new(false);
    let until_events = RwSignal::new(String::from("100"));
    let busy = move || update.pending().get() || delete.pending().get();
    let change = move |c: IssueChange| {
        menu.set(None);
        update.dispatch(UpdateIssues { ids: vec![id], change: c });
    };
    let toggle_menu = move |name: &'static str| menu.update(|m| *m = if *m == Some(name) { None } else { Some(name) });
    let status = issue.status.clone();
    let assigned_to_me = issue.assignee_id == Some(me.id);
    let ignore_for = move |minutes: i64, label: &'static str| {
        view! { <li><button type="button" on:click=move |_| change(IssueChange::Ignore { minutes: Some(minutes), events: None })>{label}</button></li> }
    };
    let ignore_events = move |n: i64| {
        view! { <li><button type="button" on:click=move |_| change(IssueChange::Ignore { minutes: None, events: Some(n) })>{format!("Until {n} more events")}</button></li> }
    };
    let resolve_or_reopen = if status == "resolved" {
        view! {
            <button type="button" class="primary" data-shortcut="reopen" disabled=busy on:click=move |_| change(IssueChange::Reopen)>
                "Reopen"<kbd>"u"</kbd>
            </button>
        }
        .into_any()
    } else {
        view! {
            <div class="menu split">
                <button type="button" class="primary" data-shortcut="resolve" disabled=busy on:click=move |_| change(IssueChange::Resolve)>
                    "Resolve"<kbd>"r"</kbd>
                </button>
                <button type="button" class="primary caret" aria-label="More ways to resolve" aria-haspopup="menu"
                    aria-expanded=move || (menu.get() == Some("resolve")).to_string()
                    on:click=move |_| toggle_menu("resolve")>"▾"</button>
                {move || (menu.get() == Some("resolve")).then(|| view! {
                    <ul role="menu" data-testid="resolve-menu">
                        <li><button type="button" title="Stays resolved for events of the current release and older ones"
                            on:click=move |_| change(IssueChange::ResolveInNextRelease)>"In the next release"</button></li>
                    </ul>
                })}
            </div>
            {(status == "ignored").then(|| view! {
                <button type="button" data-shortcut="reopen" disabled=busy on:click=move |_| change(IssueChange::Reopen)>
                    "Stop ignoring"<kbd>"u"</kbd>
                </button>
            })}
        }
        .into_any()
    };
    let ignore = (status == "unresolved").then(|| {
        view! {
            <div class="menu split">
                <button type="button" data-shortcut="ignore" disabled=busy title="Ignore until it is reopened"
                    on:click=move |_| change(IssueChange::Ignore { minutes: None, events: None })>
                    "Ignore"<kbd>"i"</kbd>
                </button>
                <button type="button" class="caret" aria-label="Ignore for a while" aria-haspopup="menu"
                    aria-expanded=move || (menu.get() == Some("ignore")).to_string()
                    on:click=move |_| toggle_menu("ignore")>"▾"</button>
                {move || (menu.get() == Some("ignore")).then(|| view! {
                    <ul role="menu" data-testid="ignore-menu">
                        <li class="label">"Ignore for"</li>
                        {ignore_for(60, "1 hour")}
                        {ignore_for(24 * 60, "24 hours")}
                        {ignore_for(7 * 24 * 60, "7 days")}
                        <li class="sep"></li>
                        <li class="label">"Ignore until it happens again"</li>
                        {ignore_events(10)}
                        {ignore_events(100)}
                        {ignore_events(1000)}
                        <li class="until-n">
                            <form on:submit=move |ev| {
                                ev.prevent_default();
                                match until_events.get_untracked().trim().parse::<i64>() {
                                    Ok(n) if n > 0 => change(IssueChange::Ignore { minutes: None, events: Some(n) }),
                                    _ => {}
                                }
                            }>
                                <label class="check">"Until"
                                    <input type="number" min="1" step="1" aria-label="More events"
                                        prop:value=move || until_events.get()
                                        on:input=move |ev| until_events.set(event_target_value(&ev))/>
                                    "more events"
                                </label>
                                <button type="submit" class="small">"Ignore"</button>
                            </form>
                        </li>
                    </ul>
                })}
            </div>
        }
        .into_any()
    });
    let assign_label =
        issue.assignee_email.clone().map(|e| format!("Assigned to {e}")).unwrap_or_else(|| "Assign".into());
    let my_id = me.id;
    let my_email = me.email.clone();
    let has_assignee = issue.assignee_id.is_some();
    let current = issue.assignee_id;
    let assign = view! {
        <div class="menu">
            <button type="button" aria-haspopup="menu" data-testid="assign"
                aria-expanded=move || (menu.get() == Some("assign")).to_string()
                on:click=move |_| toggle_menu("assign")>
                <LongText text=assign_label limit=40/>" ▾"
            </button>
            {move || (menu.get() == Some("assign")).then(|| {
                let others: Vec<User> = assignees.iter().filter(|u| u.id != my_id).cloned().collect();
                view! {
                    <ul role="menu" data-testid="assign-menu">
                        <li><button type="button" disabled=current == Some(my_id)
                            on:click=move |_| change(IssueChange::Assign { user_id: Some(my_id) })>{format!("Me ({my_email})")}</button></li>
                        {(!others.is_empty()).then(|| view! { <li class="sep"></li> })}
                        {others.into_iter().map(|u| {
                            let uid = u.id;
                            view! { <li><button type="button" disabled=current == Some(uid)
                                on:click=move |_| change(IssueChange::Assign { user_id: Some(uid) })>{u.email}</button></li> }
                        }).collect_view()}
                        {has_assignee.then(|| view! {
                            <li class="sep"></li>
                            <li><button type="button" on:click=move |_| change(IssueChange::Assign { user_id: None })>"Nobody"</button></li>
                        })}
                    </ul>
                }
            })}
        </div>
        {(!assigned_to_me).then(|| view! {
            <button type="button" data-shortcut="assign-me" disabled=busy
                on:click=move |_| change(IssueChange::Assign { user_id: Some(my_id) })>
                "Assign to me"<kbd>"a"</kbd>
            </button>
        })}
    }
    .into_any();
    let remove = can_delete.then(|| {
        view! {
            {move || if confirm_delete.get() {
                view! {
                    <span class="confirm" role="alertdialog" aria-label="Delete this issue?">
                        <span class="small">"Delete this issue and all its events?"</span>
                        <button type="button" class="danger" data-testid="confirm-delete" disabled=busy
                            on:click=move |_| { delete.dispatch(DeleteIssues { ids: vec![id] }); }>"Delete"</button>
                        <button type="button" on:click=move |_| confirm_delete.set(false)>"Cancel"</button>
                    </span>
                }.into_any()
            } else {
                view! { <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>"Delete"</button> }.into_any()
            }}
        }
        .into_any()
    });
    view! {
        <div class="issue-actions" data-testid="issue-actions">
            {move || menu.get().is_some().then(|| view! { <div class="menu-backdrop" data-shortcut="close-menu" on:click=move |_| menu.set(None)></div> })}
            {resolve_or_reopen}
            {ignore}
            {assign}
            <span class="spacer"></span>
            {remove}
        </div>
        <ActionError action=update/>
        <ActionError action=delete/>
    }
    .into_any()
}

/// Events over the last 24 hours (hourly bars) or 30 days (daily bars).
#[component]
fn EventsChart(hourly: Vec<i64>, daily: Vec<i64>, now: i64) -> impl IntoView {
    let month = RwSignal::new(false);
    let now_hour = now.div_euclid(HOUR_MS);
    view! {
        <section class="card side-card" data-testid="events-chart">
            <div class="side-head">
                <h2>"Events"</h2>
                <div class="seg" role="group" aria-label="Period">
                    <button type="button" class:active=move || !month.get() on:click=move |_| month.set(false)>"24 h"</button>
                    <button type="button" class:active=move || month.get() on:click=move |_| month.set(true)>"30 d"</button>
                </div>
            </div>
            {move || {
                let (counts, hours_per_bar, span) = if month.get() { (daily.clone(), 24, "30 days") } else { (hourly.clone(), 1, "24 hours") };
                let max = counts.iter().copied().max().unwrap_or(0).max(1);
                let total: i64 = counts.iter().sum();
                let n = counts.len() as i64;
                view! {
                    <div class="chart" role="img" aria-label=format!("{total} events in the last {span}")>
                        {counts.into_iter().enumerate().map(|(i, c)| {
                            let end_hour = now_hour - (n - 1 - i as i64) * hours_per_bar;
                            let start = (end_hour - hours_per_bar + 1) * HOUR_MS;
                            let label = format!("{c} events · from {}", format_time(start));
                            let height = if c == 0 { 0.0 } else { (c as f64 / max as f64 * 100.0).max(3.0) };
                            view! {
                                <div class="bar" title=label.clone() aria-label=label>
                                    // Drawn in SVG, not with a `style` attribute: the CSP allows no inline style.
                                    <svg class="fill" viewBox="0 0 1 100" preserveAspectRatio="none" aria-hidden="true">
                                        <rect y=format!("{:.1}", 100.0 - height) width="1" height=format!("{height:.1}")/>
                                    </svg>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                    <div class="chart-axis muted">
                        <span>{format!("{span} ago")}</span>
                        <span>{format!("{total} events · max {max}/{}", if hours_per_bar == 1 { "h" } else { "day" })}</span>
                        <span>"now"</span>
                    </div>
                }
            }}
        </section>
    }
    .into_any()
}

/// A value's share of the events as a bar behind its row (SVG: the CSP allows no inline
/// style).
#[component]
fn TagBar(share: f64, #[prop(optional)] other: bool) -> impl IntoView {
    view! {
        <svg class=if other { "tag-bar other" } else { "tag-bar" } viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
            <rect width=format!("{share:.1}") height="1"/>
        </svg>
    }
}

/// Each tag key with its most frequent values, their counts and share of the events.
#[component]
fn TagList(tags: Vec<TagDistribution>) -> impl IntoView {
    view! {
        <section class="card side-card" data-testid="tag-distribution">
            <h2>"Tags"</h2>
            {tags.is_empty().then(|| view! { <p class="muted small">"No tags."</p> })}
            {tags.into_iter().map(|t| {
                let pct = move |c: i64| if t.total > 0 { c as f64 * 100.0 / t.total as f64 } else { 0.0 };
                let other = t.other;
                view! {
                    <details class="tag-dist" open=true data-tag=t.key.clone()>
                        <summary>
                            <span class="tag-key">{t.key.clone()}</span>
                            <span class="muted small">{if t.distinct == 1 { "1 value".to_string() } else { format!("{} values", t.distinct) }}</span>
                        </summary>
                        <ul>
                            {t.values.into_iter().map(|(v, c)| {
                                let p = pct(c);
                                view! {
                                    <li title=format!("{c} of {} events", t.total)>
                                        <TagBar share=p/>
                                        <span class="tag-value"><LongText text=v limit=60/></span>
                                        <span class="tag-pct">{format_pct(p)}</span>
                                        <span class="tag-count muted">{c}</span>
                                    </li>
                                }
                            }).collect_view()}
                            {(other > 0).then(|| {
                                let p = pct(other);
                                view! {
                                    <li class="muted">
                                        <TagBar share=p other=true/>
                                        <span class="tag-value">"other"</span>
                                        <span class="tag-pct">{format_pct(p)}</span>
                                        <span class="tag-count">{other}</span>
                                    </li>
                                }
                            })}
                        </ul>
                    </details>
                }
            }).collect_view()}
        </section>
    }
    .into_any()
}

/// 62.5 → "63%", 0.4 → "<1%".
pub fn format_pct(p: f64) -> String {
    if p > 0.0 && p < 1.0 {
        "<1%".into()
    } else {
        format!("{:.0}%", p)
    }
}

/// What happened to the issue, oldest first, and a box to comment.
#[component]
fn ActivityLog(
    entries: Vec<ActivityEntry>,
    now: i64,
    issue_id: i64,
    actions: Actions,
    text: RwSignal<String>,
) -> impl IntoView {
    let comment = actions.comment;
    // A comment that went through empties the box; one that failed stays for another try.
    Effect::new(move |_| {
        if let Some(Ok(())) = comment.value().get() {
            text.set(String::new());
        }
    });
    let send = move || {
        let t = text.get_untracked();
        if !t.trim().is_empty() && !comment.pending().get_untracked() {
            comment.dispatch(AddComment { issue_id, text: t });
        }
    };
    view! {
        <section class="card side-card" data-testid="activity">
            <h2>"Activity"</h2>
            <ol class="activity">
                {entries.into_iter().map(|a| {
                    let what = activity_text(&a.kind);
                    let is_comment = a.kind == "comment";
                    view! {
                        <li class=format!("act act-{}", a.kind)>
                            <div class="act-line">
                                <span class="act-who">{a.who.clone().unwrap_or_else(|| "Faultline".into())}</span>
                                " "{what}
                                {(!is_comment).then(|| a.detail.clone().map(|d| view! { " " <span class="act-detail"><LongText text=d limit=80/></span> }))}
                                <span class="act-time muted" title=format_time(a.at)>{format_ago(now, a.at)}</span>
                            </div>
                            {is_comment.then(|| a.detail.clone().map(|d| view! { <p class="comment-text"><LongText text=d limit=1000/></p> }))}
                        </li>
                    }
                }).collect_view()}
            </ol>
            <form class="comment-form" on:submit=move |ev| { ev.prevent_default(); send(); }>
                <textarea name="text" aria-label="Comment" placeholder="Add a comment… (Ctrl+Enter to send)" maxlength="10000"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); send(); }>
                </textarea>
                <button type="submit" class="small" disabled=move || comment.pending().get() || text.get().trim().is_empty()>"Comment"</button>
            </form>
            <ActionError action=comment/>
        </section>
    }
    .into_any()
}

fn activity_text(kind: &str) -> String {
    match kind {
        "first_seen" => "saw it first".into(),
        "regression" => "marked it a regression".into(),
        "set_resolved" => "resolved it".into(),
        "set_resolved_in_next_release" => "resolved it in the next release".into(),
        "set_unresolved" => "reopened it".into(),
        "set_ignored" => "ignored it".into(),
        "unignored" => "brought it back from ignored".into(),
        "assigned" => "assigned it to".into(),
        "unassigned" => "unassigned it".into(),
        "comment" => "commented".into(),
        other => other.replace('_', " "),
    }
}

/// The event of the route (`/issues/:id`: the latest), with its navigation.
#[component]
pub fn EventPanel() -> impl IntoView {
    let issue_id = use_issue_id();
    let params = use_params_map();
    let which = Memo::new(move |_| params.with(|p| p.get("event_id").unwrap_or_else(|| "latest".into())));
    let page = Resource::new(move || (issue_id.get(), which.get()), |(id, ev)| issue_event(id, ev));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the event…"</p> }>
            {move || Suspend::new(async move {
                let content = match page.await {
                    Err(AppError::NotFound) => view! {
                        <div class="card"><p class="muted">"This issue has no such event."</p></div>
                    }.into_any(),
                    Err(e) => load_error(e),
                    Ok(p) => view! { <ShownEvent p/> }.into_any(),
                };
                view! { {content} <HydrationMark/> }
            })}
        </Transition>
    }
}

/// The navigation bar, the event, and its raw JSON.
#[component]
fn ShownEvent(p: EventPage) -> impl IntoView {
    let base = format!("/issues/{}/events", p.issue_id);
    let ev = p.event;
    let event_id = ev.event_id.clone();
    let permalink = format!("{base}/{event_id}");
    let short_id: String = event_id.chars().take(12).collect();
    let data_id = event_id.clone();
    let link = |target: Option<String>, label: &'static str, shortcut: &'static str, title: &'static str| match target {
        Some(t) => view! {
            <A href=format!("{base}/{t}") attr:class="btn" attr:data-shortcut=shortcut attr:title=title>{label}</A>
        }
        .into_any(),
        None => view! { <span class="btn disabled" aria-disabled="true">{label}</span> }.into_any(),
    };
    let at_oldest = p.older.is_none();
    let at_latest = p.newer.is_none();
    view! {
        <div class="event-nav" data-testid="event-nav">
            <div class="event-id">
                <span class="muted">"Event "</span>
                <A href=permalink attr:class="mono" attr:data-testid="event-id" attr:title="Link to this event">{short_id}</A>
                <span class="event-time" title=format!("{} (received {})", format_time(ev.timestamp), format_time(p.received_at))>
                    {format_ago(p.now, ev.timestamp)}
                </span>
                <span class=format!("level level-{}", ev.level)>{ev.level.clone()}</span>
                {ev.environment.clone().map(|e| view! { <span class="pill" title="Environment">{e}</span> })}
                {ev.release.clone().map(|r| view! { <span class="pill" title="Release"><LongText text=r limit=40/></span> })}
            </div>
            <div class="nav-buttons" role="group" aria-label="Events of this issue">
                {link((!at_oldest).then(|| "oldest".to_string()), "Oldest", "", "Oldest event")}
                {link(p.older.clone(), "‹ Older", "older", "Older event (j, ←)")}
                {link(p.newer.clone(), "Newer ›", "newer", "Newer event (k, →)")}
                {link((!at_latest).then(|| "latest".to_string()), "Latest", "", "Latest event")}
                <span class="muted small">{if p.total == 1 { "1 event".to_string() } else { format!("{} events", p.total) }}</span>
            </div>
        </div>
        <article class="card event" data-testid="event" data-event-id=data_id>
            <EventBody event=ev/>
            <RawJson issue_id=p.issue_id event_id/>
        </article>
    }
    .into_any()
}

/// The stored JSON of the event: a collapsible tree in the page (loaded on demand), a
/// file to download, or the browser's own view in a new tab.
#[component]
fn RawJson(issue_id: i64, event_id: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let load = Action::new(move |id: &String| event_raw_json(issue_id, id.clone()));
    let href = format!("/issues/{issue_id}/events/{event_id}/json");
    let show = move |_| {
        open.update(|o| *o = !*o);
        if open.get_untracked() && load.value().get_untracked().is_none() && !load.pending().get_untracked() {
            load.dispatch(event_id.clone());
        }
    };
    view! {
        <section class="ev-section" id="raw">
            <h3>"Raw event"</h3>
            <div class="raw-tools">
                <button type="button" class="small" data-testid="show-json" on:click=show>
                    {move || if open.get() { "Hide JSON" } else { "Show JSON" }}
                </button>
                <a class="btn small" href=href.clone() download rel="external" data-testid="download-json">"Download JSON"</a>
                <a class="btn small" href=format!("{href}?inline") target="_blank" rel="external noopener">"Open in a new tab"</a>
            </div>
            {move || open.get().then(|| match load.value().get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                Some(Ok(text)) => match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => view! { <div class="json-tree" data-testid="raw-json">{json_node(None, &v, 0, true)}</div> }.into_any(),
                    Err(_) => view! { <pre class="json-text">{text}</pre> }.into_any(),
                },
            })}
        </section>
    }
    .into_any()
}

/// A JSON value as an indented tree whose objects and lists fold (`<details>`); the first
/// two levels start open.
fn json_node(key: Option<String>, v: &serde_json::Value, depth: usize, last: bool) -> AnyView {
    use serde_json::Value;
    let comma = if last { "" } else { "," };
    let label = key.map(|k| view! { <span class="jk">{serde_json::Value::String(k).to_string()}</span>": " });
    let (open, close, children): (&str, &str, Vec<(Option<String>, &Value)>) = match v {
        Value::Object(m) if !m.is_empty() => ("{", "}", m.iter().map(|(k, v)| (Some(k.clone()), v)).collect()),
        Value::Array(l) if !l.is_empty() => ("[", "]", l.iter().map(|v| (None, v)).collect()),
        _ => {
            let class = match v {
                Value::String(_) => "js",
                Value::Number(_) => "jn",
                Value::Bool(_) => "jb",
                _ => "jz",
            };
            return view! { <div class="jl">{label}<span class=class>{v.to_string()}</span>{comma}</div> }.into_any();
        }
    };
    let n = children.len();
    let summary = if matches!(v, Value::Object(_)) { format!("{n} keys") } else { format!("{n} items") };
    view! {
        <details class="jd" open=depth < 2>
            <summary>{label}{open}<span class="jfold">{format!("… {summary} {close}{comma}")}</span></summary>
            <div class="jc">
                {children.into_iter().enumerate().map(|(i, (k, c))| json_node(k, c, depth + 1, i + 1 == n)).collect_view()}
            </div>
            <div class="jl jclose">{close}{comma}</div>
        </details>
    }
    .into_any()
}

/// Keys on the issue page: `r` resolve, `i` ignore, `u` reopen, `a` assign to me, `j`/`←`
/// older and `k`/`→` newer event, `Esc` closes a menu. Each clicks the page's element marked
/// `data-shortcut`, so a key does what its visible button does, and nothing when the button
/// is not there. Keys typed into a field, or with a modifier, are left alone.
fn keyboard_shortcuts() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
                return;
            }
            let typing = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok()).is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.closest("[contenteditable]").ok().flatten().is_some()
            });
            if typing {
                return;
            }
            let name = match ev.key().as_str() {
                "r" => "resolve",
                "i" => "ignore",
                "u" => "reopen",
                "a" => "assign-me",
                "j" | "ArrowLeft" => "older",
                "k" | "ArrowRight" => "newer",
                "Escape" => "close-menu",
                _ => return,
            };
            let target = document()
                .query_selector(&format!("[data-shortcut=\"{name}\"]"))
                .ok()
                .flatten()
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(el) = target {
                ev.prevent_default();
                el.click();
            }
        });
        on_cleanup(move || handle.remove());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_and_daily_buckets() {
        let now = 500_000;
        let (h, d) =
            buckets(&[(now, 3), (now - 1, 2), (now - 23, 1), (now - 24, 7), (now - 719, 4), (now - 720, 9)], now);
        assert_eq!(h.len(), 24);
        assert_eq!((h[23], h[22], h[0]), (3, 2, 1));
        assert_eq!(h.iter().sum::<i64>(), 6);
        assert_eq!(d.len(), 30);
        assert_eq!((d[29], d[28], d[0]), (6, 7, 4));
        assert_eq!(d.iter().sum::<i64>(), 17);
    }

    #[test]
    fn numbers_in_words() {
        assert_eq!(format_minutes(60), "1 h");
        assert_eq!(format_minutes(1440), "24 h");
        assert_eq!(format_minutes(10080), "7 days");
        assert_eq!(format_minutes(90), "1 h 30 min");
        assert_eq!(format_minutes(5), "5 min");
        assert_eq!(format_pct(62.6), "63%");
        assert_eq!(format_pct(0.3), "<1%");
        assert_eq!(format_pct(100.0), "100%");
    }
}
