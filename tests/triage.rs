//! The triage layer on both databases: the issue list's filters, sorts and cursor pagination,
//! the actions (resolve, reopen, ignore with its conditions, assign, delete, comment) and
//! who may do what. Events go through the real normalizer, grouping and store write path.

mod common;

use common::{each_db, TestDb};
use faultline::model::{IssueChange, Role, StatsPeriod, User};
use faultline::protocol::event::Context;
use faultline::search::Sort;
use faultline::store::now_ms;
use faultline::triage::{self, ListRequest};
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;

struct World {
    project: i64,
    other_project: i64,
    admin: User,
    member: User,
    outsider: User,
}

async fn world(t: &TestDb) -> World {
    let org = t.db.create_org("acme", "Acme").await.unwrap();
    let (p, _) = t.db.create_project(org.id, "shop", "Shop", "python").await.unwrap();
    let (q, _) = t.db.create_project(org.id, "intranet", "Intranet", "python").await.unwrap();
    let admin = t.db.create_user("admin@example.com", "x", true).await.unwrap();
    let member = t.db.create_user("dev@example.com", "x", false).await.unwrap();
    let outsider = t.db.create_user("other@example.com", "x", false).await.unwrap();
    t.db.set_membership(p.id, member.id, Role::Member).await.unwrap();
    t.db.set_membership(q.id, outsider.id, Role::Member).await.unwrap();
    World { project: p.id, other_project: q.id, admin, member, outsider }
}

/// Stores `n` events of one error (type, function), `age` ms ago, through the real pipeline.
async fn send(t: &TestDb, project: i64, ty: &str, function: &str, extra: Value, n: usize, age: i64) {
    let now = now_ms();
    let mut events = Vec::new();
    for k in 0..n {
        let mut ev = json!({
            "platform": "python",
            "level": "error",
            "timestamp": (now - age) as f64 / 1000.0,
            "exception": {"values": [{"type": ty, "value": format!("{ty} happened"), "stacktrace": {"frames": [
                {"module": "shop.views", "function": function, "filename": "shop/views.py", "lineno": 10, "in_app": true}
            ]}}]},
            "user": {"id": format!("u{}", k % 3)},
        });
        if let (Value::Object(ev), Value::Object(extra)) = (&mut ev, &extra) {
            ev.extend(extra.clone());
        }
        let ctx = Context { event_id: None, received_ms: now, sent_at_ms: None, client_ip: None };
        events.push(faultline::ingest::prepare_event(ev, ctx, project, now).unwrap());
    }
    t.db.write_batch(&events, &[], &[]).await.unwrap();
}

fn req(project: Option<i64>, query: &str, sort: Sort) -> ListRequest {
    ListRequest { project_id: project, query: query.into(), sort, cursor: None, limit: 50, stats: StatsPeriod::Day }
}

/// The titles a user gets for a query, in order.
async fn titles(t: &TestDb, user: &User, r: &ListRequest) -> Vec<String> {
    let list = triage::list(&t.db, user, r).await.unwrap();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    list.items.into_iter().map(|i| i.issue.title).collect()
}

async fn issue_id(t: &TestDb, user: &User, title: &str) -> i64 {
    let list = triage::list(&t.db, user, &req(None, "", Sort::LastSeen)).await.unwrap();
    list.items.iter().find(|i| i.issue.title.starts_with(title)).map(|i| i.issue.id).expect(title)
}

