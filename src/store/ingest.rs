//! Writing what ingestion accepted: a batch of events (with their attachments), user reports
//! and item counts, in one transaction. The digest writer calls [`Db::write_batch`] once per
//! group commit; every request of the batch is answered after it returns.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::batch::{Arg, BatchTx, Kind};
use super::{now_ms, on_db, Db, Result};
use crate::grouping::Grouping;

/// One event, normalized and grouped, ready to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub project_id: i64,
    pub event_id: String,
    pub timestamp: i64,
    pub received_at: i64,
    pub level: String,
    pub platform: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub user_key: Option<String>,
    pub tags: Vec<(String, String)>,
    pub grouping: Grouping,
    /// zstd-compressed event JSON (see `store::payload`).
    pub payload: Vec<u8>,
    pub attachments: Vec<NewAttachment>,
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: Option<String>,
    pub attachment_type: String,
    /// A slice of the request's body where it can be (no copy of a large upload).
    pub data: bytes::Bytes,
}

#[derive(Debug, Clone)]
pub struct NewUserReport {
    pub project_id: i64,
    pub event_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub comments: String,
}

/// What became of one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored in this issue; `new_issue` when the event created it.
    Event { issue_id: i64, new_issue: bool, regression: bool },
    /// An event with this id was already stored (an SDK retry): nothing changed.
    Duplicate,
}

/// A client key as ingestion needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IngestKey {
    pub project_id: i64,
    pub is_active: bool,
    pub rate_limit_per_minute: Option<i64>,
}

const EVENT_CHUNK: usize = 100;
const ROW_CHUNK: usize = 200;

/// Per issue, what this batch adds.
#[derive(Default)]
struct IssueDelta {
    events: i64,
    first: i64,
    last: i64,
    last_release: Option<String>,
    last_level: String,
    users: BTreeSet<String>,
}

/// `($1, $2, ...), ($n+1, ...)` for `rows` rows of `cols` placeholders.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// What free-text search matches an issue against (see `triage::conditions`).
fn search_text(g: &Grouping) -> String {
    let value = g.exception_value.as_deref().unwrap_or("");
    format!("{} {} {}", g.title, g.culprit, value).to_lowercase()
}

/// `$start, $start+1, ...` for `n` values.
fn list(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Like [`placeholders`], each value cast to its column's type (`CAST($1 AS BIGINT)`), so
/// that PostgreSQL knows the types of a `VALUES` list that is not inserted into a table.
fn typed_rows(rows: usize, types: &[&str]) -> String {
    let mut s = String::with_capacity(rows * types.len() * 20);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for (c, ty) in types.iter().enumerate() {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("CAST(${} AS {ty})", r * types.len() + c + 1));
        }
        s.push(')');
    }
    s
}

/// Whether an event of release `version` reopens an issue resolved in the release after
/// `base`: a release is newer when it is another one than `base` and its events started
/// later, or it was never seen before. `first` holds the first-seen times known before this
/// batch. With no base release (`""`: the project had none), every release is newer.
fn is_newer_release(version: &str, base: &str, first: &HashMap<String, i64>) -> bool {
    if version == base {
        return false;
    }
    match (first.get(version), first.get(base)) {
        (None, _) | (_, None) => true,
        (Some(v), Some(b)) => v > b,
    }
}

