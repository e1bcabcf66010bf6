//! Signing in and out.

use crate::app::PageTitle;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::{ActionError, HydrationMark};
use crate::error::AppError;

/// Only same-site paths are accepted as the place to return to after login: a single leading
/// `/`, and nothing but visible ASCII (browsers drop tabs and newlines, so `/\t/evil` would
/// become `//evil`).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_this_site() {
        for (next, safe) in [
            (None, "/"),
            (Some("/projects/3?x=1"), "/projects/3?x=1"),
            (Some("//evil.example/"), "/"),
            (Some("/\t/evil.example"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("/a\nb"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/caf\u{e9}"), "/"),
        ] {
            assert_eq!(super::safe_next(next), safe, "{next:?}");
        }
    }
}

#[server(prefix = "/_fn", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::pages::guard::{session, state};
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let state = state();
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok().map(|ConnectInfo(addr)| addr);
    let headers = leptos_axum::extract::<http::HeaderMap>().await.unwrap_or_default();
    let ip = crate::server::client_ip(&headers, peer, state.trust_proxy);
    let user = crate::auth::login(&state.db, &email, &password, &ip).await?;
    crate::server::start_session(&state.db, &session().await?, &user).await?;
    leptos_axum::redirect(safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::pages::guard::session().await?;
    // Deletes the session server-side, not only the cookie.
    session.flush().await.map_err(|_| AppError::Internal)?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    view! {
        <PageTitle text="Sign in · Faultline"/>
        <main class="narrow card">
            <h1>"Sign in to Faultline"</h1>
            <ActionForm action=action attr:class="stack">
                <input type="hidden" name="next" value=next/>
                <label>"E-mail"<input type="email" name="email" required autocomplete="username"/></label>
                <label>"Password"<input type="password" name="password" required autocomplete="current-password"/></label>
                <button type="submit" class="primary">"Sign in"</button>
            </ActionForm>
            <ActionError action=action/>
            <HydrationMark/>
        </main>
    }
}

#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    view! {
        <ActionForm action=action attr:class="inline">
            <button type="submit" class="link">"Sign out"</button>
        </ActionForm>
    }
}
