//! Triage for a given user: the issue list and the actions on issues, with the access checks.
//! The UI's server functions (with the session's user) and the JSON API (with the API
//! token's user) both come through here, so they see and do exactly the same things.

use std::collections::HashMap;

use crate::access::{self, Need};
use crate::error::AppError;
use crate::model::{HourBar, IssueChange, IssueItem, IssueList, StatsPeriod, User};
use crate::search::{self, Sort};
use crate::store::triage::{hour_of, IssueQuery};
use crate::store::{now_ms, Db};

/// What the issue list is asked for.
#[derive(Clone, Debug)]
pub struct ListRequest {
    /// One project, or `None`: every project the user may see.
    pub project_id: Option<i64>,
    pub query: String,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: i64,
    pub stats: StatsPeriod,
}

pub async fn list(db: &Db, user: &User, req: &ListRequest) -> Result<IssueList, AppError> {
    let projects = access::projects(db, user, req.project_id).await?;
    let project_ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
    let now = now_ms();
    let parsed = search::parse(&req.query, now);
    let page = db
        .list_issues(&IssueQuery {
            project_ids: &project_ids,
            filter: &parsed.filter,
            sort: req.sort,
            cursor: req.cursor.as_deref(),
            limit: req.limit,
            user_id: user.id,
        })
        .await?;

    let ids: Vec<i64> = page.issues.iter().map(|i| i.id).collect();
    let this_hour = hour_of(now);
    let buckets = match req.stats {
        StatsPeriod::Day => 24,
        StatsPeriod::TwoWeeks => 14 * 24,
    };
    let from = this_hour - buckets + 1;
    // Hourly for the last day (the 24-hour sparkline, the "spiking" badge), daily before.
    let counts = db.bucketed_counts(&ids, from, this_hour - 23).await?;
    let slugs: HashMap<i64, &str> = projects.iter().map(|p| (p.id, p.slug.as_str())).collect();
    let items = page
        .issues
        .into_iter()
        .map(|issue| {
            let hours = counts.get(&issue.id).map(Vec::as_slice).unwrap_or(&[]);
            IssueItem {
                project_slug: slugs.get(&issue.project_id).unwrap_or(&"").to_string(),
                series: series(hours, this_hour, req.stats),
                is_new: issue.first_seen >= now - 24 * 3_600_000,
                is_spiking: is_spiking(hours, this_hour),
                issue,
            }
        })
        .collect();
    Ok(IssueList {
        items,
        next_cursor: page.next_cursor,
        total: page.total,
        total_capped: page.total_capped,
        errors: parsed.errors,
    })
}

/// Buckets hourly counts into the sparkline's bars, oldest first, ending with `this_hour`.
pub fn series(hours: &[(i64, i64)], this_hour: i64, stats: StatsPeriod) -> Vec<i64> {
    let (bars, width) = match stats {
        StatsPeriod::Day => (24, 1),
        StatsPeriod::TwoWeeks => (14, 24),
    };
    let first = this_hour - bars * width + 1;
    let mut out = vec![0; bars as usize];
    for &(hour, count) in hours {
        if hour >= first && hour <= this_hour {
            out[((hour - first) / width) as usize] += count;
        }
    }
    out
}

/// At least 10 events in the current hour, and 3 times the hourly rate of the 23 before.
pub fn is_spiking(hours: &[(i64, i64)], this_hour: i64) -> bool {
    let recent: i64 = hours.iter().filter(|(h, _)| *h == this_hour).map(|(_, c)| c).sum();
    let before: i64 = hours.iter().filter(|(h, _)| *h < this_hour && *h >= this_hour - 23).map(|(_, c)| c).sum();
    recent >= 10 && recent * 23 >= 3 * before.max(1)
}

/// Hours a project's chart shows.
pub const CHART_HOURS: i64 = 48;

/// A project's events per hour, the last [`CHART_HOURS`] ending with `this_hour`, from its
/// hourly counts (which should start 23 hours earlier, so that the first bars can be judged
/// spikes too).
pub fn hourly_chart(hours: &[(i64, i64)], this_hour: i64) -> Vec<HourBar> {
    let counts: HashMap<i64, i64> = hours.iter().copied().collect();
    (this_hour - CHART_HOURS + 1..=this_hour)
        .map(|hour| HourBar { hour, events: counts.get(&hour).copied().unwrap_or(0), spike: is_spiking(hours, hour) })
        .collect()
}

