//! The issue list, per project (`/projects/:id`) and across every project the user can see
//! (`/issues`): sort, filters and the query box, sparklines and badges, selection with bulk
//! actions, keyboard triage, and live updates. The URL carries the whole state (`query`,
//! `sort`, `stats`, `cursor`), so a view can be shared and the back button works.
//!
//! Every string of an issue comes from events: it is rendered as text, never as HTML.

use std::collections::BTreeSet;

use crate::app::PageTitle;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::app::{load_error, ActionError, HydrationMark};
use crate::error::AppError;
use crate::model::{IssueChange, IssueItem, IssueList, Project, StatsPeriod, User};
use crate::pages::actions::{DeleteIssues, UpdateIssues};
use crate::search::{self, Sort, DEFAULT_QUERY};

/// Issues per page.
pub const PAGE_SIZE: i64 = 25;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssueListView {
    pub list: IssueList,
    /// The project of a per-project list.
    pub project: Option<Project>,
    /// Set when the project has no issue at all: the DSN to send the first events to.
    pub setup_dsn: Option<String>,
    /// Epoch ms on the server, so relative times render the same on server and browser.
    pub now: i64,
}

/// The values the filter menus offer, and who the user is.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FilterOptions {
    pub environments: Vec<String>,
    pub releases: Vec<String>,
    pub me: Option<User>,
}

#[server(prefix = "/_fn", endpoint = "issue_list")]
pub async fn fetch_issue_list(
    project_id: Option<i64>,
    query: String,
    sort: String,
    cursor: Option<String>,
    stats: String,
) -> Result<IssueListView, AppError> {
    use crate::pages::guard::{require_user, state};
    let user = require_user().await?;
    let state = state();
    let db = &state.db;
    let sort = Sort::parse(&sort).ok_or_else(|| AppError::Invalid(format!("Unknown sort `{sort}`.")))?;
    let req = crate::triage::ListRequest {
        project_id,
        query,
        sort,
        cursor,
        limit: PAGE_SIZE,
        stats: StatsPeriod::parse(&stats),
    };
    let list = crate::triage::list(db, &user, &req).await?;
    let project = match project_id {
        Some(id) => db.project_by_id(id).await?,
        None => None,
    };
    let setup_dsn = match &project {
        Some(p) if list.total == 0 && !db.project_has_issues(p.id).await? => db
            .project_keys(p.id)
            .await?
            .into_iter()
            .find(|k| k.is_active)
            .map(|k| crate::dsn::dsn(&state.public_url, &k.public_key, p.id)),
        _ => None,
    };
    Ok(IssueListView { list, project, setup_dsn, now: crate::store::now_ms() })
}

#[server(prefix = "/_fn", endpoint = "issue_filter_options")]
pub async fn issue_filter_options(project_id: Option<i64>) -> Result<FilterOptions, AppError> {
    use crate::pages::guard::{require_user, state};
    let user = require_user().await?;
    let db = &state().db;
    let projects = crate::access::projects(db, &user, project_id).await?;
    let ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
    Ok(FilterOptions {
        environments: db.project_tag_values(&ids, "environment", 50).await?,
        releases: db.project_tag_values(&ids, "release", 50).await?,
        me: Some(user),
    })
}

/// "3 min ago", from the server's clock (`now`), so the server and the browser agree.
pub fn relative_time(ms: i64, now: i64) -> String {
    let s = (now - ms).max(0) / 1000;
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        86_400..=2_591_999 => format!("{} d ago", s / 86_400),
        _ => format!("{} mo ago", s / 2_592_000),
    }
}

/// Percent-encodes a URL query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The list's state, as the URL carries it.
#[derive(Clone, Debug, PartialEq)]
struct ListState {
    query: String,
    sort: Sort,
    stats: StatsPeriod,
    cursor: Option<String>,
}

impl ListState {
    fn href(&self, base: &str) -> String {
        let mut url = format!("{base}?query={}", encode(&self.query));
        if self.sort != Sort::LastSeen {
            url.push_str(&format!("&sort={}", self.sort.as_str()));
        }
        if self.stats != StatsPeriod::Day {
            url.push_str(&format!("&stats={}", self.stats.as_str()));
        }
        if let Some(c) = &self.cursor {
            url.push_str(&format!("&cursor={}", encode(c)));
        }
        url
    }
}

