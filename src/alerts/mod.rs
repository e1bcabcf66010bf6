//! Alerts: the team hears about new, regressed and spiking issues, and issues passing a
//! number of events or users.
//!
//! The digest writer hands each committed batch's events to [`Alerts::observe`] (a bounded channel:
//! a full channel drops signals rather than slow ingestion). The engine task keeps events
//! per minute per issue for spikes, matches the project's rules (level and environment
//! filters), claims each alert in the database (one per issue and rule per interval, safe
//! across nodes) and queues it. The delivery task posts queued alerts (generic JSON webhook
//! or Slack payload), retrying with backoff, and records every attempt for the alerts page.
//! Spikes are counted per node: with several nodes behind a load balancer, each sees its
//! share of the events.

pub mod rule;
pub mod smtp;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::model::AlertRule;
use crate::store::{now_ms, Db};
use rule::Window;

/// One stored event, as the engine needs it.
#[derive(Clone, Debug)]
pub struct Signal {
    pub project_id: i64,
    pub issue_id: i64,
    pub new_issue: bool,
    pub regression: bool,
    pub level: String,
    pub environment: Option<String>,
}

/// The handle the digest writer holds; cheap to clone.
#[derive(Clone)]
pub struct Alerts {
    tx: mpsc::Sender<Vec<Signal>>,
}

impl Alerts {
    /// Hands a committed batch's events to the engine; never waits (a full channel drops
    /// them: alerts must not slow ingestion down).
    pub fn observe(&self, signals: Vec<Signal>) {
        if !signals.is_empty() {
            let _ = self.tx.try_send(signals);
        }
    }
}

/// Starts the engine and the delivery task on the current runtime.
pub fn start(db: Db, public_url: String) -> Alerts {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(engine(db.clone(), public_url, rx));
    tokio::spawn(deliver(db, smtp::Smtp::from_env()));
    Alerts { tx }
}

struct Rules {
    by_project: HashMap<i64, (Instant, Vec<AlertRule>)>,
}

impl Rules {
    /// A project's rules, read again after 2 s.
    async fn of(&mut self, db: &Db, project_id: i64) -> Vec<AlertRule> {
        if let Some((at, rules)) = self.by_project.get(&project_id) {
            if at.elapsed() < Duration::from_secs(2) {
                return rules.clone();
            }
        }
        let rules = db.alert_rules(project_id).await.unwrap_or_default();
        self.by_project.insert(project_id, (Instant::now(), rules.clone()));
        rules
    }
}

