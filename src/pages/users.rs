//! User management for administrators.

use crate::app::PageTitle;
use leptos::prelude::*;

use crate::app::{load_error, ActionError, HydrationMark};
use crate::error::AppError;
use crate::model::User;

#[server(prefix = "/_fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    crate::pages::guard::require_admin().await?;
    Ok(crate::pages::guard::state().db.list_users().await?)
}

#[server(prefix = "/_fn", endpoint = "create_user")]
pub async fn create_user(email: String, password: String, admin: Option<String>) -> Result<(), AppError> {
    crate::pages::guard::require_admin().await?;
    let db = &crate::pages::guard::state().db;
    crate::auth::create_user(db, &email, &password, admin.is_some()).await?;
    Ok(())
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let users = Resource::new(move || create.version().get(), |_| list_users());
    view! {
        <PageTitle text="Users · Faultline"/>
        <main>
            <h1>"Users"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let content = match users.await {
                        Err(e) => load_error(e),
                        Ok(list) => view! {
                            <table class="users">
                                <thead><tr><th>"E-mail"</th><th>"Role"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|u| view! {
                                        <tr><td>{u.email}</td><td>{if u.is_admin { "administrator" } else { "user" }}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    };
                    view! { {content} <HydrationMark/> }
                })}
            </Transition>
            <section class="card">
                <h2>"New user"</h2>
                <p class="muted">"Give them the password you choose; grant project access from each project's page."</p>
                <ActionForm action=create attr:class="row">
                    <label>"E-mail"<input type="email" name="email" required/></label>
                    <label>"Password"<input type="password" name="password" required minlength="8" autocomplete="new-password"/></label>
                    <label class="check"><input type="checkbox" name="admin"/>"Administrator"</label>
                    <button type="submit" class="primary">"Create user"</button>
                </ActionForm>
                <ActionError action=create/>
                {move || create.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="ok" role="status">"User created."</p> })}
            </section>
        </main>
    }
}