/// A sparkline of events per bucket, as SVG bars.
#[component]
fn Sparkline(series: Vec<i64>, stats: StatsPeriod) -> impl IntoView {
    let max = series.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = series.len().max(1) as f64;
    let (w, h) = (72.0, 20.0);
    let bar = w / n;
    let total: i64 = series.iter().sum();
    let label =
        format!("{total} events in the last {}", if stats == StatsPeriod::Day { "24 hours" } else { "14 days" });
    let aria = label.clone();
    view! {
        <svg class="spark" width="72" height="20" viewBox="0 0 72 20" role="img" aria-label=aria>
            <title>{label}</title>
            {series.into_iter().enumerate().map(|(i, c)| {
                let bh = if c == 0 { 1.0 } else { (c as f64 / max * (h - 2.0)).max(2.0) };
                view! {
                    <rect x=format!("{:.2}", i as f64 * bar) y=format!("{:.2}", h - bh) width=format!("{:.2}", (bar - 0.6).max(0.6)) height=format!("{bh:.2}") class:zero=c == 0/>
                }
            }).collect_view()}
        </svg>
    }
}

#[component]
pub fn ProjectIssuesPage() -> impl IntoView {
    view! { <IssueListPage per_project=true/> }
}

#[component]
pub fn AllIssuesPage() -> impl IntoView {
    view! { <IssueListPage per_project=false/> }
}

