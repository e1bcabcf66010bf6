//! Suspect commits: the commits that likely caused an issue.
//!
//! For the in-app frames of the issue's latest event, innermost first, the commit that last
//! changed the frame's line (`git blame` in the project's local clone, at the event's release
//! commit when the release API gave one, else at `HEAD`), plus the commits of the event's
//! release (`set-commits`) that touched the frame's file. Commits made after the issue was
//! first seen are left out; the rest are ranked by frame depth, then blame before release,
//! then recency (`rank`). No GitHub or GitLab app: a clone on the Faultline host is enough.

pub mod git;
pub mod rank;

use std::path::PathBuf;

use crate::model::{Issue, Project, ReleaseCommit, SuspectCommit, Suspects};
use crate::store::events::{EventEnd, FullEvent};
use crate::store::{Db, Result};
use rank::{Candidate, FrameRef, Via};

/// In-app frames looked at (the innermost ones).
const FRAMES: usize = 8;

/// The issue's suspect commits, best first, at most `limit`.
pub async fn find(db: &Db, issue: &Issue, project: &Project, limit: usize) -> Result<Suspects> {
    match db.issue_event_at(issue.id, EventEnd::Latest).await? {
        Some(event) => for_event(db, issue, project, &event, limit).await,
        None => Ok(note("The issue has no stored event.")),
    }
}

/// The suspect commits of one event of the issue.
pub async fn for_event(db: &Db, issue: &Issue, project: &Project, event: &FullEvent, limit: usize) -> Result<Suspects> {
    let frames = rank::in_app_frames(&event.json, FRAMES);
    if frames.is_empty() {
        return Ok(note("The latest event has no in-app frame with a file and a line."));
    }
    let release = match &event.row.release {
        Some(v) => db.release(project.id, v).await?,
        None => None,
    };
    let release_commits = match &release {
        Some(r) => db.release_commits(r.id).await?,
        None => vec![],
    };
    // Where to blame: the release's commit, else its newest commit, else the version itself
    // when it names a commit (a sha, a tag), else HEAD.
    let mut revisions: Vec<String> = Vec::new();
    if let Some(r) = &release {
        revisions.extend(r.ref_commit.clone());
    }
    revisions.extend(release_commits.first().map(|c| c.sha.clone()));
    // Only commits registered through the release API (an API token's word) may make the
    // clone fetch; a version an event names (anyone with the DSN can send one) is looked up
    // in the clone as it is.
    let registered = revisions.len();
    if let Some(v) = &event.row.release {
        revisions.push(v.clone());
        revisions.extend(v.split_once('@').map(|(_, version)| version.to_string()));
    }

    let mut candidates = from_release(&frames, &release_commits);
    let mut note_text = None;
    match project.repository_path.as_deref() {
        Some(path) => {
            let path = PathBuf::from(path);
            let blamed =
                tokio::task::spawn_blocking(move || blame(&path, &revisions, registered, &frames)).await.ok().flatten();
            match blamed {
                Some(found) => candidates.extend(found),
                None => note_text = Some("The project's git clone could not be read.".to_string()),
            }
        }
        None if candidates.is_empty() => {
            note_text =
                Some("Link the project to a git clone on this host (project settings) to see suspect commits.".into())
        }
        None => {}
    }
    let commits: Vec<SuspectCommit> = rank::rank(candidates, issue.first_seen, limit)
        .into_iter()
        .map(|c| suspect(c, project.repository_url.as_deref()))
        .collect();
    if commits.is_empty() && note_text.is_none() {
        note_text = Some("No commit before the issue's first event changed its in-app frames.".into());
    }
    Ok(Suspects { commits, note: note_text, now: crate::store::now_ms() })
}

/// The shortest time between two fetches of one clone caused by page views.
const FETCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Whether `path` may fetch now (and then not again for [`FETCH_INTERVAL`]).
fn fetch_due(path: &std::path::Path) -> bool {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Instant;
    static LAST: Mutex<Option<HashMap<PathBuf, Instant>>> = Mutex::new(None);
    let Ok(mut last) = LAST.lock() else { return false };
    let last = last.get_or_insert_with(HashMap::new);
    match last.get(path) {
        Some(at) if at.elapsed() < FETCH_INTERVAL => false,
        _ => {
            last.insert(path.to_path_buf(), Instant::now());
            true
        }
    }
}

fn note(text: &str) -> Suspects {
    Suspects { commits: vec![], note: Some(text.to_string()), now: crate::store::now_ms() }
}