/// A project's events per hour for its chart, if the user may see the project.
pub async fn project_chart(db: &Db, user: &User, project_id: i64) -> Result<Vec<HourBar>, AppError> {
    access::project(db, user, project_id, Need::See).await?;
    let this_hour = hour_of(now_ms());
    let hours = db.project_hourly(project_id, this_hour - CHART_HOURS + 1 - 23).await?;
    Ok(hourly_chart(&hours, this_hour))
}

/// The one answer for an assignee who does not exist or may not see the issue: no user
/// learns from it whether an account exists.
pub const NOT_ASSIGNABLE: &str =
    "No user with access to this project has that name, so the issue cannot be assigned to them.";

/// Resolves, reopens, ignores or assigns issues; returns how many changed.
pub async fn update(db: &Db, user: &User, ids: &[i64], change: &IssueChange) -> Result<u64, AppError> {
    let projects = access::issues(db, user, ids, Need::See).await?;
    if let IssueChange::Assign { user_id: Some(assignee) } = change {
        // The assignee must be able to see every project involved. A user who does not
        // exist gets the same answer as one without access, so ids cannot be probed.
        let who = db.user_by_id(*assignee).await?.ok_or_else(|| AppError::Invalid(NOT_ASSIGNABLE.into()))?;
        for &p in &projects {
            if access::project(db, &who, p, Need::See).await.is_err() {
                return Err(AppError::Invalid(NOT_ASSIGNABLE.into()));
            }
        }
    }
    if let IssueChange::Ignore { minutes, events } = change {
        if minutes.is_some_and(|m| m <= 0) || events.is_some_and(|n| n <= 0) {
            return Err(AppError::Invalid("Ignore for a positive duration or number of events.".into()));
        }
    }
    let changed = db.update_issues(ids, change, Some(user.id)).await?;
    projects.iter().for_each(|p| crate::live::notify(*p));
    Ok(changed)
}

/// Deletes issues and their events; project administrators only.
pub async fn delete(db: &Db, user: &User, ids: &[i64]) -> Result<u64, AppError> {
    let projects = access::issues(db, user, ids, Need::Administer).await?;
    let deleted = db.delete_issues(ids).await?;
    projects.iter().for_each(|p| crate::live::notify(*p));
    Ok(deleted)
}

pub async fn comment(db: &Db, user: &User, issue_id: i64, text: &str) -> Result<(), AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid("Write a comment first.".into()));
    }
    if text.chars().count() > 10_000 {
        return Err(AppError::Invalid("A comment may have at most 10,000 characters.".into()));
    }
    access::issues(db, user, &[issue_id], Need::See).await?;
    Ok(db.add_comment(issue_id, user.id, text).await?)
}

/// People an issue of the project can be assigned to: its members and the administrators.
pub async fn assignees(db: &Db, user: &User, project_id: i64) -> Result<Vec<User>, AppError> {
    access::project(db, user, project_id, Need::See).await?;
    let members = db.list_members(project_id).await?;
    let mut out: Vec<User> = db
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.is_admin || members.iter().any(|m| m.user_id == u.id))
        .collect();
    out.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_and_spikes() {
        let now = 1000;
        let hours = [(now - 30, 5), (now - 23, 1), (now - 1, 2), (now, 4)];
        assert_eq!(series(&hours, now, StatsPeriod::Day)[0], 1);
        assert_eq!(series(&hours, now, StatsPeriod::Day)[22..], [2, 4]);
        let two_weeks = series(&hours, now, StatsPeriod::TwoWeeks);
        assert_eq!(two_weeks.len(), 14);
        assert_eq!(two_weeks.iter().sum::<i64>(), 12);
        assert_eq!(two_weeks[13], 1 + 2 + 4);
        assert!(!is_spiking(&hours, now));
        assert!(is_spiking(&[(now - 5, 10), (now, 12)], now));
        assert!(!is_spiking(&[(now - 5, 200), (now, 12)], now));
        assert!(is_spiking(&[(now, 10)], now));
    }

    #[test]
    fn a_project_chart_marks_its_spikes() {
        let now = 1000;
        let mut hours: Vec<(i64, i64)> = (now - 70..now - 3).map(|h| (h, 2)).collect();
        hours.push((now - 3, 40));
        hours.push((now, 5));
        let bars = hourly_chart(&hours, now);
        assert_eq!(bars.len(), CHART_HOURS as usize);
        assert_eq!((bars[0].hour, bars[47].hour), (now - 47, now));
        assert_eq!((bars[44].events, bars[44].spike), (40, true));
        assert_eq!((bars[45].events, bars[45].spike), (0, false));
        assert_eq!((bars[47].events, bars[47].spike), (5, false));
        assert_eq!(bars.iter().filter(|b| b.spike).count(), 1);
    }
}
