//! Tracker issues from errors: on the issue page, the GitLab / GitHub issues linked to the
//! issue (each removable), "Create GitLab issue" / "Create GitHub issue" (a form prefilled
//! with a title and a Markdown description, editable before it is sent) and "Link an issue"
//! by URL; in a project's issue list, the same actions for the selected issues (one tracker
//! issue for all of them, linked to each).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::ActionError;
use crate::error::AppError;
use crate::model::{IssueLink, TrackerInfo};

/// Most Faultline issues one tracker issue is drafted for (its description has a section
/// for each).
pub const MAX_ISSUES_PER_TRACKER_ISSUE: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerView {
    pub links: Vec<IssueLink>,
    /// The project's trackers (no tokens).
    pub trackers: Vec<TrackerInfo>,
}

/// A tracker issue just created or linked, for the message that says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linked {
    /// `GitLab #12`.
    pub label: String,
    pub url: String,
    /// How many Faultline issues it was linked to.
    pub issues: usize,
}

/// The issues, if the signed-in user may see them all and they are of one project (trackers
/// are set up per project); in the order given, without repeats.
#[cfg(feature = "ssr")]
async fn visible_issues(issue_ids: &[i64]) -> Result<(crate::model::User, Vec<crate::model::Issue>), AppError> {
    use crate::pages::guard::require_issue;
    let mut ids = issue_ids.to_vec();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    if ids.is_empty() {
        return Err(AppError::Invalid("Select at least one issue.".into()));
    }
    if ids.len() > MAX_ISSUES_PER_TRACKER_ISSUE {
        return Err(AppError::Invalid(format!(
            "One tracker issue covers at most {MAX_ISSUES_PER_TRACKER_ISSUE} issues; select fewer."
        )));
    }
    let mut issues = Vec::with_capacity(ids.len());
    let mut user = None;
    for id in ids {
        let (u, _, issue) = require_issue(id).await?;
        user = Some(u);
        issues.push(issue);
    }
    if issues.iter().any(|i| i.project_id != issues[0].project_id) {
        return Err(AppError::Invalid("Select issues of one project: trackers are set up per project.".into()));
    }
    Ok((user.ok_or(AppError::NotSignedIn)?, issues))
}

#[server(prefix = "/_fn", endpoint = "tracker_state")]
pub async fn tracker_state(issue_id: i64) -> Result<TrackerView, AppError> {
    let (_, _, issue) = crate::pages::guard::require_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    Ok(TrackerView { links: db.issue_links(issue_id).await?, trackers: db.trackers(issue.project_id).await? })
}

/// A project's trackers (no tokens), for the issue list's bulk actions.
#[server(prefix = "/_fn", endpoint = "project_trackers")]
pub async fn project_trackers(project_id: i64) -> Result<Vec<TrackerInfo>, AppError> {
    crate::pages::guard::require_project(project_id).await?;
    Ok(crate::pages::guard::state().db.trackers(project_id).await?)
}

/// The prefilled title and Markdown description of a tracker issue for these issues.
#[server(prefix = "/_fn", endpoint = "tracker_draft")]
pub async fn tracker_draft(issue_ids: Vec<i64>) -> Result<(String, String), AppError> {
    use crate::store::events::EventEnd;
    use crate::tracker::draft::{self, DraftFrame, DraftInput};
    let (_, issues) = visible_issues(&issue_ids).await?;
    let state = crate::pages::guard::state();
    let db = &state.db;
    let project = db.project_by_id(issues[0].project_id).await?.ok_or(AppError::NotFound)?;
    // Fewer frames each when the description covers several issues.
    let frame_count = if issues.len() == 1 { 10 } else { 5 };
    let mut parts = Vec::with_capacity(issues.len());
    for issue in &issues {
        let frames: Vec<DraftFrame> = match db.issue_event_at(issue.id, EventEnd::Latest).await? {
            Some(e) => crate::suspects::rank::in_app_frames(&e.json, frame_count)
                .into_iter()
                .map(|f| DraftFrame {
                    file: f.filename,
                    line: Some(f.line),
                    function: f.function,
                    context_line: f.context_line,
                })
                .collect(),
            None => vec![],
        };
        let suspect = crate::suspects::find(db, issue, &project, 1).await?.commits.into_iter().next();
        let url = format!("{}/issues/{}", state.public_url.trim_end_matches('/'), issue.id);
        parts.push((frames, suspect, url));
    }
    let time = |ms: i64| {
        crate::api::serialize::iso(ms).get(..16).map(|t| format!("{} UTC", t.replace('T', " "))).unwrap_or_default()
    };
    let inputs: Vec<DraftInput> = issues
        .iter()
        .zip(&parts)
        .map(|(issue, (frames, suspect, url))| DraftInput {
            issue,
            project_name: &project.name,
            url,
            frames,
            suspect: suspect.as_ref(),
            time: &time,
        })
        .collect();
    let refs: Vec<&crate::model::Issue> = issues.iter().collect();
    Ok((draft::title_many(&refs, &project.name), draft::description_many(&inputs)))
}

