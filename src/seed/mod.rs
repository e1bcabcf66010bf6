//! `faultline seed`: fills a project with realistic data through the store's real write path
//! (`Db::write_batch`, what the ingestion digest calls), to measure pages and the API on a
//! database of production size.
//!
//! How it stays fast: each issue's raw event (`catalog`) is normalized and grouped once by
//! the ingestion code and serialized once (`template`). The events are then scheduled in time
//! (a Zipf-like number per issue, spread over `--days`), and a separate thread renders them
//! in time order, each its template's bytes with its own id, time, user, release,
//! environment and tags spliced in and zstd-compressed as ingestion compresses it, while the
//! writer stores batches of 512 in one transaction each, as the digest does. Time order keeps
//! event ids, first/last seen and hourly counts as real ingestion would have left them.

pub mod catalog;
mod rng;
pub mod template;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;

use crate::bench::{thousands, IdSource};
use crate::digest::with_retries;
use crate::model::IssueChange;
use crate::store::ingest::{NewEvent, Stored};
use crate::store::{now_ms, Db};
use catalog::Platform;
use rng::Rng;
use template::{Template, User, Values};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Releases `app@1.0.0` to `app@1.9.0`, deployed at even intervals over the seeded days.
const RELEASES: usize = 10;
/// Share of the issues that are log messages rather than exceptions.
const MESSAGE_SHARE: f64 = 0.08;
/// Exponent of the Zipf law of events per issue (1: the n-th issue has 1/n of the first's).
const ZIPF: f64 = 1.05;

/// Options of `faultline seed`.
#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    /// The project to fill (its id, the last part of its DSN).
    #[arg(long)]
    pub project: i64,
    /// Number of events to store.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Number of issues (distinct grouping keys) they form; at most --events.
    #[arg(long, default_value_t = 10_000)]
    pub issues: u32,
    /// The events happen over this many days, up to now.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Random seed: the same seed makes the same issues, users and distribution (event ids
    /// are new on every run, so a second run adds events to the same issues).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Events per transaction (the ingestion digest writes at most 512).
    #[arg(long, default_value_t = crate::digest::MAX_BATCH, hide = true)]
    pub batch: usize,
    /// Afterwards, check every issue's counters against the rows they count.
    #[arg(long)]
    pub verify: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub project_id: i64,
    pub events: u64,
    pub issues: u64,
    pub users: u64,
    pub resolved: u64,
    pub ignored: u64,
    pub regressions: u64,
    /// Issues per platform name.
    pub platforms: Vec<(String, u64)>,
    pub message_issues: u64,
    pub template_secs: f64,
    pub write_secs: f64,
    pub events_per_sec: f64,
}

impl Report {
    pub fn text(&self) -> String {
        let platforms: Vec<String> = self.platforms.iter().map(|(p, n)| format!("{p} {}", thousands(*n))).collect();
        format!(
            "seeded project {}: {} events in {} issues ({}; {} log messages), {} users\n\
             issues resolved {}, ignored {}, regressed {}\n\
             templates {:.1} s, events written in {:.1} s: {} events/s\n",
            self.project_id,
            thousands(self.events),
            thousands(self.issues),
            platforms.join(", "),
            thousands(self.message_issues),
            thousands(self.users),
            thousands(self.resolved),
            thousands(self.ignored),
            thousands(self.regressions),
            self.template_secs,
            self.write_secs,
            thousands(self.events_per_sec.round() as u64),
        )
    }
}

