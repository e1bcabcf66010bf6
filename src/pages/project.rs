//! A project's settings page: its DSN with SDK setup snippets, its client keys and who has
//! access. (The project's issues are the issue list, `pages::issues`.)

use crate::app::PageTitle;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::app::{load_error, ActionError, HydrationMark};
use crate::dsn::Sdk;
use crate::error::AppError;
use crate::model::{Member, Project, ProjectKey, Role, TrackerInfo, User};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyView {
    pub key: ProjectKey,
    pub dsn: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectView {
    pub project: Project,
    pub role: Role,
    pub keys: Vec<KeyView>,
    /// Only filled for project admins.
    pub members: Vec<Member>,
    /// Users that can be granted access (site administrators only).
    pub users: Vec<User>,
    /// The issue trackers (project admins only; never their tokens).
    pub trackers: Vec<TrackerInfo>,
}

/// The heading of a project's pages (name, `org/slug`, the page in the title) and the links
/// between them; `current` is the page shown.
#[component]
pub fn ProjectHeader(project: Project, current: &'static str) -> impl IntoView {
    let pid = project.id;
    let pages = [
        ("Issues", String::new()),
        ("Releases", "/releases".into()),
        ("Alerts", "/alerts".into()),
        ("Settings", "/settings".into()),
    ];
    view! {
        <PageTitle text=format!("{} · {current} · Faultline", project.name)/>
        <h1>{project.name.clone()}<span class="slug">{format!("{}/{}", project.org_slug, project.slug)}</span></h1>
        <nav class="subnav">
            {pages.into_iter().map(|(name, path)| if name == current {
                view! { <span class="current">{name}</span> }.into_any()
            } else {
                view! { <a href=format!("/projects/{pid}{path}")>{name}</a> }.into_any()
            }).collect_view()}
        </nav>
    }
}

#[server(prefix = "/_fn", endpoint = "project_settings")]
pub async fn project_settings(project_id: i64) -> Result<ProjectView, AppError> {
    use crate::pages::guard::{require_project, state};
    let (user, role) = require_project(project_id).await?;
    let state = state();
    let db = &state.db;
    let project = db.project_by_id(project_id).await?.ok_or(AppError::NotFound)?;
    let keys = db
        .project_keys(project_id)
        .await?
        .into_iter()
        .map(|key| KeyView { dsn: crate::dsn::dsn(&state.public_url, &key.public_key, project_id), key })
        .collect();
    // The member list is for project admins; the user directory only for site administrators
    // (a project admin types the e-mail of the person to add).
    let members = if role == Role::Admin { db.list_members(project_id).await? } else { vec![] };
    let users = if user.is_admin { db.list_users().await? } else { vec![] };
    let trackers = if role == Role::Admin { db.trackers(project_id).await? } else { vec![] };
    Ok(ProjectView { project, role, keys, members, users, trackers })
}

#[server(prefix = "/_fn", endpoint = "add_key")]
pub async fn add_key(project_id: i64, label: String) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    let label = label.trim();
    let label = if label.is_empty() { "Key" } else { label };
    crate::pages::guard::state().db.create_key(project_id, label).await?;
    Ok(())
}

/// Links the project to its repository: a GitHub or GitLab web URL (commit links, the name
/// sentry-cli's `set-commits --commit` uses) and a git clone on this host. Empty: unlinked.
#[server(prefix = "/_fn", endpoint = "set_repository")]
pub async fn set_repository(project_id: i64, url: String, path: String) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    let url = url.trim().trim_end_matches('/');
    let path = path.trim();
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        return Err(AppError::Invalid("The repository URL starts with https:// (or http://).".into()));
    }
    if !url.is_empty() && crate::model::repository_name(url).is_none() {
        return Err(AppError::Invalid(
            "The repository URL names the repository: https://github.com/OWNER/NAME.".into(),
        ));
    }
    if !path.is_empty() {
        let p = std::path::Path::new(path);
        if !p.is_absolute() {
            return Err(AppError::Invalid("The clone's path is absolute: /srv/git/shop.".into()));
        }
        if !(p.join(".git").exists() || p.join("HEAD").is_file()) {
            return Err(AppError::Invalid(format!("{path} is not a git repository on this host.")));
        }
    }
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    crate::pages::guard::state()
        .db
        .set_project_repository(project_id, some(url).as_deref(), some(path).as_deref())
        .await?;
    Ok(())
}

