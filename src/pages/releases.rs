//! A project's releases: every version its events carried or the release API registered,
//! newest first, with its events, the issues it introduced and the regressions it brought
//! (each a link into the filtered issue list), its commits and deploys.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::app::{load_error, HydrationMark};
use crate::error::AppError;
use crate::model::{Project, ReleaseSummary};
use crate::pages::account::format_time;
use crate::pages::event::{format_ago, LongText};
use crate::pages::project::ProjectHeader;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReleasesView {
    pub project: Project,
    pub releases: Vec<ReleaseSummary>,
    pub now: i64,
}

#[server(prefix = "/_fn", endpoint = "project_releases")]
pub async fn project_releases(project_id: i64) -> Result<ReleasesView, AppError> {
    use crate::pages::guard::{require_project, state};
    require_project(project_id).await?;
    let db = &state().db;
    let project = db.project_by_id(project_id).await?.ok_or(AppError::NotFound)?;
    let releases = db.release_summaries(project_id).await?;
    Ok(ReleasesView { project, releases, now: crate::store::now_ms() })
}

/// The project's issue list with `query`.
fn issues_link(project_id: i64, query: &str) -> String {
    let q: String = form_query(query);
    format!("/projects/{project_id}?query={q}")
}

/// `query` encoded for a URL's query string.
fn form_query(query: &str) -> String {
    let mut out = String::new();
    for b in query.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `release:"v"` (quoted when the version has spaces or quotes).
fn term(key: &str, version: &str) -> String {
    if version.chars().any(|c| c.is_whitespace() || c == '"') {
        format!("{key}:\"{}\"", version.replace('"', "\\\""))
    } else {
        format!("{key}:{version}")
    }
}

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let params = use_params_map();
    let project_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new(project_id, project_releases);
    view! {
        <main class="wide">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let content = match data.await {
                        Err(e) => load_error(e),
                        Ok(v) => {
                            let pid = v.project.id;
                            let now = v.now;
                            view! {
                                <ProjectHeader project=v.project.clone() current="Releases"/>
                                {if v.releases.is_empty() {
                                    view! {
                                        <p class="muted" data-testid="no-releases">
                                            "No releases yet. Set "<code>"release"</code>" in your SDK's options, or register one with "
                                            <code>"sentry-cli releases new VERSION"</code>"."
                                        </p>
                                    }.into_any()
                                } else {
                                    view! {
                                        <table class="releases" data-testid="releases">
                                            <thead><tr>
                                                <th>"Version"</th><th>"Created"</th><th class="num">"Events"</th>
                                                <th class="num">"New issues"</th><th class="num">"Regressions"</th>
                                                <th class="num">"Commits"</th><th>"Last deploy"</th><th>"Released"</th>
                                            </tr></thead>
                                            <tbody>
                                                {v.releases.into_iter().map(|r| release_row(pid, now, r)).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                    };
                    view! { {content} <HydrationMark/> }
                })}
            </Transition>
        </main>
    }
}

fn release_row(pid: i64, now: i64, r: ReleaseSummary) -> impl IntoView {
    let all = issues_link(pid, &format!("is:all {}", term("release", &r.version)));
    let new = issues_link(pid, &format!("is:all {}", term("firstRelease", &r.version)));
    let regressed = issues_link(pid, &format!("is:all is:regressed {}", term("release", &r.version)));
    let count = |n: i64, href: String, what: &'static str| {
        if n == 0 {
            view! { <span class="muted">"0"</span> }.into_any()
        } else {
            view! { <a href=href title=what>{n}</a> }.into_any()
        }
    };
    view! {
        <tr data-version=r.version.clone()>
            <td class="version"><a href=all.clone()><LongText text=r.version.clone() limit=60/></a></td>
            <td title=format_time(r.created_at)>{format_ago(now, r.created_at)}</td>
            <td class="num">{count(r.events, all, "Issues with events in this release")}</td>
            <td class="num" data-testid="new-issues">{count(r.new_issues, new, "Issues first seen in this release")}</td>
            <td class="num" data-testid="regressions">{count(r.regressions, regressed, "Issues that came back in this release")}</td>
            <td class="num">{r.commit_count}</td>
            <td>{r.last_deploy.map(|(env, at)| view! {
                <span title=format_time(at)><LongText text=env limit=30/>" · "{format_ago(now, at)}</span>
            })}</td>
            <td>{r.date_released.map(|at| view! { <span title=format_time(at)>{format_ago(now, at)}</span> })}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_into_the_issue_list() {
        assert_eq!(issues_link(3, "is:all release:shop@1.2"), "/projects/3?query=is%3Aall+release%3Ashop%401.2");
        assert_eq!(term("release", "my app 1.0"), "release:\"my app 1.0\"");
        assert_eq!(term("firstRelease", "a@1"), "firstRelease:a@1");
    }
}