/// Where an issue is headed once its events are in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fate {
    Open,
    /// Fixed: no events after its last one, resolved at the end.
    Resolve,
    Ignore,
    /// Resolved at this time while events keep coming, so the store reopens it.
    Regress(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Envs {
    All,
    Only(&'static str),
}

/// One issue's shape over time.
#[derive(Clone, Debug)]
struct IssuePlan {
    events: u64,
    birth: i64,
    death: i64,
    /// The release that introduced it (no event of it runs an older one).
    intro: usize,
    /// Many of its events in the last hour.
    spike: bool,
    envs: Envs,
    with_users: bool,
    browser: bool,
    fate: Fate,
}

/// The seeded time window and its releases.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: i64,
    now: i64,
}

impl Window {
    fn release_at(&self, k: usize) -> i64 {
        self.start + (self.now - self.start) * k as i64 / RELEASES as i64
    }

    /// The release deployed to production at `t`.
    fn release_index(&self, t: i64) -> usize {
        let span = (self.now - self.start).max(1);
        (((t - self.start).max(0) as i128 * RELEASES as i128 / span as i128) as usize).min(RELEASES - 1)
    }
}

fn release_name(k: usize) -> String {
    format!("app@1.{k}.0")
}

/// Events per rank: at least one each, the rest by a Zipf law (few hot issues, a long tail).
fn zipf_counts(events: u64, issues: usize) -> Vec<u64> {
    let weights: Vec<f64> = (0..issues).map(|r| 1.0 / ((r + 1) as f64).powf(ZIPF)).collect();
    let total: f64 = weights.iter().sum();
    let extra = events - issues as u64;
    let mut counts: Vec<u64> = weights.iter().map(|w| 1 + (extra as f64 * w / total).floor() as u64).collect();
    let mut missing = events - counts.iter().sum::<u64>();
    let mut r = 0;
    while missing > 0 {
        counts[r % issues] += 1;
        missing -= 1;
        r += 1;
    }
    counts
}

/// 0 at 03:00 UTC, 1 at 15:00: when people use the shop.
fn daytime(t: i64) -> f64 {
    let hour = (t.rem_euclid(DAY)) as f64 / HOUR as f64;
    0.5 - 0.5 * ((hour - 3.0) / 24.0 * std::f64::consts::TAU).cos()
}

/// Plans every issue: its number of events (by a random rank), life span, environments and fate.
fn plan_issues(counts_by_rank: &[u64], w: Window, browser: &[bool], rng: &mut Rng) -> Vec<IssuePlan> {
    let n = counts_by_rank.len();
    let mut ranks: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        ranks.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let spikes = (n / 2000).max(1);
    let newborns = (n / 1000).max(1);
    (0..n)
        .map(|i| {
            let rank = ranks[i];
            let events = counts_by_rank[rank];
            // A few middle-ranked issues spike now; a few tail ones appeared in the last hour.
            let spike = rank >= 10.min(n - 1) && rank < (10 + spikes).min(n);
            let newborn = !spike && rank >= n.saturating_sub(newborns) && n > 1;
            let birth = if newborn {
                w.now - rng.range(60_000, HOUR)
            } else if spike || rank < 20 || rng.chance(0.3) {
                w.start
            } else if rng.chance(0.6) {
                // Shortly after a deploy: new code, new errors.
                let k = 1 + rng.below(RELEASES as u64 - 1) as usize;
                w.release_at(k) + rng.range(0, 12 * HOUR)
            } else {
                rng.range(w.start, w.now - 2 * HOUR)
            }
            .min(w.now - 60_000);
            let intro = w.release_index(birth);
            let mut death = w.now;
            if !spike && !newborn && rank >= 20 && intro + 1 < RELEASES && rng.chance(0.25) {
                // Fixed by a later release.
                let k = intro + 1 + rng.below((RELEASES - intro - 1) as u64) as usize;
                death = (w.release_at(k) + rng.range(0, 6 * HOUR)).clamp(birth + 60_000, w.now);
            }
            let envs = match rng.below(20) {
                0 | 1 => Envs::Only("staging"),
                2 => Envs::Only("development"),
                3 => Envs::Only("production"),
                _ => Envs::All,
            };
            let fate = if death < w.now - DAY {
                if rng.chance(0.85) {
                    Fate::Resolve
                } else {
                    Fate::Open
                }
            } else if rank >= 100 && !spike && rng.chance(0.03) {
                Fate::Ignore
            } else if !spike && events >= 5 && death == w.now && rng.chance(0.015) {
                Fate::Regress(birth + ((w.now - birth) as f64 * (0.5 + 0.3 * rng.unit())) as i64)
            } else {
                Fate::Open
            };
            IssuePlan {
                events,
                birth,
                death,
                intro,
                spike,
                envs,
                with_users: rng.chance(0.9),
                browser: browser[i],
                fate,
            }
        })
        .collect()
}

/// When one event of `p` happens: uniform over its life, thinned at night; a spiking
/// issue has most of its events in the last hour.
fn event_time(p: &IssuePlan, w: Window, rng: &mut Rng) -> i64 {
    if p.spike && rng.chance(0.6) {
        return rng.range(w.now - HOUR, w.now);
    }
    let hi = if p.spike { (w.now - HOUR).max(p.birth) } else { p.death };
    let mut t = rng.range(p.birth, hi);
    for _ in 0..8 {
        if rng.unit() < 0.35 + 0.65 * daytime(t) {
            break;
        }
        t = rng.range(p.birth, hi);
    }
    t
}

const FIRST_NAMES: [&str; 16] = [
    "maria", "james", "lea", "noah", "sofia", "lucas", "amara", "kenji", "olga", "diego", "fatima", "liam", "chen",
    "ines", "tomas", "priya",
];
const LAST_NAMES: [&str; 16] = [
    "garcia", "smith", "muller", "rossi", "kowalski", "tanaka", "okafor", "dubois", "silva", "novak", "jensen", "khan",
    "lopez", "brown", "ivanova", "haddad",
];

fn users(n: u64) -> Vec<User> {
    (0..n)
        .map(|i| {
            let first = FIRST_NAMES[(i % 16) as usize];
            let last = LAST_NAMES[((i / 16) % 16) as usize];
            User {
                id: (10_000 + i).to_string(),
                email: format!("{first}.{last}{}@example.com", i / 256),
                ip_address: Some(format!("198.51.{}.{}", (i / 250) % 250, 1 + i % 250)),
            }
        })
        .collect()
}

/// A browser event's (browser, version, operating system, version).
type Device = (&'static str, &'static str, &'static str, &'static str);

const DEVICES: [(Device, u32); 10] = [
    (("Chrome", "126.0.0", "Windows", "10"), 30),
    (("Chrome", "126.0.0", "Mac OS X", "10.15.7"), 12),
    (("Safari", "17.5", "Mac OS X", "10.15.7"), 8),
    (("Mobile Safari", "17.5", "iOS", "17.5.1"), 16),
    (("Chrome Mobile", "126.0.0", "Android", "14"), 12),
    (("Firefox", "128.0", "Windows", "10"), 7),
    (("Firefox", "128.0", "Ubuntu", "24.04"), 3),
    (("Edge", "126.0.0", "Windows", "11"), 6),
    (("Samsung Internet", "25.0", "Android", "13"), 3),
    (("Chrome", "125.0.0", "Windows", "10"), 3),
];
const ENVIRONMENTS: [(&str, u32); 3] = [("production", 78), ("staging", 16), ("development", 6)];
const REGIONS: [(&str, u32); 3] = [("eu-west-1", 45), ("us-east-1", 40), ("ap-southeast-2", 15)];
const TIERS: [(&str, u32); 3] = [("free", 60), ("pro", 30), ("enterprise", 10)];

fn server_name(env: &str, rng: &mut Rng) -> &'static str {
    match env {
        "production" => rng.pick(&["web-1", "web-2", "web-3", "web-4", "worker-1", "worker-2"]),
        "staging" => rng.pick(&["staging-web-1", "staging-worker-1"]),
        _ => rng.pick(&["dev-1", "dev-2"]),
    }
}

