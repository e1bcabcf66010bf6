//! Plain data shared by the server and the browser: what server functions return.
//! No I/O and no SQL here; the `store` module fills these from the database.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Org {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Project {
    pub id: i64,
    pub org_id: i64,
    pub org_slug: String,
    pub slug: String,
    pub name: String,
    pub platform: String,
    pub created_at: i64,
    /// The repository's web page on GitHub or GitLab (commit links, the `owner/name` that
    /// sentry-cli's `set-commits` names).
    pub repository_url: Option<String>,
    /// A git clone on the Faultline host, read for release commits and blame.
    pub repository_path: Option<String>,
}

/// A client key (DSN key) of a project. Public by design: it ends up in every app's config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ProjectKey {
    pub id: i64,
    pub project_id: i64,
    pub public_key: String,
    pub label: String,
    pub is_active: bool,
    pub created_at: i64,
}

/// An API token's description; the token itself is shown once, at creation, and not stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ApiToken {
    pub id: i64,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A user's access to one project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages the project's keys and members.
    Admin,
    /// Sees the project and triages its issues.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
}

/// Turns a display name into a URL slug: lowercase ASCII letters, digits and single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(50);
    slug
}

/// A valid slug is 1 to 50 characters of `a-z`, `0-9` and `-`, not starting with `-`.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 50
        && !slug.starts_with('-')
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn is_valid_email(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !email.contains(char::is_whitespace) && email.len() <= 254
        }
        None => false,
    }
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// Checks a new password against the rules; the error is shown to the user.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(format!("The password needs at least {MIN_PASSWORD_LEN} characters."));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(format!("The password may have at most {MAX_PASSWORD_LEN} characters."));
    }
    Ok(())
}

/// An issue: the events of a project grouped under one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Issue {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub culprit: String,
    pub kind: String,
    pub exception_type: Option<String>,
    pub exception_value: Option<String>,
    pub level: String,
    pub platform: String,
    /// `unresolved`, `resolved` or `ignored`.
    pub status: String,
    pub is_regression: bool,
    pub event_count: i64,
    pub user_count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub first_release: Option<String>,
    pub last_release: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_email: Option<String>,
    /// While ignored: back to unresolved at this time (epoch ms) ...
    pub ignore_until: Option<i64>,
    /// ... or once `event_count` reaches this.
    pub ignore_until_count: Option<i64>,
    /// While resolved "in the next release": the release that was the project's latest then
    /// (`""`: it had none). An event of a newer release reopens the issue.
    pub resolved_in_release: Option<String>,
}

/// A triage action on one or more issues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssueChange {
    Resolve,
    /// Resolved, but only for the project's current release and older ones: an event of a
    /// newer release reopens it as a regression.
    ResolveInNextRelease,
    /// Back to unresolved (from resolved or ignored).
    Reopen,
    /// Ignore forever, or until `minutes` have passed, or until `events` more events came.
    Ignore {
        minutes: Option<i64>,
        events: Option<i64>,
    },
    /// Assign to a user of the project, or to nobody.
    Assign {
        user_id: Option<i64>,
    },
}

/// One entry of an issue's activity log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Activity {
    pub id: i64,
    pub issue_id: i64,
    /// `first_seen`, `regression`, `set_resolved`, `set_unresolved`, `set_ignored`, `unignored`,
    /// `assigned`, `unassigned`, `comment`.
    pub kind: String,
    /// Who did it; `None`: Faultline itself.
    pub user_email: Option<String>,
    /// JSON: the details of the kind (a comment's `text`, an assignee's `email`, ...).
    pub data: String,
    pub created_at: i64,
}

/// One stored event, without its payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct EventRow {
    pub id: i64,
    pub issue_id: i64,
    pub event_id: String,
    pub timestamp: i64,
    pub received_at: i64,
    pub level: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub user_key: Option<String>,
}

/// The span of an issue list's sparklines: 24 hourly bars or 14 daily ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatsPeriod {
    #[default]
    Day,
    TwoWeeks,
}

impl StatsPeriod {
    pub fn parse(s: &str) -> StatsPeriod {
        if s == "14d" {
            StatsPeriod::TwoWeeks
        } else {
            StatsPeriod::Day
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatsPeriod::Day => "24h",
            StatsPeriod::TwoWeeks => "14d",
        }
    }
}

/// A row of the issue list: the issue, its project, its sparkline and badges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueItem {
    pub issue: Issue,
    pub project_slug: String,
    /// Events per bucket, oldest first (24 hours or 14 days, the last one being now's).
    pub series: Vec<i64>,
    /// First seen in the last 24 hours.
    pub is_new: bool,
    /// The last hour has at least 10 events and 3 times the hourly rate of the day before.
    pub is_spiking: bool,
}

/// An hour of a project's events-per-hour chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourBar {
    /// Hours since the epoch (UTC).
    pub hour: i64,
    pub events: i64,
    /// The hour spiked: as an issue's "spiking" badge judges it, at least 10 events and 3
    /// times the hourly rate of the 23 hours before.
    pub spike: bool,
}

/// One page of the issue list, with what the query box did not understand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueList {
    pub items: Vec<IssueItem>,
    pub next_cursor: Option<String>,
    /// Matching issues, counted up to a maximum (see `total_capped`).
    pub total: i64,
    /// More issues match than `total` says.
    pub total_capped: bool,
    pub errors: Vec<String>,
}