/// Saves a GitLab or GitHub tracker; an empty token keeps the saved one.
#[server(prefix = "/_fn", endpoint = "save_tracker")]
pub async fn save_tracker(
    project_id: i64,
    kind: String,
    base_url: String,
    target: String,
    token: String,
) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    let (base, target) =
        crate::tracker::check_settings(&kind, &base_url, &target).map_err(|e| AppError::Invalid(e.to_string()))?;
    let token = token.trim();
    let token = (!token.is_empty()).then_some(token);
    crate::pages::guard::state().db.save_tracker(project_id, &kind, &base, &target, token).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "remove_tracker")]
pub async fn remove_tracker(project_id: i64, kind: String) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    crate::pages::guard::state().db.delete_tracker(project_id, &kind).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "rotate_key")]
pub async fn rotate_key(project_id: i64, key_id: i64) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    crate::pages::guard::state().db.rotate_key(project_id, key_id).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "set_key_active")]
pub async fn set_key_active(project_id: i64, key_id: i64, active: bool) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    crate::pages::guard::state().db.set_key_active(project_id, key_id, active).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "grant_access")]
pub async fn grant_access(project_id: i64, email: String, role: String) -> Result<(), AppError> {
    let me = crate::pages::guard::require_project_admin(project_id).await?;
    let db = &crate::pages::guard::state().db;
    let role = Role::parse(&role).ok_or_else(|| AppError::Invalid("Unknown role.".into()))?;
    // An instance administrator sees every account; a project administrator may add only
    // the people they already work with (a project in common), and gets the same answer for
    // an unknown e-mail as for a stranger's, so the form cannot tell who has an account.
    let unknown = || {
        AppError::Invalid(
            "No one you work with has this e-mail. An administrator can create the account or grant access.".into(),
        )
    };
    let user = db.user_by_email(&crate::model::normalize_email(&email)).await?.ok_or_else(unknown)?;
    if !me.is_admin && !db.share_a_project(me.id, user.id).await? {
        return Err(unknown());
    }
    db.set_membership(project_id, user.id, role).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "revoke_access")]
pub async fn revoke_access(project_id: i64, user_id: i64) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    crate::pages::guard::state().db.remove_membership(project_id, user_id).await?;
    Ok(())
}

