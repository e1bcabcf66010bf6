//! The issue page's tracker bar: the GitLab / GitHub issues linked to the issue, "Create
//! GitLab issue" / "Create GitHub issue" (a form prefilled with a title and a Markdown
//! description, editable before it is sent) and "Link an issue" by URL.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::ActionError;
use crate::error::AppError;
use crate::model::{IssueLink, TrackerInfo};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerView {
    pub links: Vec<IssueLink>,
    /// The project's trackers (no tokens).
    pub trackers: Vec<TrackerInfo>,
}

/// The issue, if the signed-in user may see it.
#[cfg(feature = "ssr")]
async fn visible_issue(issue_id: i64) -> Result<(crate::model::User, crate::model::Issue), AppError> {
    use crate::pages::guard::{require_project, require_user, state};
    require_user().await?;
    let issue = state().db.issue_by_id(issue_id).await?.ok_or(AppError::NotFound)?;
    let (user, _) = require_project(issue.project_id).await?;
    Ok((user, issue))
}

#[server(prefix = "/_fn", endpoint = "tracker_state")]
pub async fn tracker_state(issue_id: i64) -> Result<TrackerView, AppError> {
    let (_, issue) = visible_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    Ok(TrackerView { links: db.issue_links(issue_id).await?, trackers: db.trackers(issue.project_id).await? })
}

/// The prefilled title and Markdown description of a tracker issue.
#[server(prefix = "/_fn", endpoint = "tracker_draft")]
pub async fn tracker_draft(issue_id: i64) -> Result<(String, String), AppError> {
    use crate::store::events::EventEnd;
    use crate::tracker::draft::{self, DraftFrame, DraftInput};
    let (_, issue) = visible_issue(issue_id).await?;
    let state = crate::pages::guard::state();
    let db = &state.db;
    let project = db.project_by_id(issue.project_id).await?.ok_or(AppError::NotFound)?;
    let frames: Vec<DraftFrame> = match db.issue_event_at(issue_id, EventEnd::Latest).await? {
        Some(e) => crate::suspects::rank::in_app_frames(&e.json, 10)
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
    let suspects = crate::suspects::find(db, &issue, &project, 1).await?;
    let url = format!("{}/issues/{issue_id}", state.public_url.trim_end_matches('/'));
    let time = |ms: i64| {
        crate::api::serialize::iso(ms).get(..16).map(|t| format!("{} UTC", t.replace('T', " "))).unwrap_or_default()
    };
    let description = draft::description(&DraftInput {
        issue: &issue,
        project_name: &project.name,
        url: &url,
        frames: &frames,
        suspect: suspects.commits.first(),
        time: &time,
    });
    Ok((draft::title(&issue), description))
}

/// Creates the tracker issue and links it; nothing is stored when the tracker refuses.
#[server(prefix = "/_fn", endpoint = "create_tracker_issue")]
pub async fn create_tracker_issue(
    issue_id: i64,
    kind: String,
    title: String,
    description: String,
) -> Result<(), AppError> {
    let (user, issue) = visible_issue(issue_id).await?;
    let db = &crate::pages::guard::state().db;
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(AppError::Invalid("The title has 1 to 255 characters.".into()));
    }
    if description.len() > 60_000 {
        return Err(AppError::Invalid("The description is too long (60,000 bytes at most).".into()));
    }
    let tracker = db.tracker(issue.project_id, &kind).await?.ok_or_else(|| {
        AppError::Invalid(format!(
            "No {} tracker is set up for this project: add one in the project's settings.",
            crate::tracker::kind_name(&kind)
        ))
    })?;
    let created = crate::tracker::create_issue(&tracker, title, &description)
        .await
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    db.add_issue_link(issue_id, &kind, &created.url, Some(created.number), Some(title), Some(user.id)).await?;
    Ok(())
}

/// Links an existing tracker issue by its URL.
#[server(prefix = "/_fn", endpoint = "link_tracker_issue")]
pub async fn link_tracker_issue(issue_id: i64, url: String) -> Result<(), AppError> {
    let (user, _) = visible_issue(issue_id).await?;
    let (kind, number) = crate::tracker::parse_link(&url).map_err(|e| AppError::Invalid(e.to_string()))?;
    let db = &crate::pages::guard::state().db;
    db.add_issue_link(issue_id, &kind, url.trim(), number, None, Some(user.id)).await?;
    Ok(())
}

fn link_label(l: &IssueLink) -> String {
    let name = match l.kind.as_str() {
        "gitlab" => "GitLab",
        "github" => "GitHub",
        _ => "Issue",
    };
    match l.number {
        Some(n) => format!("{name} #{n}"),
        None => name.to_string(),
    }
}

#[component]
pub fn TrackerPanel(issue_id: Memo<i64>) -> impl IntoView {
    let create = ServerAction::<CreateTrackerIssue>::new();
    let link = ServerAction::<LinkTrackerIssue>::new();
    let state = Resource::new(
        move || (issue_id.get(), create.version().get(), link.version().get()),
        |(id, ..)| tracker_state(id),
    );
    // The open form: a tracker kind being drafted, or "link".
    let open = RwSignal::new(None::<String>);
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let draft_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(()))) || matches!(link.value().get(), Some(Ok(()))) {
            open.set(None);
            url.set(String::new());
        }
    });
    let start = move |kind: String| {
        draft_error.set(None);
        leptos::task::spawn_local(async move {
            match tracker_draft(issue_id.get_untracked()).await {
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
        <Transition>
            {move || Suspend::new(async move {
                let s = state.await.ok()?;
                Some(view! {
                    <section class="trackers" data-testid="trackers">
                        {s.links.iter().map(|l| view! {
                            <a class="tracker-link" data-testid="tracker-link" href=l.url.clone() target="_blank" rel="noopener noreferrer"
                                title=l.title.clone().unwrap_or_else(|| l.url.clone())>{link_label(l)}</a>
                        }).collect_view()}
                        {s.trackers.iter().map(|t| {
                            let kind = t.kind.clone();
                            let label = format!("Create {} issue", if kind == "github" { "GitHub" } else { "GitLab" });
                            view! { <button type="button" class="small" on:click=move |_| start(kind.clone())>{label}</button> }
                        }).collect_view()}
                        <button type="button" class="small link" on:click=move |_| open.set(Some("link".into()))>"Link an issue"</button>
                    </section>
                })
            })}
        </Transition>
        {move || draft_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || match open.get() {
            None => None,
            Some(kind) if kind == "link" => Some(view! {
                <form class="card tracker-form row" data-testid="link-form" on:submit=move |ev| {
                    ev.prevent_default();
                    link.dispatch(LinkTrackerIssue { issue_id: issue_id.get_untracked(), url: url.get_untracked() });
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
                Some(view! {
                    <form class="card tracker-form" data-testid="tracker-form" on:submit=move |ev| {
                        ev.prevent_default();
                        create.dispatch(CreateTrackerIssue {
                            issue_id: issue_id.get_untracked(),
                            kind: kind.clone(),
                            title: title.get_untracked(),
                            description: body.get_untracked(),
                        });
                    }>
                        <h2>{format!("New {name} issue")}</h2>
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