/// A release as the releases page lists it: what its events tell (from ingestion's counts)
/// and what the release API registered (commits, deploys, finalize).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSummary {
    pub version: String,
    /// When the release first appeared: registered, or its first event, whichever came first.
    pub created_at: i64,
    /// Its first and last event; `None` before any event carried it.
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    /// Events stored with this release.
    pub events: i64,
    /// Issues first seen in this release.
    pub new_issues: i64,
    /// Issues that came back (regressed) in this release.
    pub regressions: i64,
    /// Set by `sentry-cli releases finalize`.
    pub date_released: Option<i64>,
    pub commit_count: i64,
    pub deploy_count: i64,
    /// The latest deploy: environment and when it finished.
    pub last_deploy: Option<(String, i64)>,
}

/// A commit of a release, as `sentry-cli releases set-commits` sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseCommit {
    pub sha: String,
    pub repository: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub message: Option<String>,
    pub committed_at: Option<i64>,
    /// Changed files: path and `A`, `M` or `D`.
    pub files: Vec<(String, String)>,
}

/// A commit that likely caused an issue (see `suspects`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspectCommit {
    pub sha: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    /// Epoch ms.
    pub committed_at: Option<i64>,
    /// The first line of its message.
    pub message: Option<String>,
    /// The repository file (and line) of the frame it explains.
    pub file: String,
    pub line: Option<u32>,
    /// On GitHub or GitLab, when the project's repository URL is set.
    pub commit_url: Option<String>,
    pub file_url: Option<String>,
    /// `blame` (it last changed the frame's line) or `release` (a commit of the event's
    /// release that touched the frame's file).
    pub via: String,
}

/// An issue's suspect commits, best first, or why there are none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspects {
    pub commits: Vec<SuspectCommit>,
    pub note: Option<String>,
    /// The server's clock when they were found (epoch ms), for "2 days ago".
    pub now: i64,
}

/// `https://github.com/acme/shop(.git)` → (`acme/shop`, `github`); GitLab subgroups keep
/// their whole path.
pub fn repository_name(url: &str) -> Option<(String, &'static str)> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (host, path) = rest.split_once('/')?;
    let name = path.trim_end_matches('/').trim_end_matches(".git").to_string();
    if name.is_empty() {
        return None;
    }
    let provider = if host.contains("github") {
        "github"
    } else if host.contains("gitlab") {
        "gitlab"
    } else {
        "custom"
    };
    Some((name, provider))
}

/// A project's issue tracker as the UI shows it: never its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerInfo {
    /// `gitlab` or `github`.
    pub kind: String,
    pub base_url: String,
    /// GitLab project path or id; GitHub `owner/repo`.
    pub target: String,
}

/// A tracker issue linked to a Faultline issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct IssueLink {
    pub id: i64,
    /// `gitlab`, `github` or `other`.
    pub kind: String,
    pub url: String,
    pub number: Option<i64>,
    pub title: Option<String>,
    pub created_at: i64,
}

/// An alert rule of a project: what fires it and where the alert goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AlertRule {
    pub id: i64,
    pub project_id: i64,
    /// `new_issue`, `regression`, `spike`, `events` (passes `threshold` events) or `users`.
    pub kind: String,
    pub threshold: Option<i64>,
    /// Spike: events of the last 5 minutes at least `spike_factor` times the 5-minute rate of
    /// the hour before, and at least `spike_min`.
    pub spike_factor: Option<f64>,
    pub spike_min: Option<i64>,
    /// Only events of this environment / level; `None`: any.
    pub environment: Option<String>,
    pub level: Option<String>,
    /// `webhook` (generic JSON), `slack` (Slack's incoming-webhook payload) or `email`.
    pub channel: String,
    /// The URL posted to, or the e-mail addresses (comma-separated).
    pub target: String,
    /// At most one alert per issue and rule in this many minutes.
    pub interval_minutes: i64,
    pub created_at: i64,
}

/// One alert, sent or to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AlertDelivery {
    pub id: i64,
    pub rule_id: i64,
    pub issue_id: Option<i64>,
    pub reason: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        assert_eq!(repository_name("https://github.com/acme/shop.git"), Some(("acme/shop".into(), "github")));
        assert_eq!(
            repository_name("https://gitlab.example.com/group/sub/app/"),
            Some(("group/sub/app".into(), "gitlab"))
        );
        assert_eq!(repository_name("https://git.example.com/x"), Some(("x".into(), "custom")));
        assert_eq!(repository_name("https://github.com/"), None);
    }

    #[test]
    fn slugs() {
        for (name, slug) in [
            ("Backend", "backend"),
            ("  My Web App!! ", "my-web-app"),
            ("ACME Corp. (EU)", "acme-corp-eu"),
            ("---", ""),
        ] {
            assert_eq!(slugify(name), slug, "slugify({name:?})");
        }
        assert!(is_valid_slug("web-2"));
        assert!(!is_valid_slug("Web"));
        assert!(!is_valid_slug("-web"));
        assert!(!is_valid_slug(""));
    }

    #[test]
    fn emails_and_passwords() {
        assert!(is_valid_email("a@b.c"));
        assert!(!is_valid_email("a b@c"));
        assert!(!is_valid_email("nobody"));
        assert_eq!(normalize_email(" Ada@Example.COM "), "ada@example.com");
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough").is_ok());
    }
}