#[component]
pub fn ProjectSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let project_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let add = ServerAction::<AddKey>::new();
    let rotate = ServerAction::<RotateKey>::new();
    let toggle = ServerAction::<SetKeyActive>::new();
    let grant = ServerAction::<GrantAccess>::new();
    let revoke = ServerAction::<RevokeAccess>::new();
    let repository = ServerAction::<SetRepository>::new();
    let tracker_save = ServerAction::<SaveTracker>::new();
    let tracker_remove = ServerAction::<RemoveTracker>::new();
    let changes = move || {
        (
            (tracker_save.version().get(), tracker_remove.version().get()),
            repository.version().get(),
            add.version().get(),
            rotate.version().get(),
            toggle.version().get(),
            grant.version().get(),
            revoke.version().get(),
        )
    };
    let data = Resource::new(move || (project_id(), changes()), |(id, _)| project_settings(id));

    view! {
        <main>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let content = match data.await {
                        Err(e) => load_error(e),
                        Ok(s) => {
                            let is_admin = s.role == Role::Admin;
                            let pid = s.project.id;
                            let first_dsn = s.keys.iter().find(|k| k.key.is_active).map(|k| k.dsn.clone());
                            view! {
                                <ProjectHeader project=s.project.clone() current="Settings"/>
                                <section class="card">
                                    <h2>"Send errors to this project"</h2>
                                    {match first_dsn {
                                        Some(dsn) => view! { <DsnSetup dsn/> }.into_any(),
                                        None => view! { <p class="error">"Every key of this project is disabled: enable or add one."</p> }.into_any(),
                                    }}
                                </section>
                                <section class="card">
                                    <h2>"Client keys (DSN)"</h2>
                                    <table class="keys">
                                        <thead><tr><th>"Label"</th><th>"DSN"</th><th>"Status"</th>{is_admin.then(|| view! { <th></th> })}</tr></thead>
                                        <tbody>
                                            {s.keys.into_iter().map(|k| {
                                                let active = k.key.is_active;
                                                view! {
                                                    <tr data-key-id=k.key.id>
                                                        <td>{k.key.label.clone()}</td>
                                                        <td><code class="dsn">{k.dsn.clone()}</code></td>
                                                        <td>{if active { view! { <span class="badge ok">"active"</span> } } else { view! { <span class="badge off">"disabled"</span> } }}</td>
                                                        {is_admin.then(|| view! {
                                                            <td class="actions">
                                                                <ActionForm action=rotate attr:class="inline">
                                                                    <input type="hidden" name="project_id" value=pid/>
                                                                    <input type="hidden" name="key_id" value=k.key.id/>
                                                                    <button type="submit">"Rotate"</button>
                                                                </ActionForm>
                                                                <ActionForm action=toggle attr:class="inline">
                                                                    <input type="hidden" name="project_id" value=pid/>
                                                                    <input type="hidden" name="key_id" value=k.key.id/>
                                                                    <input type="hidden" name="active" value=(!active).to_string()/>
                                                                    <button type="submit">{if active { "Disable" } else { "Enable" }}</button>
                                                                </ActionForm>
                                                            </td>
                                                        })}
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {is_admin.then(|| view! {
                                        <ActionForm action=add attr:class="row">
                                            <input type="hidden" name="project_id" value=pid/>
                                            <label>"Label"<input type="text" name="label" placeholder="staging"/></label>
                                            <button type="submit">"Add key"</button>
                                        </ActionForm>
                                    })}
                                    <ActionError action=rotate/>
                                    <ActionError action=toggle/>
                                    <ActionError action=add/>
                                </section>
                                <section class="card" data-testid="repository">
                                    <h2>"Repository"</h2>
                                    <p class="muted">
                                        "Where the code lives: the web page of the repository on GitHub or GitLab (for commit links, and the "
                                        <code>"OWNER/NAME"</code>" that "<code>"sentry-cli releases set-commits --commit"</code>
                                        " names), and a git clone on the Faultline host."
                                    </p>
                                    {if is_admin {
                                        view! {
                                            <ActionForm action=repository attr:class="row">
                                                <input type="hidden" name="project_id" value=pid/>
                                                <label>"Web URL"<input type="url" name="url" placeholder="https://github.com/acme/shop"
                                                    value=s.project.repository_url.clone().unwrap_or_default()/></label>
                                                <label>"Clone on this host"<input type="text" name="path" placeholder="/srv/git/shop"
                                                    value=s.project.repository_path.clone().unwrap_or_default()/></label>
                                                <button type="submit">"Save"</button>
                                            </ActionForm>
                                            <ActionError action=repository/>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <p>{s.project.repository_url.clone().unwrap_or_else(|| "Not linked.".into())}</p>
                                        }.into_any()
                                    }}
                                </section>
                                {is_admin.then(|| {
                                    let trackers = s.trackers.clone();
                                    view! {
                                        <section class="card" data-testid="trackers-settings">
                                            <h2>"Issue trackers"</h2>
                                            <p class="muted">"Create GitLab or GitHub issues from errors. A saved token is never shown again; leave the field empty to keep it."</p>
                                            {["gitlab", "github"].into_iter().map(|kind| {
                                                let saved = trackers.iter().find(|t| t.kind == kind).cloned();
                                                let (name, base_label, target_label, target_hint, default_base) = if kind == "github" {
                                                    ("GitHub", "API URL", "Repository", "owner/repo", "https://api.github.com")
                                                } else {
                                                    ("GitLab", "GitLab URL", "Project", "group/project or id", "https://gitlab.com")
                                                };
                                                let token_hint = if saved.is_some() { "saved (leave empty to keep)" } else { "access token" };
                                                let is_saved = saved.is_some();
                                                let saved_base = saved.as_ref().map(|t| t.base_url.clone()).unwrap_or_default();
                                                let saved_target = saved.as_ref().map(|t| t.target.clone()).unwrap_or_default();
                                                view! {
                                                    <h3>{name}{is_saved.then(|| view! { " "<span class="badge ok">"set up"</span> })}</h3>
                                                    <ActionForm action=tracker_save attr:class="row" attr:data-tracker=kind>
                                                        <input type="hidden" name="project_id" value=pid/>
                                                        <input type="hidden" name="kind" value=kind/>
                                                        <label>{base_label}<input type="url" name="base_url" placeholder=default_base
                                                            value=saved_base/></label>
                                                        <label>{target_label}<input type="text" name="target" placeholder=target_hint
                                                            value=saved_target/></label>
                                                        <label>"Token"<input type="password" name="token" autocomplete="off" placeholder=token_hint/></label>
                                                        <button type="submit">"Save"</button>
                                                    </ActionForm>
                                                    {is_saved.then(|| view! {
                                                        <ActionForm action=tracker_remove attr:class="inline">
                                                            <input type="hidden" name="project_id" value=pid/>
                                                            <input type="hidden" name="kind" value=kind/>
                                                            <button type="submit" class="small">{format!("Remove {name}")}</button>
                                                        </ActionForm>
                                                    })}
                                                }
                                            }).collect_view()}
                                            <ActionError action=tracker_save/>
                                            <ActionError action=tracker_remove/>
                                        </section>
                                    }
                                })}
                                {is_admin.then(|| view! {
                                    <section class="card">
                                        <h2>"Access"</h2>
                                        <p class="muted">"Administrators see every project. Other users see the projects listed here for them."</p>
                                        <table class="members">
                                            <thead><tr><th>"User"</th><th>"Role"</th><th></th></tr></thead>
                                            <tbody>
                                                {s.members.into_iter().map(|m| view! {
                                                    <tr>
                                                        <td>{m.email.clone()}</td>
                                                        <td>{m.role.as_str()}</td>
                                                        <td>
                                                            <ActionForm action=revoke attr:class="inline">
                                                                <input type="hidden" name="project_id" value=pid/>
                                                                <input type="hidden" name="user_id" value=m.user_id/>
                                                                <button type="submit">"Remove"</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                        <ActionForm action=grant attr:class="row">
                                            <input type="hidden" name="project_id" value=pid/>
                                            <label>"User"
                                                {if s.users.is_empty() {
                                                    view! { <input type="email" name="email" required placeholder="name@example.com"/> }.into_any()
                                                } else {
                                                    view! {
                                                        <select name="email">
                                                            {s.users.into_iter().filter(|u| !u.is_admin).map(|u| view! { <option value=u.email.clone()>{u.email.clone()}</option> }).collect_view()}
                                                        </select>
                                                    }.into_any()
                                                }}
                                            </label>
                                            <label>"Role"
                                                <select name="role">
                                                    <option value="member">"member"</option>
                                                    <option value="admin">"admin"</option>
                                                </select>
                                            </label>
                                            <button type="submit">"Grant access"</button>
                                        </ActionForm>
                                        <ActionError action=grant/>
                                        <ActionError action=revoke/>
                                    </section>
                                })}
                            }.into_any()
                        }
                    };
                    view! { {content} <HydrationMark/> }
                })}
            </Transition>
        </main>
    }
}

/// The DSN with a copy button and a setup snippet per SDK.
#[component]
pub fn DsnSetup(dsn: String) -> impl IntoView {
    let sdk = RwSignal::new(Sdk::Python);
    let copied = RwSignal::new(false);
    let dsn_for_copy = dsn.clone();
    let copy = move |_| {
        let _ = window().navigator().clipboard().write_text(&dsn_for_copy);
        copied.set(true);
    };
    let dsn_for_snippet = dsn.clone();
    view! {
        <div class="dsn-box">
            <input type="text" readonly class="dsn" data-testid="dsn" value=dsn.clone() on:focus=|ev| {
                use leptos::wasm_bindgen::JsCast;
                if let Some(input) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok()) {
                    input.select();
                }
            }/>
            <button type="button" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
        </div>
        <div class="tabs" role="tablist">
            {Sdk::ALL.into_iter().map(|s| view! {
                <button type="button" role="tab" class:active=move || sdk.get() == s on:click=move |_| sdk.set(s)>{s.label()}</button>
            }).collect_view()}
        </div>
        {move || {
            let (install, code) = sdk.get().snippet(&dsn_for_snippet);
            view! {
                <pre class="snippet"><code>{format!("$ {install}")}</code></pre>
                <pre class="snippet"><code>{code}</code></pre>
            }
        }}
    }
}
