//! The command line on both databases: from an empty database to a DSN in two commands.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::each_db;

fn faultline(db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env("FAULTLINE_DATABASE_URL", db_url)
        .env_remove("FAULTLINE_PUBLIC_URL")
        .env_remove("FAULTLINE_LISTEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_string()
}

/// `http://<32 hex>@127.0.0.1:8000/<id>`
fn assert_dsn(dsn: &str, host: &str, project_id: Option<i64>) -> i64 {
    let rest = dsn.strip_prefix("http://").unwrap_or_else(|| panic!("not a DSN: {dsn}"));
    let (key, path) = rest.split_once('@').unwrap();
    assert_eq!(key.len(), 32, "{dsn}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{dsn}");
    let (h, id) = path.rsplit_once('/').unwrap();
    assert_eq!(h, host, "{dsn}");
    let id: i64 = id.parse().unwrap_or_else(|_| panic!("project id in {dsn}"));
    if let Some(expected) = project_id {
        assert_eq!(id, expected, "{dsn}");
    }
    id
}

#[tokio::test]
async fn project_create_prints_a_dsn() {
    each_db(|t| async move {
        let url = t.url.clone();
        let dsn = stdout(&faultline(&url, &["project", "create", "backend"], None));
        assert_dsn(&dsn, "127.0.0.1:8000", Some(1));
        let org = t.db.org_by_slug("default").await.unwrap().expect("an organization was created");
        let key = t.db.key_by_public_key(&dsn[7..39]).await.unwrap().expect("the key is stored");
        let project = t.db.project_by_id(key.project_id).await.unwrap().unwrap();
        assert_eq!((project.slug.as_str(), project.org_id), ("backend", org.id));

        // The public URL shapes the DSN; the only organization is used.
        let dsn = stdout(&faultline(
            &url,
            &["project", "create", "web", "--public-url", "https://errors.example.com/fl"],
            None,
        ));
        assert!(dsn.starts_with("https://") && dsn.ends_with("@errors.example.com/fl/2"), "{dsn}");
        let listed = stdout(&faultline(&url, &["project", "list"], None));
        assert!(listed.contains("default/backend\thttp://") && listed.contains("default/web\t"), "{listed}");

        // Errors are clear and exit non-zero.
        let dup = faultline(&url, &["project", "create", "backend"], None);
        assert!(!dup.status.success());
        assert!(String::from_utf8_lossy(&dup.stderr).contains("already has a project"));
        let bad = faultline(&url, &["project", "create", "Not A Slug"], None);
        assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid slug"));
        stdout(&faultline(&url, &["org", "create", "second"], None));
        let ambiguous = faultline(&url, &["project", "create", "api"], None);
        assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("--org"));
        let dsn = stdout(&faultline(&url, &["project", "create", "api", "--org", "second"], None));
        // (PostgreSQL's sequence skips the id of the refused duplicate.)
        let id = assert_dsn(&dsn, "127.0.0.1:8000", None);
        assert_eq!(t.db.project_by_id(id).await.unwrap().unwrap().org_slug, "second");

        // Rate limits: set, shown by ingestion's key lookup, removed; bad input refused.
        assert_eq!(
            stdout(&faultline(&url, &["project", "rate-limit", "1", "600"], None)),
            "project 1: at most 600 events per minute"
        );
        assert_eq!(t.db.ingest_key(&dsn_key(&listed)).await.unwrap().unwrap().rate_limit_per_minute, Some(600));
        stdout(&faultline(&url, &["project", "rate-limit", "1", "off"], None));
        assert_eq!(t.db.ingest_key(&dsn_key(&listed)).await.unwrap().unwrap().rate_limit_per_minute, None);
        let bad = faultline(&url, &["project", "rate-limit", "1", "lots"], None);
        assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid limit"));
        let missing = faultline(&url, &["project", "rate-limit", "999", "5"], None);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("no project with id 999"));
        assert_eq!(stdout(&faultline(&url, &["project", "issues", "1"], None)), "");
        t
    })
    .await;
}

/// The key of the first DSN in `project list` output (project 1's).
fn dsn_key(listed: &str) -> String {
    let dsn = listed.lines().next().unwrap().split('\t').nth(1).unwrap();
    dsn[7..39].to_string()
}

#[tokio::test]
async fn users_and_tokens() {
    each_db(|t| async move {
        let url = t.url.clone();
        let email = stdout(&faultline(
            &url,
            &["user", "create", "--email", "Ops@Example.com", "--admin"],
            Some("s3cret-password\n"),
        ));
        assert_eq!(email, "ops@example.com");
        let user = t.db.user_by_email("ops@example.com").await.unwrap().unwrap();
        assert!(user.is_admin);
        let (_, hash) = t.db.user_credentials("ops@example.com").await.unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let short = faultline(&url, &["user", "create", "--email", "x@example.com", "--password", "short"], None);
        assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));

        let token = stdout(&faultline(&url, &["token", "create", "--email", "ops@example.com"], None));
        assert!(token.starts_with("flt_") && token.len() == 68, "{token}");
        let owner = t.db.user_by_api_token(&faultline::auth::token_digest(&token)).await.unwrap();
        assert_eq!(owner.map(|u| u.email), Some("ops@example.com".to_string()));
        let missing = faultline(&url, &["token", "create", "--email", "nobody@example.com"], None);
        assert!(!missing.status.success());
        t
    })
    .await;
}

#[test]
fn help_lists_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline")).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "user", "project", "token", "FAULTLINE_DATABASE_URL"] {
        assert!(text.contains(cmd), "--help lacks {cmd}:\n{text}");
    }
}
