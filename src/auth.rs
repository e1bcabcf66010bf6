//! Accounts: password hashing (argon2id), API tokens, and the login check with throttling.
//! Server-only; the UI and the CLI call into here, and it reaches the database via `store`.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::model::{self, User};
use crate::store::{self, Db};

/// At most this many argon2 computations at once (each takes ~19 MiB), so a flood of
/// logins cannot exhaust memory or starve the runtime.
const CONCURRENT_HASHES: usize = 4;
/// Failed attempts allowed per account within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: i64 = 10;
/// Failed attempts allowed per client address (higher: many people may share one address).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

fn argon2() -> Argon2<'static> {
    // OWASP's minimum for argon2id: m=19456 KiB, t=2, p=1.
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(CONCURRENT_HASHES))
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Deliberately vague: the same for an unknown e-mail and a wrong password.
    #[error("Invalid e-mail or password.")]
    InvalidCredentials,
    #[error("Too many failed attempts. Try again in {0} minutes.")]
    Throttled(u64),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("password hashing failed")]
    Hash,
}

/// Hashes a password with argon2id into a PHC string.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    let _slot = hash_slots().acquire().await.map_err(|_| AuthError::Hash)?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| AuthError::Hash)
    })
    .await
    .map_err(|_| AuthError::Hash)?
}

async fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(_slot) = hash_slots().acquire().await else { return false };
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the e-mail is unknown, so that the answer takes as long.
async fn dummy_hash() -> &'static str {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_init(|| async { hash_password("faultline-dummy-password").await.unwrap_or_default() }).await
}

/// Normalizes and checks a new account's e-mail and password; returns the e-mail and the hash.
async fn new_credentials(email: &str, password: &str) -> Result<(String, String), AuthError> {
    let email = model::normalize_email(email);
    if !model::is_valid_email(&email) {
        return Err(AuthError::Invalid("Enter a valid e-mail address.".into()));
    }
    model::check_new_password(password).map_err(AuthError::Invalid)?;
    Ok((email, hash_password(password).await?))
}

fn conflict_is_invalid(e: store::StoreError) -> AuthError {
    match e {
        store::StoreError::Conflict(m) => AuthError::Invalid(m),
        e => AuthError::Store(e),
    }
}

/// Validates and creates a user (e-mail normalized, password checked and hashed).
pub async fn create_user(db: &Db, email: &str, password: &str, is_admin: bool) -> Result<User, AuthError> {
    let (email, hash) = new_credentials(email, password).await?;
    db.create_user(&email, &hash, is_admin).await.map_err(conflict_is_invalid)
}

/// First run: the first administrator and the organization named `org_name`.
pub async fn setup_instance(db: &Db, email: &str, password: &str, org_name: &str) -> Result<User, AuthError> {
    let org_name = org_name.trim();
    let slug = model::slugify(org_name);
    if !model::is_valid_slug(&slug) {
        return Err(AuthError::Invalid("Name the organization (letters or digits).".into()));
    }
    let (email, hash) = new_credentials(email, password).await?;
    db.setup_instance(&email, &hash, &slug, org_name).await.map_err(conflict_is_invalid)
}

/// Changes a user's password after checking the current one, which ends all the user's
/// sessions: returns the new session epoch, for the session that made the change to go on.
/// Wrong current passwords count as failed logins of the account, so a taken-over session
/// cannot guess it freely.
pub async fn change_password(db: &Db, user: &User, current: &str, new: &str) -> Result<i64, AuthError> {
    let subject = format!("email:{}", user.email);
    let since = store::now_ms() - FAILURE_WINDOW.as_millis() as i64;
    if db.record_login_failure(&subject, since).await? > MAX_FAILURES {
        return Err(AuthError::Throttled(FAILURE_WINDOW.as_secs() / 60));
    }
    let Some((_, phc)) = db.user_credentials(&user.email).await? else {
        return Err(AuthError::InvalidCredentials);
    };
    if !verify_password(current, &phc).await {
        return Err(AuthError::Invalid("The current password is not right.".into()));
    }
    db.clear_login_failures(&subject).await?;
    model::check_new_password(new).map_err(AuthError::Invalid)?;
    Ok(db.set_password_hash(user.id, &hash_password(new).await?).await?)
}

/// Checks an e-mail and password. Failures are counted per account and per client address
/// (in the database, so all nodes share them); past [`MAX_FAILURES`] (per account) or
/// [`MAX_FAILURES_PER_ADDRESS`] in the window, attempts are refused until it ends, and every
/// failure costs a growing delay.
pub async fn login(db: &Db, email: &str, password: &str, client_ip: &str) -> Result<User, AuthError> {
    let email = model::normalize_email(email);
    if !model::is_valid_email(&email) {
        // Not an account name: nothing to count (and no row for arbitrary strings).
        return Err(AuthError::InvalidCredentials);
    }
    let subjects = [format!("email:{email}"), format!("ip:{client_ip}")];
    let since = store::now_ms() - FAILURE_WINDOW.as_millis() as i64;
    // Count the attempt before checking it, so that parallel guesses cannot all slip in
    // under the limit; a successful login takes its count back.
    let mut worst = 0;
    let mut throttled = false;
    for (subject, max) in subjects.iter().zip([MAX_FAILURES, MAX_FAILURES_PER_ADDRESS]) {
        let attempts = db.record_login_failure(subject, since).await?;
        worst = worst.max(attempts);
        throttled |= attempts > max;
    }
    if throttled {
        return Err(AuthError::Throttled(FAILURE_WINDOW.as_secs() / 60));
    }
    let found = db.user_credentials(&email).await?;
    let phc = match &found {
        Some((_, phc)) => phc.as_str(),
        None => dummy_hash().await,
    };
    let ok = verify_password(password, phc).await && found.is_some();
    if let (true, Some((user, _))) = (ok, found) {
        db.clear_login_failures(&subjects[0]).await?;
        db.forgive_login_failure(&subjects[1]).await?;
        return Ok(user);
    }
    // 100 ms per recent failure, at most 2 s: slows guessing down before the lock-out.
    tokio::time::sleep(Duration::from_millis(((worst - 1).max(0) as u64 * 100).min(2_000))).await;
    Err(AuthError::InvalidCredentials)
}

/// A new API token (`flt_` + 64 hex characters) and the SHA-256 under which it is stored.
pub fn new_api_token() -> (String, String) {
    let token = format!("flt_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let digest = token_digest(&token);
    (token, digest)
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn password_round_trip() {
        let phc = hash_password("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse", &phc).await);
        assert!(!verify_password("wrong horse", &phc).await);
    }

    #[test]
    fn tokens_are_random_and_digested() {
        let (a, da) = new_api_token();
        let (b, _) = new_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with("flt_") && a.len() == 68);
        assert_eq!(da, token_digest(&a));
        assert_eq!(da.len(), 64);
    }
}
