//! The release API as the real `sentry-cli` (the PyPI package's binary, in the venv
//! `.ci/setup` makes) drives it, on both databases: `releases new`, `set-commits` with a
//! repository reference and with the commits of a local git repository the test creates,
//! `finalize`, `deploys new`, `releases list` and `info`; and what a bad token gets.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{each_db, TestDb};

fn sentry_cli() -> PathBuf {
    let venv = std::env::var("FAULTLINE_SDK_VENV").unwrap_or_else(|_| "/var/cache/faultline/sdk-venv".into());
    let cli = PathBuf::from(venv).join("bin/sentry-cli");
    assert!(
        cli.exists(),
        "{} is missing: run `bash .ci/setup` (it installs sentry-cli in the SDK venv)",
        cli.display()
    );
    cli
}

/// Runs sentry-cli against `base` with `token`, in `dir`.
fn cli(base: &str, token: &str, dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(sentry_cli())
        .args(args)
        .current_dir(dir)
        .env("SENTRY_URL", base)
        .env("SENTRY_AUTH_TOKEN", token)
        .env("SENTRY_ORG", "acme")
        .env("SENTRY_PROJECT", "shop")
        .env("SENTRY_DISABLE_UPDATE_CHECK", "1")
        .env("SENTRY_LOAD_DOTENV", "0")
        .env("HOME", dir)
        .output()
        .expect("sentry-cli runs");
    out
}

fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "sentry-cli failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A git repository with three commits by two authors; returns the commit ids, oldest first.
fn repository(dir: &Path) -> Vec<String> {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["remote", "add", "origin", "https://github.com/acme/shop.git"]);
    let mut shas = Vec::new();
    for (i, (author, file, text)) in [
        ("Ada <ada@example.com>", "shop/views.py", "def checkout():\n    return 1\n"),
        ("Linus <linus@example.com>", "shop/cart.py", "def total(items):\n    return sum(items)\n"),
        ("Ada <ada@example.com>", "shop/views.py", "def checkout():\n    return 1 / 0\n"),
    ]
    .iter()
    .enumerate()
    {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        git(dir, &["add", "."]);
        git(
            dir,
            &[
                "-c",
                "user.name=Committer",
                "-c",
                "user.email=ci@example.com",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "--author",
                author,
                "-m",
                &format!("Change {i}: {file}"),
            ],
        );
        shas.push(git(dir, &["rev-parse", "HEAD"]));
    }
    shas
}