/// A batch for the writer: the events, which issue plan each belongs to, and when the
/// first one happened.
struct Batch {
    events: Vec<NewEvent>,
    plans: Vec<u32>,
    first: i64,
}

/// Renders `schedule` (time, issue) into batches of stored events, in order.
struct Renderer {
    templates: Vec<Template>,
    plans: Vec<IssuePlan>,
    users: Vec<User>,
    releases: Vec<String>,
    window: Window,
    rng: Rng,
    ids: IdSource,
}

impl Renderer {
    fn event(&mut self, t: i64, i: usize) -> NewEvent {
        let p = &self.plans[i];
        let w = self.window;
        let rng = &mut self.rng;
        let env = match p.envs {
            Envs::Only(env) => env,
            Envs::All => rng.weighted(&ENVIRONMENTS),
        };
        let current = w.release_index(t);
        let mut release = match rng.below(20) {
            0 => current.saturating_sub(2),
            1..=3 => current.saturating_sub(1),
            _ => current,
        };
        // Staging gets the next release a while before production does.
        if env == "staging" && current + 1 < RELEASES && t > w.release_at(current + 1) - (w.now - w.start) / 30 {
            release = current + 1;
        }
        let release = release.max(p.intro);
        let user = if p.with_users && rng.chance(0.88) {
            // Some users run into many more errors than others.
            let u = rng.unit();
            Some(&self.users[((u * u) * self.users.len() as f64) as usize % self.users.len()])
        } else {
            None
        };
        let browser_user;
        let user = match (user, p.browser) {
            (Some(u), true) => Some(u),
            (Some(u), false) => {
                browser_user = User { ip_address: None, ..u.clone() };
                Some(&browser_user)
            }
            (None, _) => None,
        };
        let device = rng.weighted(&DEVICES);
        let (id, _) = self.ids.next();
        let values = Values {
            event_id: std::str::from_utf8(&id).unwrap_or_default(),
            timestamp_ms: t,
            received_ms: (t + rng.range(20, 1500)).min(w.now),
            user,
            release: &self.releases[release],
            environment: env,
            server_name: server_name(env, rng),
            browser: (device.0, device.1),
            os: (device.2, device.3),
            region: rng.weighted(&REGIONS),
            tier: rng.weighted(&TIERS),
        };
        self.templates[i].event(&values)
    }
}