impl Db {
    /// The client key with this public part, with its project's ingestion settings.
    pub async fn ingest_key(&self, public_key: &str) -> Result<Option<IngestKey>> {
        let sql = "SELECT k.project_id, k.is_active, p.rate_limit_per_minute \
                   FROM project_keys k JOIN projects p ON p.id = k.project_id WHERE k.public_key = $1";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, IngestKey>(sql).bind(public_key).fetch_optional(pool).await?))
    }

    /// Sets (or with `None` removes) a project's limit of accepted events per minute.
    pub async fn set_rate_limit(&self, project_id: i64, per_minute: Option<i64>) -> Result<()> {
        let sql = "UPDATE projects SET rate_limit_per_minute = $1 WHERE id = $2";
        let done = on_db!(self, |pool| sqlx::query(sql)
            .bind(per_minute)
            .bind(project_id)
            .execute(pool)
            .await?
            .rows_affected());
        super::keys_changed();
        if done == 0 {
            return Err(super::StoreError::NotFound);
        }
        Ok(())
    }

    /// Stores a batch in one transaction: events (an event id already stored in its project
    /// is skipped), their issues (created, counted, reopened as regressions), distinct users,
    /// tag values, hourly counts, attachments, user reports and item counts
    /// (`(project_id, item_type, count)`). Returns one outcome per event, in order.
    pub async fn write_batch(
        &self,
        events: &[NewEvent],
        reports: &[NewUserReport],
        counts: &[(i64, String, i64)],
    ) -> Result<Vec<Stored>> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            let stored = write_in(&mut tx, events, reports, counts).await?;
            tx.commit().await?;
            Ok(stored)
        })
    }
}

/// `[Arg::from(a), Arg::from(b), …]`
macro_rules! args {
    ($($a:expr),* $(,)?) => { [$(Arg::from($a)),*] };
}