#[component]
fn IssueListPage(per_project: bool) -> impl IntoView {
    let params = use_params_map();
    let url_query = use_query_map();
    let navigate = use_navigate();

    let project_id =
        Memo::new(
            move |_| {
                if per_project {
                    params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()))
                } else {
                    None
                }
            },
        );
    let base = move || match project_id.get() {
        Some(id) => format!("/projects/{id}"),
        None => "/issues".to_string(),
    };
    let state = Memo::new(move |_| {
        url_query.with(|q| ListState {
            query: q.get("query").unwrap_or_else(|| DEFAULT_QUERY.to_string()),
            sort: q.get("sort").and_then(|s| Sort::parse(&s)).unwrap_or_default(),
            stats: StatsPeriod::parse(&q.get("stats").unwrap_or_default()),
            cursor: q.get("cursor").filter(|c| !c.is_empty()),
        })
    });

    let update = ServerAction::<UpdateIssues>::new();
    let delete = ServerAction::<DeleteIssues>::new();
    // Bumped by live updates: refetches the page without touching the URL or the selection.
    let refresh = RwSignal::new(0u64);
    let data = Resource::new(
        move || (project_id.get(), state.get(), refresh.get(), update.version().get(), delete.version().get()),
        |(project_id, s, _, _, _)| {
            fetch_issue_list(project_id, s.query, s.sort.as_str().to_string(), s.cursor, s.stats.as_str().to_string())
        },
    );
    let options = Resource::new(move || project_id.get(), issue_filter_options);
    let assignees = Resource::new(
        move || project_id.get(),
        |p| async move {
            match p {
                Some(p) => crate::pages::actions::assignees(p).await,
                None => Ok(vec![]),
            }
        },
    );

    // The project's issue trackers, for "Create GitLab issue" on the selection.
    let trackers = Resource::new(
        move || project_id.get(),
        |p| async move {
            match p {
                Some(p) => crate::pages::tracker::project_trackers(p).await,
                None => Ok(vec![]),
            }
        },
    );
    let linked = RwSignal::new(None::<crate::pages::tracker::Linked>);

    // Selection (checked rows) and keyboard focus, kept across refreshes.
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let focus = RwSignal::new(None::<usize>);
    let page_ids = RwSignal::new(Vec::<i64>::new());
    Effect::new(move |_| {
        if let Some(Ok(v)) = data.get() {
            let ids: Vec<i64> = v.list.items.iter().map(|i| i.issue.id).collect();
            selected.update(|s| s.retain(|id| ids.contains(id)));
            focus.update(|f| {
                if let Some(i) = *f {
                    if i >= ids.len() {
                        *f = ids.len().checked_sub(1);
                    }
                }
            });
            page_ids.set(ids);
        }
    });
    // A new page (not a refresh of this one) starts with nothing selected.
    Effect::new(move |prev: Option<ListState>| {
        let s = state.get();
        if prev.as_ref().is_some_and(|p| *p != s) {
            selected.set(BTreeSet::new());
            focus.set(None);
        }
        s
    });

    let go = {
        let navigate = navigate.clone();
        move |s: ListState| navigate(&s.href(&base()), Default::default())
    };
    let set_query = {
        let go = go.clone();
        move |query: String| {
            let s = state.get_untracked();
            go(ListState { query, cursor: None, ..s })
        }
    };

    // The targets of an action: the selection, else the focused row.
    let targets = move || -> Vec<i64> {
        let sel = selected.get_untracked();
        if !sel.is_empty() {
            return sel.into_iter().collect();
        }
        let ids = page_ids.get_untracked();
        focus.get_untracked().and_then(|i| ids.get(i).copied()).into_iter().collect()
    };
    let act = move |change: IssueChange| {
        let ids = targets();
        if !ids.is_empty() {
            update.dispatch(UpdateIssues { ids, change });
        }
    };
    let me = move || options.get_untracked().and_then(|o| o.ok()).and_then(|o| o.me).map(|u| u.id);

    // Keyboard triage.
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let help = RwSignal::new(false);
    {
        let navigate = navigate.clone();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            use leptos::wasm_bindgen::JsCast;
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok()).is_some_and(|e| {
                matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || e.has_attribute("contenteditable")
            });
            if typing {
                if ev.key() == "Escape" {
                    if let Some(el) = search_ref.get_untracked() {
                        let _ = el.blur();
                    }
                }
                return;
            }
            let n = page_ids.with_untracked(Vec::len);
            let move_focus = |delta: isize| {
                if n == 0 {
                    return;
                }
                let next = match focus.get_untracked() {
                    None => 0,
                    Some(i) => (i as isize + delta).clamp(0, n as isize - 1) as usize,
                };
                focus.set(Some(next));
                if let Some(row) = document().query_selector(&format!("tr[data-row='{next}']")).ok().flatten() {
                    row.scroll_into_view_with_bool(false);
                }
            };
            match ev.key().as_str() {
                "j" | "ArrowDown" => move_focus(1),
                "k" | "ArrowUp" => move_focus(-1),
                "Enter" | "o" => {
                    let ids = page_ids.get_untracked();
                    if let Some(id) = focus.get_untracked().and_then(|i| ids.get(i).copied()) {
                        navigate(&format!("/issues/{id}"), Default::default());
                    }
                }
                "x" => {
                    let ids = page_ids.get_untracked();
                    if let Some(id) = focus.get_untracked().and_then(|i| ids.get(i).copied()) {
                        selected.update(|s| {
                            if !s.remove(&id) {
                                s.insert(id);
                            }
                        });
                    }
                }
                "r" => act(IssueChange::Resolve),
                "i" => act(IssueChange::Ignore { minutes: None, events: None }),
                "u" => act(IssueChange::Reopen),
                "a" => {
                    if let Some(me) = me() {
                        act(IssueChange::Assign { user_id: Some(me) })
                    }
                }
                "/" => {
                    if let Some(el) = search_ref.get_untracked() {
                        let _ = el.focus();
                        el.select();
                    }
                }
                "?" => help.update(|h| *h = !*h),
                "Escape" => {
                    help.set(false);
                    selected.set(BTreeSet::new());
                }
                _ => return,
            }
            ev.prevent_default();
        });
        on_cleanup(move || handle.remove());
    }

    // Live updates: the server says when this list's issues changed; refetch then.
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| {
            use leptos::wasm_bindgen::closure::Closure;
            use leptos::wasm_bindgen::JsCast;
            let url = match project_id.get() {
                Some(id) => format!("/_live/issues?project={id}"),
                None => "/_live/issues".to_string(),
            };
            let Ok(source) = leptos::web_sys::EventSource::new(&url) else { return };
            let on_message = Closure::<dyn FnMut(leptos::web_sys::MessageEvent)>::new(move |_| {
                refresh.update(|n| *n += 1);
            });
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            let source = send_wrapper::SendWrapper::new(source);
            on_cleanup(move || source.close());
        });
    }

    let query_input = RwSignal::new(String::new());
    Effect::new(move |_| query_input.set(state.get().query));
    let on_search = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            set_query(query_input.get_untracked());
        }
    };
    let status_tab = {
        let set_query = set_query.clone();
        move |value: Option<&'static str>| {
            let set_query = set_query.clone();
            move |_| {
                let q = state.get_untracked().query;
                set_query(search::set_key(&q, "is", Some(value.unwrap_or("all"))));
            }
        }
    };
    let current_status = move || {
        let q = state.get().query;
        match search::get_key(&q, "is").as_deref() {
            Some(s @ ("unresolved" | "resolved" | "ignored")) => Some(s.to_string()),
            Some("all") => None,
            _ if q.split_whitespace().any(|t| t.starts_with("is:")) => None,
            _ => None,
        }
    };
    let filter_select = {
        let set_query = set_query.clone();
        move |key: &'static str| {
            let set_query = set_query.clone();
            move |ev: leptos::ev::Event| {
                let v = event_target_value(&ev);
                let q = state.get_untracked().query;
                set_query(search::set_key(&q, key, (!v.is_empty()).then_some(v.as_str())));
            }
        }
    };
    let assigned_select = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            let q = state.get_untracked().query;
            let q = search::set_key(&q, "assigned", None);
            // `is:unassigned` lives under `is:`; drop it before setting anything else.
            let q: String = q
                .split_whitespace()
                .filter(|t| *t != "is:unassigned" && *t != "is:assigned")
                .collect::<Vec<_>>()
                .join(" ");
            let q = match v.as_str() {
                "me" => search::set_key(&q, "assigned", Some("me")),
                "none" => format!("{q} is:unassigned").trim().to_string(),
                _ => q,
            };
            set_query(q);
        }
    };
    let sort_select = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let sort = Sort::parse(&event_target_value(&ev)).unwrap_or_default();
            go(ListState { sort, cursor: None, ..state.get_untracked() })
        }
    };
    let stats_toggle = {
        let go = go.clone();
        move |stats: StatsPeriod| {
            let go = go.clone();
            move |_| go(ListState { stats, ..state.get_untracked() })
        }
    };
    let key_value = move |key: &'static str| move || search::get_key(&state.get().query, key).unwrap_or_default();
    // A menu of the values a tag takes in the project(s), loaded beside the list.
    let tag_select = {
        let filter_select = filter_select.clone();
        move |key: &'static str, label: &'static str, values: fn(FilterOptions) -> Vec<String>| {
            view! {
                <label>{label}
                    <select name=key on:change=filter_select(key) prop:value=key_value(key)>
                        <option value="">"any"</option>
                        <Suspense>
                            {move || Suspend::new(async move {
                                options.await.map(values).unwrap_or_default().into_iter()
                                    .map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()
                            })}
                        </Suspense>
                    </select>
                </label>
            }
        }
    };
    let assigned_value = move || {
        let q = state.get().query;
        if search::get_key(&q, "assigned").as_deref() == Some("me") {
            "me"
        } else if q.split_whitespace().any(|t| t == "is:unassigned") {
            "none"
        } else {
            ""
        }
    };

    let bulk_assign = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        let user_id = match v.as_str() {
            "" => return,
            "none" => None,
            id => id.parse::<i64>().ok(),
        };
        act(IssueChange::Assign { user_id });
    };
    let bulk_delete = move |_| {
        let ids = targets();
        if ids.is_empty() {
            return;
        }
        let sure = window()
            .confirm_with_message(&format!(
                "Delete {} issue(s) and all their events? This cannot be undone.",
                ids.len()
            ))
            .unwrap_or(false);
        if sure {
            delete.dispatch(DeleteIssues { ids });
            selected.set(BTreeSet::new());
        }
    };

    view! {
        <main class="wide">
            <div class="list-head">
                <Transition fallback=|| view! { <h1>"Issues"</h1> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => match v.project {
                                Some(p) => view! {
                                    <PageTitle text=format!("{} · Issues · Faultline", p.name)/>
                                    <h1>{p.name.clone()}<span class="slug">{format!("{}/{}", p.org_slug, p.slug)}</span></h1>
                                    <a class="settings-link" href=format!("/projects/{}/releases", p.id)>"Releases"</a>
                                    <a class="settings-link" href=format!("/projects/{}/alerts", p.id)>"Alerts"</a>
                                    <a class="settings-link" href=format!("/projects/{}/settings", p.id)>"Settings"</a>
                                }.into_any(),
                                None => view! { <PageTitle text="Issues · Faultline"/><h1>"All issues"</h1> }.into_any(),
                            },
                            Err(_) => view! { <h1>"Issues"</h1> }.into_any(),
                        }
                    })}
                </Transition>
            </div>

            {move || project_id.get().map(|id| view! {
                <crate::pages::chart::ProjectChart project_id=id refresh=Signal::derive(move || refresh.get())/>
            })}

            <form class="searchbar" on:submit=on_search role="search">
                <input type="search" name="query" aria-label="Search issues" node_ref=search_ref
                    placeholder="is:unresolved level:error environment:production release:1.2.0 assigned:me text…"
                    prop:value=move || query_input.get() on:input=move |ev| query_input.set(event_target_value(&ev))/>
                <button type="submit">"Search"</button>
                <button type="button" class="link" title="Keyboard shortcuts (?)" on:click=move |_| help.update(|h| *h = !*h)>"?"</button>
            </form>

            <div class="filters">
                <div class="tabs status-tabs" role="tablist" aria-label="Status">
                    {[(Some("unresolved"), "Unresolved"), (Some("resolved"), "Resolved"), (Some("ignored"), "Ignored"), (None, "All")].into_iter().map(|(value, label)| {
                        view! {
                            <button type="button" role="tab"
                                class:active=move || current_status().as_deref() == value
                                aria-selected=move || (current_status().as_deref() == value).to_string()
                                on:click=status_tab(value)>{label}</button>
                        }
                    }).collect_view()}
                </div>
                <label>"Level"
                    <select name="level" on:change=filter_select("level") prop:value=key_value("level")>
                        <option value="">"any"</option>
                        {["fatal", "error", "warning", "info", "debug"].into_iter().map(|l| view! { <option value=l>{l}</option> }).collect_view()}
                    </select>
                </label>
                {tag_select("environment", "Environment", |o| o.environments)}
                {tag_select("release", "Release", |o| o.releases)}
                <label>"Assignee"
                    <select name="assigned" on:change=assigned_select prop:value=assigned_value>
                        <option value="">"anyone"</option>
                        <option value="me">"me"</option>
                        <option value="none">"unassigned"</option>
                    </select>
                </label>
                <label>"Last seen"
                    <select name="lastSeen" on:change=filter_select("lastSeen") prop:value=key_value("lastSeen")>
                        <option value="">"any time"</option>
                        <option value="-1h">"last hour"</option>
                        <option value="-24h">"last 24 hours"</option>
                        <option value="-7d">"last 7 days"</option>
                        <option value="-14d">"last 14 days"</option>
                        <option value="-30d">"last 30 days"</option>
                    </select>
                </label>
                <label>"Sort"
                    <select name="sort" on:change=sort_select prop:value=move || state.get().sort.as_str()>
                        {Sort::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <div class="tabs stats-tabs" role="group" aria-label="Graph">
                    <button type="button" class:active=move || state.get().stats == StatsPeriod::Day on:click=stats_toggle(StatsPeriod::Day)>"24h"</button>
                    <button type="button" class:active=move || state.get().stats == StatsPeriod::TwoWeeks on:click=stats_toggle(StatsPeriod::TwoWeeks)>"14d"</button>
                </div>
            </div>

            <div class="bulk" class:active=move || !selected.with(BTreeSet::is_empty)>
                <span class="count" data-testid="selected-count">{move || {
                    let n = selected.with(BTreeSet::len);
                    if n == 0 { "Select issues, or use the keyboard (?)".to_string() } else { format!("{n} selected") }
                }}</span>
                <button type="button" on:click=move |_| act(IssueChange::Resolve) disabled=move || selected.with(BTreeSet::is_empty)>"Resolve"</button>
                <button type="button" on:click=move |_| act(IssueChange::Ignore { minutes: None, events: None }) disabled=move || selected.with(BTreeSet::is_empty)>"Ignore"</button>
                <button type="button" on:click=move |_| act(IssueChange::Reopen) disabled=move || selected.with(BTreeSet::is_empty)>"Reopen"</button>
                <select aria-label="Assign selected" on:change=bulk_assign prop:value="" disabled=move || selected.with(BTreeSet::is_empty)>
                    <option value="">"Assign to…"</option>
                    <option value="none">"nobody"</option>
                    <Suspense>
                        {move || Suspend::new(async move {
                            let me = options.await.ok().and_then(|o| o.me);
                            let others = assignees.await.unwrap_or_default();
                            view! {
                                {me.clone().map(|u| view! { <option value=u.id.to_string()>"me"</option> })}
                                {others.into_iter().filter(|u| Some(u.id) != me.as_ref().map(|m| m.id))
                                    .map(|u| view! { <option value=u.id.to_string()>{u.email.clone()}</option> }).collect_view()}
                            }
                        })}
                    </Suspense>
                </select>
                <button type="button" class="danger" on:click=bulk_delete disabled=move || selected.with(BTreeSet::is_empty)>"Delete"</button>
                <Suspense>
                    {move || Suspend::new(async move {
                        let list = trackers.await.unwrap_or_default();
                        (!list.is_empty()).then(|| view! {
                            <crate::pages::tracker::TrackerActions
                                targets=Callback::new(move |_: ()| selected.get_untracked().into_iter().collect())
                                trackers=list
                                disabled=Signal::derive(move || selected.with(BTreeSet::is_empty))
                                on_done=Callback::new(move |l: crate::pages::tracker::Linked| linked.set(Some(l)))/>
                        })
                    })}
                </Suspense>
                {move || linked.get().map(|l| {
                    let what = if l.issues == 1 { "1 issue".to_string() } else { format!("{} issues", l.issues) };
                    view! {
                        <p class="notice" role="status" data-testid="linked">
                            <a href=l.url.clone() target="_blank" rel="noopener noreferrer">{l.label.clone()}</a>
                            {format!(" is linked to {what}.")}
                        </p>
                    }
                })}
                <ActionError action=update/>
                <ActionError action=delete/>
            </div>

            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let content = match data.await {
                        Err(e) => load_error(e),
                        Ok(v) => list_view(v, per_project, state.get_untracked(), base(), selected, focus),
                    };
                    view! { {content} <HydrationMark/> }
                })}
            </Transition>

            <Show when=move || help.get()>
                <div class="shortcuts" role="dialog" aria-label="Keyboard shortcuts">
                    <h2>"Keyboard shortcuts"</h2>
                    <dl>
                        <dt><kbd>"j"</kbd>" / "<kbd>"k"</kbd></dt><dd>"next / previous issue"</dd>
                        <dt><kbd>"Enter"</kbd></dt><dd>"open the issue"</dd>
                        <dt><kbd>"x"</kbd></dt><dd>"select / unselect"</dd>
                        <dt><kbd>"r"</kbd></dt><dd>"resolve"</dd>
                        <dt><kbd>"i"</kbd></dt><dd>"ignore"</dd>
                        <dt><kbd>"u"</kbd></dt><dd>"reopen"</dd>
                        <dt><kbd>"a"</kbd></dt><dd>"assign to me"</dd>
                        <dt><kbd>"/"</kbd></dt><dd>"search"</dd>
                        <dt><kbd>"?"</kbd></dt><dd>"this help"</dd>
                        <dt><kbd>"Esc"</kbd></dt><dd>"close, clear the selection"</dd>
                    </dl>
                    <p class="muted">"Actions apply to the selected issues, or to the highlighted one."</p>
                    <button type="button" on:click=move |_| help.set(false)>"Close"</button>
                </div>
            </Show>
        </main>
    }
}