/// Blame of each frame's line in the clone, at the first revision it has, else at HEAD.
/// When the clone has none of the first `registered` revisions (commits registered through
/// the release API), it fetches first, at most once per [`FETCH_INTERVAL`] per clone, so
/// viewing a page never makes a fetch per view. `None` when the clone cannot be read.
fn blame(
    path: &std::path::Path,
    revisions: &[String],
    registered: usize,
    frames: &[FrameRef],
) -> Option<Vec<Candidate>> {
    let repo = git::Repo::open(path);
    let find = || revisions.iter().find_map(|r| repo.resolve(r));
    let commit = match find() {
        Some(c) => c,
        None if registered > 0 && fetch_due(path) && repo.fetch() => find().or_else(|| repo.resolve("HEAD"))?,
        None => repo.resolve("HEAD")?,
    };
    let files = repo.files(&commit);
    let mut out = Vec::new();
    for frame in frames {
        let Some(file) = rank::match_file(frame, &files) else { continue };
        if let Some(b) = repo.blame(&commit, file, frame.line) {
            out.push(Candidate {
                sha: b.sha,
                author_name: b.author_name,
                author_email: b.author_email,
                committed_at: b.author_time,
                summary: b.summary,
                file: file.to_string(),
                line: Some(frame.line),
                depth: frame.depth,
                via: Via::Blame,
            });
        }
    }
    Some(out)
}

/// The release's commits that touched a frame's file.
fn from_release(frames: &[FrameRef], commits: &[ReleaseCommit]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for c in commits {
        let files: Vec<String> = c.files.iter().filter(|(_, kind)| kind != "D").map(|(p, _)| p.clone()).collect();
        for frame in frames {
            if let Some(file) = rank::match_file(frame, &files) {
                out.push(Candidate {
                    sha: c.sha.clone(),
                    author_name: c.author_name.clone(),
                    author_email: c.author_email.clone(),
                    committed_at: c.committed_at,
                    summary: c.message.as_ref().and_then(|m| m.lines().next()).map(str::to_string),
                    file: file.to_string(),
                    line: None,
                    depth: frame.depth,
                    via: Via::Release,
                });
            }
        }
    }
    out
}

/// Links on GitHub (`/commit/`, `/blob/`) or GitLab (`/-/commit/`, `/-/blob/`).
fn suspect(c: Candidate, repository_url: Option<&str>) -> SuspectCommit {
    let base = repository_url.map(|u| u.trim_end_matches('/').trim_end_matches(".git").to_string());
    let provider = repository_url.and_then(crate::model::repository_name).map(|(_, p)| p);
    let (commit_url, file_url) = match (base, provider) {
        (Some(base), Some("github")) => (
            Some(format!("{base}/commit/{}", c.sha)),
            Some(format!("{base}/blob/{}/{}{}", c.sha, c.file, c.line.map(|l| format!("#L{l}")).unwrap_or_default())),
        ),
        (Some(base), Some("gitlab")) => (
            Some(format!("{base}/-/commit/{}", c.sha)),
            Some(format!("{base}/-/blob/{}/{}{}", c.sha, c.file, c.line.map(|l| format!("#L{l}")).unwrap_or_default())),
        ),
        _ => (None, None),
    };
    SuspectCommit {
        sha: c.sha,
        author_name: c.author_name,
        author_email: c.author_email,
        committed_at: c.committed_at,
        message: c.summary,
        file: c.file,
        line: c.line,
        commit_url,
        file_url,
        via: match c.via {
            Via::Blame => "blame".into(),
            Via::Release => "release".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A version an event names never makes the clone fetch (anyone with the DSN can send
    /// one); a commit registered through the release API does, once per interval.
    #[test]
    fn only_registered_commits_make_the_clone_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "--bare", "origin.git"]);
        git(root, &["clone", "-q", "origin.git", "dev"]);
        std::fs::write(root.join("dev/app.py"), "print(1)\n").unwrap();
        git(&root.join("dev"), &["add", "app.py"]);
        git(&root.join("dev"), &["commit", "-qm", "first"]);
        git(&root.join("dev"), &["push", "-q", "origin", "HEAD:main"]);
        git(root, &["clone", "-q", "origin.git", "work"]);
        std::fs::write(root.join("dev/app.py"), "print(2)\n").unwrap();
        git(&root.join("dev"), &["commit", "-qam", "second"]);
        git(&root.join("dev"), &["push", "-q", "origin", "HEAD:main"]);
        let newer = git(&root.join("dev"), &["rev-parse", "HEAD"]);
        let work = root.join("work");
        let has = |sha: &str| {
            Command::new("git")
                .args(["cat-file", "-e", &format!("{sha}^{{commit}}")])
                .current_dir(&work)
                .status()
                .unwrap()
                .success()
        };
        assert!(!has(&newer));
        // Named by an event only: looked up, not fetched.
        assert!(blame(&work, std::slice::from_ref(&newer), 0, &[]).is_some());
        assert!(!has(&newer), "an event's release made the clone fetch");
        // Registered through the release API: fetched.
        assert!(blame(&work, std::slice::from_ref(&newer), 1, &[]).is_some());
        assert!(has(&newer), "a registered commit was not fetched");
        // And not again within the interval.
        assert!(!fetch_due(&work));
    }
}
