//! The signed-in user's own account: password and API tokens.

use crate::app::PageTitle;
use leptos::prelude::*;

use crate::app::{load_error, ActionError, HydrationMark};
use crate::error::AppError;
use crate::model::ApiToken;

#[server(prefix = "/_fn", endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    let user = crate::pages::guard::require_user().await?;
    let epoch = crate::auth::change_password(&crate::pages::guard::state().db, &user, &current, &new).await?;
    // Every other session of the user has ended; this one goes on.
    keep_this_session(epoch).await
}

/// Ends every other session of the signed-in user (other browsers, a stolen cookie).
#[server(prefix = "/_fn", endpoint = "sign_out_elsewhere")]
pub async fn sign_out_elsewhere() -> Result<(), AppError> {
    let user = crate::pages::guard::require_user().await?;
    let epoch = crate::pages::guard::state().db.end_sessions(user.id).await?;
    keep_this_session(epoch).await
}

#[cfg(feature = "ssr")]
async fn keep_this_session(epoch: i64) -> Result<(), AppError> {
    let session = crate::pages::guard::session().await?;
    // A new id too: a stolen copy of this session's cookie ends with the others.
    crate::server::keep_session(&session, epoch).await.map_err(|e| {
        tracing::error!("session: {e}");
        AppError::Internal
    })
}

#[server(prefix = "/_fn", endpoint = "my_tokens")]
pub async fn my_tokens() -> Result<Vec<ApiToken>, AppError> {
    let user = crate::pages::guard::require_user().await?;
    Ok(crate::pages::guard::state().db.list_api_tokens(user.id).await?)
}

/// Creates an API token and returns it: the only time it is shown.
#[server(prefix = "/_fn", endpoint = "create_token")]
pub async fn create_token(label: String) -> Result<String, AppError> {
    let user = crate::pages::guard::require_user().await?;
    let label = label.trim();
    let label = if label.is_empty() { "token" } else { label };
    let (token, digest) = crate::auth::new_api_token();
    crate::pages::guard::state().db.create_api_token(user.id, &digest, label).await?;
    Ok(token)
}

#[server(prefix = "/_fn", endpoint = "revoke_token")]
pub async fn revoke_token(token_id: i64) -> Result<(), AppError> {
    let user = crate::pages::guard::require_user().await?;
    crate::pages::guard::state().db.delete_api_token(user.id, token_id).await?;
    Ok(())
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let password = ServerAction::<ChangePassword>::new();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let elsewhere = ServerAction::<SignOutElsewhere>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| my_tokens());
    view! {
        <PageTitle text="Account · Faultline"/>
        <main>
            <h1>"Your account"</h1>
            <section class="card">
                <h2>"Password"</h2>
                <ActionForm action=password attr:class="row">
                    <label>"Current password"<input type="password" name="current" required autocomplete="current-password"/></label>
                    <label>"New password"<input type="password" name="new" required minlength="8" autocomplete="new-password"/></label>
                    <button type="submit">"Change password"</button>
                </ActionForm>
                <ActionError action=password/>
                {move || password.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="ok" role="status">"Password changed. You are signed out everywhere else."</p> })}
            </section>
            <section class="card">
                <h2>"Sessions"</h2>
                <p class="muted">"Signed in on another computer, or lost one? End every session but this one."</p>
                <ActionForm action=elsewhere attr:class="row">
                    <button type="submit" data-testid="sign-out-elsewhere">"Sign out everywhere else"</button>
                </ActionForm>
                <ActionError action=elsewhere/>
                {move || elsewhere.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="ok" role="status">"Every other session has ended."</p> })}
            </section>
            <section class="card">
                <h2>"API tokens"</h2>
                <p class="muted">"For scripts and tools using Faultline's API: send "<code>"Authorization: Bearer <token>"</code>". A token acts as you."</p>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let content = match tokens.await {
                            Err(e) => load_error(e),
                            Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <table class="tokens">
                                    <thead><tr><th>"Label"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|t| view! {
                                            <tr>
                                                <td>{t.label}</td>
                                                <td>{format_time(t.created_at)}</td>
                                                <td>{t.last_used_at.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                                <td>
                                                    <ActionForm action=revoke attr:class="inline">
                                                        <input type="hidden" name="token_id" value=t.id/>
                                                        <button type="submit">"Revoke"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                        };
                        view! { {content} <HydrationMark/> }
                    })}
                </Transition>
                <ActionForm action=create attr:class="row">
                    <label>"Label"<input type="text" name="label" placeholder="gitlab"/></label>
                    <button type="submit">"Create token"</button>
                </ActionForm>
                <ActionError action=create/>
                <ActionError action=revoke/>
                {move || create.value().get().and_then(|r| r.ok()).map(|token| view! {
                    <div class="new-token" role="status">
                        <p>"Your new token. Copy it now: it will not be shown again."</p>
                        <input type="text" readonly class="dsn" data-testid="new-token" value=token/>
                    </div>
                })}
            </section>
        </main>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_epoch_milliseconds() {
        for (ms, text) in [
            (0, "1970-01-01 00:00 UTC"),
            (951_782_400_000, "2000-02-29 00:00 UTC"),
            (1_795_999_999_999, "2026-11-30 00:53 UTC"),
        ] {
            assert_eq!(super::format_time(ms), text);
        }
    }
}
