//! Users, API tokens and failed-login counters.

use super::{conflict, now_ms, on_db, Db, Result, StoreError};
use crate::model::{ApiToken, User};

const USER_COLUMNS: &str = "id, email, is_admin, created_at";

#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    email: String,
    is_admin: bool,
    created_at: i64,
    password_hash: String,
}

impl Db {
    pub async fn count_users(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM users";
        Ok(on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await?))
    }

    /// Creates a user; the e-mail must already be normalized. Conflict if it is taken.
    pub async fn create_user(&self, email: &str, password_hash: &str, is_admin: bool) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
        );
        on_db!(self, |pool| sqlx::query_as::<_, User>(&sql)
            .bind(email)
            .bind(password_hash)
            .bind(is_admin)
            .bind(now_ms())
            .fetch_one(pool)
            .await
            .map_err(conflict("a user with this e-mail already exists")))
    }

    /// First run: the first administrator and their organization, in one transaction that
    /// also claims the single `instance_setup` row. Conflict if Faultline is already set up.
    pub async fn setup_instance(
        &self,
        email: &str,
        password_hash: &str,
        org_slug: &str,
        org_name: &str,
    ) -> Result<User> {
        let already = || StoreError::Conflict("Faultline is already set up: sign in instead.".into());
        let claim = "INSERT INTO instance_setup (id, completed_at) VALUES (1, $1)";
        let count = "SELECT COUNT(*) FROM users";
        let insert_user = format!(
            "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, TRUE, $3) RETURNING {USER_COLUMNS}"
        );
        let insert_org =
            "INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING";
        let now = now_ms();
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(claim).bind(now).execute(&mut *tx).await.map_err(|e| match conflict("")(e) {
                StoreError::Conflict(_) => already(),
                e => e,
            })?;
            if sqlx::query_scalar::<_, i64>(count).fetch_one(&mut *tx).await? > 0 {
                return Err(already());
            }
            let user = sqlx::query_as::<_, User>(&insert_user)
                .bind(email)
                .bind(password_hash)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(insert_org).bind(org_slug).bind(org_name).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(user)
        })
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The user of a session signed in at `epoch`, if that is still the user's epoch (see
    /// [`Db::end_sessions`]).
    pub async fn session_user(&self, id: i64, epoch: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND session_epoch = $2");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, User>(&sql).bind(id).bind(epoch).fetch_optional(pool).await?))
    }

    /// The user's current session epoch, to store in a session being signed in.
    pub async fn session_epoch(&self, user_id: i64) -> Result<i64> {
        let sql = "SELECT session_epoch FROM users WHERE id = $1";
        let epoch = on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).bind(user_id).fetch_optional(pool).await?);
        epoch.ok_or(StoreError::NotFound)
    }

    /// Ends every session of the user ("sign out everywhere"): returns the new epoch, which
    /// a session that is to go on must store.
    pub async fn end_sessions(&self, user_id: i64) -> Result<i64> {
        let sql = "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch";
        let epoch = on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql).bind(user_id).fetch_optional(pool).await?);
        epoch.ok_or(StoreError::NotFound)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, User>(&sql).bind(email).fetch_optional(pool).await?))
    }

    /// The user and their password hash, for login.
    pub async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = on_db!(self, |pool| sqlx::query_as::<_, Credentials>(&sql).bind(email).fetch_optional(pool).await?);
        Ok(row.map(|c| {
            (User { id: c.id, email: c.email, is_admin: c.is_admin, created_at: c.created_at }, c.password_hash)
        }))
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        Ok(on_db!(self, |pool| sqlx::query_as::<_, User>(&sql).fetch_all(pool).await?))
    }

    /// Sets the password and ends every session of the user (their epoch moves on): returns
    /// the new epoch.
    pub async fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<i64> {
        let sql = "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1 WHERE id = $2 \
                   RETURNING session_epoch";
        let epoch = on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(password_hash)
            .bind(user_id)
            .fetch_optional(pool)
            .await?);
        epoch.ok_or(StoreError::NotFound)
    }

    /// Stores an API token by its SHA-256 (hex); the token itself is never stored.
    pub async fn create_api_token(&self, user_id: i64, token_sha256: &str, label: &str) -> Result<i64> {
        let sql =
            "INSERT INTO api_tokens (user_id, token_sha256, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(user_id)
            .bind(token_sha256)
            .bind(label)
            .bind(now_ms())
            .fetch_one(pool)
            .await
            .map_err(conflict("token collision")))
    }

    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let sql = "SELECT id, label, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id";
        Ok(on_db!(self, |pool| sqlx::query_as::<_, ApiToken>(sql).bind(user_id).fetch_all(pool).await?))
    }

    /// Revokes one of the user's tokens; a token of another user is `NotFound`.
    pub async fn delete_api_token(&self, user_id: i64, token_id: i64) -> Result<()> {
        let sql = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2";
        let done =
            on_db!(self, |pool| sqlx::query(sql).bind(token_id).bind(user_id).execute(pool).await?.rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The user owning the token with this SHA-256, marking the token as used. "Last used" is
    /// kept to the minute, so that API reads do not each cost a write.
    pub async fn user_by_api_token(&self, token_sha256: &str) -> Result<Option<User>> {
        let touch = "UPDATE api_tokens SET last_used_at = $1 WHERE token_sha256 = $2 \
                     AND (last_used_at IS NULL OR last_used_at < $1 - 60000)";
        let sql = "SELECT u.id, u.email, u.is_admin, u.created_at FROM users u \
                   JOIN api_tokens t ON t.user_id = u.id WHERE t.token_sha256 = $1";
        on_db!(self, |pool| {
            sqlx::query(touch).bind(now_ms()).bind(token_sha256).execute(pool).await?;
            Ok(sqlx::query_as::<_, User>(sql).bind(token_sha256).fetch_optional(pool).await?)
        })
    }

    /// Failed logins of `subject` within the window that started at or after `since_ms`.
    pub async fn login_failures(&self, subject: &str, since_ms: i64) -> Result<i64> {
        let sql = "SELECT failures FROM login_failures WHERE subject = $1 AND window_start >= $2";
        let n = on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(subject)
            .bind(since_ms)
            .fetch_optional(pool)
            .await?);
        Ok(n.unwrap_or(0))
    }

    /// Counts one more failed login of `subject`; a window older than `since_ms` restarts at 1.
    pub async fn record_login_failure(&self, subject: &str, since_ms: i64) -> Result<i64> {
        let sql = "INSERT INTO login_failures (subject, failures, window_start) VALUES ($1, 1, $2) \
                   ON CONFLICT (subject) DO UPDATE SET \
                     failures = CASE WHEN login_failures.window_start >= $3 THEN login_failures.failures + 1 ELSE 1 END, \
                     window_start = CASE WHEN login_failures.window_start >= $3 THEN login_failures.window_start ELSE $2 END \
                   RETURNING failures";
        Ok(on_db!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(subject)
            .bind(now_ms())
            .bind(since_ms)
            .fetch_one(pool)
            .await?))
    }

    /// Takes one failure back (a successful login from an address counted before it).
    pub async fn forgive_login_failure(&self, subject: &str) -> Result<()> {
        let sql = "UPDATE login_failures SET failures = failures - 1 WHERE subject = $1 AND failures > 0";
        on_db!(self, |pool| sqlx::query(sql).bind(subject).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Deletes counters whose window started before `before_ms` (run periodically).
    pub async fn delete_stale_login_failures(&self, before_ms: i64) -> Result<u64> {
        let sql = "DELETE FROM login_failures WHERE window_start < $1";
        Ok(on_db!(self, |pool| sqlx::query(sql).bind(before_ms).execute(pool).await?.rows_affected()))
    }

    pub async fn clear_login_failures(&self, subject: &str) -> Result<()> {
        let sql = "DELETE FROM login_failures WHERE subject = $1";
        on_db!(self, |pool| sqlx::query(sql).bind(subject).execute(pool).await?.rows_affected());
        Ok(())
    }
}