/// Builds the issues' templates: one raw event each, drawn until its grouping key is new.
fn build_templates(
    n: usize,
    project_id: i64,
    seed: u64,
    now: i64,
) -> anyhow::Result<(Vec<Template>, Vec<Platform>, u64)> {
    let mut templates = Vec::with_capacity(n);
    let mut platforms = Vec::with_capacity(n);
    let mut hashes = HashSet::with_capacity(n);
    let mut messages = 0;
    for i in 0..n {
        let mut rng = Rng::derive(seed, i as u64);
        let platform = rng.weighted(&Platform::WEIGHTS);
        let message_only = rng.chance(MESSAGE_SHARE);
        let level = if message_only {
            rng.weighted(&[("warning", 45), ("info", 35), ("error", 20)])
        } else {
            rng.weighted(&[("error", 88), ("fatal", 7), ("warning", 5)])
        };
        let mut attempt = 0;
        let template = loop {
            let mut raw = catalog::raw_event(platform, message_only, level, &mut rng);
            if attempt >= 30 {
                // The lists ran out of new combinations: a fingerprint keeps the issue apart.
                raw["fingerprint"] = serde_json::json!(["{{ default }}", format!("seed-{i}")]);
            }
            let t = Template::new(raw, project_id, now).map_err(anyhow::Error::msg)?;
            if hashes.insert(t.grouping_hash().to_string()) {
                break t;
            }
            attempt += 1;
        };
        messages += u64::from(message_only);
        templates.push(template);
        platforms.push(platform);
    }
    Ok((templates, platforms, messages))
}

