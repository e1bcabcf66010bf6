//! Releases: those registered through the release API (sentry-cli), their commits and
//! deploys, and the releases page's summary, which adds what the events tell.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{now_ms, on_db, Db, Result};
use crate::model::{ReleaseCommit, ReleaseSummary};

/// A registered release of one project.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Release {
    pub id: i64,
    pub project_id: i64,
    pub version: String,
    pub url: Option<String>,
    pub ref_repository: Option<String>,
    pub ref_commit: Option<String>,
    pub ref_previous: Option<String>,
    pub date_released: Option<i64>,
    pub created_at: i64,
    pub commit_count: i64,
    pub deploy_count: i64,
}

const RELEASE_SELECT: &str = "SELECT r.id, r.project_id, r.version, r.url, r.ref_repository, r.ref_commit, \
     r.ref_previous, r.date_released, r.created_at, \
     (SELECT COUNT(*) FROM release_commits c WHERE c.release_id = r.id) AS commit_count, \
     (SELECT COUNT(*) FROM deploys d WHERE d.release_id = r.id) AS deploy_count \
     FROM releases r";

/// What a `PUT` of the release API changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ReleaseUpdate {
    pub url: Option<String>,
    pub date_released: Option<i64>,
    /// `set-commits --commit REPO@[PREVIOUS..]SHA`: repository, commit, previous commit.
    pub reference: Option<(String, String, Option<String>)>,
    /// `set-commits` with a commit list: replaces the release's commits (newest first).
    pub commits: Option<Vec<ReleaseCommit>>,
}

/// A deploy of a release.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Deploy {
    pub id: i64,
    pub release_id: i64,
    pub environment: String,
    pub name: Option<String>,
    pub url: Option<String>,
    pub date_started: Option<i64>,
    pub date_finished: i64,
}

#[derive(sqlx::FromRow)]
struct CommitRow {
    sha: String,
    repository: Option<String>,
    author_name: Option<String>,
    author_email: Option<String>,
    message: Option<String>,
    committed_at: Option<i64>,
    files: String,
}

impl From<CommitRow> for ReleaseCommit {
    fn from(r: CommitRow) -> ReleaseCommit {
        let files: Vec<serde_json::Value> = serde_json::from_str(&r.files).unwrap_or_default();
        let files = files
            .iter()
            .filter_map(|f| {
                let path = f.get("path")?.as_str()?.to_string();
                let kind = f.get("type").and_then(|t| t.as_str()).unwrap_or("M").to_string();
                Some((path, kind))
            })
            .collect();
        ReleaseCommit {
            sha: r.sha,
            repository: r.repository,
            author_name: r.author_name,
            author_email: r.author_email,
            message: r.message,
            committed_at: r.committed_at,
            files,
        }
    }
}

