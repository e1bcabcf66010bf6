//! Issue trackers: a project's GitLab / GitHub integrations (with their tokens, which never
//! leave the server) and the tracker issues linked to Faultline issues.

use super::{now_ms, on_db, Db, Result, StoreError};
use crate::model::{IssueLink, TrackerInfo};
use crate::tracker::Tracker;

impl Db {
    /// Saves a project's tracker. `token: None` keeps the saved token (a form that leaves
    /// the token empty); a new tracker needs one.
    pub async fn save_tracker(
        &self,
        project_id: i64,
        kind: &str,
        base_url: &str,
        target: &str,
        token: Option<&str>,
    ) -> Result<()> {
        let existing = self.tracker(project_id, kind).await?;
        let token = match (token, existing) {
            (Some(t), _) => t.to_string(),
            (None, Some(e)) => e.token,
            (None, None) => return Err(StoreError::Invalid("Enter an access token.".into())),
        };
        let sql = "INSERT INTO project_trackers (project_id, kind, base_url, target, token, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, kind) DO UPDATE SET \
                   base_url = excluded.base_url, target = excluded.target, token = excluded.token";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(project_id)
            .bind(kind)
            .bind(base_url)
            .bind(target)
            .bind(token)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn delete_tracker(&self, project_id: i64, kind: &str) -> Result<()> {
        let sql = "DELETE FROM project_trackers WHERE project_id = $1 AND kind = $2";
        on_db!(self, |pool| sqlx::query(sql).bind(project_id).bind(kind).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// A project's tracker of one kind, with its token.
    pub async fn tracker(&self, project_id: i64, kind: &str) -> Result<Option<Tracker>> {
        let sql = "SELECT project_id, kind, base_url, target, token FROM project_trackers \
                   WHERE project_id = $1 AND kind = $2";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Tracker>(sql)
            .bind(project_id)
            .bind(kind)
            .fetch_optional(pool)
            .await?))
    }

    /// A project's trackers as the UI may see them (no token).
    pub async fn trackers(&self, project_id: i64) -> Result<Vec<TrackerInfo>> {
        let sql = "SELECT kind, base_url, target FROM project_trackers WHERE project_id = $1 ORDER BY kind";
        let rows = on_db!(self, |pool| sqlx::query_as::<_, (String, String, String)>(sql)
            .bind(project_id)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(|(kind, base_url, target)| TrackerInfo { kind, base_url, target }).collect())
    }

    /// Links a tracker issue to each of these issues, in one statement (all or none);
    /// linking the same URL again changes nothing.
    pub async fn add_issue_links(
        &self,
        issue_ids: &[i64],
        kind: &str,
        url: &str,
        number: Option<i64>,
        title: Option<&str>,
        user_id: Option<i64>,
    ) -> Result<()> {
        if issue_ids.is_empty() {
            return Ok(());
        }
        // The shared values are $1..$6; each row adds its issue id.
        let rows: Vec<String> = (0..issue_ids.len()).map(|k| format!("(${}, $1, $2, $3, $4, $5, $6)", k + 7)).collect();
        let sql = format!(
            "INSERT INTO issue_links (issue_id, kind, url, number, title, user_id, created_at) \
             VALUES {} ON CONFLICT (issue_id, url) DO NOTHING",
            rows.join(", ")
        );
        let now = now_ms();
        on_db!(self, |pool| {
            let mut q = sqlx::query(&sql).bind(kind).bind(url).bind(number).bind(title).bind(user_id).bind(now);
            for id in issue_ids {
                q = q.bind(*id);
            }
            q.execute(pool).await?.rows_affected()
        });
        Ok(())
    }

    /// An issue's tracker issues, oldest first.
    pub async fn issue_links(&self, issue_id: i64) -> Result<Vec<IssueLink>> {
        let sql = "SELECT id, kind, url, number, title, created_at FROM issue_links WHERE issue_id = $1 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, IssueLink>(sql).bind(issue_id).fetch_all(pool).await?))
    }

    pub async fn delete_issue_link(&self, issue_id: i64, link_id: i64) -> Result<()> {
        let sql = "DELETE FROM issue_links WHERE issue_id = $1 AND id = $2";
        on_db!(self, |pool| sqlx::query(sql).bind(issue_id).bind(link_id).execute(pool).await?.rows_affected());
        Ok(())
    }
}