#[tokio::test]
async fn filters_sorts_and_search() {
    each_db(|t| async move {
        let w = world(&t).await;
        // Alpha: many events long ago; Beta: few, recent, in staging; Gamma: a warning
        // with an e-mail user; Delta: in the other project.
        send(
            &t,
            w.project,
            "AlphaError",
            "alpha",
            json!({"environment": "production", "release": "shop@1.0"}),
            6,
            30 * HOUR,
        )
        .await;
        send(&t, w.project, "BetaError", "beta", json!({"environment": "staging", "release": "shop@2.0"}), 2, 0).await;
        send(
            &t,
            w.project,
            "GammaWarning",
            "gamma",
            json!({"level": "warning", "environment": "production", "user": {"email": "ada@example.com"}}),
            3,
            2 * HOUR,
        )
        .await;
        send(&t, w.other_project, "DeltaError", "delta", json!({}), 1, HOUR).await;
        let p = Some(w.project);

        // Data-driven: query and sort → titles (by type), in order.
        let cases: &[(&str, Sort, &[&str])] = &[
            ("", Sort::LastSeen, &["BetaError", "GammaWarning", "AlphaError"]),
            ("", Sort::Events, &["AlphaError", "GammaWarning", "BetaError"]),
            ("", Sort::FirstSeen, &["BetaError", "GammaWarning", "AlphaError"]),
            ("", Sort::Users, &["AlphaError", "BetaError", "GammaWarning"]),
            ("", Sort::Trend, &["BetaError", "GammaWarning", "AlphaError"]),
            ("level:warning", Sort::LastSeen, &["GammaWarning"]),
            ("!level:warning", Sort::LastSeen, &["BetaError", "AlphaError"]),
            ("environment:staging", Sort::LastSeen, &["BetaError"]),
            ("environment:production", Sort::Events, &["AlphaError", "GammaWarning"]),
            ("release:shop@1.0", Sort::LastSeen, &["AlphaError"]),
            ("user.email:ada@example.com", Sort::LastSeen, &["GammaWarning"]),
            ("lastSeen:-24h", Sort::LastSeen, &["BetaError", "GammaWarning"]),
            ("firstSeen:+1d", Sort::LastSeen, &["AlphaError"]),
            ("timesSeen:>2", Sort::Events, &["AlphaError", "GammaWarning"]),
            ("alpha", Sort::LastSeen, &["AlphaError"]),
            ("\"betaerror happened\"", Sort::LastSeen, &["BetaError"]),
            ("shop.views in gamma", Sort::LastSeen, &["GammaWarning"]),
            ("is:unresolved level:error environment:production", Sort::LastSeen, &["AlphaError"]),
            ("is:resolved", Sort::LastSeen, &[]),
            ("100%_", Sort::LastSeen, &[]),
        ];
        for (query, sort, expected) in cases {
            let got = titles(&t, &w.admin, &req(p, query, *sort)).await;
            let got: Vec<&str> = got.iter().map(|t| t.split(':').next().unwrap()).collect();
            assert_eq!(&got, expected, "{} / {query:?} sorted by {sort:?}", t.db.kind());
        }

        // Unknown keys are reported, and the rest of the query still applies.
        let list =
            triage::list(&t.db, &w.admin, &req(p, "browser:firefox level:warning", Sort::LastSeen)).await.unwrap();
        assert_eq!(list.errors.len(), 1);
        assert!(list.errors[0].contains("browser"));
        assert_eq!(list.items.len(), 1);

        // Across projects: what the user may see.
        assert_eq!(titles(&t, &w.admin, &req(None, "", Sort::LastSeen)).await.len(), 4);
        let mine = titles(&t, &w.member, &req(None, "", Sort::LastSeen)).await;
        assert_eq!(mine.len(), 3);
        assert!(!mine.iter().any(|t| t.starts_with("Delta")));
        let theirs = titles(&t, &w.outsider, &req(None, "", Sort::LastSeen)).await;
        assert_eq!(theirs.len(), 1);
        assert!(matches!(
            triage::list(&t.db, &w.outsider, &req(p, "", Sort::LastSeen)).await,
            Err(faultline::error::AppError::NotFound)
        ));

        // The filter menus: the project's environments and releases, most recently seen
        // first; another project's values stay out.
        let envs = t.db.project_tag_values(&[w.project], "environment", 50).await.unwrap();
        assert_eq!(envs, ["staging", "production"]);
        let releases = t.db.project_tag_values(&[w.project], "release", 50).await.unwrap();
        assert_eq!(releases, ["shop@2.0", "shop@1.0"]);
        send(&t, w.other_project, "DeltaError", "delta", json!({"environment": "intranet"}), 1, 0).await;
        assert_eq!(t.db.project_tag_values(&[w.project], "environment", 50).await.unwrap().len(), 2);
        let both = t.db.project_tag_values(&[w.project, w.other_project], "environment", 1).await.unwrap();
        assert_eq!(both, ["intranet"]);

        // Sparklines and badges.
        let list = triage::list(&t.db, &w.admin, &req(p, "", Sort::LastSeen)).await.unwrap();
        let beta = &list.items[0];
        assert_eq!(beta.series.len(), 24);
        assert_eq!(beta.series.iter().sum::<i64>(), 2);
        assert!(beta.is_new);
        let alpha = list.items.iter().find(|i| i.issue.title.starts_with("Alpha")).unwrap();
        assert!(!alpha.is_new);
        assert_eq!(alpha.series.iter().sum::<i64>(), 0, "30 hours ago is outside the 24-hour sparkline");
        let mut two_weeks = req(p, "", Sort::LastSeen);
        two_weeks.stats = StatsPeriod::TwoWeeks;
        let list = triage::list(&t.db, &w.admin, &two_weeks).await.unwrap();
        let alpha = list.items.iter().find(|i| i.issue.title.starts_with("Alpha")).unwrap();
        assert_eq!((alpha.series.len(), alpha.series.iter().sum::<i64>()), (14, 6));
        t
    })
    .await;
}

