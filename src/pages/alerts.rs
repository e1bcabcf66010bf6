//! A project's alerts: its rules (what fires, with which filters, where the alert goes) and
//! the log of deliveries with their status.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::app::{load_error, ActionError, HydrationMark};
use crate::error::AppError;
use crate::model::{AlertDelivery, AlertRule, Project};
use crate::pages::account::format_time;
use crate::pages::project::ProjectHeader;

/// The kinds of rule, with their labels (as `alerts::rule::KINDS`, which is server-only).
const KINDS: [(&str, &str); 5] = [
    ("new_issue", "A new issue"),
    ("regression", "A regression (a resolved issue is back)"),
    ("spike", "A spike of events"),
    ("events", "An issue passes N events"),
    ("users", "An issue passes N users"),
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertsView {
    pub project: Project,
    pub rules: Vec<AlertRule>,
    pub deliveries: Vec<AlertDelivery>,
    pub can_edit: bool,
}

#[server(prefix = "/_fn", endpoint = "project_alerts")]
pub async fn project_alerts(project_id: i64) -> Result<AlertsView, AppError> {
    use crate::pages::guard::{require_project, state};
    let (_, role) = require_project(project_id).await?;
    let db = &state().db;
    let project = db.project_by_id(project_id).await?.ok_or(AppError::NotFound)?;
    Ok(AlertsView {
        project,
        rules: db.alert_rules(project_id).await?,
        deliveries: db.alert_deliveries(project_id, 50).await?,
        can_edit: role == crate::model::Role::Admin,
    })
}

/// Adds a rule (project administrators). Empty numbers take the defaults.
#[server(prefix = "/_fn", endpoint = "add_alert_rule")]
#[allow(clippy::too_many_arguments)]
pub async fn add_alert_rule(
    project_id: i64,
    kind: String,
    threshold: String,
    spike_factor: String,
    spike_min: String,
    environment: String,
    level: String,
    channel: String,
    target: String,
    interval_minutes: String,
) -> Result<(), AppError> {
    use crate::alerts::rule;
    crate::pages::guard::require_project_admin(project_id).await?;
    let bad = |m: &str| AppError::Invalid(m.to_string());
    if !rule::KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(bad("Choose what fires the alert."));
    }
    let number = |s: &str, what: &str| -> Result<Option<i64>, AppError> {
        match s.trim() {
            "" => Ok(None),
            v => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| bad(&format!("{what} is a positive whole number."))),
        }
    };
    let threshold = number(&threshold, "N")?;
    if matches!(kind.as_str(), "events" | "users") && threshold.is_none() {
        return Err(bad("Give N: the number of events or users that fires the alert."));
    }
    let spike_factor = match spike_factor.trim() {
        "" => None,
        v => Some(
            v.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && *f >= 1.0)
                .ok_or_else(|| bad("The spike factor is a number, at least 1."))?,
        ),
    };
    let target = target.trim();
    match channel.as_str() {
        "webhook" | "slack" => {
            if !(target.starts_with("https://") || target.starts_with("http://"))
                || target.chars().any(char::is_whitespace)
            {
                return Err(bad("The webhook URL starts with https://."));
            }
        }
        "email" => {
            let addresses: Vec<&str> = target.split(',').map(str::trim).collect();
            if addresses.is_empty() || !addresses.iter().all(|a| crate::alerts::smtp::is_address(a)) {
                return Err(bad("Give one or more e-mail addresses, separated by commas."));
            }
        }
        _ => return Err(bad("Deliver to a webhook, to Slack or by e-mail.")),
    }
    let level = level.trim().to_lowercase();
    if !level.is_empty() && !matches!(level.as_str(), "fatal" | "error" | "warning" | "info" | "debug") {
        return Err(bad("The level is fatal, error, warning, info or debug."));
    }
    let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let r = AlertRule {
        id: 0,
        project_id,
        kind,
        threshold,
        spike_factor,
        spike_min: number(&spike_min, "The spike minimum")?,
        environment: some(environment),
        level: some(level),
        channel,
        target: target.to_string(),
        interval_minutes: number(&interval_minutes, "The interval")?.unwrap_or(rule::INTERVAL_MINUTES),
        created_at: 0,
    };
    crate::pages::guard::state().db.create_alert_rule(&r).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(project_id: i64, rule_id: i64) -> Result<(), AppError> {
    crate::pages::guard::require_project_admin(project_id).await?;
    crate::pages::guard::state().db.delete_alert_rule(project_id, rule_id).await?;
    Ok(())
}

