//! A local git clone, read with the `git` command: resolve a revision, list its files,
//! blame one line, fetch. Blocking (child processes): call from `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The commit that last changed a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlameLine {
    pub sha: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    /// Epoch ms.
    pub author_time: Option<i64>,
    pub summary: Option<String>,
}

pub struct Repo {
    path: PathBuf,
}

impl Repo {
    pub fn open(path: &Path) -> Repo {
        Repo { path: path.to_path_buf() }
    }

    fn git(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.path)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The commit a revision names (`HEAD`, a sha, a tag), if the clone has it.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        if rev.starts_with('-') {
            return None;
        }
        let spec = format!("{rev}^{{commit}}");
        self.git(&["rev-parse", "--verify", "--quiet", &spec]).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }

    /// Fetches every remote (for a release commit the clone does not have yet).
    pub fn fetch(&self) -> bool {
        self.git(&["fetch", "--all", "--quiet"]).is_some()
    }

    /// The files of a commit, repository-relative.
    pub fn files(&self, commit: &str) -> Vec<String> {
        self.git(&["ls-tree", "-r", "--name-only", "-z", commit])
            .map(|s| s.split('\0').filter(|f| !f.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The commit that last changed `line` of `file` as of `commit`.
    pub fn blame(&self, commit: &str, file: &str, line: u32) -> Option<BlameLine> {
        let range = format!("{line},{line}");
        let out = self.git(&["blame", "--porcelain", "-L", &range, commit, "--", file])?;
        parse_porcelain(&out)
    }
}

/// The first entry of `git blame --porcelain`.
fn parse_porcelain(out: &str) -> Option<BlameLine> {
    let mut lines = out.lines();
    let sha = lines.next()?.split_whitespace().next()?.to_string();
    if sha.len() < 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) || sha.bytes().all(|b| b == b'0') {
        return None; // not committed yet
    }
    let mut b = BlameLine { sha, author_name: None, author_email: None, author_time: None, summary: None };
    for l in lines {
        if l.starts_with('\t') {
            break;
        }
        let (key, value) = l.split_once(' ').unwrap_or((l, ""));
        match key {
            "author" => b.author_name = Some(value.to_string()),
            "author-mail" => b.author_email = Some(value.trim_matches(['<', '>']).to_string()),
            "author-time" => b.author_time = value.parse::<i64>().ok().map(|s| s * 1000),
            "summary" => b.summary = Some(value.to_string()),
            _ => {}
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain() {
        let out =
            "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c 2 2 1\nauthor Ada Lovelace\nauthor-mail <ada@example.com>\n\
                   author-time 1700000000\nauthor-tz +0000\nsummary Divide by the count\nfilename shop/views.py\n\
                   \t    return total / count\n";
        let b = parse_porcelain(out).unwrap();
        assert_eq!(b.sha, "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c");
        assert_eq!(b.author_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(b.author_email.as_deref(), Some("ada@example.com"));
        assert_eq!(b.author_time, Some(1_700_000_000_000));
        assert_eq!(b.summary.as_deref(), Some("Divide by the count"));
        assert!(parse_porcelain(&format!("{} 1 1 1\nauthor Not Committed Yet\n", "0".repeat(40))).is_none());
        assert!(parse_porcelain("").is_none());
    }
}