#[tokio::test]
async fn cursor_pagination_walks_every_issue_once() {
    each_db(|t| async move {
        let w = world(&t).await;
        for k in 0..23 {
            // Distinct counts and times, plus ties on event counts.
            send(&t, w.project, &format!("E{k:02}Error"), &format!("f{k}"), json!({}), 1 + k % 4, (k as i64) * 60_000)
                .await;
        }
        // Every status present: without a status filter the list merges one branch per
        // status, and the pages must still follow one order.
        let all = triage::list(&t.db, &w.admin, &req(Some(w.project), "", Sort::LastSeen)).await.unwrap();
        let ids: Vec<i64> = all.items.iter().map(|i| i.issue.id).collect();
        triage::update(&t.db, &w.admin, &[ids[1], ids[4], ids[9]], &IssueChange::Resolve).await.unwrap();
        let ignore = IssueChange::Ignore { minutes: None, events: None };
        triage::update(&t.db, &w.admin, &[ids[2], ids[10], ids[22]], &ignore).await.unwrap();
        for sort in Sort::ALL {
            let mut seen = Vec::new();
            let mut r = req(Some(w.project), "", sort);
            r.limit = 5;
            let mut pages = 0;
            loop {
                let list = triage::list(&t.db, &w.admin, &r).await.unwrap();
                assert_eq!(list.total, 23);
                seen.extend(list.items.iter().map(|i| i.issue.id));
                pages += 1;
                match list.next_cursor {
                    Some(c) => r.cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(pages, 5, "{sort:?}");
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!((seen.len(), unique.len()), (23, 23), "{sort:?}: no duplicates, no gaps");
            if sort == Sort::LastSeen {
                assert_eq!(seen, ids, "the pages follow the one-page order");
            }
        }
        let mut bad = req(Some(w.project), "", Sort::Events);
        bad.cursor = Some("garbage".into());
        assert!(matches!(triage::list(&t.db, &w.admin, &bad).await, Err(faultline::error::AppError::Invalid(_))));
        t
    })
    .await;
}

#[tokio::test]
async fn actions_change_status_and_are_logged() {
    each_db(|t| async move {
        let w = world(&t).await;
        send(&t, w.project, "OneError", "one", json!({}), 1, 0).await;
        send(&t, w.project, "TwoError", "two", json!({}), 1, 0).await;
        send(&t, w.other_project, "ThreeError", "three", json!({}), 1, 0).await;
        let one = issue_id(&t, &w.admin, "OneError").await;
        let two = issue_id(&t, &w.admin, "TwoError").await;
        let three = issue_id(&t, &w.admin, "ThreeError").await;
        let p = Some(w.project);

        // Bulk resolve moves both out of the default (unresolved) view.
        assert_eq!(triage::update(&t.db, &w.member, &[one, two], &IssueChange::Resolve).await.unwrap(), 2);
        assert!(titles(&t, &w.member, &req(p, "is:unresolved", Sort::LastSeen)).await.is_empty());
        assert_eq!(titles(&t, &w.member, &req(p, "is:resolved", Sort::LastSeen)).await.len(), 2);
        // Doing it again changes nothing and logs nothing.
        assert_eq!(triage::update(&t.db, &w.member, &[one], &IssueChange::Resolve).await.unwrap(), 0);

        // A new event reopens a resolved issue as a regression.
        send(&t, w.project, "OneError", "one", json!({}), 1, 0).await;
        let list = triage::list(&t.db, &w.admin, &req(p, "is:regressed", Sort::LastSeen)).await.unwrap();
        assert_eq!(list.items.len(), 1);
        assert_eq!(list.items[0].issue.id, one);

        // Ignore until 2 more events: the first keeps it ignored, the second brings it back.
        triage::update(&t.db, &w.member, &[two], &IssueChange::Ignore { minutes: None, events: Some(2) })
            .await
            .unwrap();
        send(&t, w.project, "TwoError", "two", json!({}), 1, 0).await;
        assert_eq!(t.db.issue_by_id(two).await.unwrap().unwrap().status, "ignored");
        send(&t, w.project, "TwoError", "two", json!({}), 1, 0).await;
        let issue = t.db.issue_by_id(two).await.unwrap().unwrap();
        assert_eq!((issue.status.as_str(), issue.is_regression, issue.ignore_until_count), ("unresolved", false, None));
        // Ignore for a while: events before the deadline keep it ignored.
        triage::update(&t.db, &w.member, &[two], &IssueChange::Ignore { minutes: Some(60), events: None })
            .await
            .unwrap();
        send(&t, w.project, "TwoError", "two", json!({}), 3, 0).await;
        assert_eq!(t.db.issue_by_id(two).await.unwrap().unwrap().status, "ignored");
        // Ignored forever stays ignored; reopen brings it back.
        triage::update(&t.db, &w.member, &[two], &IssueChange::Ignore { minutes: None, events: None }).await.unwrap();
        send(&t, w.project, "TwoError", "two", json!({}), 5, 0).await;
        assert_eq!(t.db.issue_by_id(two).await.unwrap().unwrap().status, "ignored");
        assert_eq!(titles(&t, &w.member, &req(p, "is:ignored", Sort::LastSeen)).await.len(), 1);
        triage::update(&t.db, &w.member, &[two], &IssueChange::Reopen).await.unwrap();
        assert_eq!(t.db.issue_by_id(two).await.unwrap().unwrap().status, "unresolved");
        assert!(triage::update(&t.db, &w.member, &[two], &IssueChange::Ignore { minutes: Some(0), events: None })
            .await
            .is_err());

        // Assignment, and the filters on it.
        triage::update(&t.db, &w.admin, &[one], &IssueChange::Assign { user_id: Some(w.member.id) }).await.unwrap();
        let issue = t.db.issue_by_id(one).await.unwrap().unwrap();
        assert_eq!(issue.assignee_email.as_deref(), Some("dev@example.com"));
        assert_eq!(titles(&t, &w.member, &req(p, "assigned:me", Sort::LastSeen)).await.len(), 1);
        assert_eq!(titles(&t, &w.admin, &req(p, "assigned:dev@example.com", Sort::LastSeen)).await.len(), 1);
        assert_eq!(titles(&t, &w.admin, &req(p, "is:unassigned", Sort::LastSeen)).await.len(), 1);
        assert_eq!(titles(&t, &w.admin, &req(p, "is:assigned", Sort::LastSeen)).await.len(), 1);
        // Someone without access to the project cannot be assigned.
        assert!(triage::update(&t.db, &w.admin, &[one], &IssueChange::Assign { user_id: Some(w.outsider.id) })
            .await
            .is_err());
        triage::update(&t.db, &w.admin, &[one], &IssueChange::Assign { user_id: None }).await.unwrap();
        assert_eq!(t.db.issue_by_id(one).await.unwrap().unwrap().assignee_id, None);

        // Comments, and the activity log with who did what.
        triage::comment(&t.db, &w.member, one, "Looking into it <b>now</b>").await.unwrap();
        assert!(triage::comment(&t.db, &w.member, one, "   ").await.is_err());
        let kinds: Vec<(String, Option<String>)> =
            t.db.activity(one).await.unwrap().into_iter().map(|a| (a.kind, a.user_email)).collect();
        let expected: Vec<(String, Option<String>)> = [
            ("set_resolved", Some("dev@example.com")),
            ("regression", None),
            ("assigned", Some("admin@example.com")),
            ("unassigned", Some("admin@example.com")),
            ("comment", Some("dev@example.com")),
        ]
        .iter()
        .map(|(k, u)| (k.to_string(), u.map(String::from)))
        .collect();
        assert_eq!(kinds, expected);
        let kinds: Vec<String> = t.db.activity(two).await.unwrap().into_iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["set_resolved", "set_ignored", "unignored", "set_ignored", "set_ignored", "set_unresolved"]);

        // Access: an issue of a project the user cannot see is "not found", even mixed in.
        assert!(matches!(
            triage::update(&t.db, &w.member, &[one, three], &IssueChange::Resolve).await,
            Err(faultline::error::AppError::NotFound)
        ));
        assert_eq!(t.db.issue_by_id(one).await.unwrap().unwrap().status, "unresolved", "nothing changed");
        assert!(matches!(
            triage::update(&t.db, &w.member, &[999_999], &IssueChange::Resolve).await,
            Err(faultline::error::AppError::NotFound)
        ));
        // Deleting takes a project administrator.
        assert!(matches!(triage::delete(&t.db, &w.member, &[one]).await, Err(faultline::error::AppError::Forbidden)));
        assert_eq!(triage::delete(&t.db, &w.admin, &[one]).await.unwrap(), 1);
        assert!(t.db.issue_by_id(one).await.unwrap().is_none());
        // A later event of the same kind starts a new issue.
        send(&t, w.project, "OneError", "one", json!({}), 1, 0).await;
        let again = issue_id(&t, &w.admin, "OneError").await;
        assert_ne!(again, one);
        assert_eq!(t.db.issue_by_id(again).await.unwrap().unwrap().event_count, 1);
        t
    })
    .await;
}

#[tokio::test]
async fn resolved_in_the_next_release_reopens_only_for_a_newer_release() {
    each_db(|t| async move {
        let w = world(&t).await;
        let p = Some(w.project);
        let rel = |v: &str| json!({ "release": v });
        // Release 1.0 started two hours ago, 1.1 an hour ago.
        send(&t, w.project, "OldError", "old", rel("shop@1.0"), 1, 2 * HOUR).await;
        send(&t, w.project, "OneError", "one", rel("shop@1.1"), 2, HOUR).await;
        let one = issue_id(&t, &w.admin, "OneError").await;
        assert_eq!(triage::update(&t.db, &w.member, &[one], &IssueChange::ResolveInNextRelease).await.unwrap(), 1);
        let issue = t.db.issue_by_id(one).await.unwrap().unwrap();
        assert_eq!((issue.status.as_str(), issue.resolved_in_release.as_deref()), ("resolved", Some("shop@1.1")));

        // Events of the current release, of an older one and without a release: still
        // resolved, and counted.
        send(&t, w.project, "OneError", "one", rel("shop@1.1"), 1, 0).await;
        send(&t, w.project, "OneError", "one", rel("shop@1.0"), 1, 0).await;
        send(&t, w.project, "OneError", "one", json!({}), 1, 0).await;
        let issue = t.db.issue_by_id(one).await.unwrap().unwrap();
        assert_eq!((issue.status.as_str(), issue.event_count), ("resolved", 5));

        // A newer release brings it back as a regression.
        send(&t, w.project, "OneError", "one", rel("shop@1.2"), 1, 0).await;
        let issue = t.db.issue_by_id(one).await.unwrap().unwrap();
        assert_eq!((issue.status.as_str(), issue.is_regression, issue.resolved_in_release), ("unresolved", true, None));
        let kinds: Vec<String> = t.db.activity(one).await.unwrap().into_iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["set_resolved_in_next_release", "regression"]);

        // A plain resolve after a next-release one is a change; a newer release then does not
        // matter more than any event.
        triage::update(&t.db, &w.member, &[one], &IssueChange::ResolveInNextRelease).await.unwrap();
        assert_eq!(t.db.issue_by_id(one).await.unwrap().unwrap().resolved_in_release.as_deref(), Some("shop@1.2"));
        assert_eq!(triage::update(&t.db, &w.member, &[one], &IssueChange::Resolve).await.unwrap(), 1);
        assert_eq!(t.db.issue_by_id(one).await.unwrap().unwrap().resolved_in_release, None);
        send(&t, w.project, "OneError", "one", rel("shop@1.0"), 1, 0).await;
        assert_eq!(t.db.issue_by_id(one).await.unwrap().unwrap().status, "unresolved");

        // The releases page: events, new issues and regressions per release, newest first.
        let releases = t.db.release_summaries(w.project).await.unwrap();
        let row = |v: &str| releases.iter().find(|r| r.version == v).cloned().unwrap();
        let versions: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["shop@1.2", "shop@1.1", "shop@1.0"]);
        assert_eq!((row("shop@1.0").events, row("shop@1.0").new_issues, row("shop@1.0").regressions), (3, 1, 1));
        assert_eq!((row("shop@1.1").events, row("shop@1.1").new_issues), (3, 1));
        assert_eq!((row("shop@1.2").events, row("shop@1.2").new_issues, row("shop@1.2").regressions), (1, 0, 1));
        // ... and the filters its links use.
        assert_eq!(titles(&t, &w.member, &req(p, "is:all firstRelease:shop@1.0", Sort::LastSeen)).await.len(), 1);
        assert_eq!(titles(&t, &w.member, &req(p, "is:all release:shop@1.2", Sort::LastSeen)).await.len(), 1);

        // A project that never saw a release: any release is the next one; none is not.
        send(&t, w.other_project, "ThreeError", "three", json!({}), 1, 0).await;
        let three = issue_id(&t, &w.admin, "ThreeError").await;
        triage::update(&t.db, &w.admin, &[three], &IssueChange::ResolveInNextRelease).await.unwrap();
        assert_eq!(t.db.issue_by_id(three).await.unwrap().unwrap().resolved_in_release.as_deref(), Some(""));
        send(&t, w.other_project, "ThreeError", "three", json!({}), 1, 0).await;
        assert_eq!(t.db.issue_by_id(three).await.unwrap().unwrap().status, "resolved");
        send(&t, w.other_project, "ThreeError", "three", rel("intranet@1"), 1, 0).await;
        assert_eq!(t.db.issue_by_id(three).await.unwrap().unwrap().status, "unresolved");
        t
    })
    .await;
}

