//! `faultline seed` on both databases: the seeded project holds exactly what ingestion would
//! have stored for its events (exact counters, tag values, payloads that agree with their
//! rows). And `faultline bench-read` against the real server, signed in and not.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};

use common::{each_db, start_server, TestDb};

fn faultline(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env("FAULTLINE_DATABASE_URL", db_url)
        .env_remove("FAULTLINE_PUBLIC_URL")
        .env_remove("FAULTLINE_LISTEN")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_string()
}

#[tokio::test]
async fn seed_fills_a_project_as_ingestion_would() {
    each_db(|t| async move {
        let url = t.url.clone();
        stdout(&faultline(&url, &["project", "create", "shop"]));
        let args = ["seed", "--project", "1", "--events", "3000", "--issues", "60", "--days", "3", "--verify"];
        let out = stdout(&faultline(&url, &args));
        assert!(out.contains("seeded project 1: 3,000 events in 60 issues"), "{out}");

        let issues = t.db.project_issues(1, 1000).await.unwrap();
        assert_eq!(issues.len(), 60);
        assert_eq!(issues.iter().map(|i| i.event_count).sum::<i64>(), 3000);
        assert_eq!(t.db.count_events(1).await.unwrap(), 3000);
        // Counters agree with the rows they count (events, hourly counts, distinct users).
        assert_eq!(t.db.issues_with_wrong_counts(1).await.unwrap(), Vec::<i64>::new());

        // A few hot issues, a long tail.
        let mut counts: Vec<i64> = issues.iter().map(|i| i.event_count).collect();
        counts.sort_unstable();
        assert!(counts[59] >= 300 && counts[0] <= 20, "{counts:?}");
        // Varied: platforms, exceptions and log messages, levels, users, statuses.
        let platforms: BTreeSet<&str> = issues.iter().map(|i| i.platform.as_str()).collect();
        assert!(platforms.len() >= 4, "{platforms:?}");
        let kinds: BTreeSet<&str> = issues.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, BTreeSet::from(["default", "error"]));
        let levels: BTreeSet<&str> = issues.iter().map(|i| i.level.as_str()).collect();
        assert!(levels.contains("error") && levels.len() >= 2, "{levels:?}");
        let titles: BTreeSet<&str> = issues.iter().map(|i| i.title.as_str()).collect();
        assert!(titles.len() >= 45, "{titles:?}");
        assert!(issues.iter().all(|i| i.user_count <= i.event_count));
        assert!(issues.iter().filter(|i| i.user_count > 1).count() >= 30);
        let statuses: BTreeSet<&str> = issues.iter().map(|i| i.status.as_str()).collect();
        assert!(statuses.contains("unresolved") && statuses.len() >= 2, "{statuses:?}");

        // Every event has an environment and a release: their tag counts add up per issue.
        let (mut envs, mut releases) = (BTreeSet::new(), BTreeSet::new());
        for i in &issues {
            let env = t.db.issue_tag_values(i.id, "environment").await.unwrap();
            let rel = t.db.issue_tag_values(i.id, "release").await.unwrap();
            assert_eq!(env.iter().map(|(_, n)| n).sum::<i64>(), i.event_count, "{}", i.title);
            assert_eq!(rel.iter().map(|(_, n)| n).sum::<i64>(), i.event_count, "{}", i.title);
            envs.extend(env.into_iter().map(|(v, _)| v));
            releases.extend(rel.into_iter().map(|(v, _)| v));
            assert!(i.first_seen <= i.last_seen);
        }
        assert_eq!(envs, BTreeSet::from(["development".into(), "production".into(), "staging".into()]));
        assert!(releases.len() >= 5 && releases.iter().all(|r: &String| r.starts_with("app@1.")), "{releases:?}");
        let hot = issues.iter().max_by_key(|i| i.event_count).unwrap();
        let browsers = t.db.issue_tag_values(hot.id, "region").await.unwrap();
        assert_eq!(browsers.len(), 3, "{browsers:?}");

        // A stored event is a whole normalized event that agrees with its row.
        let row = t.db.issue_events(hot.id, 1).await.unwrap().remove(0);
        let json = t.db.event_json(1, &row.event_id).await.unwrap().unwrap();
        assert_eq!(json["event_id"], row.event_id.as_str());
        assert_eq!((json["timestamp"].as_f64().unwrap() * 1000.0).round() as i64, row.timestamp);
        assert_eq!(json["environment"].as_str(), row.environment.as_deref());
        assert_eq!(json["release"].as_str(), row.release.as_deref());
        assert_eq!(json["title"].as_str(), Some(hot.title.as_str()));
        match &row.user_key {
            Some(key) => assert_eq!(format!("id:{}", json["user"]["id"].as_str().unwrap()), *key),
            None => assert!(json.get("user").is_none()),
        }
        assert!(json["breadcrumbs"]["values"][0]["timestamp"].is_number());

        // The same seed makes the same issues: a second run adds events to them.
        stdout(&faultline(&url, &["seed", "--project", "1", "--events", "100", "--issues", "60", "--days", "1"]));
        assert_eq!(t.db.project_issues(1, 1000).await.unwrap().len(), 60);
        assert_eq!(t.db.count_events(1).await.unwrap(), 3100);
        assert_eq!(t.db.issues_with_wrong_counts(1).await.unwrap(), Vec::<i64>::new());

        let missing = faultline(&url, &["seed", "--project", "9", "--events", "10", "--issues", "2"]);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("no project with id 9"));
        let bad = faultline(&url, &["seed", "--project", "1", "--events", "10", "--issues", "20"]);
        assert!(String::from_utf8_lossy(&bad.stderr).contains("at most --events"));
        t
    })
    .await;
}

