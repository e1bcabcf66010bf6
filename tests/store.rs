//! The store on both databases: accounts, organizations, projects, keys, access, tokens,
//! login counters and sessions.

mod common;

use common::each_db;
use faultline::model::{Role, User};
use faultline::store::{now_ms, SessionStore, StoreError};

#[tokio::test]
async fn migrations_are_idempotent() {
    each_db(|t| async move {
        t.db.migrate().await.unwrap();
        t.db.migrate().await.unwrap();
        assert_eq!(t.db.count_users().await.unwrap(), 0);
        t
    })
    .await;
}

#[tokio::test]
async fn users_are_unique_by_email() {
    each_db(|t| async move {
        let db = &t.db;
        let ada = db.create_user("ada@example.com", "$argon2id$x", true).await.unwrap();
        assert!(ada.is_admin);
        assert!(ada.id > 0);
        let err = db.create_user("ada@example.com", "$argon2id$y", false).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let bob = db.create_user("bob@example.com", "$argon2id$z", false).await.unwrap();
        assert!(!bob.is_admin);
        assert_eq!(db.count_users().await.unwrap(), 2);
        let (found, hash) = db.user_credentials("bob@example.com").await.unwrap().unwrap();
        assert_eq!((found, hash.as_str()), (bob.clone(), "$argon2id$z"));
        assert!(db.user_credentials("nobody@example.com").await.unwrap().is_none());
        assert_eq!(db.user_by_id(ada.id).await.unwrap(), Some(ada.clone()));
        let emails: Vec<String> = db.list_users().await.unwrap().into_iter().map(|u| u.email).collect();
        assert_eq!(emails, ["ada@example.com", "bob@example.com"]);
        db.set_password_hash(bob.id, "$argon2id$new").await.unwrap();
        assert_eq!(db.user_credentials("bob@example.com").await.unwrap().unwrap().1, "$argon2id$new");
        t
    })
    .await;
}

#[tokio::test]
async fn projects_keys_and_access() {
    each_db(|t| async move {
        let db = &t.db;
        let admin = db.create_user("admin@example.com", "h", true).await.unwrap();
        let member = db.create_user("member@example.com", "h", false).await.unwrap();
        let org = db.create_org("acme", "Acme").await.unwrap();
        assert!(matches!(db.create_org("acme", "Again").await, Err(StoreError::Conflict(_))));
        let (backend, key) = db.create_project(org.id, "backend", "Backend", "python").await.unwrap();
        let (web, _) = db.create_project(org.id, "web", "Web", "javascript").await.unwrap();
        assert!(matches!(db.create_project(org.id, "web", "Web", "node").await, Err(StoreError::Conflict(_))));
        assert_eq!(backend.org_slug, "acme");
        assert_eq!(key.project_id, backend.id);
        assert!(key.is_active);
        assert_eq!(key.public_key.len(), 32);
        assert!(key.public_key.bytes().all(|b| b.is_ascii_hexdigit()));

        // Admins see everything; members see what they were given.
        let slugs = |ps: Vec<faultline::model::Project>| ps.into_iter().map(|p| p.slug).collect::<Vec<_>>();
        assert_eq!(slugs(db.projects_visible_to(&admin).await.unwrap()), ["backend", "web"]);
        assert!(db.projects_visible_to(&member).await.unwrap().is_empty());
        assert_eq!(db.project_role(&member, backend.id).await.unwrap(), None);
        db.set_membership(backend.id, member.id, Role::Member).await.unwrap();
        assert_eq!(slugs(db.projects_visible_to(&member).await.unwrap()), ["backend"]);
        assert_eq!(db.project_role(&member, backend.id).await.unwrap(), Some(Role::Member));
        assert_eq!(db.project_role(&member, web.id).await.unwrap(), None);
        assert_eq!(db.project_role(&admin, web.id).await.unwrap(), Some(Role::Admin));
        assert_eq!(db.project_role(&admin, 999_999).await.unwrap(), None);
        db.set_membership(backend.id, member.id, Role::Admin).await.unwrap();
        assert_eq!(db.project_role(&member, backend.id).await.unwrap(), Some(Role::Admin));
        let members = db.list_members(backend.id).await.unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!((members[0].email.as_str(), members[0].role), ("member@example.com", Role::Admin));
        db.remove_membership(backend.id, member.id).await.unwrap();
        assert!(db.projects_visible_to(&member).await.unwrap().is_empty());

        // Keys: add, rotate (the old public key is gone at once), disable, enable.
        let second = db.create_key(backend.id, "staging").await.unwrap();
        assert_eq!(db.project_keys(backend.id).await.unwrap().len(), 2);
        let rotated = db.rotate_key(backend.id, key.id).await.unwrap();
        assert_eq!(rotated.id, key.id);
        assert_ne!(rotated.public_key, key.public_key);
        assert!(db.key_by_public_key(&key.public_key).await.unwrap().is_none());
        assert_eq!(db.key_by_public_key(&rotated.public_key).await.unwrap().unwrap().project_id, backend.id);
        db.set_key_active(backend.id, second.id, false).await.unwrap();
        assert!(!db.key_by_public_key(&second.public_key).await.unwrap().unwrap().is_active);
        db.set_key_active(backend.id, second.id, true).await.unwrap();
        assert!(db.key_by_public_key(&second.public_key).await.unwrap().unwrap().is_active);
        // A key is only reachable through its own project.
        assert!(matches!(db.rotate_key(web.id, key.id).await, Err(StoreError::NotFound)));
        assert!(matches!(db.set_key_active(web.id, second.id, false).await, Err(StoreError::NotFound)));
        t
    })
    .await;
}

