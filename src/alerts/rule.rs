//! Pure: when a rule fires (filters, spikes over per-minute counts) and what an alert says
//! (the generic webhook's JSON, Slack's incoming-webhook payload).

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::model::{AlertRule, Issue};

/// The default spike: 5 times the rate of the hour before, and at least 20 events in 5 min.
pub const SPIKE_FACTOR: f64 = 5.0;
pub const SPIKE_MIN: i64 = 20;
/// A new rule alerts at most once an hour per issue.
pub const INTERVAL_MINUTES: i64 = 60;

pub const KINDS: [(&str, &str); 5] = [
    ("new_issue", "A new issue"),
    ("regression", "A regression (a resolved issue is back)"),
    ("spike", "A spike of events"),
    ("events", "An issue passes N events"),
    ("users", "An issue passes N users"),
];

/// Events per minute of one issue over the last 65 minutes.
#[derive(Clone, Debug, Default)]
pub struct Window {
    minutes: VecDeque<(i64, i64)>,
}

impl Window {
    pub fn add(&mut self, minute: i64, n: i64) {
        match self.minutes.back_mut() {
            Some((m, count)) if *m == minute => *count += n,
            _ => self.minutes.push_back((minute, n)),
        }
        while self.minutes.front().is_some_and(|(m, _)| *m < minute - 64) {
            self.minutes.pop_front();
        }
    }

    /// Events in the 5 minutes ending with `now_minute`, and in the 60 minutes before them.
    pub fn recent(&self, now_minute: i64) -> (i64, i64) {
        let (mut last5, mut before) = (0, 0);
        for &(m, n) in &self.minutes {
            if m > now_minute - 5 && m <= now_minute {
                last5 += n;
            } else if m > now_minute - 65 && m <= now_minute - 5 {
                before += n;
            }
        }
        (last5, before)
    }

    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }
}

/// A spike: at least `min` events in the last 5 minutes, and at least `factor` times the
/// 5-minute rate of the hour before them.
pub fn is_spike(window: &Window, now_minute: i64, factor: f64, min: i64) -> bool {
    let (last5, before) = window.recent(now_minute);
    let rate = before as f64 / 12.0;
    last5 >= min && last5 as f64 >= factor * rate
}

/// Whether an event of this level and environment counts for the rule.
pub fn matches(rule: &AlertRule, level: &str, environment: Option<&str>) -> bool {
    rule.level.as_deref().is_none_or(|l| l == level)
        && rule.environment.as_deref().is_none_or(|e| Some(e) == environment)
}

/// What fired, in words.
pub fn reason_text(reason: &str, rule: &AlertRule) -> String {
    match reason {
        "new_issue" => "New issue".into(),
        "regression" => "Regression".into(),
        "spike" => "Spike".into(),
        "events" => format!("Passed {} events", rule.threshold.unwrap_or(0)),
        "users" => format!("Passed {} users", rule.threshold.unwrap_or(0)),
        other => other.to_string(),
    }
}

/// Slack's escaping of `&`, `<` and `>` (everything else is text).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The body posted for an alert.
pub fn payload(rule: &AlertRule, reason: &str, issue: &Issue, project_name: &str, url: &str, now: i64) -> Value {
    let what = reason_text(reason, rule);
    match rule.channel.as_str() {
        "email" => json!({
            "subject": format!("[Faultline] {what} in {project_name}: {}", issue.title),
            "text": format!(
                "{what} in {project_name}\n\n{}\n{}\n\nLevel: {} · status: {}\nEvents: {} · users: {}\n\n{url}\n",
                issue.title, issue.culprit, issue.level, issue.status, issue.event_count, issue.user_count,
            ),
        }),
        "slack" => json!({
            "text": format!(
                "[Faultline] {what} in {}: <{url}|{}>\n{} · {} events · {} users",
                slack_escape(project_name),
                slack_escape(&issue.title),
                slack_escape(&issue.culprit),
                issue.event_count,
                issue.user_count,
            ),
        }),
        _ => json!({
            "event": reason,
            "message": format!("{what} in {project_name}: {}", issue.title),
            "rule": {"id": rule.id, "kind": rule.kind},
            "project": {"id": issue.project_id, "name": project_name},
            "issue": {
                "id": issue.id,
                "title": issue.title,
                "culprit": issue.culprit,
                "level": issue.level,
                "status": issue.status,
                "count": issue.event_count,
                "userCount": issue.user_count,
                "firstSeen": issue.first_seen,
                "lastSeen": issue.last_seen,
                "firstRelease": issue.first_release,
                "url": url,
            },
            "triggeredAt": now,
        }),
    }
}