/// The table (or, for a project without any issue yet, how to send the first events).
fn list_view(
    v: IssueListView,
    per_project: bool,
    state: ListState,
    base: String,
    selected: RwSignal<BTreeSet<i64>>,
    focus: RwSignal<Option<usize>>,
) -> AnyView {
    let now = v.now;
    if let Some(dsn) = v.setup_dsn {
        return view! {
            <section class="card empty-project">
                <h2>"No errors yet: send the first ones"</h2>
                <p class="muted">"Point a Sentry SDK at this DSN; errors show up here as they arrive, without a reload."</p>
                <crate::pages::project::DsnSetup dsn/>
            </section>
        }
        .into_any();
    }
    let errors = v.list.errors.clone();
    let total = v.list.total;
    let capped = v.list.total_capped;
    let ids: Vec<i64> = v.list.items.iter().map(|i| i.issue.id).collect();
    let all_ids = ids.clone();
    let all_checked = move || !all_ids.is_empty() && selected.with(|s| all_ids.iter().all(|id| s.contains(id)));
    let toggle_all = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            for id in &ids {
                if on {
                    s.insert(*id);
                } else {
                    s.remove(id);
                }
            }
        });
    };
    let next = v.list.next_cursor.clone().map(|c| ListState { cursor: Some(c), ..state.clone() }.href(&base));
    let first = state.cursor.is_some().then(|| ListState { cursor: None, ..state.clone() }.href(&base));
    let stats = state.stats;
    let empty = v.list.items.is_empty();
    view! {
        {(!errors.is_empty()).then(|| view! {
            <ul class="query-errors" role="alert">
                {errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ul>
        })}
        <p class="muted total" data-testid="total">{match (total, capped) {
            (n, true) => format!("{n}+ issues"),
            (1, false) => "1 issue".to_string(),
            (n, false) => format!("{n} issues"),
        }}</p>
        {if empty {
            view! { <p class="card muted no-match">"No issue matches. Try another status or fewer filters."</p> }.into_any()
        } else {
            view! {
                <table class="issues">
                    <thead>
                        <tr>
                            <th class="check"><input type="checkbox" aria-label="Select all on this page" prop:checked=all_checked on:change=toggle_all/></th>
                            <th>"Issue"</th>
                            <th>"Level"</th>
                            <th class="num">"Events"</th>
                            <th class="num">"Users"</th>
                            <th>{if stats == StatsPeriod::Day { "24h" } else { "14d" }}</th>
                            <th>"First seen"</th>
                            <th>"Last seen"</th>
                            <th>"Assignee"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {v.list.items.into_iter().enumerate().map(|(row, item)| issue_row(row, item, now, per_project, stats, selected, focus)).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <nav class="pager">
            {first.map(|href| view! { <a href=href>"« First page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page »"</a> })}
        </nav>
    }
    .into_any()
}

fn issue_row(
    row: usize,
    item: IssueItem,
    now: i64,
    per_project: bool,
    stats: StatsPeriod,
    selected: RwSignal<BTreeSet<i64>>,
    focus: RwSignal<Option<usize>>,
) -> impl IntoView {
    use crate::pages::account::format_time;
    let i = item.issue;
    let id = i.id;
    let checked = move || selected.with(|s| s.contains(&id));
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            if on {
                s.insert(id);
            } else {
                s.remove(&id);
            }
        });
    };
    view! {
        <tr data-issue-id=id data-row=row class:focused=move || focus.get() == Some(row) class:selected=checked
            class=format!("status-{}", i.status) on:click=move |_| focus.set(Some(row))>
            <td class="check"><input type="checkbox" aria-label="Select" prop:checked=checked on:change=toggle/></td>
            <td class="issue-title">
                <a class="title" href=format!("/issues/{id}")>{i.title.clone()}</a>
                <span class="meta">
                    {(!per_project).then(|| view! { <span class="project">{item.project_slug.clone()}</span> })}
                    <span class="culprit muted">{i.culprit.clone()}</span>
                    {item.is_new.then(|| view! { <span class="badge new">"new"</span> })}
                    {i.is_regression.then(|| view! { <span class="badge regression">"regression"</span> })}
                    {item.is_spiking.then(|| view! { <span class="badge spiking">"spiking"</span> })}
                    {(i.status != "unresolved").then(|| view! { <span class=format!("badge status {}", i.status)>{i.status.clone()}</span> })}
                    <span class="platform muted">{i.platform.clone()}</span>
                </span>
            </td>
            <td><span class=format!("level level-{}", i.level)>{i.level.clone()}</span></td>
            <td class="num">{i.event_count}</td>
            <td class="num">{i.user_count}</td>
            <td class="graph"><Sparkline series=item.series stats/></td>
            <td class="time" title=format_time(i.first_seen)>{relative_time(i.first_seen, now)}</td>
            <td class="time" title=format_time(i.last_seen)>{relative_time(i.last_seen, now)}</td>
            <td class="assignee">{i.assignee_email.clone().unwrap_or_default()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        let now = 10_000_000_000;
        assert_eq!(relative_time(now - 5_000, now), "just now");
        assert_eq!(relative_time(now - 120_000, now), "2 min ago");
        assert_eq!(relative_time(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative_time(now - 2 * 86_400_000, now), "2 d ago");
        assert_eq!(relative_time(now + 60_000, now), "just now");
    }

    #[test]
    fn urls_carry_the_state() {
        let s = ListState {
            query: "is:unresolved level:error".into(),
            sort: Sort::Events,
            stats: StatsPeriod::TwoWeeks,
            cursor: Some("k5:9".into()),
        };
        assert_eq!(
            s.href("/projects/1"),
            "/projects/1?query=is%3Aunresolved%20level%3Aerror&sort=freq&stats=14d&cursor=k5%3A9"
        );
        let s = ListState { query: String::new(), sort: Sort::LastSeen, stats: StatsPeriod::Day, cursor: None };
        assert_eq!(s.href("/issues"), "/issues?query=");
    }
}