/// Fills `args.project` and returns what was done; `progress` prints a line every few seconds.
pub async fn run(db: &Db, args: &SeedArgs, progress: bool) -> anyhow::Result<Report> {
    let n = args.issues as usize;
    if n == 0 || args.events < n as u64 {
        bail!("--issues must be at least 1 and at most --events");
    }
    if args.days == 0 {
        bail!("--days must be at least 1");
    }
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    if db.project_by_id(args.project).await?.is_none() {
        bail!("no project with id {}", args.project);
    }
    let now = now_ms();
    let window = Window { start: now - i64::from(args.days) * DAY, now };

    let started = Instant::now();
    let (templates, platforms, messages) = build_templates(n, args.project, args.seed, now)?;
    let browser: Vec<bool> = platforms.iter().map(|p| p.is_browser()).collect();
    let mut rng = Rng::derive(args.seed, u64::MAX - 1);
    let plans = plan_issues(&zipf_counts(args.events, n), window, &browser, &mut rng);
    let mut schedule: Vec<(i64, u32)> = Vec::with_capacity(args.events as usize);
    for (i, p) in plans.iter().enumerate() {
        for _ in 0..p.events {
            schedule.push((event_time(p, window, &mut rng), i as u32));
        }
    }
    schedule.sort_unstable();
    let template_secs = started.elapsed().as_secs_f64();

    let user_count = (args.events / 200).clamp(20, 5000);
    let fates: Vec<Fate> = plans.iter().map(|p| p.fate).collect();
    let mut resolve_at: Vec<(i64, usize)> = fates
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match f {
            Fate::Regress(at) => Some((*at, i)),
            _ => None,
        })
        .collect();
    resolve_at.sort_unstable();
    let mut resolve_at = resolve_at.into_iter().peekable();

    // Rendering (CPU) runs on its own thread, a few batches ahead of the writer.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let mut renderer = Renderer {
        templates,
        plans,
        users: users(user_count),
        releases: (0..RELEASES).map(release_name).collect(),
        window,
        rng: Rng::derive(args.seed, u64::MAX),
        ids: IdSource::new(),
    };
    let batch_size = args.batch;
    let render = std::thread::spawn(move || {
        for chunk in schedule.chunks(batch_size) {
            let batch = Batch {
                events: chunk.iter().map(|&(t, i)| renderer.event(t, i as usize)).collect(),
                plans: chunk.iter().map(|&(_, i)| i).collect(),
                first: chunk[0].0,
            };
            if tx.blocking_send(batch).is_err() {
                return;
            }
        }
    });

    // SQLite: checkpoint beside the writer as the server does (automatic checkpoints are off).
    let checkpoints = matches!(db, Db::Sqlite(_)).then(|| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Err(e) = db.checkpoint().await {
                    tracing::debug!("WAL checkpoint: {e}");
                }
            }
        })
    });

    let write_started = Instant::now();
    let mut issue_ids: Vec<Option<i64>> = vec![None; n];
    let mut regressed: HashSet<i64> = HashSet::new();
    let mut written = 0u64;
    let mut last_print = Instant::now();
    let result: anyhow::Result<()> = async {
        while let Some(batch) = rx.recv().await {
            while let Some(&(at, i)) = resolve_at.peek() {
                if at > batch.first {
                    break;
                }
                resolve_at.next();
                if let Some(id) = issue_ids[i] {
                    with_retries(|| db.update_issues(std::slice::from_ref(&id), &IssueChange::Resolve, None)).await?;
                }
            }
            // Retried like the digest retries: the checkpoint beside it can make SQLite busy.
            let outcomes =
                with_retries(|| db.write_batch(&batch.events, &[], &[])).await.context("writing a batch of events")?;
            for (outcome, &i) in outcomes.iter().zip(&batch.plans) {
                if let Stored::Event { issue_id, regression, .. } = *outcome {
                    issue_ids[i as usize] = Some(issue_id);
                    if regression {
                        regressed.insert(issue_id);
                    }
                }
            }
            written += batch.events.len() as u64;
            if progress && last_print.elapsed() >= Duration::from_secs(5) {
                last_print = Instant::now();
                let secs = write_started.elapsed().as_secs_f64();
                eprintln!(
                    "seed: {} of {} events ({:.0}%), {} events/s",
                    thousands(written),
                    thousands(args.events),
                    written as f64 * 100.0 / args.events as f64,
                    thousands((written as f64 / secs) as u64)
                );
            }
        }
        Ok(())
    }
    .await;
    drop(rx);
    let _ = render.join();
    if let Some(task) = checkpoints {
        task.abort();
    }
    result?;
    let write_secs = write_started.elapsed().as_secs_f64();

    let (mut resolved, mut ignored) = (0, 0);
    for (i, fate) in fates.iter().enumerate() {
        let (Some(id), status) = (issue_ids[i], fate) else { continue };
        match status {
            Fate::Resolve => {
                with_retries(|| db.update_issues(std::slice::from_ref(&id), &IssueChange::Resolve, None)).await?;
                resolved += 1;
            }
            Fate::Ignore => {
                with_retries(|| {
                    db.update_issues(
                        std::slice::from_ref(&id),
                        &IssueChange::Ignore { minutes: None, events: None },
                        None,
                    )
                })
                .await?;
                ignored += 1;
            }
            Fate::Open | Fate::Regress(_) => {}
        }
    }
    if let Db::Sqlite(_) = db {
        db.checkpoint().await?;
    }
    if args.verify {
        let wrong = db.issues_with_wrong_counts(args.project).await?;
        if !wrong.is_empty() {
            bail!(
                "{} issues have counters that disagree with their rows, e.g. {:?}",
                wrong.len(),
                &wrong[..wrong.len().min(10)]
            );
        }
    }

    let mut by_platform: Vec<(String, u64)> = Vec::new();
    for (p, _) in Platform::WEIGHTS {
        by_platform.push((p.name().to_string(), platforms.iter().filter(|q| **q == p).count() as u64));
    }
    Ok(Report {
        project_id: args.project,
        events: written,
        issues: issue_ids.iter().filter(|i| i.is_some()).count() as u64,
        users: user_count,
        resolved,
        ignored,
        regressions: regressed.len() as u64,
        platforms: by_platform,
        message_issues: messages,
        template_secs,
        write_secs,
        events_per_sec: written as f64 / write_secs.max(1e-9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_counts_add_up_with_a_long_tail() {
        let c = zipf_counts(1_000_000, 10_000);
        assert_eq!(c.iter().sum::<u64>(), 1_000_000);
        assert!(c.iter().all(|&n| n >= 1));
        assert!(c[0] > 50_000 && c[0] < 150_000, "{}", c[0]);
        assert!(c[9_999] < 20, "{}", c[9_999]);
        assert!(c.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(zipf_counts(5, 5), vec![1; 5]);
    }

    #[test]
    fn plans_stay_in_the_window() {
        let now = 1_750_000_000_000;
        let w = Window { start: now - 14 * DAY, now };
        let counts = zipf_counts(50_000, 2_000);
        let mut rng = Rng::new(9);
        let plans = plan_issues(&counts, w, &vec![false; 2_000], &mut rng);
        assert_eq!(plans.iter().map(|p| p.events).sum::<u64>(), 50_000);
        assert!(plans.iter().any(|p| p.spike));
        assert!(plans.iter().any(|p| p.fate == Fate::Resolve));
        assert!(plans.iter().any(|p| matches!(p.envs, Envs::Only(_))));
        for p in &plans {
            assert!(w.start <= p.birth && p.birth < p.death && p.death <= now, "{p:?}");
            assert_eq!(p.intro, w.release_index(p.birth));
            for _ in 0..20 {
                let t = event_time(p, w, &mut rng);
                assert!(p.birth <= t && t <= p.death, "{t} {p:?}");
            }
        }
        assert_eq!((w.release_index(w.start), w.release_index(now)), (0, RELEASES - 1));
        assert_eq!(w.release_index(w.release_at(3)), 3);
    }

    #[test]
    fn templates_have_distinct_grouping_keys() {
        let (templates, platforms, _) = build_templates(400, 1, 5, 1_750_000_000_000).unwrap();
        let hashes: HashSet<&str> = templates.iter().map(Template::grouping_hash).collect();
        assert_eq!(hashes.len(), 400);
        for (p, _) in Platform::WEIGHTS {
            assert!(platforms.contains(&p), "{p:?}");
        }
    }
}