#[tokio::test]
async fn api_tokens_resolve_to_their_user() {
    each_db(|t| async move {
        let db = &t.db;
        let user = db.create_user("ops@example.com", "h", false).await.unwrap();
        let (token, digest) = faultline::auth::new_api_token();
        db.create_api_token(user.id, &digest, "ci").await.unwrap();
        let found: Option<User> = db.user_by_api_token(&faultline::auth::token_digest(&token)).await.unwrap();
        assert_eq!(found, Some(user));
        assert!(db.user_by_api_token(&faultline::auth::token_digest("flt_wrong")).await.unwrap().is_none());
        t
    })
    .await;
}

#[tokio::test]
async fn login_failures_count_within_a_window() {
    each_db(|t| async move {
        let db = &t.db;
        let since = now_ms() - 60_000;
        assert_eq!(db.login_failures("email:a@b.c", since).await.unwrap(), 0);
        assert_eq!(db.record_login_failure("email:a@b.c", since).await.unwrap(), 1);
        assert_eq!(db.record_login_failure("email:a@b.c", since).await.unwrap(), 2);
        assert_eq!(db.login_failures("email:a@b.c", since).await.unwrap(), 2);
        // A window that started before `since` has expired: counting starts again.
        let later = now_ms() + 1;
        assert_eq!(db.login_failures("email:a@b.c", later).await.unwrap(), 0);
        assert_eq!(db.record_login_failure("email:a@b.c", later).await.unwrap(), 1);
        assert_eq!(db.record_login_failure("email:a@b.c", since).await.unwrap(), 2);
        db.forgive_login_failure("email:a@b.c").await.unwrap();
        assert_eq!(db.login_failures("email:a@b.c", since).await.unwrap(), 1);
        db.clear_login_failures("email:a@b.c").await.unwrap();
        assert_eq!(db.login_failures("email:a@b.c", since).await.unwrap(), 0);
        // Stale counters are swept.
        db.record_login_failure("ip:192.0.2.1", since).await.unwrap();
        assert_eq!(db.delete_stale_login_failures(now_ms() + 1).await.unwrap(), 1);
        assert_eq!(db.login_failures("ip:192.0.2.1", 0).await.unwrap(), 0);
        t
    })
    .await;
}

#[tokio::test]
async fn sessions_live_in_the_database() {
    use std::collections::HashMap;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore as _;

    each_db(|t| async move {
        let store = SessionStore::new(t.db.clone());
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([("user_id".to_string(), serde_json::json!(7))]),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.unwrap();
        let loaded = store.load(&record.id).await.unwrap().expect("session stored");
        assert_eq!(loaded.data.get("user_id"), Some(&serde_json::json!(7)));
        // A second store on the same database (another Faultline node) sees it too.
        let other = SessionStore::new(t.db.clone());
        assert!(other.load(&record.id).await.unwrap().is_some());
        store.delete(&record.id).await.unwrap();
        assert!(other.load(&record.id).await.unwrap().is_none());
        t
    })
    .await;
}

#[tokio::test]
async fn first_run_setup_happens_once_even_when_raced() {
    each_db(|t| async move {
        let db = &t.db;
        let (a, b) = tokio::join!(
            db.setup_instance("a@example.com", "h", "acme", "Acme"),
            db.setup_instance("b@example.com", "h", "acme", "Acme"),
        );
        assert!(a.is_ok() != b.is_ok(), "exactly one setup wins: {a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(StoreError::Conflict(ref m)) if m.contains("already set up")), "{loser:?}");
        assert_eq!(db.count_users().await.unwrap(), 1);
        let admin = &db.list_users().await.unwrap()[0];
        assert!(admin.is_admin);
        assert_eq!(db.org_by_slug("acme").await.unwrap().unwrap().name, "Acme");
        assert!(db.setup_instance("c@example.com", "h", "other", "Other").await.is_err());
        t
    })
    .await;
}

#[tokio::test]
async fn api_tokens_are_listed_and_revoked_by_their_owner_only() {
    each_db(|t| async move {
        let db = &t.db;
        let ada = db.create_user("ada@example.com", "h", false).await.unwrap();
        let bob = db.create_user("bob@example.com", "h", false).await.unwrap();
        let (token, digest) = faultline::auth::new_api_token();
        let id = db.create_api_token(ada.id, &digest, "gitlab").await.unwrap();
        let listed = db.list_api_tokens(ada.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].id, listed[0].label.as_str(), listed[0].last_used_at), (id, "gitlab", None));
        db.user_by_api_token(&faultline::auth::token_digest(&token)).await.unwrap();
        assert!(db.list_api_tokens(ada.id).await.unwrap()[0].last_used_at.is_some());
        assert!(db.list_api_tokens(bob.id).await.unwrap().is_empty());
        assert!(matches!(db.delete_api_token(bob.id, id).await, Err(StoreError::NotFound)));
        db.delete_api_token(ada.id, id).await.unwrap();
        assert!(db.user_by_api_token(&digest).await.unwrap().is_none());
        t
    })
    .await;
}