#[tokio::test]
async fn trend_scores_follow_the_hour_and_counts_stop_at_max_hits() {
    each_db(|t| async move {
        let w = world(&t).await;
        // Within this hour, five events beat one; once the hour has passed without events,
        // the issue that had fewer falls least.
        send(&t, w.project, "FewError", "few", json!({}), 1, 0).await;
        send(&t, w.project, "ManyError", "many", json!({}), 5, 0).await;
        let order = trend_order(&t, &w.admin).await;
        assert_eq!(order, ["ManyError", "FewError"]);
        let hour = now_ms().div_euclid(HOUR);
        assert_eq!(t.db.refresh_trends(hour).await.unwrap(), 0, "scores of this hour are current");
        assert_eq!(t.db.refresh_trends(hour + 1).await.unwrap(), 2);
        let order = trend_order(&t, &w.admin).await;
        assert_eq!(order, ["FewError", "ManyError"]);
        // A day later neither has a score; they sort by last seen.
        assert_eq!(t.db.refresh_trends(hour + 30).await.unwrap(), 2);
        assert_eq!(t.db.refresh_trends(hour + 31).await.unwrap(), 0, "nothing left to age");
        let order = trend_order(&t, &w.admin).await;
        assert_eq!(order, ["ManyError", "FewError"]);

        // Counting stops at MAX_HITS.
        let max = faultline::store::triage::MAX_HITS;
        let now = now_ms();
        let events: Vec<_> = (0..=max)
            .map(|k| {
                // Letters, not digits: grouping ignores the numbers in messages.
                let name: String = [k / 676, k / 26 % 26, k % 26].iter().map(|d| (b'a' + *d as u8) as char).collect();
                let ev = json!({
                    "platform": "python", "level": "error", "timestamp": now as f64 / 1000.0,
                    "message": format!("distinct message {name}"),
                });
                let ctx = Context { event_id: None, received_ms: now, sent_at_ms: None, client_ip: None };
                faultline::ingest::prepare_event(ev, ctx, w.other_project, now).unwrap()
            })
            .collect();
        t.db.write_batch(&events, &[], &[]).await.unwrap();
        let list = triage::list(&t.db, &w.admin, &req(Some(w.other_project), "", Sort::LastSeen)).await.unwrap();
        assert_eq!((list.total, list.total_capped), (max, true));
        let list = triage::list(&t.db, &w.admin, &req(Some(w.other_project), "\"message aah\"", Sort::LastSeen))
            .await
            .unwrap();
        assert_eq!((list.total, list.total_capped), (1, false));
        t
    })
    .await;
}