impl Db {
    /// Registers `version` for a project (or returns it, registered before), with an
    /// optional URL and release date (a later value replaces an earlier one).
    pub async fn upsert_release(
        &self,
        project_id: i64,
        version: &str,
        url: Option<&str>,
        date_released: Option<i64>,
    ) -> Result<Release> {
        let sql = "INSERT INTO releases (project_id, version, url, date_released, created_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, version) DO UPDATE SET \
                   url = COALESCE(excluded.url, releases.url), \
                   date_released = COALESCE(excluded.date_released, releases.date_released)";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(project_id)
            .bind(version)
            .bind(url)
            .bind(date_released)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected());
        self.release(project_id, version).await?.ok_or(super::StoreError::NotFound)
    }

    /// The registered release `version` of a project.
    pub async fn release(&self, project_id: i64, version: &str) -> Result<Option<Release>> {
        let sql = format!("{RELEASE_SELECT} WHERE r.project_id = $1 AND r.version = $2");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Release>(&sql)
            .bind(project_id)
            .bind(version)
            .fetch_optional(pool)
            .await?))
    }

    /// A project's registered releases, newest first.
    pub async fn releases(&self, project_id: i64) -> Result<Vec<Release>> {
        let sql = format!("{RELEASE_SELECT} WHERE r.project_id = $1 ORDER BY r.created_at DESC, r.id DESC");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Release>(&sql).bind(project_id).fetch_all(pool).await?))
    }

    /// The latest release registered before `release` that has commits (sentry-cli's
    /// `set-commits --local` starts its commit list after that release's last commit).
    pub async fn previous_release_with_commits(&self, release: &Release) -> Result<Option<Release>> {
        let sql = format!(
            "{RELEASE_SELECT} WHERE r.project_id = $1 AND r.id <> $2 AND r.created_at <= $3 \
             AND EXISTS (SELECT 1 FROM release_commits c WHERE c.release_id = r.id) \
             ORDER BY r.created_at DESC, r.id DESC LIMIT 1"
        );
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Release>(&sql)
            .bind(release.project_id)
            .bind(release.id)
            .bind(release.created_at)
            .fetch_optional(pool)
            .await?))
    }

    /// Applies a `PUT` of the release API, all of it or nothing.
    pub async fn update_release(&self, release_id: i64, u: &ReleaseUpdate) -> Result<()> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE releases SET url = COALESCE($1, url), date_released = COALESCE($2, date_released) \
                 WHERE id = $3",
            )
            .bind(&u.url)
            .bind(u.date_released)
            .bind(release_id)
            .execute(&mut *tx)
            .await?;
            if let Some((repository, commit, previous)) = &u.reference {
                sqlx::query(
                    "UPDATE releases SET ref_repository = $1, ref_commit = $2, ref_previous = $3 WHERE id = $4",
                )
                .bind(repository)
                .bind(commit)
                .bind(previous)
                .bind(release_id)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(commits) = &u.commits {
                sqlx::query("DELETE FROM release_commits WHERE release_id = $1")
                    .bind(release_id)
                    .execute(&mut *tx)
                    .await?;
                for (position, c) in commits.iter().enumerate() {
                    let files: Vec<serde_json::Value> =
                        c.files.iter().map(|(path, kind)| serde_json::json!({ "path": path, "type": kind })).collect();
                    sqlx::query(
                        "INSERT INTO release_commits (release_id, position, sha, repository, author_name, \
                         author_email, message, committed_at, files) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(release_id)
                    .bind(position as i64)
                    .bind(&c.sha)
                    .bind(&c.repository)
                    .bind(&c.author_name)
                    .bind(&c.author_email)
                    .bind(&c.message)
                    .bind(c.committed_at)
                    .bind(serde_json::Value::Array(files).to_string())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A release's commits, newest first.
    pub async fn release_commits(&self, release_id: i64) -> Result<Vec<ReleaseCommit>> {
        let sql = "SELECT sha, repository, author_name, author_email, message, committed_at, files \
                   FROM release_commits WHERE release_id = $1 ORDER BY position";
        let rows = on_db!(self, |pool| sqlx::query_as::<_, CommitRow>(sql).bind(release_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(ReleaseCommit::from).collect())
    }

    pub async fn add_deploy(
        &self,
        release_id: i64,
        environment: &str,
        name: Option<&str>,
        url: Option<&str>,
        date_started: Option<i64>,
        date_finished: Option<i64>,
    ) -> Result<Deploy> {
        let now = now_ms();
        let sql = "INSERT INTO deploys (release_id, environment, name, url, date_started, date_finished, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   RETURNING id, release_id, environment, name, url, date_started, date_finished";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Deploy>(sql)
            .bind(release_id)
            .bind(environment)
            .bind(name)
            .bind(url)
            .bind(date_started)
            .bind(date_finished.unwrap_or(now))
            .bind(now)
            .fetch_one(pool)
            .await?))
    }

    /// A release's deploys, newest first.
    pub async fn deploys(&self, release_id: i64) -> Result<Vec<Deploy>> {
        let sql = "SELECT id, release_id, environment, name, url, date_started, date_finished FROM deploys \
                   WHERE release_id = $1 ORDER BY date_finished DESC, id DESC";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Deploy>(sql).bind(release_id).fetch_all(pool).await?))
    }

    /// Every release of a project, registered or seen in events, newest first: its events,
    /// the issues it introduced, the regressions it brought, its commits and deploys.
    pub async fn release_summaries(&self, project_id: i64) -> Result<Vec<ReleaseSummary>> {
        let seen_sql = "SELECT value, count, first_seen, last_seen FROM project_tag_values \
                        WHERE project_id = $1 AND key = 'release'";
        let new_sql = "SELECT first_release, COUNT(*) FROM issues WHERE project_id = $1 \
                       AND first_release IS NOT NULL GROUP BY first_release";
        let regressions_sql = "SELECT a.issue_id, a.data FROM issue_activity a JOIN issues i ON i.id = a.issue_id \
                               WHERE i.project_id = $1 AND a.kind = 'regression'";
        let deploys_sql = "SELECT d.release_id, d.environment, d.date_finished FROM deploys d \
                           JOIN releases r ON r.id = d.release_id WHERE r.project_id = $1 \
                           ORDER BY d.date_finished, d.id";
        let (seen, new, regressions, deploys) = on_db!(self, |pool| {
            let seen = sqlx::query_as::<_, (String, i64, i64, i64)>(seen_sql).bind(project_id).fetch_all(pool).await?;
            let new = sqlx::query_as::<_, (String, i64)>(new_sql).bind(project_id).fetch_all(pool).await?;
            let regressions =
                sqlx::query_as::<_, (i64, String)>(regressions_sql).bind(project_id).fetch_all(pool).await?;
            let deploys = sqlx::query_as::<_, (i64, String, i64)>(deploys_sql).bind(project_id).fetch_all(pool).await?;
            (seen, new, regressions, deploys)
        });
        let registered = self.releases(project_id).await?;

        let mut out: BTreeMap<String, ReleaseSummary> = BTreeMap::new();
        let blank = |version: &str, created_at: i64| ReleaseSummary {
            version: version.to_string(),
            created_at,
            first_event: None,
            last_event: None,
            events: 0,
            new_issues: 0,
            regressions: 0,
            date_released: None,
            commit_count: 0,
            deploy_count: 0,
            last_deploy: None,
        };
        let last_deploys: HashMap<i64, (String, i64)> = deploys.into_iter().map(|(r, e, at)| (r, (e, at))).collect();
        for r in &registered {
            let s = out.entry(r.version.clone()).or_insert_with(|| blank(&r.version, r.created_at));
            s.date_released = r.date_released;
            s.commit_count = r.commit_count;
            s.deploy_count = r.deploy_count;
            s.last_deploy = last_deploys.get(&r.id).cloned();
        }
        for (version, count, first, last) in seen {
            let s = out.entry(version.clone()).or_insert_with(|| blank(&version, first));
            s.created_at = s.created_at.min(first);
            s.first_event = Some(first);
            s.last_event = Some(last);
            s.events = count;
        }
        for (version, n) in new {
            if let Some(s) = out.get_mut(&version) {
                s.new_issues = n;
            }
        }
        let mut regressed: HashSet<(String, i64)> = HashSet::new();
        for (issue, data) in regressions {
            let release = serde_json::from_str::<serde_json::Value>(&data)
                .ok()
                .and_then(|v| v.get("release").and_then(|r| r.as_str()).map(str::to_string));
            if let Some(release) = release {
                if regressed.insert((release.clone(), issue)) {
                    if let Some(s) = out.get_mut(&release) {
                        s.regressions += 1;
                    }
                }
            }
        }
        let mut list: Vec<ReleaseSummary> = out.into_values().collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.version.cmp(&a.version)));
        Ok(list)
    }
}
