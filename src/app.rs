//! The application shell, the routes and the navigation bar.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes, A};
use leptos_router::path;

use crate::error::AppError;
use crate::model::User;
use crate::pages::{
    account::AccountPage,
    alerts::AlertsPage,
    issue::{EventPanel, IssueDetailPage},
    issues::{AllIssuesPage, ProjectIssuesPage},
    login::{LoginPage, LogoutButton},
    project::ProjectSettingsPage,
    projects::HomePage,
    releases::ReleasesPage,
    setup::SetupPage,
    users::UsersPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <Stylesheet id="faultline" href="/pkg/faultline.css"/>
        <PageTitle text="Faultline"/>
        <Router>
            <Routes fallback=|| view! { <main class="narrow"><h1>"Page not found"</h1></main> }>
                <Route path=path!("/setup") view=SetupPage/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/") view=|| view! { <Nav/><HomePage/> }/>
                <Route path=path!("/issues") view=|| view! { <Nav/><AllIssuesPage/> }/>
                <Route path=path!("/projects/:id") view=|| view! { <Nav/><ProjectIssuesPage/> }/>
                <Route path=path!("/projects/:id/settings") view=|| view! { <Nav/><ProjectSettingsPage/> }/>
                <Route path=path!("/projects/:id/releases") view=|| view! { <Nav/><ReleasesPage/> }/>
                <Route path=path!("/projects/:id/alerts") view=|| view! { <Nav/><AlertsPage/> }/>
                <ParentRoute path=path!("/issues/:id") view=|| view! { <Nav/><IssueDetailPage/> }>
                    <Route path=path!("") view=EventPanel/>
                    <Route path=path!("events/:event_id") view=EventPanel/>
                </ParentRoute>
                <Route path=path!("/users") view=|| view! { <Nav/><UsersPage/> }/>
                <Route path=path!("/account") view=|| view! { <Nav/><AccountPage/> }/>
            </Routes>
        </Router>
    }
}

/// The document title. leptos_meta writes a `<title>` rendered on the server into the head
/// as it is, unescaped, so text that names event data (an issue's title) is escaped here
/// for the server's HTML; the browser sets `document.title`, which is text, unescaped.
/// Every page sets its title through this, never through `leptos_meta::Title`.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = crate::html::escape_text(&text);
    view! { <Title text=text/> }
}

/// The page's Content-Security-Policy, with the nonce leptos_axum made for this response:
/// only scripts that carry it run (Leptos's hydration and streaming scripts do), and what
/// they load (`strict-dynamic`); no inline script, no eval but WebAssembly's, no plugins, no
/// `<base>`, no framing. Styles come from our own stylesheet only (no `style` attributes).
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = http::HeaderValue::from_str(&crate::html::page_csp(&nonce)) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The signed-in user, for the navigation bar and pages that adapt to admins.
#[server(prefix = "/_fn", endpoint = "current_user")]
pub async fn current_user() -> Result<User, AppError> {
    crate::pages::guard::require_user().await
}

#[component]
fn Nav() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Faultline"</A>
            <nav>
                <A href="/">"Projects"</A>
                <A href="/issues">"Issues"</A>
                <Suspense>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(u) => view! {
                                {u.is_admin.then(|| view! { <A href="/users">"Users"</A> })}
                                <A href="/account" attr:class="who" attr:data-testid="current-user">{u.email.clone()}</A>
                                <LogoutButton/>
                            }.into_any(),
                            Err(_) => view! { <a href="/login">"Sign in"</a> }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}

/// Marks the page interactive (`<body data-hydrated>`) once the content it ends has hydrated:
/// each page puts one after its data, so tests know when clicks will be handled.
#[component]
pub fn HydrationMark() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The error of a server action's last call, or nothing.
#[component]
pub fn ActionError<S>(action: ServerAction<S>) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || {
        action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    }
}

/// The text of a failed load, with a way back for signed-out users.
pub fn load_error(e: AppError) -> AnyView {
    match e {
        AppError::NotSignedIn => {
            view! { <p class="error">"Your session has ended. "<a href="/login">"Sign in"</a></p> }.into_any()
        }
        e => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    }
}