fn describe(r: &AlertRule) -> String {
    let mut s = match r.kind.as_str() {
        "new_issue" => "A new issue".to_string(),
        "regression" => "A regression".to_string(),
        "spike" => format!(
            "A spike: {}× the rate of the hour before, at least {} events in 5 minutes",
            r.spike_factor.unwrap_or(5.0),
            r.spike_min.unwrap_or(20)
        ),
        "events" => format!("An issue passes {} events", r.threshold.unwrap_or(0)),
        "users" => format!("An issue passes {} users", r.threshold.unwrap_or(0)),
        other => other.to_string(),
    };
    if let Some(e) = &r.environment {
        s.push_str(&format!(", environment {e}"));
    }
    if let Some(l) = &r.level {
        s.push_str(&format!(", level {l}"));
    }
    s
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let params = use_params_map();
    let project_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let add = ServerAction::<AddAlertRule>::new();
    let remove = ServerAction::<DeleteAlertRule>::new();
    let data = Resource::new(
        move || (project_id(), add.version().get(), remove.version().get()),
        |(id, ..)| project_alerts(id),
    );
    view! {
        <main class="wide">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let content = match data.await {
                        Err(e) => load_error(e),
                        Ok(v) => {
                            let pid = v.project.id;
                            let rules = v.rules.clone();
                            let can_edit = v.can_edit;
                            view! {
                                <ProjectHeader project=v.project.clone() current="Alerts"/>
                                <section class="card">
                                    <h2>"Rules"</h2>
                                    {if v.rules.is_empty() {
                                        view! { <p class="muted" data-testid="no-rules">"No alert rules yet."</p> }.into_any()
                                    } else {
                                        view! {
                                            <table data-testid="rules">
                                                <thead><tr><th>"When"</th><th>"Send to"</th><th>"At most"</th><th></th></tr></thead>
                                                <tbody>
                                                    {v.rules.clone().into_iter().map(|r| view! {
                                                        <tr data-rule=r.id>
                                                            <td>{describe(&r)}</td>
                                                            <td>{match r.channel.as_str() { "slack" => "Slack: ", "email" => "E-mail: ", _ => "Webhook: " }}<code>{r.target.clone()}</code></td>
                                                            <td>{format!("once per issue every {} min", r.interval_minutes)}</td>
                                                            <td>{can_edit.then(|| view! {
                                                                <ActionForm action=remove attr:class="inline">
                                                                    <input type="hidden" name="project_id" value=pid/>
                                                                    <input type="hidden" name="rule_id" value=r.id/>
                                                                    <button type="submit" class="small">"Delete"</button>
                                                                </ActionForm>
                                                            })}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        }.into_any()
                                    }}
                                    {v.can_edit.then(|| view! {
                                        <h3>"New rule"</h3>
                                        <ActionForm action=add attr:class="row wrap" attr:data-testid="new-rule">
                                            <input type="hidden" name="project_id" value=pid/>
                                            <label>"When"<select name="kind">
                                                {KINDS.iter().map(|(k, l)| view! { <option value=*k>{*l}</option> }).collect_view()}
                                            </select></label>
                                            <label>"N"<input type="number" name="threshold" min="1" placeholder="events / users"/></label>
                                            <label>"Spike factor"<input type="text" name="spike_factor" placeholder="5"/></label>
                                            <label>"Spike minimum"<input type="number" name="spike_min" min="1" placeholder="20"/></label>
                                            <label>"Environment"<input type="text" name="environment" placeholder="any"/></label>
                                            <label>"Level"<input type="text" name="level" placeholder="any"/></label>
                                            <label>"Send to"<select name="channel">
                                                <option value="webhook">"Webhook (JSON)"</option>
                                                <option value="slack">"Slack (incoming webhook)"</option>
                                                <option value="email">"E-mail"</option>
                                            </select></label>
                                            <label>"URL or addresses"<input type="text" name="target" required placeholder="https://hooks.slack.com/services/… or ops@example.com"/></label>
                                            <label>"At most every (min)"<input type="number" name="interval_minutes" min="1" placeholder="60"/></label>
                                            <button type="submit" class="primary">"Add rule"</button>
                                        </ActionForm>
                                        <ActionError action=add/>
                                    })}
                                </section>
                                <section class="card">
                                    <h2>"Deliveries"</h2>
                                    {if v.deliveries.is_empty() {
                                        view! { <p class="muted">"No alert sent yet."</p> }.into_any()
                                    } else {
                                        view! {
                                            <table data-testid="deliveries">
                                                <thead><tr><th>"When"</th><th>"Why"</th><th>"Issue"</th><th>"Status"</th><th>"Attempts"</th><th>"Last error"</th></tr></thead>
                                                <tbody>
                                                    {v.deliveries.iter().map(|d| {
                                                        let rule = rules.iter().find(|r| r.id == d.rule_id).map(describe).unwrap_or_default();
                                                        view! {
                                                            <tr data-status=d.status.clone()>
                                                                <td>{format_time(d.created_at)}</td>
                                                                <td title=rule>{d.reason.replace('_', " ")}</td>
                                                                <td>{d.issue_id.map(|i| view! { <a href=format!("/issues/{i}")>{format!("#{i}")}</a> })}</td>
                                                                <td><span class=format!("badge delivery-{}", d.status)>{d.status.clone()}</span></td>
                                                                <td class="num">{d.attempts}</td>
                                                                <td class="muted small">{d.last_error.clone().unwrap_or_default()}</td>
                                                            </tr>
                                                        }
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        }.into_any()
                                    }}
                                </section>
                            }.into_any()
                        }
                    };
                    view! { {content} <HydrationMark/> }
                })}
            </Transition>
        </main>
    }
}