// sentry-cli runs as a blocking child process: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sentry_cli_releases_commits_and_deploys() {
    each_db(|t: TestDb| async move {
        let base = common::start_server(&t).await;
        let db = &t.db;
        let org = db.create_org("acme", "Acme").await.unwrap();
        let (shop, _) = db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
        db.set_project_repository(shop.id, Some("https://github.com/acme/shop"), None).await.unwrap();
        let user = db.create_user("dev@example.com", "x", false).await.unwrap();
        db.set_membership(shop.id, user.id, faultline::model::Role::Member).await.unwrap();
        let (token, digest) = faultline::auth::new_api_token();
        db.create_api_token(user.id, &digest, "ci").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let shas = repository(dir.path());
        let run = |args: &[&str]| cli(&base, &token, dir.path(), args);

        // releases new
        let out = ok(run(&["releases", "new", "shop@1.0.0"]));
        assert!(out.contains("shop@1.0.0"), "{out}");
        let release = db.release(shop.id, "shop@1.0.0").await.unwrap().expect("registered");

        // set-commits with a repository reference (the repository is listed by /repos/).
        let reference = format!("acme/shop@{}..{}", shas[0], shas[2]);
        ok(run(&["releases", "set-commits", "shop@1.0.0", "--commit", &reference]));
        let r = db.release(shop.id, "shop@1.0.0").await.unwrap().unwrap();
        assert_eq!(r.ref_repository.as_deref(), Some("acme/shop"));
        assert_eq!(r.ref_commit.as_deref(), Some(shas[2].as_str()));
        assert_eq!(r.ref_previous.as_deref(), Some(shas[0].as_str()));

        // set-commits --local: the commits of the local repository, newest first, with their
        // authors and changed files.
        ok(run(&["releases", "set-commits", "shop@1.0.0", "--local"]));
        let commits = db.release_commits(release.id).await.unwrap();
        let got: Vec<(&str, Option<&str>)> =
            commits.iter().map(|c| (c.sha.as_str(), c.author_email.as_deref())).collect();
        assert_eq!(
            got,
            [
                (shas[2].as_str(), Some("ada@example.com")),
                (shas[1].as_str(), Some("linus@example.com")),
                (shas[0].as_str(), Some("ada@example.com")),
            ]
        );
        assert_eq!(commits[0].files, [("shop/views.py".to_string(), "M".to_string())]);
        assert_eq!(commits[1].files, [("shop/cart.py".to_string(), "A".to_string())]);
        assert_eq!(commits[0].message.as_deref(), Some("Change 2: shop/views.py"));
        assert!(commits[0].committed_at.is_some());

        // finalize, deploys new
        ok(run(&["releases", "finalize", "shop@1.0.0"]));
        assert!(db.release(shop.id, "shop@1.0.0").await.unwrap().unwrap().date_released.is_some());
        ok(run(&["deploys", "new", "--release", "shop@1.0.0", "-e", "production", "-n", "blue"]));
        let deploys = db.deploys(release.id).await.unwrap();
        assert_eq!(deploys.len(), 1);
        assert_eq!((deploys[0].environment.as_str(), deploys[0].name.as_deref()), ("production", Some("blue")));

        // releases list and info read it back.
        let list = ok(run(&["releases", "list"]));
        assert!(list.contains("shop@1.0.0"), "{list}");
        let info = ok(run(&["releases", "info", "shop@1.0.0"]));
        assert!(info.contains("shop@1.0.0"), "{info}");

        // The releases page's summary sees commits, deploy and finalize.
        let summary = db.release_summaries(shop.id).await.unwrap();
        assert_eq!(summary.len(), 1);
        assert_eq!((summary[0].commit_count, summary[0].deploy_count), (3, 1));
        assert_eq!(summary[0].last_deploy.as_ref().map(|d| d.0.as_str()), Some("production"));
        assert!(summary[0].date_released.is_some());

        // A bad token fails the command, and nothing is registered.
        let out = cli(&base, "flt_not_a_token", dir.path(), &["releases", "new", "shop@2.0.0"]);
        assert!(!out.status.success());
        assert!(db.release(shop.id, "shop@2.0.0").await.unwrap().is_none());
        t
    })
    .await;
}

/// Stores one Python event of `shop` raised in `shop/views.py` line 2 (`checkout`), called
/// from `shop/cart.py` line 2, through the real pipeline; returns its event id.
async fn send_error(t: &TestDb, project: i64, release: Option<&str>) -> String {
    use faultline::protocol::event::Context;
    let now = faultline::store::now_ms();
    let mut ev = serde_json::json!({
        "platform": "python",
        "level": "error",
        "timestamp": now as f64 / 1000.0,
        "exception": {"values": [{"type": "ZeroDivisionError", "value": "division by zero", "stacktrace": {"frames": [
            {"module": "django.core", "function": "handle", "filename": "django/core/handlers.py", "lineno": 50, "in_app": false},
            {"module": "shop.cart", "function": "total", "filename": "shop/cart.py",
             "abs_path": "/srv/shop/shop/cart.py", "lineno": 2, "in_app": true},
            {"module": "shop.views", "function": "checkout", "filename": "shop/views.py",
             "abs_path": "/srv/shop/shop/views.py", "lineno": 2, "in_app": true},
        ]}}]},
    });
    if let Some(r) = release {
        ev["release"] = serde_json::json!(r);
    }
    let ctx = Context { event_id: None, received_ms: now, sent_at_ms: None, client_ip: None };
    let event = faultline::ingest::prepare_event(ev, ctx, project, now).unwrap();
    let id = event.event_id.clone();
    t.db.write_batch(&[event], &[], &[]).await.unwrap();
    id
}

