//! Real Sentry SDKs against the real server, on both databases: `sentry-sdk` (Python, in
//! the venv `.ci/setup` makes; it compresses with brotli, or gzip when told) and
//! `@sentry/node` (installed in tests/sdk/node). What they send must become the expected
//! issues, grouped as Sentry would.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{each_db, TestDb};
use faultline::model::Issue;

fn venv_python() -> PathBuf {
    let venv = std::env::var("FAULTLINE_SDK_VENV").unwrap_or_else(|_| "/var/cache/faultline/sdk-venv".into());
    let python = PathBuf::from(venv).join("bin/python");
    assert!(python.exists(), "{} is missing: run `bash .ci/setup` (it creates the SDK venv)", python.display());
    python
}

fn sdk_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk"))
}

async fn start(t: &TestDb) -> String {
    common::start_server(t).await
}

/// Runs a program to completion off the async runtime; panics with its output on failure.
async fn run(mut cmd: Command) -> String {
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("the SDK program starts")).await.unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "SDK program failed: {text}");
    text
}

fn python(dsn: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(venv_python());
    cmd.arg(sdk_dir().join("send_python.py")).arg(dsn).args(extra);
    cmd
}

fn find<'a>(issues: &'a [Issue], title_prefix: &str) -> &'a Issue {
    issues.iter().find(|i| i.title.starts_with(title_prefix)).unwrap_or_else(|| {
        panic!("no issue titled {title_prefix:?} in {:#?}", issues.iter().map(|i| &i.title).collect::<Vec<_>>())
    })
}

async fn new_project(t: &TestDb, base: &str, slug: &str) -> (i64, String) {
    let org = match t.db.org_by_slug("acme").await.unwrap() {
        Some(org) => org,
        None => t.db.create_org("acme", "Acme").await.unwrap(),
    };
    let (project, key) = t.db.create_project(org.id, slug, slug, "python").await.unwrap();
    (project.id, faultline::dsn::dsn(base, &key.public_key, project.id))
}

#[tokio::test]
async fn python_sdk() {
    each_db(|t| async move {
        let base = start(&t).await;

        // A DSN with an unknown key: the SDK is refused and nothing is stored.
        let (bad_id, good) = new_project(&t, &base, "refused").await;
        let bad = format!("http://0123456789abcdef0123456789abcdef@{}", good.split_once('@').unwrap().1);
        run(python(&bad, &[])).await;
        assert_eq!(t.db.count_events(bad_id).await.unwrap(), 0);

        // Brotli (the SDK's default when the brotli module is installed), then gzip.
        for (slug, extra) in [("py-brotli", vec![]), ("py-gzip", vec!["gzip"])] {
            let (project_id, dsn) = new_project(&t, &base, slug).await;
            run(python(&dsn, &extra)).await;
            let issues = t.db.project_issues(project_id, 100).await.unwrap();
            assert_eq!(issues.len(), 5, "{slug}: {:#?}", issues.iter().map(|i| &i.title).collect::<Vec<_>>());
            assert_eq!(t.db.count_events(project_id).await.unwrap(), 7);

            // The same exception twice: one issue with two events, from one user.
            let zde = find(&issues, "ZeroDivisionError: division by zero");
            assert_eq!((zde.event_count, zde.user_count), (2, 1));
            assert!(zde.culprit.ends_with(" in divide"), "culprit {:?}", zde.culprit);
            assert_eq!((zde.platform.as_str(), zde.level.as_str()), ("python", "error"));
            assert_eq!(zde.first_release.as_deref(), Some("shop@2.0.0"));
            find(&issues, "KeyError: 'id'");
            find(&issues, "ValueError: invalid literal for int()");
            let message = find(&issues, "Payment failed for order 1234");
            assert_eq!((message.kind.as_str(), message.level.as_str()), ("default", "warning"));
            // Two different exceptions with one custom fingerprint: one issue.
            let gateway = issues.iter().find(|i| i.event_count == 2 && i.id != zde.id).expect("fingerprint issue");
            assert!(gateway.title.starts_with("TimeoutError") || gateway.title.starts_with("ConnectionRefusedError"));

            // The stored event is whole: release, environment, user, tags, stack trace.
            let event = &t.db.issue_events(zde.id, 1).await.unwrap()[0];
            let json = t.db.event_json(project_id, &event.event_id).await.unwrap().unwrap();
            assert_eq!(json["environment"], "staging");
            assert_eq!(json["user"]["email"], "ann@example.com");
            assert!(json["tags"].as_array().unwrap().iter().any(|p| p[0] == "tenant" && p[1] == "acme"));
            let frames = json["exception"]["values"][0]["stacktrace"]["frames"].as_array().unwrap();
            assert!(frames
                .iter()
                .any(|f| f["function"] == "divide" && f["context_line"].as_str().unwrap().contains("a / b")));
            assert_eq!(json["sdk"]["name"], "sentry.python");
        }
        t
    })
    .await;
}

#[tokio::test]
async fn node_sdk() {
    let dir = sdk_dir().join("node");
    assert!(dir.join("node_modules/@sentry/node").exists(), "run `bash .ci/setup` (npm ci in tests/sdk/node)");
    each_db(|t| {
        let dir = dir.clone();
        async move {
            let base = start(&t).await;
            let (project_id, dsn) = new_project(&t, &base, "node").await;
            let mut cmd = Command::new("node");
            cmd.current_dir(&dir).arg("send_node.mjs").arg(&dsn);
            run(cmd).await;
            let issues = t.db.project_issues(project_id, 100).await.unwrap();
            let titles: Vec<&String> = issues.iter().map(|i| &i.title).collect();
            assert_eq!(issues.len(), 3, "{titles:#?}");
            let type_error = find(&issues, "TypeError: Cannot read properties of undefined");
            assert_eq!((type_error.event_count, type_error.user_count), (2, 1));
            assert!(type_error.culprit.starts_with("loadProfile("), "{type_error:#?}");
            assert_eq!(type_error.platform, "node");
            find(&issues, "SyntaxError");
            let message = find(&issues, "Cache miss ratio above 90%");
            assert_eq!((message.level.as_str(), message.event_count), ("warning", 2));
            assert_eq!(t.db.count_events(project_id).await.unwrap(), 5);
            t
        }
    })
    .await;
}
