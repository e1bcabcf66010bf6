//! Authorization for server functions: each one is a public endpoint, so each starts by
//! asking here who is calling (the session) and, through `access`, what they may do.

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use tower_sessions::Session;

    use crate::access::{self, Need};
    use crate::error::AppError;
    use crate::model::{Issue, Role, User};
    use crate::server::{session_user, AppState};

    pub fn state() -> AppState {
        leptos::prelude::expect_context::<AppState>()
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| {
            tracing::error!("no session layer: {e}");
            AppError::Internal
        })
    }

    /// The signed-in user, or `NotSignedIn`.
    pub async fn require_user() -> Result<User, AppError> {
        let session = session().await?;
        session_user(&state().db, &session).await.ok_or(AppError::NotSignedIn)
    }

    /// The signed-in user, who must be an administrator.
    pub async fn require_admin() -> Result<User, AppError> {
        let user = require_user().await?;
        access::instance_admin(&user)?;
        Ok(user)
    }

    /// The signed-in user and their role on the project. A project the user may not see
    /// answers `NotFound`, exactly like one that does not exist.
    pub async fn require_project(project_id: i64) -> Result<(User, Role), AppError> {
        let user = require_user().await?;
        let role = access::project(&state().db, &user, project_id, Need::See).await?;
        Ok((user, role))
    }

    /// Like [`require_project`], and the role must be `Admin`.
    pub async fn require_project_admin(project_id: i64) -> Result<User, AppError> {
        let user = require_user().await?;
        access::project(&state().db, &user, project_id, Need::Administer).await?;
        Ok(user)
    }

    /// The signed-in user's access to an issue: `NotFound` for an issue of a project they
    /// may not see, as for one that does not exist.
    pub async fn require_issue(issue_id: i64) -> Result<(User, Role, Issue), AppError> {
        let user = require_user().await?;
        let (role, issue) = access::issue(&state().db, &user, issue_id, Need::See).await?;
        Ok((user, role, issue))
    }
}
