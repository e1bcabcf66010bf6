//! Issue trackers: a GitLab or GitHub issue created from a Faultline issue.
//!
//! `draft` (pure) writes the title and Markdown description; this module sends them:
//! GitLab `POST {base}/api/v4/projects/{id or url-encoded path}/issues` with `PRIVATE-TOKEN`,
//! GitHub `POST {api}/repos/{owner}/{repo}/issues` with a bearer token. A tracker's error
//! (bad token, project not found, unreachable) comes back as a [`TrackerError`] whose text is
//! for the user; the caller stores the link only after a success, so nothing is half-saved.

pub mod draft;

use std::time::Duration;

use serde_json::{json, Value};

/// A project's tracker, with its token (server side only).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Tracker {
    pub project_id: i64,
    /// `gitlab` or `github`.
    pub kind: String,
    /// GitLab: the instance (`https://gitlab.com`); GitHub: its API (`https://api.github.com`).
    pub base_url: String,
    /// GitLab: the project's path (`group/app`) or id; GitHub: `owner/repo`.
    pub target: String,
    pub token: String,
}

/// The issue the tracker created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub url: String,
    /// GitLab's `iid`, GitHub's `number`.
    pub number: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TrackerError(pub String);

pub fn kind_name(kind: &str) -> &'static str {
    match kind {
        "github" => "GitHub",
        _ => "GitLab",
    }
}

/// GitLab's default instance and GitHub's API, for an empty base URL.
pub fn default_base(kind: &str) -> &'static str {
    match kind {
        "github" => "https://api.github.com",
        _ => "https://gitlab.com",
    }
}

/// Checks what a tracker form gives; returns the base URL and target, trimmed.
pub fn check_settings(kind: &str, base_url: &str, target: &str) -> Result<(String, String), TrackerError> {
    if kind != "gitlab" && kind != "github" {
        return Err(TrackerError("The tracker is GitLab or GitHub.".into()));
    }
    let base = base_url.trim().trim_end_matches('/');
    let base = if base.is_empty() { default_base(kind) } else { base };
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(TrackerError(format!("The {} URL starts with https://.", kind_name(kind))));
    }
    let target = target.trim().trim_matches('/');
    let ok = match kind {
        "github" => target.split('/').count() == 2 && target.split('/').all(|p| !p.is_empty()),
        _ => !target.is_empty(),
    };
    if !ok || target.chars().any(char::is_whitespace) {
        return Err(TrackerError(match kind {
            "github" => "Name the GitHub repository as OWNER/REPO.".into(),
            _ => "Name the GitLab project by its path (group/project) or its numeric id.".into(),
        }));
    }
    Ok((base.to_string(), target.to_string()))
}

