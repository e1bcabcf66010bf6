//! First run: create the first administrator and the first organization.

use crate::app::PageTitle;
use leptos::prelude::*;

use crate::app::{ActionError, HydrationMark};
use crate::error::AppError;

#[server(prefix = "/_fn", endpoint = "create_first_admin")]
pub async fn create_first_admin(email: String, password: String, organization: String) -> Result<(), AppError> {
    use crate::pages::guard::{session, state};

    let user = crate::auth::setup_instance(&state().db, &email, &password, &organization).await?;
    crate::server::start_session(&state().db, &session().await?, &user).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<CreateFirstAdmin>::new();
    view! {
        <PageTitle text="Set up Faultline"/>
        <main class="narrow card">
            <h1>"Welcome to Faultline"</h1>
            <p class="muted">"Create the first administrator and name your organization."</p>
            <ActionForm action=action attr:class="stack">
                <label>"E-mail"<input type="email" name="email" required autocomplete="username"/></label>
                <label>"Password"<input type="password" name="password" required minlength="8" autocomplete="new-password"/></label>
                <label>"Organization name"<input type="text" name="organization" required placeholder="Acme"/></label>
                <button type="submit" class="primary">"Create administrator"</button>
            </ActionForm>
            <ActionError action=action/>
            <HydrationMark/>
        </main>
    }
}
