//! Alerts: rules, the claim that keeps one alert per issue and rule per interval, and the
//! deliveries with their retries.

use super::{now_ms, on_db, Db, Result};
use crate::model::{AlertDelivery, AlertRule};

const RULE_COLUMNS: &str = "id, project_id, kind, threshold, spike_factor, spike_min, environment, level, channel, \
                            target, interval_minutes, created_at";
const DELIVERY_COLUMNS: &str = "id, rule_id, issue_id, reason, status, attempts, last_error, created_at, sent_at";

/// A delivery due to be sent.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

impl Db {
    pub async fn create_alert_rule(&self, r: &AlertRule) -> Result<i64> {
        let sql = "INSERT INTO alert_rules (project_id, kind, threshold, spike_factor, spike_min, environment, level, \
                   channel, target, interval_minutes, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
        Ok(on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(r.project_id)
            .bind(&r.kind)
            .bind(r.threshold)
            .bind(r.spike_factor)
            .bind(r.spike_min)
            .bind(&r.environment)
            .bind(&r.level)
            .bind(&r.channel)
            .bind(&r.target)
            .bind(r.interval_minutes)
            .bind(now_ms())
            .fetch_one(pool)
            .await?))
    }

    pub async fn delete_alert_rule(&self, project_id: i64, rule_id: i64) -> Result<()> {
        let sql = "DELETE FROM alert_rules WHERE project_id = $1 AND id = $2";
        on_db!(self, |pool| sqlx::query(sql).bind(project_id).bind(rule_id).execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn alert_rules(&self, project_id: i64) -> Result<Vec<AlertRule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE project_id = $1 ORDER BY id");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, AlertRule>(&sql).bind(project_id).fetch_all(pool).await?))
    }

    /// Claims the right to alert on `issue_id` for `rule_id`: true unless the rule fired for
    /// the issue after `cutoff` (epoch ms). Atomic, so two nodes cannot both claim it.
    pub async fn claim_alert(&self, rule_id: i64, issue_id: i64, now: i64, cutoff: i64) -> Result<bool> {
        let sql = "INSERT INTO alert_fires (rule_id, issue_id, fired_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (rule_id, issue_id) DO UPDATE SET fired_at = excluded.fired_at \
                   WHERE alert_fires.fired_at <= $4";
        let done = on_db!(self, |pool| sqlx::query(sql)
            .bind(rule_id)
            .bind(issue_id)
            .bind(now)
            .bind(cutoff)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Queues an alert for delivery now.
    pub async fn enqueue_alert(&self, rule_id: i64, issue_id: i64, reason: &str, payload: &str) -> Result<()> {
        let now = now_ms();
        let sql =
            "INSERT INTO alert_deliveries (rule_id, issue_id, reason, payload, status, next_attempt_at, created_at) \
                   VALUES ($1, $2, $3, $4, 'pending', $5, $5)";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(rule_id)
            .bind(issue_id)
            .bind(reason)
            .bind(payload)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Pending deliveries whose time has come, oldest first.
    pub async fn due_alerts(&self, now: i64, limit: i64) -> Result<Vec<DueDelivery>> {
        let sql = "SELECT d.id, r.channel, r.target, d.payload, d.attempts, d.next_attempt_at FROM alert_deliveries d \
                   JOIN alert_rules r ON r.id = d.rule_id \
                   WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, DueDelivery>(sql).bind(now).bind(limit).fetch_all(pool).await?))
    }

    /// Takes a due delivery for `lease_ms` (another node skips it meanwhile): true if taken.
    pub async fn lease_alert(&self, d: &DueDelivery, until: i64) -> Result<bool> {
        let sql = "UPDATE alert_deliveries SET next_attempt_at = $1 \
                   WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3";
        let done = on_db!(self, |pool| sqlx::query(sql)
            .bind(until)
            .bind(d.id)
            .bind(d.next_attempt_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Records an attempt: sent, to retry at `retry_at`, or failed for good (`retry_at` None).
    pub async fn record_alert_attempt(
        &self,
        id: i64,
        sent: bool,
        error: Option<&str>,
        retry_at: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        let (status, next) = match (sent, retry_at) {
            (true, _) => ("sent", now),
            (false, Some(at)) => ("pending", at),
            (false, None) => ("failed", now),
        };
        let sql = "UPDATE alert_deliveries SET status = $1, attempts = attempts + 1, last_error = $2, \
                   next_attempt_at = $3, sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END WHERE id = $5";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(status)
            .bind(error)
            .bind(next)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// A project's latest deliveries, newest first.
    pub async fn alert_deliveries(&self, project_id: i64, limit: i64) -> Result<Vec<AlertDelivery>> {
        let sql = format!(
            "SELECT {} FROM alert_deliveries d JOIN alert_rules r ON r.id = d.rule_id \
             WHERE r.project_id = $1 ORDER BY d.id DESC LIMIT $2",
            DELIVERY_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ")
        );
        Ok(on_db!(self, |pool| sqlx::query_as::<_, AlertDelivery>(&sql)
            .bind(project_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }
}