/// Suspect commits from the blame of a real clone, and from a release's commits without
/// one; the issue page's data and Sentry's `committers` endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn suspect_commits_from_blame_and_release_commits() {
    each_db(|t: TestDb| async move {
        let base = common::start_server(&t).await;
        let db = &t.db;
        let org = db.create_org("acme", "Acme").await.unwrap();
        let (shop, _) = db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
        let user = db.create_user("dev@example.com", "x", true).await.unwrap();
        let (token, digest) = faultline::auth::new_api_token();
        db.create_api_token(user.id, &digest, "ci").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let shas = repository(dir.path());

        // Without a linked clone: nothing to blame, and the reason.
        send_error(&t, shop.id, None).await;
        let issue = db.project_issues(shop.id, 1).await.unwrap().remove(0);
        let found = faultline::suspects::find(db, &issue, &shop, 5).await.unwrap();
        assert!(found.commits.is_empty());
        assert!(found.note.unwrap().contains("git clone"));

        // With the clone: the commit that last changed the raising line first (Ada's third
        // commit), then the caller's line (Linus's).
        db.set_project_repository(shop.id, Some("https://github.com/acme/shop"), Some(dir.path().to_str().unwrap()))
            .await
            .unwrap();
        let shop = db.project_by_id(shop.id).await.unwrap().unwrap();
        let found = faultline::suspects::find(db, &issue, &shop, 5).await.unwrap();
        let got: Vec<(&str, Option<&str>, &str, Option<u32>)> = found
            .commits
            .iter()
            .map(|c| (c.sha.as_str(), c.author_email.as_deref(), c.file.as_str(), c.line))
            .collect();
        assert_eq!(
            got,
            [
                (shas[2].as_str(), Some("ada@example.com"), "shop/views.py", Some(2)),
                (shas[1].as_str(), Some("linus@example.com"), "shop/cart.py", Some(2)),
            ]
        );
        let top = &found.commits[0];
        assert_eq!(top.message.as_deref(), Some("Change 2: shop/views.py"));
        assert_eq!(
            top.commit_url.as_deref(),
            Some(format!("https://github.com/acme/shop/commit/{}", shas[2]).as_str())
        );
        assert_eq!(
            top.file_url.as_deref(),
            Some(format!("https://github.com/acme/shop/blob/{}/shop/views.py#L2", shas[2]).as_str())
        );
        assert_eq!(top.via, "blame");

        // Blame at the release's commit: at the first commit, line 2 of views.py was Ada's
        // first commit (and cart.py did not exist).
        db.upsert_release(shop.id, "shop@0.1", None, None).await.unwrap();
        let r = db.release(shop.id, "shop@0.1").await.unwrap().unwrap();
        let reference = Some(("acme/shop".to_string(), shas[0].clone(), None));
        db.update_release(r.id, &faultline::store::releases::ReleaseUpdate { reference, ..Default::default() })
            .await
            .unwrap();
        let event_id = send_error(&t, shop.id, Some("shop@0.1")).await;
        let found = faultline::suspects::find(db, &issue, &shop, 5).await.unwrap();
        let got: Vec<&str> = found.commits.iter().map(|c| c.sha.as_str()).collect();
        assert_eq!(got, [shas[0].as_str()]);

        // Sentry's committers endpoint, for that event.
        let url = format!("{base}/api/0/projects/acme/shop/events/{event_id}/committers/");
        let res = reqwest::Client::new().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["committers"][0]["author"]["email"], "ada@example.com");
        assert_eq!(body["committers"][0]["commits"][0]["id"], shas[0].as_str());
        assert_eq!(body["committers"][0]["commits"][0]["suspectCommitType"], "via SCM integration");
        let res = reqwest::Client::new().get(&url).send().await.unwrap();
        assert_eq!(res.status(), 401);

        // No clone, but the release's commits (set-commits) touched the frame's file.
        db.set_project_repository(shop.id, None, None).await.unwrap();
        let shop = db.project_by_id(shop.id).await.unwrap().unwrap();
        let commit = faultline::model::ReleaseCommit {
            sha: "c0ffee".repeat(6) + "c0ff",
            repository: Some("acme/shop".into()),
            author_name: Some("Grace".into()),
            author_email: Some("grace@example.com".into()),
            message: Some("Rework the cart\n\nDetails".into()),
            committed_at: Some(faultline::store::now_ms() - 60_000),
            files: vec![("shop/cart.py".into(), "M".into())],
        };
        db.update_release(
            r.id,
            &faultline::store::releases::ReleaseUpdate { commits: Some(vec![commit]), ..Default::default() },
        )
        .await
        .unwrap();
        let found = faultline::suspects::find(db, &issue, &shop, 5).await.unwrap();
        assert_eq!(found.commits.len(), 1);
        assert_eq!(
            (found.commits[0].author_email.as_deref(), found.commits[0].file.as_str(), found.commits[0].via.as_str()),
            (Some("grace@example.com"), "shop/cart.py", "release")
        );
        assert_eq!(found.commits[0].message.as_deref(), Some("Rework the cart"));
        t
    })
    .await;
}