/// The read bench against Faultline itself: a signed-in page is measured, a page without a
/// session is an error (the redirect to the login page), with exact request counts.
#[tokio::test]
async fn bench_read_measures_the_real_server() {
    let t = TestDb::sqlite().await;
    let url = t.url.clone();
    stdout(&faultline(&url, &["project", "create", "shop"]));
    stdout(&faultline(
        &url,
        &["user", "create", "--email", "ops@example.com", "--admin", "--password", "benchmark-pw"],
    ));
    stdout(&faultline(&url, &["seed", "--project", "1", "--events", "500", "--issues", "40"]));
    let base = start_server(&t).await;

    let login = reqwest::Client::new()
        .post(format!("{base}/_fn/login"))
        .form(&[("email", "ops@example.com"), ("password", "benchmark-pw")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("faultline_session="), "{cookie}");

    let bench = |extra: &[&str]| {
        let base = base.clone();
        let mut args: Vec<String> = ["bench-read", "--url", &base, "--requests", "30", "--concurrency", "3", "--json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                faultline("sqlite://unused", &args)
            })
            .await
            .unwrap()
        }
    };
    let signed_in = bench(&["--path", "/projects/1", "--header", &format!("Cookie: {cookie}")]).await;
    let out = stdout(&signed_in);
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let page = &report["paths"][0];
    assert_eq!(
        (page["requests"].as_u64(), page["ok"].as_u64(), page["errors"].as_u64()),
        (Some(30), Some(30), Some(0))
    );
    assert!(page["mean_bytes"].as_f64().unwrap() > 1000.0, "{page}");
    assert!(page["p95_ms"].as_f64().unwrap() > 0.0);

    let anonymous = bench(&["--path", "/projects/1"]).await;
    assert!(!anonymous.status.success(), "every request failed, so the command fails");
    let out = String::from_utf8(anonymous.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    let page = &report["paths"][0];
    assert_eq!((page["requests"].as_u64(), page["errors"].as_u64()), (Some(30), Some(30)));
    assert!(page["first_error"].as_str().unwrap().contains("Location: /login?next=/projects/1"), "{page}");
    t.finish().await;
}