/// Percent-encodes a GitLab project path for its URL (`group/app` → `group%2Fapp`).
fn encode_path(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The request that creates an issue: URL, headers, JSON body.
pub fn request(t: &Tracker, title: &str, description: &str) -> (String, Vec<(&'static str, String)>, Value) {
    match t.kind.as_str() {
        "github" => (
            format!("{}/repos/{}/issues", t.base_url, t.target),
            vec![
                ("authorization", format!("Bearer {}", t.token)),
                ("accept", "application/vnd.github+json".into()),
                ("x-github-api-version", "2022-11-28".into()),
            ],
            json!({ "title": title, "body": description }),
        ),
        _ => (
            format!("{}/api/v4/projects/{}/issues", t.base_url, encode_path(&t.target)),
            vec![("private-token", t.token.clone())],
            json!({ "title": title, "description": description }),
        ),
    }
}

/// Creates the issue. Errors say what went wrong in the user's terms.
pub async fn create_issue(t: &Tracker, title: &str, description: &str) -> Result<Created, TrackerError> {
    let name = kind_name(&t.kind);
    let (url, headers, body) = request(t, title, description);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("Faultline/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| TrackerError(format!("Cannot make an HTTP client: {e}")))?;
    let mut req = client.post(&url).json(&body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let res = req.send().await.map_err(|e| {
        let why = if e.is_timeout() { "no answer within 15 s".to_string() } else { root_cause(&e) };
        TrackerError(format!("Could not reach {name} at {}: {why}.", t.base_url))
    })?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let detail = message(&answer).map(|m| format!(": {m}")).unwrap_or_default();
        return Err(TrackerError(match status.as_u16() {
            401 => format!(
                "{name} refused the token (401 Unauthorized){detail}. Save a valid token in the project's settings."
            ),
            403 => format!("The token may not create issues in {} (403 Forbidden){detail}.", t.target),
            404 => format!("{name} does not know {} (404 Not Found), or the token cannot see it.", t.target),
            code => format!("{name} answered {code}{detail}."),
        }));
    }
    let (url_key, number_key) = if t.kind == "github" { ("html_url", "number") } else { ("web_url", "iid") };
    match (answer.get(url_key).and_then(Value::as_str), answer.get(number_key).and_then(Value::as_i64)) {
        (Some(url), Some(number)) => Ok(Created { url: url.to_string(), number }),
        _ => Err(TrackerError(format!(
            "{name} answered {status} without the created issue's {url_key} and {number_key}."
        ))),
    }
}

/// The innermost cause of an HTTP error (e.g. "Connection refused").
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The error text of a GitLab (`message`, `error`) or GitHub (`message`) answer.
fn message(v: &Value) -> Option<String> {
    let m = v.get("message").or_else(|| v.get("error"))?;
    let text = match m {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(text.chars().take(300).collect())
}

/// A link to an existing tracker issue, checked: an http(s) URL; its kind and number when it
/// is a GitLab (`/-/issues/N`) or GitHub (`/issues/N`) issue.
pub fn parse_link(url: &str) -> Result<(String, Option<i64>), TrackerError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .filter(|r| r.contains('/') && !r.starts_with('/'))
        .ok_or_else(|| TrackerError("Paste the issue's address (https://...).".into()))?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) || url.len() > 2000 {
        return Err(TrackerError("Paste the issue's address (https://...).".into()));
    }
    let path = rest.split(['?', '#']).next().unwrap_or(rest);
    let number = path.rsplit_once("/issues/").and_then(|(_, n)| n.trim_end_matches('/').parse::<i64>().ok());
    let kind = if path.contains("/-/issues/") || rest.starts_with("gitlab") {
        "gitlab"
    } else if rest.starts_with("github.com/") {
        "github"
    } else {
        "other"
    };
    Ok((kind.to_string(), number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        assert_eq!(
            check_settings("gitlab", "", "group/app").unwrap(),
            ("https://gitlab.com".to_string(), "group/app".to_string())
        );
        assert_eq!(check_settings("github", "https://api.github.com/", "acme/shop").unwrap().1, "acme/shop");
        assert!(check_settings("github", "", "acme").is_err());
        assert!(check_settings("gitlab", "ftp://x", "1").is_err());
        assert!(check_settings("jira", "", "x").is_err());
    }

    #[test]
    fn requests_as_each_tracker_wants_them() {
        let t = |kind: &str, target: &str| Tracker {
            project_id: 1,
            kind: kind.into(),
            base_url: "https://h".into(),
            target: target.into(),
            token: "tok".into(),
        };
        let (url, headers, body) = request(&t("gitlab", "group/sub app"), "T", "D");
        assert_eq!(url, "https://h/api/v4/projects/group%2Fsub%20app/issues");
        assert_eq!(headers, [("private-token", "tok".to_string())]);
        assert_eq!(body, json!({"title": "T", "description": "D"}));
        let (url, headers, body) = request(&t("github", "acme/shop"), "T", "D");
        assert_eq!(url, "https://h/repos/acme/shop/issues");
        assert_eq!(headers[0], ("authorization", "Bearer tok".to_string()));
        assert_eq!(body, json!({"title": "T", "body": "D"}));
    }

    #[test]
    fn links() {
        assert_eq!(parse_link("https://gitlab.com/g/app/-/issues/12").unwrap(), ("gitlab".into(), Some(12)));
        assert_eq!(parse_link("https://github.com/acme/shop/issues/7#x").unwrap(), ("github".into(), Some(7)));
        assert_eq!(parse_link("https://jira.example.com/browse/OPS-1").unwrap(), ("other".into(), None));
        assert!(parse_link("javascript:alert(1)").is_err());
        assert!(parse_link("https:///x").is_err());
        assert!(parse_link("not a url").is_err());
    }
}
