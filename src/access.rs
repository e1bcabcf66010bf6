//! Who may see and change what: the one place that decides. Pages and server functions (via
//! `pages::guard`), the JSON API (`api::find_project`, `api::find_issue`), triage, the event
//! download and the live stream all ask here, so a rule is written once.
//!
//! The rules: an instance administrator administers every project; anyone else sees the
//! projects they are a member of, with that membership's role. A project (or an issue, an
//! event) the user may not see is `NotFound`, exactly like one that does not exist, so
//! nothing can be learnt by probing ids; one they see but may not change is `Forbidden`.

use std::collections::BTreeSet;

use crate::error::AppError;
use crate::model::{Issue, Project, Role, User};
use crate::store::Db;

/// What a request needs of a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// To read it: any role.
    See,
    /// To change its settings, keys, members, or delete its issues: the admin role.
    Administer,
}

fn allowed(role: Option<Role>, need: Need) -> Result<Role, AppError> {
    match (role, need) {
        (None, _) => Err(AppError::NotFound),
        (Some(Role::Member), Need::Administer) => Err(AppError::Forbidden),
        (Some(role), _) => Ok(role),
    }
}

/// The user's role on a project, if it meets `need`.
pub async fn project(db: &Db, user: &User, project_id: i64, need: Need) -> Result<Role, AppError> {
    allowed(db.project_role(user, project_id).await?, need)
}

/// An issue and the user's role on its project, if it meets `need`.
pub async fn issue(db: &Db, user: &User, issue_id: i64, need: Need) -> Result<(Role, Issue), AppError> {
    let issue = db.issue_by_id(issue_id).await?.ok_or(AppError::NotFound)?;
    let role = project(db, user, issue.project_id, need).await?;
    Ok((role, issue))
}

/// The distinct projects of `ids`, each checked: every issue must exist in a project the
/// user may see, and meet `need` there.
pub async fn issues(db: &Db, user: &User, ids: &[i64], need: Need) -> Result<Vec<i64>, AppError> {
    if ids.is_empty() {
        return Err(AppError::Invalid("Select at least one issue.".into()));
    }
    if ids.len() > 1000 {
        return Err(AppError::Invalid("At most 1000 issues at once.".into()));
    }
    let found = db.issue_projects(ids).await?;
    let wanted: BTreeSet<i64> = ids.iter().copied().collect();
    if found.len() != wanted.len() {
        return Err(AppError::NotFound);
    }
    let projects: BTreeSet<i64> = found.iter().map(|(_, p)| *p).collect();
    for &p in &projects {
        project(db, user, p, need).await?;
    }
    Ok(projects.into_iter().collect())
}

/// The projects the user sees; with `only`, just that one (`NotFound` if not seen).
pub async fn projects(db: &Db, user: &User, only: Option<i64>) -> Result<Vec<Project>, AppError> {
    let visible = db.projects_visible_to(user).await?;
    match only {
        None => Ok(visible),
        Some(id) => match visible.into_iter().find(|p| p.id == id) {
            Some(p) => Ok(vec![p]),
            None => Err(AppError::NotFound),
        },
    }
}

/// Instance-wide actions (users, organizations): administrators only.
pub fn instance_admin(user: &User) -> Result<(), AppError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_meet_needs() {
        assert_eq!(allowed(None, Need::See), Err(AppError::NotFound));
        assert_eq!(allowed(None, Need::Administer), Err(AppError::NotFound));
        assert_eq!(allowed(Some(Role::Member), Need::See), Ok(Role::Member));
        assert_eq!(allowed(Some(Role::Member), Need::Administer), Err(AppError::Forbidden));
        assert_eq!(allowed(Some(Role::Admin), Need::Administer), Ok(Role::Admin));
    }
}
