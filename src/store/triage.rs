//! The triage query layer: the issue list (filters, sorts, keyset pagination), the counts
//! behind sparklines, and the actions on issues (status, assignment, comments, deletion).
//! The UI's server functions and the JSON API both call these, so a query means the same
//! in both.

use std::collections::HashMap;

use super::issues::ISSUE_SELECT;
use super::{on_db, Db, Result, StoreError};
use crate::model::{Activity, Issue, IssueChange};
use crate::search::{Assigned, Filter, Sort};

/// One page of the issue list.
pub struct IssueQuery<'a> {
    /// The projects to list; the caller has checked the user may see each.
    pub project_ids: &'a [i64],
    pub filter: &'a Filter,
    pub sort: Sort,
    /// From the previous page's `next_cursor`; `None`: the first page.
    pub cursor: Option<&'a str>,
    pub limit: i64,
    /// The user asking, for `assigned:me`.
    pub user_id: i64,
}

#[derive(Debug)]
pub struct IssuePage {
    pub issues: Vec<Issue>,
    /// Opaque; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Issues matching the filter, over all pages, counted up to [`MAX_HITS`].
    pub total: i64,
    /// More than [`MAX_HITS`] issues match (`total` is then `MAX_HITS`).
    pub total_capped: bool,
}

/// The issue list counts matching issues up to this many, as Sentry's does: beyond it, the
/// count would cost more than the page it describes.
pub const MAX_HITS: i64 = 1000;

/// The trend score of an issue without an event in the last 24 hours: it sorts last.
pub const NO_TREND: f64 = -1_000_000_000.0;

/// `SET` clause that recomputes `trend` for the hour `$1` (see migrations/*/0006_list_speed.sql):
/// events in that hour minus the hourly rate of the 23 hours before.
pub(super) const TREND_SET: &str = "trend_hour = $1, trend = COALESCE((SELECT \
     SUM(CASE WHEN h.hour = $1 THEN h.count ELSE 0 END) \
     - SUM(CASE WHEN h.hour < $1 THEN h.count ELSE 0 END) / 23.0 \
     FROM issue_hourly h WHERE h.issue_id = issues.id AND h.hour >= $1 - 23 AND h.hour <= $1), \
     -1000000000.0)";

/// A bind parameter of a query assembled at run time.
enum Arg {
    Int(i64),
    Text(String),
}

/// SQL text plus its parameters, numbered `$1..` in the order they are added.
#[derive(Default)]
struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn int(&mut self, v: i64) -> String {
        self.args.push(Arg::Int(v));
        format!("${}", self.args.len())
    }

    fn text(&mut self, v: impl Into<String>) -> String {
        self.args.push(Arg::Text(v.into()));
        format!("${}", self.args.len())
    }

    fn ints(&mut self, vs: &[i64]) -> String {
        vs.iter().map(|v| self.int(*v)).collect::<Vec<_>>().join(", ")
    }

    fn texts(&mut self, vs: &[String]) -> String {
        vs.iter().map(|v| self.text(v.clone())).collect::<Vec<_>>().join(", ")
    }
}

/// Runs `sqlx::$f` (query_as / query_scalar) over `$sql` with the arguments of `$args`.
macro_rules! bound {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

/// The column an order sorts by (`None`: the computed trend).
fn sort_column(sort: Sort) -> Option<&'static str> {
    match sort {
        Sort::LastSeen => Some("last_seen"),
        Sort::FirstSeen => Some("first_seen"),
        Sort::Events => Some("event_count"),
        Sort::Users => Some("user_count"),
        Sort::Trend => None,
    }
}

/// The hour number (epoch ms / 1 h) of `ms`, as `issue_hourly` counts.
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(3_600_000)
}