async fn engine(db: Db, public_url: String, mut rx: mpsc::Receiver<Vec<Signal>>) {
    let mut windows: HashMap<i64, Window> = HashMap::new();
    let mut rules = Rules { by_project: HashMap::new() };
    let mut last_prune = Instant::now();
    // (rule, issue) → when this node last claimed an alert for it: skips the database for
    // alerts that cannot fire again yet.
    let mut claimed: HashMap<(i64, i64), i64> = HashMap::new();
    while let Some(mut signals) = rx.recv().await {
        // Under load, take every batch that queued meanwhile: one round for all of them.
        while let Ok(more) = rx.try_recv() {
            signals.extend(more);
        }
        let now = now_ms();
        let minute = now.div_euclid(60_000);
        let mut by_issue: BTreeMap<i64, Vec<&Signal>> = BTreeMap::new();
        for s in &signals {
            windows.entry(s.issue_id).or_default().add(minute, 1);
            by_issue.entry(s.issue_id).or_default().push(s);
        }
        for (issue_id, events) in by_issue {
            let project_id = events[0].project_id;
            for r in rules.of(&db, project_id).await {
                let matching: Vec<&&Signal> =
                    events.iter().filter(|s| rule::matches(&r, &s.level, s.environment.as_deref())).collect();
                if matching.is_empty() {
                    continue;
                }
                let fires = match r.kind.as_str() {
                    "new_issue" => matching.iter().any(|s| s.new_issue),
                    "regression" => matching.iter().any(|s| s.regression),
                    "spike" => windows.get(&issue_id).is_some_and(|w| {
                        rule::is_spike(
                            w,
                            minute,
                            r.spike_factor.unwrap_or(rule::SPIKE_FACTOR),
                            r.spike_min.unwrap_or(rule::SPIKE_MIN),
                        )
                    }),
                    "events" | "users" => true, // checked against the issue below
                    _ => false,
                };
                if !fires {
                    continue;
                }
                let once = matches!(r.kind.as_str(), "events" | "users");
                if let Some(at) = claimed.get(&(r.id, issue_id)) {
                    if once || *at > now - r.interval_minutes.max(1) * 60_000 {
                        continue;
                    }
                }
                match fire(&db, &public_url, &r, issue_id, now).await {
                    Ok(true) => {
                        claimed.insert((r.id, issue_id), now);
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!("alert rule {} on issue {issue_id}: {e}", r.id),
                }
            }
        }
        if last_prune.elapsed() > Duration::from_secs(60) {
            windows.retain(|_, w| {
                w.add(minute, 0);
                w.recent(minute) != (0, 0)
            });
            claimed.retain(|_, at| *at > now - 24 * 3_600_000);
            last_prune = Instant::now();
        }
    }
}

/// Checks a count rule against the issue, claims the alert and queues it. True when the
/// alert is claimed (by this call or, for a rule that fires once, before).
async fn fire(db: &Db, public_url: &str, r: &AlertRule, issue_id: i64, now: i64) -> crate::store::Result<bool> {
    let Some(issue) = db.issue_by_id(issue_id).await? else { return Ok(false) };
    let count = match r.kind.as_str() {
        "events" => Some(issue.event_count),
        "users" => Some(issue.user_count),
        _ => None,
    };
    // "Passes N": once per issue (the claim never expires).
    let cutoff = match count {
        Some(n) if n < r.threshold.unwrap_or(i64::MAX) => return Ok(false),
        Some(_) => i64::MIN,
        None => now - r.interval_minutes.max(1) * 60_000,
    };
    if !db.claim_alert(r.id, issue_id, now, cutoff).await? {
        // Claimed before (by this node or another): for this interval, or for good.
        return Ok(true);
    }
    let project = db.project_by_id(issue.project_id).await?;
    let name = project.as_ref().map(|p| p.name.as_str()).unwrap_or("");
    let url = format!("{}/issues/{issue_id}", public_url.trim_end_matches('/'));
    let payload = rule::payload(r, &r.kind, &issue, name, &url, now);
    db.enqueue_alert(r.id, issue_id, &r.kind, &payload.to_string()).await?;
    Ok(true)
}

/// Posts due alerts, every second; a failure is retried with backoff, then given up.
async fn deliver(db: Db, smtp: Option<smtp::Smtp>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("Faultline/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("alerts cannot be delivered: {e}");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = now_ms();
        let Ok(due) = db.due_alerts(now, 20).await else { continue };
        for d in due {
            // Leased for a minute: another node leaves it alone meanwhile.
            if !db.lease_alert(&d, now + 60_000).await.unwrap_or(false) {
                continue;
            }
            let error = if d.channel == "email" {
                send_mail(smtp.as_ref(), &d).await.err()
            } else {
                let sent = client
                    .post(&d.target)
                    .header("content-type", "application/json")
                    .body(d.payload.clone())
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status().is_success() => None,
                    Ok(res) => Some(format!("HTTP {}", res.status())),
                    Err(e) => Some(format!("could not send: {}", crate::tracker::root_cause(&e))),
                }
            };
            let retry_at = error.as_ref().and_then(|_| rule::backoff_ms(d.attempts + 1)).map(|ms| now_ms() + ms);
            if let Err(e) = db.record_alert_attempt(d.id, error.is_none(), error.as_deref(), retry_at).await {
                tracing::warn!("recording alert delivery {}: {e}", d.id);
            }
        }
    }
}

/// An e-mail alert: the payload's `subject` and `text` to each address of the target.
async fn send_mail(smtp: Option<&smtp::Smtp>, d: &crate::store::alerts::DueDelivery) -> Result<(), String> {
    let smtp = smtp.ok_or("e-mail is not set up: set FAULTLINE_SMTP_URL")?;
    let payload: serde_json::Value = serde_json::from_str(&d.payload).map_err(|e| e.to_string())?;
    let to: Vec<String> = d.target.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
    let field = |k: &str| payload.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    smtp.send(&to, &field("subject"), &field("text")).await
}