/// Creates the tracker issue and links it to every one of these issues; nothing is stored
/// when the tracker refuses.
#[server(prefix = "/_fn", endpoint = "create_tracker_issue")]
pub async fn create_tracker_issue(
    issue_ids: Vec<i64>,
    kind: String,
    title: String,
    description: String,
) -> Result<Linked, AppError> {
    let (user, issues) = visible_issues(&issue_ids).await?;
    let db = &crate::pages::guard::state().db;
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(AppError::Invalid("The title has 1 to 255 characters.".into()));
    }
    if description.len() > 60_000 {
        return Err(AppError::Invalid("The description is too long (60,000 bytes at most).".into()));
    }
    let tracker = db.tracker(issues[0].project_id, &kind).await?.ok_or_else(|| {
        AppError::Invalid(format!(
            "No {} tracker is set up for this project: add one in the project's settings.",
            crate::tracker::kind_name(&kind)
        ))
    })?;
    let created = crate::tracker::create_issue(&tracker, title, &description)
        .await
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    db.add_issue_links(&ids, &kind, &created.url, Some(created.number), Some(title), Some(user.id)).await?;
    Ok(Linked { label: link_label(&kind, Some(created.number)), url: created.url, issues: ids.len() })
}

/// Links an existing tracker issue, by its URL, to every one of these issues.
#[server(prefix = "/_fn", endpoint = "link_tracker_issue")]
pub async fn link_tracker_issue(issue_ids: Vec<i64>, url: String) -> Result<Linked, AppError> {
    let (user, issues) = visible_issues(&issue_ids).await?;
    let (kind, number) = crate::tracker::parse_link(&url).map_err(|e| AppError::Invalid(e.to_string()))?;
    let db = &crate::pages::guard::state().db;
    let ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    db.add_issue_links(&ids, &kind, url.trim(), number, None, Some(user.id)).await?;
    Ok(Linked { label: link_label(&kind, number), url: url.trim().to_string(), issues: ids.len() })
}

/// Removes a link from an issue (the tracker issue itself stays as it is).
#[server(prefix = "/_fn", endpoint = "unlink_tracker_issue")]
pub async fn unlink_tracker_issue(issue_id: i64, link_id: i64) -> Result<(), AppError> {
    crate::pages::guard::require_issue(issue_id).await?;
    Ok(crate::pages::guard::state().db.delete_issue_link(issue_id, link_id).await?)
}

fn link_label(kind: &str, number: Option<i64>) -> String {
    let name = match kind {
        "gitlab" => "GitLab",
        "github" => "GitHub",
        _ => "Issue",
    };
    match number {
        Some(n) => format!("{name} #{n}"),
        None => name.to_string(),
    }
}

/// The issue page's tracker bar: linked tracker issues and the actions.
#[component]
pub fn TrackerPanel(issue_id: Memo<i64>) -> impl IntoView {
    let changed = RwSignal::new(0u64);
    let unlink = ServerAction::<UnlinkTrackerIssue>::new();
    let state =
        Resource::new(move || (issue_id.get(), changed.get(), unlink.version().get()), |(id, ..)| tracker_state(id));
    view! {
        <Transition>
            {move || Suspend::new(async move {
                let s = state.await.ok()?;
                Some(view! {
                    <section class="trackers" data-testid="trackers">
                        {s.links.iter().map(|l| {
                            let link_id = l.id;
                            let label = link_label(&l.kind, l.number);
                            view! {
                                <span class="tracker-link-item">
                                    <a class="tracker-link" data-testid="tracker-link" href=l.url.clone() target="_blank" rel="noopener noreferrer"
                                        title=l.title.clone().unwrap_or_else(|| l.url.clone())>{label.clone()}</a>
                                    <button type="button" class="link unlink" title=format!("Unlink {label}") aria-label=format!("Unlink {label}")
                                        on:click=move |_| { unlink.dispatch(UnlinkTrackerIssue { issue_id: issue_id.get_untracked(), link_id }); }>"×"</button>
                                </span>
                            }
                        }).collect_view()}
                        <TrackerActions
                            targets=Callback::new(move |_: ()| vec![issue_id.get_untracked()])
                            trackers=s.trackers.clone()
                            disabled=Signal::derive(|| false)
                            on_done=Callback::new(move |_: Linked| changed.update(|n| *n += 1))/>
                    </section>
                })
            })}
        </Transition>
        <ActionError action=unlink/>
    }
}

