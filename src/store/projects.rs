//! Organizations, projects, their client keys and who may see them.

use super::{conflict, now_ms, on_db, Db, Result, StoreError};
use crate::model::{Member, Org, Project, ProjectKey, Role, User};

const PROJECT_SELECT: &str = "SELECT p.id, p.org_id, o.slug AS org_slug, p.slug, p.name, p.platform, p.created_at, \
                              p.repository_url, p.repository_path \
                              FROM projects p JOIN organizations o ON o.id = p.org_id";
const KEY_COLUMNS: &str = "id, project_id, public_key, label, is_active, created_at";

/// A new random client key: 32 lowercase hex characters, like Sentry's.
pub fn new_public_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: i64,
    email: String,
    role: String,
}

impl Db {
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org> {
        let sql = "INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) \
                   RETURNING id, slug, name, created_at";
        on_db!(self, |pool| sqlx::query_as::<_, Org>(sql)
            .bind(slug)
            .bind(name)
            .bind(now_ms())
            .fetch_one(pool)
            .await
            .map_err(conflict("an organization with this slug already exists")))
    }

    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        let sql = "SELECT id, slug, name, created_at FROM organizations ORDER BY slug";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Org>(sql).fetch_all(pool).await?))
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        let sql = "SELECT id, slug, name, created_at FROM organizations WHERE slug = $1";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Org>(sql).bind(slug).fetch_optional(pool).await?))
    }

    /// Creates a project with one active client key, in one transaction.
    /// Links a project to its repository (web URL, local clone path); `None` unlinks.
    pub async fn set_project_repository(&self, project_id: i64, url: Option<&str>, path: Option<&str>) -> Result<()> {
        let sql = "UPDATE projects SET repository_url = $1, repository_path = $2 WHERE id = $3";
        let done = on_db!(self, |pool| sqlx::query(sql)
            .bind(url)
            .bind(path)
            .bind(project_id)
            .execute(pool)
            .await?
            .rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn create_project(
        &self,
        org_id: i64,
        slug: &str,
        name: &str,
        platform: &str,
    ) -> Result<(Project, ProjectKey)> {
        let insert_project = "INSERT INTO projects (org_id, slug, name, platform, created_at) \
                              VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let insert_key = format!(
            "INSERT INTO project_keys (project_id, public_key, label, is_active, created_at) \
             VALUES ($1, $2, 'Default', TRUE, $3) RETURNING {KEY_COLUMNS}"
        );
        let select = format!("{PROJECT_SELECT} WHERE p.id = $1");
        let now = now_ms();
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            let id = sqlx::query_scalar::<_, i64>(insert_project)
                .bind(org_id)
                .bind(slug)
                .bind(name)
                .bind(platform)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(conflict("this organization already has a project with this slug"))?;
            let key = sqlx::query_as::<_, ProjectKey>(&insert_key)
                .bind(id)
                .bind(new_public_key())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let project = sqlx::query_as::<_, Project>(&select).bind(id).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok((project, key))
        })
    }

    pub async fn project_by_id(&self, id: i64) -> Result<Option<Project>> {
        let sql = format!("{PROJECT_SELECT} WHERE p.id = $1");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Project>(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The projects `user` may see: all for an administrator, else those of their memberships.
    pub async fn projects_visible_to(&self, user: &User) -> Result<Vec<Project>> {
        if user.is_admin {
            let sql = format!("{PROJECT_SELECT} ORDER BY o.slug, p.slug");
            return Ok(on_db!(self, |pool| sqlx::query_as::<_, Project>(&sql).fetch_all(pool).await?));
        }
        let sql = format!(
            "{PROJECT_SELECT} JOIN memberships m ON m.project_id = p.id WHERE m.user_id = $1 ORDER BY o.slug, p.slug"
        );
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Project>(&sql).bind(user.id).fetch_all(pool).await?))
    }

    /// The user's role on a project: `Admin` for administrators, the membership's role
    /// otherwise, `None` when the user has no access (or the project does not exist).
    pub async fn project_role(&self, user: &User, project_id: i64) -> Result<Option<Role>> {
        if user.is_admin {
            return Ok(self.project_by_id(project_id).await?.map(|_| Role::Admin));
        }
        let sql = "SELECT role FROM memberships WHERE user_id = $1 AND project_id = $2";
        let role = on_db!(self, |pool| sqlx::query_scalar::<_, String>(sql)
            .bind(user.id)
            .bind(project_id)
            .fetch_optional(pool)
            .await?);
        Ok(role.as_deref().and_then(Role::parse))
    }

    /// Whether two users are members of one project (or are the same user).
    pub async fn share_a_project(&self, a: i64, b: i64) -> Result<bool> {
        if a == b {
            return Ok(true);
        }
        let sql = "SELECT COUNT(*) FROM memberships m JOIN memberships o ON o.project_id = m.project_id \
                   WHERE m.user_id = $1 AND o.user_id = $2";
        let n = on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).bind(a).bind(b).fetch_one(pool).await?);
        Ok(n > 0)
    }

    /// Grants (or changes) a user's access to a project.
    pub async fn set_membership(&self, project_id: i64, user_id: i64, role: Role) -> Result<()> {
        let sql = "INSERT INTO memberships (user_id, project_id, role, created_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(user_id)
            .bind(project_id)
            .bind(role.as_str())
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn remove_membership(&self, project_id: i64, user_id: i64) -> Result<()> {
        let sql = "DELETE FROM memberships WHERE user_id = $1 AND project_id = $2";
        let done =
            on_db!(self, |pool| sqlx::query(sql).bind(user_id).bind(project_id).execute(pool).await?.rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn list_members(&self, project_id: i64) -> Result<Vec<Member>> {
        let sql = "SELECT m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                   WHERE m.project_id = $1 ORDER BY u.email";
        let rows = on_db!(self, |pool| sqlx::query_as::<_, MemberRow>(sql).bind(project_id).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|r| Member { user_id: r.user_id, email: r.email, role: Role::parse(&r.role).unwrap_or(Role::Member) })
            .collect())
    }

    pub async fn project_keys(&self, project_id: i64) -> Result<Vec<ProjectKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM project_keys WHERE project_id = $1 ORDER BY id");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, ProjectKey>(&sql).bind(project_id).fetch_all(pool).await?))
    }

    pub async fn create_key(&self, project_id: i64, label: &str) -> Result<ProjectKey> {
        let sql = format!(
            "INSERT INTO project_keys (project_id, public_key, label, is_active, created_at) \
             VALUES ($1, $2, $3, TRUE, $4) RETURNING {KEY_COLUMNS}"
        );
        Ok(on_db!(self, |pool| sqlx::query_as::<_, ProjectKey>(&sql)
            .bind(project_id)
            .bind(new_public_key())
            .bind(label)
            .bind(now_ms())
            .fetch_one(pool)
            .await?))
    }

    /// Replaces a key's public part: the old DSN stops working at once.
    pub async fn rotate_key(&self, project_id: i64, key_id: i64) -> Result<ProjectKey> {
        let sql = format!(
            "UPDATE project_keys SET public_key = $1 WHERE id = $2 AND project_id = $3 RETURNING {KEY_COLUMNS}"
        );
        let key = on_db!(self, |pool| sqlx::query_as::<_, ProjectKey>(&sql)
            .bind(new_public_key())
            .bind(key_id)
            .bind(project_id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound));
        super::keys_changed();
        key
    }

    pub async fn set_key_active(&self, project_id: i64, key_id: i64, active: bool) -> Result<()> {
        let sql = "UPDATE project_keys SET is_active = $1 WHERE id = $2 AND project_id = $3";
        let done = on_db!(self, |pool| sqlx::query(sql)
            .bind(active)
            .bind(key_id)
            .bind(project_id)
            .execute(pool)
            .await?
            .rows_affected());
        super::keys_changed();
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Looks a client key up by its public part (for ingestion).
    pub async fn key_by_public_key(&self, public_key: &str) -> Result<Option<ProjectKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM project_keys WHERE public_key = $1");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, ProjectKey>(&sql).bind(public_key).fetch_optional(pool).await?))
    }
}
