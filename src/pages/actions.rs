//! The triage actions as server functions, shared by the issue list (one issue or a
//! selection) and the issue page. Each checks the session and the user's access to every
//! issue's project (in `triage`), as the JSON API does with its token. Arguments travel as
//! JSON: an `IssueChange` such as `Ignore { minutes: None, events: None }` has no URL-encoded
//! form.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{IssueChange, User};

/// Resolves, reopens, ignores or assigns the issues; returns how many changed.
#[server(prefix = "/_fn", endpoint = "update_issues", input = leptos::server_fn::codec::Json)]
pub async fn update_issues(ids: Vec<i64>, change: IssueChange) -> Result<u64, AppError> {
    use crate::pages::guard::{require_user, state};
    let user = require_user().await?;
    crate::triage::update(&state().db, &user, &ids, &change).await
}

/// Deletes the issues and their events (project administrators only).
#[server(prefix = "/_fn", endpoint = "delete_issues", input = leptos::server_fn::codec::Json)]
pub async fn delete_issues(ids: Vec<i64>) -> Result<u64, AppError> {
    use crate::pages::guard::{require_user, state};
    let user = require_user().await?;
    crate::triage::delete(&state().db, &user, &ids).await
}

#[server(prefix = "/_fn", endpoint = "add_comment")]
pub async fn add_comment(issue_id: i64, text: String) -> Result<(), AppError> {
    use crate::pages::guard::{require_user, state};
    let user = require_user().await?;
    crate::triage::comment(&state().db, &user, issue_id, &text).await
}

/// Who issues of the project can be assigned to.
#[server(prefix = "/_fn", endpoint = "assignees")]
pub async fn assignees(project_id: i64) -> Result<Vec<User>, AppError> {
    use crate::pages::guard::{require_user, state};
    let user = require_user().await?;
    crate::triage::assignees(&state().db, &user, project_id).await
}