/// `WHERE` conditions (joined by AND) for the filter. Only `issues i` is referenced.
fn conditions(q: &IssueQuery, sql: &mut Sql) -> Vec<String> {
    let f = q.filter;
    let mut c = Vec::new();
    if q.project_ids.is_empty() {
        c.push("1 = 0".to_string());
    } else if let [only] = q.project_ids {
        c.push(format!("i.project_id = {}", sql.int(*only)));
    } else {
        c.push(format!("i.project_id IN ({})", sql.ints(q.project_ids)));
    }
    if let Some(status) = &f.status {
        c.push(format!("i.status = {}", sql.text(status.clone())));
    }
    if !f.levels.is_empty() {
        c.push(format!("i.level IN ({})", sql.texts(&f.levels)));
    }
    if !f.exclude_levels.is_empty() {
        c.push(format!("i.level NOT IN ({})", sql.texts(&f.exclude_levels)));
    }
    for (key, values) in [("environment", &f.environments), ("release", &f.releases)] {
        if !values.is_empty() {
            let key = sql.text(key);
            c.push(format!(
                "i.id IN (SELECT issue_id FROM issue_tag_values WHERE key = {key} AND value IN ({}))",
                sql.texts(values)
            ));
        }
    }
    if !f.first_releases.is_empty() {
        c.push(format!("i.first_release IN ({})", sql.texts(&f.first_releases)));
    }
    if let Some(email) = &f.user_email {
        c.push(format!(
            "i.id IN (SELECT issue_id FROM issue_tag_values WHERE key = 'user.email' AND value = {})",
            sql.text(email.clone())
        ));
    }
    match &f.assigned {
        None => {}
        Some(Assigned::Me) => c.push(format!("i.assignee_id = {}", sql.int(q.user_id))),
        Some(Assigned::Nobody) => c.push("i.assignee_id IS NULL".into()),
        Some(Assigned::Anyone) => c.push("i.assignee_id IS NOT NULL".into()),
        Some(Assigned::Email(e)) => {
            c.push(format!("i.assignee_id IN (SELECT id FROM users WHERE email = {})", sql.text(e.clone())))
        }
    }
    if let Some(p) = &f.platform {
        c.push(format!("i.platform = {}", sql.text(p.clone())));
    }
    for (bound, column, op) in [
        (f.first_seen_after, "i.first_seen", ">="),
        (f.first_seen_before, "i.first_seen", "<="),
        (f.last_seen_after, "i.last_seen", ">="),
        (f.last_seen_before, "i.last_seen", "<="),
        (f.min_events, "i.event_count", ">="),
        (f.max_events, "i.event_count", "<="),
    ] {
        if let Some(v) = bound {
            c.push(format!("{column} {op} {}", sql.int(v)));
        }
    }
    if f.regressed {
        c.push("i.is_regression = TRUE".into());
    }
    for word in &f.text {
        let p = sql.text(format!("%{}%", escape_like(&word.to_lowercase())));
        c.push(format!("i.search_text LIKE {p} ESCAPE '\\'"));
    }
    c
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Cursors: `k<value>:<id>` continues a keyset order after that row; `o<n>` skips n rows
/// (the trend order, which is computed and changes by the minute anyway).
enum Cursor {
    After(i64, i64),
    Offset(i64),
}

fn parse_cursor(s: &str) -> Option<Cursor> {
    if let Some(rest) = s.strip_prefix('k') {
        let (v, id) = rest.split_once(':')?;
        return Some(Cursor::After(v.parse().ok()?, id.parse().ok()?));
    }
    s.strip_prefix('o')?.parse().ok().filter(|n| *n >= 0).map(Cursor::Offset)
}

fn sort_value(issue: &Issue, sort: Sort) -> i64 {
    match sort {
        Sort::LastSeen | Sort::Trend => issue.last_seen,
        Sort::FirstSeen => issue.first_seen,
        Sort::Events => issue.event_count,
        Sort::Users => issue.user_count,
    }
}

impl Db {
    /// One page of issues matching `q`, and how many match in all.
    pub async fn list_issues(&self, q: &IssueQuery<'_>) -> Result<IssuePage> {
        let limit = q.limit.clamp(1, 100);
        let cursor = match q.cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(parse_cursor(c).ok_or_else(|| StoreError::Invalid("This page link is not valid.".into()))?),
            None => None,
        };

        let offset = match cursor {
            Some(Cursor::Offset(n)) => n,
            _ => 0,
        };
        // Descending, with the id last so that every order is total (keyset pagination).
        let order: Vec<&str> = match sort_column(q.sort) {
            Some(col) => vec![col, "id"],
            // The stored trend score (kept by the ingest writer and `refresh_trends`).
            None => vec!["trend", "last_seen", "id"],
        };
        let order_by = |prefix: &str| order.iter().map(|c| format!("{prefix}{c} DESC")).collect::<Vec<_>>().join(", ");

        // Without a status filter, one branch per status: each reads its (project, status,
        // column) index in order and stops early, where one query over every status would
        // sort all of the project's issues.
        // (Not when the filter names an assignee: their few issues are found through the
        // assignee index and sorted.)
        let by_assignee = matches!(q.filter.assigned, Some(Assigned::Me) | Some(Assigned::Email(_)));
        let statuses: &[Option<&str>] = match q.filter.status {
            None if !by_assignee => &[Some("unresolved"), Some("resolved"), Some("ignored")],
            _ => &[None],
        };
        let mut sql = Sql::default();
        let mut branches = Vec::new();
        for status in statuses {
            let mut conds = conditions(q, &mut sql);
            if let Some(status) = status {
                conds.push(format!("i.status = {}", sql.text(status.to_string())));
            }
            if let (Some(col), Some(Cursor::After(v, id))) = (sort_column(q.sort), &cursor) {
                conds.push(format!("(i.{col}, i.id) < ({}, {})", sql.int(*v), sql.int(*id)));
            }
            branches.push(format!(
                "{} WHERE {} ORDER BY {} LIMIT {}",
                ISSUE_SELECT.replacen(" FROM issues i", ", i.trend FROM issues i", 1),
                conds.join(" AND "),
                order_by("i."),
                sql.int(offset + limit + 1)
            ));
        }
        let page_sql = match branches.as_slice() {
            [one] => format!("{one} OFFSET {}", sql.int(offset)),
            _ => format!(
                "SELECT * FROM ({}) b ORDER BY {} LIMIT {} OFFSET {}",
                branches.iter().map(|b| format!("SELECT * FROM ({b}) s")).collect::<Vec<_>>().join(" UNION ALL "),
                order_by(""),
                sql.int(limit + 1),
                sql.int(offset)
            ),
        };
        let args = sql.args;
        let mut issues: Vec<Issue> =
            on_db!(self, |pool| bound!(sqlx::query_as::<_, Issue>(&page_sql), &args).fetch_all(pool).await?);

        let more = issues.len() as i64 > limit;
        issues.truncate(limit as usize);
        let next_cursor = match (more, issues.last()) {
            (true, Some(last)) if q.sort != Sort::Trend => Some(format!("k{}:{}", sort_value(last, q.sort), last.id)),
            (true, Some(_)) => Some(format!("o{}", offset + limit)),
            _ => None,
        };

        // How many match: the first page tells when it is the only one.
        let counted = if cursor.is_none() && !more {
            issues.len() as i64
        } else {
            let mut sql = Sql::default();
            let mut conds = conditions(q, &mut sql);
            // SQLite, free text: reading the table in order (3 ms for 10,000 issues) beats
            // fetching every row through the project index (13 ms); the unary `+` keeps the
            // planner off that index. (The first condition is always the project's.)
            if matches!(self, Db::Sqlite(_)) && !q.filter.text.is_empty() {
                conds[0] = format!("+{}", conds[0]);
            }
            let count_sql = format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM issues i WHERE {} LIMIT {}) c",
                conds.join(" AND "),
                MAX_HITS + 1
            );
            let args = sql.args;
            on_db!(self, |pool| bound!(sqlx::query_scalar::<_, i64>(&count_sql), &args).fetch_one(pool).await?)
        };
        Ok(IssuePage { issues, next_cursor, total: counted.min(MAX_HITS), total_capped: counted > MAX_HITS })
    }

    /// Hourly event counts of these issues from `from_hour` on: `issue id → [(hour, count)]`.
    pub async fn hourly_counts(&self, issue_ids: &[i64], from_hour: i64) -> Result<HashMap<i64, Vec<(i64, i64)>>> {
        self.bucketed_counts(issue_ids, from_hour, from_hour).await
    }

    /// A project's events per hour from `from_hour` on, `[(hour, events)]`, oldest first;
    /// hours without events are left out.
    pub async fn project_hourly(&self, project_id: i64, from_hour: i64) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT h.hour, CAST(SUM(h.count) AS BIGINT) FROM issue_hourly h \
                   JOIN issues i ON i.id = h.issue_id \
                   WHERE i.project_id = $1 AND h.hour >= $2 GROUP BY h.hour ORDER BY h.hour";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(project_id)
            .bind(from_hour)
            .fetch_all(pool)
            .await?))
    }

    /// Event counts of these issues from `from_hour` on, by day (24-hour buckets from
    /// `from_hour`, keyed by their first hour) before `hourly_from`, by hour from it on:
    /// what a 14-day sparkline and the "spiking" badge need, in a tenth of the rows.
    pub async fn bucketed_counts(
        &self,
        issue_ids: &[i64],
        from_hour: i64,
        hourly_from: i64,
    ) -> Result<HashMap<i64, Vec<(i64, i64)>>> {
        let mut out: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        if issue_ids.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::default();
        let (from, hourly) = (sql.int(from_hour), sql.int(hourly_from));
        let text = format!(
            "SELECT issue_id, CASE WHEN hour >= {hourly} THEN hour ELSE {from} + ((hour - {from}) / 24) * 24 END \
             AS bucket, CAST(SUM(count) AS BIGINT) FROM issue_hourly WHERE issue_id IN ({}) AND hour >= {from} \
             GROUP BY issue_id, bucket ORDER BY issue_id, bucket",
            sql.ints(issue_ids)
        );
        let args = sql.args;
        let rows: Vec<(i64, i64, i64)> =
            on_db!(self, |pool| bound!(sqlx::query_as::<_, (i64, i64, i64)>(&text), &args).fetch_all(pool).await?);
        for (issue, hour, count) in rows {
            out.entry(issue).or_default().push((hour, count));
        }
        Ok(out)
    }

    /// Recomputes the trend score of the issues whose score is of an earlier hour than
    /// `hour` and not already "no event in the last day": what the hour moving on changes
    /// without any event. Returns how many issues it updated. Cheap when there is nothing
    /// to do; run every minute or so on every node (idempotent).
    pub async fn refresh_trends(&self, hour: i64) -> Result<u64> {
        let sql = format!("UPDATE issues SET {TREND_SET} WHERE trend_hour < $1 AND trend > {NO_TREND:.1}");
        Ok(on_db!(self, |pool| sqlx::query(&sql).bind(hour).execute(pool).await?.rows_affected()))
    }

    /// The project of each of these issues that exists: `(issue id, project id)`.
    pub async fn issue_projects(&self, issue_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        if issue_ids.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = Sql::default();
        let text = format!("SELECT id, project_id FROM issues WHERE id IN ({})", sql.ints(issue_ids));
        let args = sql.args;
        Ok(on_db!(self, |pool| bound!(sqlx::query_as::<_, (i64, i64)>(&text), &args).fetch_all(pool).await?))
    }

    /// Changes whenever an issue of these projects is created, gets an event or is triaged:
    /// (latest last_seen, number of issues, latest activity id).
    pub async fn issues_fingerprint(&self, project_ids: &[i64]) -> Result<(i64, i64, i64)> {
        if project_ids.is_empty() {
            return Ok((0, 0, 0));
        }
        let mut sql = Sql::default();
        let text = format!(
            "SELECT COALESCE(MAX(i.last_seen), 0), COUNT(*), \
             COALESCE((SELECT MAX(id) FROM issue_activity), 0) FROM issues i WHERE i.project_id IN ({})",
            sql.ints(project_ids)
        );
        let args = sql.args;
        Ok(on_db!(self, |pool| bound!(sqlx::query_as::<_, (i64, i64, i64)>(&text), &args).fetch_one(pool).await?))
    }

    /// Whether the project has received any event yet.
    pub async fn project_has_issues(&self, project_id: i64) -> Result<bool> {
        let sql = "SELECT id FROM issues WHERE project_id = $1 LIMIT 1";
        let row: Option<i64> =
            on_db!(self, |pool| sqlx::query_scalar(sql).bind(project_id).fetch_optional(pool).await?);
        Ok(row.is_some())
    }

    /// The environments or releases (`key`) the projects have seen, most recently seen first:
    /// the filter menus. Read from `project_tag_values`, which ingestion keeps, so the cost
    /// does not grow with the number of issues. A value stays listed after its issues are
    /// deleted.
    pub async fn project_tag_values(&self, project_ids: &[i64], key: &str, limit: i64) -> Result<Vec<String>> {
        if project_ids.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = Sql::default();
        let text = format!(
            "SELECT value FROM project_tag_values WHERE project_id IN ({}) AND key = {} \
             GROUP BY value ORDER BY MAX(last_seen) DESC, value LIMIT {}",
            sql.ints(project_ids),
            sql.text(key),
            sql.int(limit)
        );
        let args = sql.args;
        Ok(on_db!(self, |pool| bound!(sqlx::query_scalar::<_, String>(&text), &args).fetch_all(pool).await?))
    }

    /// Applies a triage action to issues (the caller has checked access to each) and logs it
    /// in their activity. Returns how many issues changed; one already in the wanted state
    /// is left alone and not logged again.
    pub async fn update_issues(&self, issue_ids: &[i64], change: &IssueChange, user_id: Option<i64>) -> Result<u64> {
        if issue_ids.is_empty() {
            return Ok(0);
        }
        let now = super::now_ms();
        let mut sql = Sql::default();
        let (set, only_if, kind, data) = match change {
            IssueChange::Resolve => (
                format!(
                    "status = 'resolved', resolved_at = {}, is_regression = FALSE, ignore_until = NULL, \
                     ignore_until_count = NULL, resolved_in_release = NULL",
                    sql.int(now)
                ),
                "(status <> 'resolved' OR resolved_in_release IS NOT NULL)".to_string(),
                "set_resolved",
                serde_json::json!({}),
            ),
            // The project's latest release: the one whose events started last.
            IssueChange::ResolveInNextRelease => (
                format!(
                    "status = 'resolved', resolved_at = {}, is_regression = FALSE, ignore_until = NULL, \
                     ignore_until_count = NULL, resolved_in_release = COALESCE((SELECT r.value FROM \
                     project_tag_values r WHERE r.project_id = issues.project_id AND r.key = 'release' \
                     ORDER BY r.first_seen DESC, r.value DESC LIMIT 1), '')",
                    sql.int(now)
                ),
                "(status <> 'resolved' OR resolved_in_release IS NULL)".to_string(),
                "set_resolved_in_next_release",
                serde_json::json!({}),
            ),
            IssueChange::Reopen => (
                "status = 'unresolved', resolved_at = NULL, ignore_until = NULL, ignore_until_count = NULL, \
                 resolved_in_release = NULL"
                    .into(),
                "status <> 'unresolved'".into(),
                "set_unresolved",
                serde_json::json!({}),
            ),
            IssueChange::Ignore { minutes, events } => {
                let until = match minutes.filter(|m| *m > 0) {
                    Some(m) => sql.int(now + m * 60_000),
                    None => "NULL".into(),
                };
                let count = match events.filter(|n| *n > 0) {
                    Some(n) => format!("event_count + {}", sql.int(n)),
                    None => "NULL".into(),
                };
                (
                    format!(
                        "status = 'ignored', resolved_at = NULL, ignore_until = {until}, ignore_until_count = {count}, \
                         resolved_in_release = NULL"
                    ),
                    "1 = 1".into(),
                    "set_ignored",
                    serde_json::json!({ "minutes": minutes, "events": events }),
                )
            }
            IssueChange::Assign { user_id: assignee } => {
                let v = sql.int(assignee.unwrap_or(0));
                let set = match assignee {
                    Some(_) => format!("assignee_id = {v}"),
                    None => "assignee_id = NULL".into(),
                };
                let email = match assignee {
                    Some(id) => self.user_by_id(*id).await?.map(|u| u.email),
                    None => None,
                };
                let kind = if assignee.is_some() { "assigned" } else { "unassigned" };
                (set, format!("COALESCE(assignee_id, 0) <> {v}"), kind, serde_json::json!({ "email": email }))
            }
        };
        let text = format!("UPDATE issues SET {set} WHERE id IN ({}) AND {only_if} RETURNING id", sql.ints(issue_ids));
        let args = sql.args;
        let data = data.to_string();
        let changed = on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            let ids: Vec<i64> = bound!(sqlx::query_scalar::<_, i64>(&text), &args).fetch_all(&mut *tx).await?;
            for id in &ids {
                sqlx::query(
                    "INSERT INTO issue_activity (issue_id, kind, user_id, data, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(kind)
                .bind(user_id)
                .bind(&data)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            ids.len() as u64
        });
        Ok(changed)
    }

    /// Deletes issues with their events, grouping keys and counts. A later event with the
    /// same grouping key starts a new issue.
    pub async fn delete_issues(&self, issue_ids: &[i64]) -> Result<u64> {
        if issue_ids.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::default();
        let text = format!("DELETE FROM issues WHERE id IN ({})", sql.ints(issue_ids));
        let args = sql.args;
        Ok(on_db!(self, |pool| bound!(sqlx::query(&text), &args).execute(pool).await?.rows_affected()))
    }

    /// Adds a comment to an issue's activity log.
    pub async fn add_comment(&self, issue_id: i64, user_id: i64, text: &str) -> Result<()> {
        let data = serde_json::json!({ "text": text }).to_string();
        let sql =
            "INSERT INTO issue_activity (issue_id, kind, user_id, data, created_at) VALUES ($1, 'comment', $2, $3, $4)";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(issue_id)
            .bind(user_id)
            .bind(data)
            .bind(super::now_ms())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// An issue's activity log, oldest first, with who did what.
    pub async fn activity(&self, issue_id: i64) -> Result<Vec<Activity>> {
        let sql = "SELECT ac.id, ac.issue_id, ac.kind, u.email AS user_email, ac.data, ac.created_at \
                   FROM issue_activity ac LEFT JOIN users u ON u.id = ac.user_id WHERE ac.issue_id = $1 ORDER BY ac.id";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, Activity>(sql).bind(issue_id).fetch_all(pool).await?))
    }
}