/// "Create GitLab issue" / "Create GitHub issue" (one per tracker) and "Link an issue", for
/// the issues `targets` gives when a button is pressed; their forms open below them.
#[component]
pub fn TrackerActions(
    targets: Callback<(), Vec<i64>>,
    trackers: Vec<TrackerInfo>,
    disabled: Signal<bool>,
    on_done: Callback<Linked>,
) -> impl IntoView {
    let create = ServerAction::<CreateTrackerIssue>::new();
    let link = ServerAction::<LinkTrackerIssue>::new();
    // The open form: a tracker kind being drafted, or "link"; and the issues it is for.
    let open = RwSignal::new(None::<String>);
    let ids = RwSignal::new(Vec::<i64>::new());
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let draft_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let done = match (create.value().get(), link.value().get()) {
            (Some(Ok(l)), _) | (_, Some(Ok(l))) => l,
            _ => return,
        };
        create.value().set(None);
        link.value().set(None);
        open.set(None);
        url.set(String::new());
        on_done.run(done);
    });
    let start = move |kind: String| {
        draft_error.set(None);
        let targets = targets.run(());
        if targets.is_empty() {
            return;
        }
        ids.set(targets.clone());
        if kind == "link" {
            open.set(Some(kind));
            return;
        }
        leptos::task::spawn_local(async move {
            match tracker_draft(targets).await {
                Ok((t, d)) => {
                    title.set(t);
                    body.set(d);
                    open.set(Some(kind));
                }
                Err(e) => draft_error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {trackers.iter().map(|t| {
            let kind = t.kind.clone();
            let label = format!("Create {} issue", if kind == "github" { "GitHub" } else { "GitLab" });
            view! { <button type="button" class="small" disabled=move || disabled.get() on:click=move |_| start(kind.clone())>{label}</button> }
        }).collect_view()}
        <button type="button" class="small link" disabled=move || disabled.get() on:click=move |_| start("link".into())>"Link an issue"</button>
        {move || draft_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || match open.get() {
            None => None,
            Some(kind) if kind == "link" => Some(view! {
                <form class="card tracker-form row" data-testid="link-form" on:submit=move |ev| {
                    ev.prevent_default();
                    link.dispatch(LinkTrackerIssue { issue_ids: ids.get_untracked(), url: url.get_untracked() });
                }>
                    <label>"Issue URL"<input type="url" required placeholder="https://gitlab.com/group/app/-/issues/12"
                        prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/></label>
                    <button type="submit" class="primary">"Link"</button>
                    <button type="button" on:click=move |_| open.set(None)>"Cancel"</button>
                    <ActionError action=link/>
                </form>
            }.into_any()),
            Some(kind) => {
                let name = if kind == "github" { "GitHub" } else { "GitLab" };
                let n = ids.with_untracked(Vec::len);
                let heading = if n == 1 { format!("New {name} issue") } else { format!("New {name} issue for {n} issues") };
                Some(view! {
                    <form class="card tracker-form" data-testid="tracker-form" on:submit=move |ev| {
                        ev.prevent_default();
                        create.dispatch(CreateTrackerIssue {
                            issue_ids: ids.get_untracked(),
                            kind: kind.clone(),
                            title: title.get_untracked(),
                            description: body.get_untracked(),
                        });
                    }>
                        <h2>{heading}</h2>
                        <label>"Title"<input type="text" maxlength="255" required
                            prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/></label>
                        <label>"Description (Markdown)"<textarea rows="14"
                            prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea></label>
                        <div class="row">
                            <button type="submit" class="primary" disabled=move || create.pending().get()>{format!("Create {name} issue")}</button>
                            <button type="button" on:click=move |_| open.set(None)>"Cancel"</button>
                        </div>
                        <ActionError action=create/>
                    </form>
                }.into_any())
            }
        }}
    }
}
