//! The home page: the projects the user can see, by organization; admins create
//! organizations and projects here.

use crate::app::PageTitle;
use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::app::{load_error, ActionError, HydrationMark};
use crate::error::AppError;
use crate::model::{Org, Project};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HomeData {
    pub orgs: Vec<Org>,
    pub projects: Vec<Project>,
    pub can_manage: bool,
}

pub const PLATFORMS: [(&str, &str); 7] = [
    ("python", "Python"),
    ("node", "Node.js"),
    ("javascript", "Browser JavaScript"),
    ("rust", "Rust"),
    ("go", "Go"),
    ("java", "Java"),
    ("other", "Other"),
];

#[server(prefix = "/_fn", endpoint = "overview")]
pub async fn overview() -> Result<HomeData, AppError> {
    let user = crate::pages::guard::require_user().await?;
    let db = &crate::pages::guard::state().db;
    let projects = crate::access::projects(db, &user, None).await?;
    let mut orgs = db.list_orgs().await?;
    if !user.is_admin {
        orgs.retain(|o| projects.iter().any(|p| p.org_id == o.id));
    }
    Ok(HomeData { orgs, projects, can_manage: user.is_admin })
}

#[server(prefix = "/_fn", endpoint = "create_project")]
pub async fn create_project(org: String, name: String, platform: String) -> Result<(), AppError> {
    use crate::model::{is_valid_slug, slugify};
    crate::pages::guard::require_admin().await?;
    let db = &crate::pages::guard::state().db;
    let org = db.org_by_slug(&org).await?.ok_or(AppError::NotFound)?;
    let name = name.trim();
    let slug = slugify(name);
    if !is_valid_slug(&slug) {
        return Err(AppError::Invalid("Name the project (letters or digits).".into()));
    }
    if !PLATFORMS.iter().any(|(p, _)| *p == platform) {
        return Err(AppError::Invalid("Unknown platform.".into()));
    }
    let (project, _key) = db.create_project(org.id, &slug, name, &platform).await?;
    leptos_axum::redirect(&format!("/projects/{}", project.id));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "create_org")]
pub async fn create_org(name: String) -> Result<(), AppError> {
    use crate::model::{is_valid_slug, slugify};
    crate::pages::guard::require_admin().await?;
    let name = name.trim();
    let slug = slugify(name);
    if !is_valid_slug(&slug) {
        return Err(AppError::Invalid("Name the organization (letters or digits).".into()));
    }
    crate::pages::guard::state().db.create_org(&slug, name).await?;
    Ok(())
}

#[component]
pub fn HomePage() -> impl IntoView {
    let new_project = ServerAction::<CreateProject>::new();
    let new_org = ServerAction::<CreateOrg>::new();
    let data = Resource::new(move || new_org.version().get(), |_| overview());
    view! {
        <PageTitle text="Projects · Faultline"/>
        <main>
            <h1>"Projects"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let content = match data.await {
                        Err(e) => load_error(e),
                        Ok(o) => view! {
                            {o.orgs.is_empty().then(|| view! {
                                <p class="muted" data-testid="no-projects">
                                    "You have no projects yet. Ask an administrator to give you access to one."
                                </p>
                            })}
                            {o.orgs.iter().map(|org| {
                                let projects: Vec<Project> = o.projects.iter().filter(|p| p.org_id == org.id).cloned().collect();
                                view! {
                                    <section class="org" data-org=org.slug.clone()>
                                        <h2>{org.name.clone()}<span class="slug">{org.slug.clone()}</span></h2>
                                        {if projects.is_empty() {
                                            view! { <p class="muted">"No projects in this organization yet."</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="project-list">
                                                    {projects.into_iter().map(|p| view! {
                                                        <li>
                                                            <A href=format!("/projects/{}", p.id)>{p.name.clone()}</A>
                                                            <span class="muted">{format!(" {} · {}", p.slug, p.platform)}</span>
                                                        </li>
                                                    }).collect_view()}
                                                </ul>
                                            }.into_any()
                                        }}
                                    </section>
                                }
                            }).collect_view()}
                            {o.can_manage.then(|| {
                                let orgs = o.orgs.clone();
                                view! {
                                    <section class="card">
                                        <h2>"New project"</h2>
                                        <ActionForm action=new_project attr:class="row">
                                            <label>"Organization"
                                                <select name="org">
                                                    {orgs.into_iter().map(|org| view! { <option value=org.slug.clone()>{org.name.clone()}</option> }).collect_view()}
                                                </select>
                                            </label>
                                            <label>"Name"<input type="text" name="name" required placeholder="backend"/></label>
                                            <label>"Platform"
                                                <select name="platform">
                                                    {PLATFORMS.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                                                </select>
                                            </label>
                                            <button type="submit" class="primary">"Create project"</button>
                                        </ActionForm>
                                        <ActionError action=new_project/>
                                    </section>
                                    <section class="card">
                                        <h2>"New organization"</h2>
                                        <ActionForm action=new_org attr:class="row">
                                            <label>"Name"<input type="text" name="name" required/></label>
                                            <button type="submit">"Create organization"</button>
                                        </ActionForm>
                                        <ActionError action=new_org/>
                                    </section>
                                }
                            })}
                        }.into_any(),
                    };
                    view! { {content} <HydrationMark/> }
                })}
            </Transition>
        </main>
    }
}