/// The error types of the issues in trend order.
async fn trend_order(t: &TestDb, user: &User) -> Vec<String> {
    let got = titles(t, user, &req(None, "", Sort::Trend)).await;
    got.iter().map(|s| s.split(':').next().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_project_chart_counts_events_per_hour_and_marks_spikes() {
    each_db(|t| async move {
        let w = world(&t).await;
        // Two events a day ago, three hours of a steady trickle, then a burst this hour
        // over two issues; another project's events stay out.
        send(&t, w.project, "SlowError", "slow", json!({}), 2, 24 * HOUR).await;
        for age in 1..4 {
            send(&t, w.project, "SlowError", "slow", json!({}), 1, age * HOUR).await;
        }
        send(&t, w.project, "BurstError", "burst", json!({}), 25, 0).await;
        send(&t, w.project, "SlowError", "slow", json!({}), 5, 0).await;
        send(&t, w.other_project, "OtherError", "other", json!({}), 7, 0).await;

        let bars = triage::project_chart(&t.db, &w.member, w.project).await.unwrap();
        assert_eq!(bars.len(), triage::CHART_HOURS as usize);
        let now = bars.last().unwrap();
        assert_eq!((now.events, now.spike), (30, true));
        let ago = |h: usize| &bars[bars.len() - 1 - h];
        assert_eq!((ago(1).events, ago(2).events, ago(3).events), (1, 1, 1));
        assert!(!ago(1).spike);
        assert_eq!(ago(24).events, 2);
        assert_eq!(bars.iter().map(|b| b.events).sum::<i64>(), 35);

        // Only for those who may see the project.
        assert!(matches!(
            triage::project_chart(&t.db, &w.outsider, w.project).await,
            Err(faultline::error::AppError::NotFound)
        ));
        t
    })
    .await;
}