/// The delay before retry `attempt` (1-based) of a failed delivery; `None`: give up.
pub fn backoff_ms(attempt: i64) -> Option<i64> {
    match attempt {
        1 => Some(2_000),
        2 => Some(30_000),
        3 => Some(120_000),
        4 => Some(600_000),
        5 => Some(1_800_000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str) -> AlertRule {
        AlertRule {
            id: 1,
            project_id: 1,
            kind: kind.into(),
            threshold: Some(100),
            spike_factor: None,
            spike_min: None,
            environment: Some("production".into()),
            level: None,
            channel: "slack".into(),
            target: "http://x".into(),
            interval_minutes: 60,
            created_at: 0,
        }
    }

    #[test]
    fn spikes_against_the_hour_before() {
        let mut w = Window::default();
        for m in 0..60 {
            w.add(m, 2); // 10 per 5 minutes
        }
        assert!(!is_spike(&w, 59, 5.0, 20));
        w.add(60, 30);
        w.add(61, 25); // 55 + 2*3 in the last 5 minutes vs a rate of 10
        assert!(is_spike(&w, 61, 5.0, 20));
        assert!(!is_spike(&w, 61, 7.0, 20));
        let mut quiet = Window::default();
        quiet.add(100, 19);
        assert!(!is_spike(&quiet, 100, 5.0, 20), "at least the minimum");
        quiet.add(101, 1);
        assert!(is_spike(&quiet, 101, 5.0, 20), "no traffic before: the minimum decides");
        assert!(!is_spike(&quiet, 110, 5.0, 20), "five minutes later it is over");
        quiet.add(200, 1);
        assert_eq!(quiet.minutes.len(), 1, "older minutes are dropped");
    }

    #[test]
    fn filters_and_payloads() {
        let r = rule("events");
        assert!(matches(&r, "error", Some("production")));
        assert!(!matches(&r, "error", Some("staging")));
        assert!(!matches(&r, "error", None));
        let issue = Issue {
            id: 42,
            project_id: 1,
            title: "TypeError: <b> & co".into(),
            culprit: "app in run".into(),
            kind: "error".into(),
            exception_type: None,
            exception_value: None,
            level: "error".into(),
            platform: "python".into(),
            status: "unresolved".into(),
            is_regression: false,
            event_count: 100,
            user_count: 3,
            first_seen: 0,
            last_seen: 0,
            first_release: None,
            last_release: None,
            assignee_id: None,
            assignee_email: None,
            ignore_until: None,
            ignore_until_count: None,
            resolved_in_release: None,
        };
        let slack = payload(&r, "events", &issue, "Shop", "https://f/issues/42", 5);
        assert_eq!(
            slack["text"],
            "[Faultline] Passed 100 events in Shop: <https://f/issues/42|TypeError: &lt;b&gt; &amp; co>\napp in run · 100 events · 3 users"
        );
        let mut r = r;
        r.channel = "webhook".into();
        let hook = payload(&r, "events", &issue, "Shop", "https://f/issues/42", 5);
        assert_eq!(hook["event"], "events");
        assert_eq!(hook["issue"]["title"], "TypeError: <b> & co");
        assert_eq!(hook["issue"]["url"], "https://f/issues/42");
        assert_eq!(backoff_ms(1), Some(2_000));
        assert_eq!(backoff_ms(6), None);
    }
}