/// The statements of [`Db::write_batch`], in the open transaction `tx`.
pub(crate) async fn write_in<T: BatchTx>(
    tx: &mut T,
    events: &[NewEvent],
    reports: &[NewUserReport],
    counts: &[(i64, String, i64)],
) -> Result<Vec<Stored>> {
    let now = now_ms();
    // An id twice in one batch: the first one counts.
    let mut seen = HashSet::new();
    let firsts: Vec<bool> = events.iter().map(|e| seen.insert((e.project_id, e.event_id.as_str()))).collect();

    // Distinct grouping keys, in a fixed order (so that concurrent writers on PostgreSQL
    // lock rows in the same order and cannot deadlock).
    let mut groups: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if firsts[i] {
            groups.entry((e.project_id, e.grouping.hash.as_str())).or_insert(i);
        }
    }

    // 1. The issue of every grouping key: the known keys in one query per project and
    //    chunk, the new ones created (rare: once per issue).
    let mut issue_of: HashMap<(i64, &str), (i64, bool)> = HashMap::new();
    // Issues resolved "in the next release": issue → the release they were resolved in.
    let mut held: HashMap<i64, String> = HashMap::new();
    let mut by_project: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for &(project_id, hash) in groups.keys() {
        by_project.entry(project_id).or_default().push(hash);
    }
    for (&project_id, hashes) in &by_project {
        for chunk in hashes.chunks(ROW_CHUNK) {
            let sql = format!(
                "SELECT g.hash, g.issue_id, CASE WHEN i.status = 'resolved' THEN i.resolved_in_release END \
                 FROM groupings g JOIN issues i ON i.id = g.issue_id \
                 WHERE g.project_id = $1 AND g.hash IN ({})",
                list(2, chunk.len())
            );
            let mut args = vec![Arg::Int(project_id)];
            args.extend(chunk.iter().map(|h| Arg::Text(h)));
            let rows = tx.rows(&sql, &args, &[Kind::Text, Kind::Int, Kind::OptText]).await?;
            let known: HashMap<String, (i64, Option<String>)> =
                rows.iter().map(|r| (r[0].text(), (r[1].int(), r[2].opt_text()))).collect();
            for hash in chunk {
                if let Some((id, resolved_in)) = known.get(*hash) {
                    issue_of.insert((project_id, *hash), (*id, false));
                    if let Some(r) = resolved_in {
                        held.insert(*id, r.clone());
                    }
                }
            }
        }
    }
    for (&(project_id, hash), &i) in &groups {
        if issue_of.contains_key(&(project_id, hash)) {
            continue;
        }
        let select = "SELECT issue_id FROM groupings WHERE project_id = $1 AND hash = $2";
        let e = &events[i];
        let g = &e.grouping;
        let insert = "INSERT INTO issues (project_id, title, culprit, kind, exception_type, exception_value, \
                      level, platform, first_seen, last_seen, first_release, last_release, created_at, \
                      search_text) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $10, $11, $12) RETURNING id";
        let search = search_text(g);
        let args = args![
            project_id,
            &g.title,
            &g.culprit,
            &g.kind,
            &g.exception_type,
            &g.exception_value,
            &e.level,
            &e.platform,
            e.timestamp,
            &e.release,
            now,
            &search,
        ];
        let rows = tx.rows(insert, &args, &[Kind::Int]).await?;
        let id = rows.first().map(|r| r[0].int()).ok_or(super::StoreError::NotFound)?;
        let link = "INSERT INTO groupings (project_id, hash, version, issue_id, components, created_at) \
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, hash) DO NOTHING";
        let components = serde_json::to_string(&g.components).unwrap_or_else(|_| "[]".into());
        let linked = tx.execute(link, &args![project_id, hash, i64::from(g.version), id, &components, now]).await?;
        if linked == 0 {
            // Another node created this issue first (PostgreSQL): use theirs.
            tx.execute("DELETE FROM issues WHERE id = $1", &args![id]).await?;
            let rows = tx.rows(select, &args![project_id, hash], &[Kind::Int]).await?;
            let theirs = rows.first().map(|r| r[0].int()).ok_or(super::StoreError::NotFound)?;
            issue_of.insert((project_id, hash), (theirs, false));
        } else {
            issue_of.insert((project_id, hash), (id, true));
        }
    }

    // 2. The events; those whose id is already stored come back missing.
    let mut inserted: HashSet<(i64, String)> = HashSet::new();
    let fresh: Vec<usize> = (0..events.len()).filter(|&i| firsts[i]).collect();
    for chunk in fresh.chunks(EVENT_CHUNK) {
        let sql = format!(
            "INSERT INTO events (project_id, issue_id, event_id, timestamp, received_at, level, release, \
             environment, user_key, payload) VALUES {} \
             ON CONFLICT (project_id, event_id) DO NOTHING RETURNING project_id, event_id",
            placeholders(chunk.len(), 10)
        );
        let mut args = Vec::with_capacity(chunk.len() * 10);
        for &i in chunk {
            let e = &events[i];
            args.extend(args![
                e.project_id,
                issue_of[&(e.project_id, e.grouping.hash.as_str())].0,
                &e.event_id,
                e.timestamp,
                e.received_at,
                &e.level,
                &e.release,
                &e.environment,
                &e.user_key,
                e.payload.as_slice(),
            ]);
        }
        let rows = tx.rows(&sql, &args, &[Kind::Int, Kind::Text]).await?;
        inserted.extend(rows.iter().map(|r| (r[0].int(), r[1].text())));
    }
    let stored: Vec<usize> =
        fresh.into_iter().filter(|&i| inserted.contains(&(events[i].project_id, events[i].event_id.clone()))).collect();

    // 3. What the stored events add to each issue.
    let mut deltas: BTreeMap<i64, IssueDelta> = BTreeMap::new();
    let mut tag_rows: BTreeMap<(i64, &str, &str), (i64, i64, i64)> = BTreeMap::new();
    let mut hourly: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut project_tags: BTreeMap<(i64, &str, &str), (i64, i64, i64)> = BTreeMap::new();
    for &i in &stored {
        let e = &events[i];
        let issue = issue_of[&(e.project_id, e.grouping.hash.as_str())].0;
        let d =
            deltas.entry(issue).or_insert_with(|| IssueDelta { first: i64::MAX, last: i64::MIN, ..Default::default() });
        d.events += 1;
        d.first = d.first.min(e.timestamp);
        if e.timestamp >= d.last {
            d.last = e.timestamp;
            d.last_level = e.level.clone();
            if e.release.is_some() {
                d.last_release = e.release.clone();
            }
        }
        if let Some(u) = &e.user_key {
            d.users.insert(u.clone());
        }
        for (k, v) in &e.tags {
            let t = tag_rows.entry((issue, k.as_str(), v.as_str())).or_insert((0, i64::MAX, i64::MIN));
            t.0 += 1;
            t.1 = t.1.min(e.timestamp);
            t.2 = t.2.max(e.timestamp);
        }
        *hourly.entry((issue, e.timestamp.div_euclid(3_600_000))).or_insert(0) += 1;
        for (k, v) in [("environment", &e.environment), ("release", &e.release)] {
            if let Some(v) = v {
                let t = project_tags.entry((e.project_id, k, v.as_str())).or_insert((0, i64::MAX, i64::MIN));
                t.0 += 1;
                t.1 = t.1.min(e.timestamp);
                t.2 = t.2.max(e.timestamp);
            }
        }
    }

    // A new issue whose every event turned out to be stored already: drop it.
    for (_, &(id, new)) in issue_of.iter() {
        if new && !deltas.contains_key(&id) {
            tx.execute("DELETE FROM issues WHERE id = $1", &args![id]).await?;
        }
    }

    // 4. Distinct users: a row that already exists is not counted again.
    let mut new_users: HashMap<i64, i64> = HashMap::new();
    let user_rows: Vec<(i64, &str)> =
        deltas.iter().flat_map(|(&issue, d)| d.users.iter().map(move |u| (issue, u.as_str()))).collect();
    for chunk in user_rows.chunks(ROW_CHUNK) {
        let sql = format!(
            "INSERT INTO issue_users (issue_id, user_key) VALUES {} ON CONFLICT (issue_id, user_key) DO NOTHING \
             RETURNING issue_id",
            placeholders(chunk.len(), 2)
        );
        let args: Vec<Arg> = chunk.iter().flat_map(|&(issue, user)| args![issue, user]).collect();
        for r in tx.rows(&sql, &args, &[Kind::Int]).await? {
            *new_users.entry(r[0].int()).or_insert(0) += 1;
        }
    }

    // 5. Issue counters, and status: a resolved issue that gets an event reopens as a
    //    regression; an ignored one comes back once its deadline or event count is
    //    reached (`is_regression` then tells the two apart). One statement each for
    //    all the issues of a chunk, whatever their number.
    let rows: Vec<(i64, &IssueDelta)> = deltas.iter().map(|(&id, d)| (id, d)).collect();
    if tx.is_postgres() && !rows.is_empty() {
        // Lock the issues in id order first, so that two nodes writing batches that
        // share issues wait for each other instead of deadlocking.
        for chunk in rows.chunks(ROW_CHUNK) {
            let sql = format!("SELECT id FROM issues WHERE id IN ({}) ORDER BY id FOR UPDATE", list(1, chunk.len()));
            let args: Vec<Arg> = chunk.iter().map(|(id, _)| Arg::Int(*id)).collect();
            tx.rows(&sql, &args, &[Kind::Int]).await?;
        }
    }
    // An issue resolved in the next release stays resolved unless an event of a newer
    // release came.
    let mut stay: HashSet<i64> = HashSet::new();
    if !held.is_empty() {
        let mut releases: BTreeMap<i64, (i64, BTreeSet<&str>)> = BTreeMap::new();
        for &i in &stored {
            let e = &events[i];
            let issue = issue_of[&(e.project_id, e.grouping.hash.as_str())].0;
            if held.contains_key(&issue) {
                let r = releases.entry(issue).or_insert_with(|| (e.project_id, BTreeSet::new()));
                if let Some(v) = &e.release {
                    r.1.insert(v.as_str());
                }
            }
        }
        for (issue, (project_id, seen)) in &releases {
            let base = held[issue].as_str();
            let mut names: Vec<&str> = seen.iter().copied().collect();
            names.push(base);
            let sql = format!(
                "SELECT value, first_seen FROM project_tag_values \
                 WHERE project_id = $1 AND key = 'release' AND value IN ({})",
                list(2, names.len())
            );
            let mut args = vec![Arg::Int(*project_id)];
            args.extend(names.iter().map(|n| Arg::Text(n)));
            let rows = tx.rows(&sql, &args, &[Kind::Text, Kind::Int]).await?;
            let first: HashMap<String, i64> = rows.iter().map(|r| (r[0].text(), r[1].int())).collect();
            if !seen.iter().any(|v| is_newer_release(v, base, &first)) {
                stay.insert(*issue);
            }
        }
    }
    let reopen_rows: Vec<(i64, &IssueDelta)> = rows.iter().filter(|(id, _)| !stay.contains(id)).copied().collect();
    let mut reopened: Vec<(i64, bool)> = Vec::new();
    for chunk in reopen_rows.chunks(ROW_CHUNK) {
        let now_param = chunk.len() * 2 + 1;
        let sql = format!(
            "WITH d (issue, n) AS (VALUES {}) \
             UPDATE issues SET status = 'unresolved', is_regression = (status = 'resolved'), \
             resolved_at = NULL, ignore_until = NULL, ignore_until_count = NULL, resolved_in_release = NULL \
             FROM d WHERE issues.id = d.issue AND (status = 'resolved' OR (status = 'ignored' AND \
             (ignore_until <= ${now_param} OR event_count + d.n >= ignore_until_count))) \
             RETURNING id, is_regression",
            typed_rows(chunk.len(), &["BIGINT", "BIGINT"])
        );
        let mut args: Vec<Arg> = chunk.iter().flat_map(|(id, d)| args![*id, d.events]).collect();
        args.push(Arg::Int(now));
        let rows = tx.rows(&sql, &args, &[Kind::Int, Kind::Bool]).await?;
        reopened.extend(rows.iter().map(|r| (r[0].int(), r[1].bool())));
    }
    reopened.sort_unstable();
    let regressions: HashSet<i64> = reopened.iter().filter(|(_, r)| *r).map(|(id, _)| *id).collect();
    for chunk in reopened.chunks(ROW_CHUNK) {
        let sql = format!(
            "INSERT INTO issue_activity (issue_id, kind, data, created_at) VALUES {}",
            placeholders(chunk.len(), 4)
        );
        let data: Vec<String> =
            chunk.iter().map(|(id, _)| serde_json::json!({ "release": deltas[id].last_release }).to_string()).collect();
        let mut args = Vec::with_capacity(chunk.len() * 4);
        for ((id, regression), data) in chunk.iter().zip(&data) {
            let kind = if *regression { "regression" } else { "unignored" };
            args.extend(args![*id, kind, data, now]);
        }
        tx.execute(&sql, &args).await?;
    }
    for chunk in rows.chunks(ROW_CHUNK) {
        let sql = format!(
            "WITH d (issue, n, users, ev_first, ev_last, ev_level, ev_release) AS (VALUES {}) \
             UPDATE issues SET event_count = event_count + d.n, user_count = user_count + d.users, \
             first_seen = CASE WHEN d.ev_first < first_seen THEN d.ev_first ELSE first_seen END, \
             last_seen = CASE WHEN d.ev_last > last_seen THEN d.ev_last ELSE last_seen END, \
             level = CASE WHEN d.ev_last >= last_seen THEN d.ev_level ELSE level END, \
             last_release = CASE WHEN d.ev_last >= last_seen THEN COALESCE(d.ev_release, last_release) \
                                 ELSE last_release END \
             FROM d WHERE issues.id = d.issue",
            typed_rows(chunk.len(), &["BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "TEXT"])
        );
        let mut args = Vec::with_capacity(chunk.len() * 7);
        for (id, d) in chunk {
            let users = new_users.get(id).copied().unwrap_or(0);
            args.extend(args![*id, d.events, users, d.first, d.last, &d.last_level, &d.last_release]);
        }
        tx.execute(&sql, &args).await?;
    }

    // 6. Tag values (per issue, and the project's environments and releases) and
    //    hourly counts.
    for (table, owner, rows) in [
        ("issue_tag_values", "issue_id", tag_rows.into_iter().collect::<Vec<_>>()),
        ("project_tag_values", "project_id", project_tags.into_iter().collect()),
    ] {
        for chunk in rows.chunks(ROW_CHUNK) {
            let sql = format!(
                "INSERT INTO {table} ({owner}, key, value, count, first_seen, last_seen) VALUES {} \
                 ON CONFLICT ({owner}, key, value) DO UPDATE SET count = {table}.count + excluded.count, \
                 first_seen = CASE WHEN excluded.first_seen < {table}.first_seen \
                                   THEN excluded.first_seen ELSE {table}.first_seen END, \
                 last_seen = CASE WHEN excluded.last_seen > {table}.last_seen \
                                  THEN excluded.last_seen ELSE {table}.last_seen END",
                placeholders(chunk.len(), 6)
            );
            let args: Vec<Arg> = chunk
                .iter()
                .flat_map(|&((owner, k, v), (n, first, last))| args![owner, k, v, n, first, last])
                .collect();
            tx.execute(&sql, &args).await?;
        }
    }
    let hourly: Vec<_> = hourly.into_iter().collect();
    for chunk in hourly.chunks(ROW_CHUNK) {
        let sql = format!(
            "INSERT INTO issue_hourly (issue_id, hour, count) VALUES {} ON CONFLICT (issue_id, hour) \
             DO UPDATE SET count = issue_hourly.count + excluded.count",
            placeholders(chunk.len(), 3)
        );
        let args: Vec<Arg> = chunk.iter().flat_map(|&((issue, hour), n)| args![issue, hour, n]).collect();
        tx.execute(&sql, &args).await?;
    }

    // The trend score of the issues that got events (see `triage::TREND_SET`).
    let touched: Vec<i64> = deltas.keys().copied().collect();
    for chunk in touched.chunks(ROW_CHUNK) {
        let sql = format!("UPDATE issues SET {} WHERE id IN ({})", super::triage::TREND_SET, list(2, chunk.len()));
        let mut args = vec![Arg::Int(now.div_euclid(3_600_000))];
        args.extend(chunk.iter().map(|&id| Arg::Int(id)));
        tx.execute(&sql, &args).await?;
    }

    // 7. Attachments of stored events, user reports, item counts.
    for &i in &stored {
        let e = &events[i];
        for a in &e.attachments {
            let sql = "INSERT INTO attachments (project_id, event_id, filename, content_type, attachment_type, \
                       size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
            let args = args![
                e.project_id,
                &e.event_id,
                &a.filename,
                &a.content_type,
                &a.attachment_type,
                a.data.len() as i64,
                &a.data[..],
                now,
            ];
            tx.execute(sql, &args).await?;
        }
    }
    for r in reports {
        let sql = "INSERT INTO user_reports (project_id, event_id, name, email, comments, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        tx.execute(sql, &args![r.project_id, &r.event_id, &r.name, &r.email, &r.comments, now]).await?;
    }
    let day = now.div_euclid(86_400_000);
    let mut merged: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    for (project, ty, n) in counts {
        *merged.entry((*project, ty.as_str())).or_insert(0) += n;
    }
    for ((project, ty), n) in merged {
        let sql = "INSERT INTO ingest_counts (project_id, item_type, day, count) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (project_id, item_type, day) DO UPDATE SET count = ingest_counts.count + excluded.count";
        tx.execute(sql, &args![project, ty, day, n]).await?;
    }

    let stored: HashSet<usize> = stored.into_iter().collect();
    Ok(events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if !stored.contains(&i) {
                return Stored::Duplicate;
            }
            let (issue_id, new_issue) = issue_of[&(e.project_id, e.grouping.hash.as_str())];
            Stored::Event { issue_id, new_issue, regression: regressions.contains(&issue_id) }
        })
        .collect())
}
