//! Pure: the in-app frames of an event, a frame's file among a repository's files, and the
//! order of suspect commits. No I/O; `suspects::find` feeds it what git answered.

use serde_json::Value;

/// An in-app frame with a file and a line, as blame needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameRef {
    /// The frame's `filename`, else its `abs_path`.
    pub filename: String,
    pub abs_path: Option<String>,
    pub line: u32,
    pub function: Option<String>,
    /// The source line, when the SDK sent it.
    pub context_line: Option<String>,
    /// 0 for the frame that raised, 1 for its caller, ...
    pub depth: usize,
}

/// The in-app frames (with a file and a line) of the event's stack traces, innermost first:
/// the last exception's frames first (the one raised last), then the earlier exceptions',
/// then a top-level or thread stack trace. At most `limit`.
pub fn in_app_frames(event: &Value, limit: usize) -> Vec<FrameRef> {
    let mut traces: Vec<&Value> = Vec::new();
    if let Some(values) = event.pointer("/exception/values").and_then(Value::as_array) {
        traces.extend(values.iter().rev().filter_map(|e| e.get("stacktrace")));
    }
    if let Some(st) = event.get("stacktrace") {
        traces.push(st);
    }
    if let Some(threads) = event.pointer("/threads/values").and_then(Value::as_array) {
        traces.extend(threads.iter().filter_map(|t| t.get("stacktrace")));
    }
    let mut out: Vec<FrameRef> = Vec::new();
    for st in traces {
        let Some(frames) = st.get("frames").and_then(Value::as_array) else { continue };
        for f in frames.iter().rev() {
            if f.get("in_app").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let text = |k: &str| f.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            let Some(line) = f.get("lineno").and_then(Value::as_u64).filter(|l| *l > 0 && *l < u32::MAX as u64) else {
                continue;
            };
            let Some(filename) = text("filename").or_else(|| text("abs_path")) else { continue };
            let frame = FrameRef {
                filename,
                abs_path: text("abs_path"),
                line: line as u32,
                function: text("function"),
                context_line: f.get("context_line").and_then(Value::as_str).map(str::to_string),
                depth: out.len(),
            };
            if !out.iter().any(|o| o.filename == frame.filename && o.line == frame.line) {
                out.push(frame);
            }
            if out.len() >= limit {
                return out;
            }
        }
    }
    out
}

/// The path components of a frame path: `/srv/app/shop/views.py`, `app:///shop/views.js`,
/// `C:\app\shop\views.py`, `./shop/views.py` → `["srv", "app", "shop", "views.py"]`...
fn components(path: &str) -> Vec<&str> {
    let path = path.split_once("://").map(|(_, rest)| rest).unwrap_or(path);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.split(['/', '\\']).filter(|c| !c.is_empty() && *c != "." && *c != "~").collect()
}

/// The repository file a frame points at: the file whose path is the longest trailing match
/// of the frame's path (by whole components; at least the file name). `None` when no file
/// matches or two match equally well.
pub fn match_file<'a>(frame: &FrameRef, files: &'a [String]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for candidate in [Some(frame.filename.as_str()), frame.abs_path.as_deref()].into_iter().flatten() {
        let want = components(candidate);
        if want.is_empty() {
            continue;
        }
        for file in files {
            let have: Vec<&str> = file.split('/').collect();
            let n = want.iter().rev().zip(have.iter().rev()).take_while(|(a, b)| a == b).count();
            if n == 0 {
                continue;
            }
            // A full match of the repository path beats everything; otherwise more components.
            let score = if n == have.len() { n + 1000 } else { n };
            match best {
                Some((s, f)) if s == score && f != file.as_str() => tie = true,
                Some((s, _)) if s >= score => {}
                _ => {
                    best = Some((score, file.as_str()));
                    tie = false;
                }
            }
        }
    }
    if tie {
        return None;
    }
    best.map(|(_, f)| f)
}

/// How a commit came to be suspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// git blame: the commit last changed the frame's line.
    Blame,
    /// The release's commits (set-commits) include it, and it touched the frame's file.
    Release,
}

/// A suspect commit before ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub sha: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    /// Epoch ms.
    pub committed_at: Option<i64>,
    pub summary: Option<String>,
    /// The repository file and line of the frame it explains.
    pub file: String,
    pub line: Option<u32>,
    pub depth: usize,
    pub via: Via,
}

/// Suspects, best first: one per commit (its best reason kept), commits made after the issue
/// was first seen left out (they cannot have caused it), then by frame depth (the frame that
/// raised first), blame before a file touched by the release, and the most recent commit
/// first. At most `limit`.
pub fn rank(mut candidates: Vec<Candidate>, first_seen: i64, limit: usize) -> Vec<Candidate> {
    candidates.retain(|c| c.committed_at.is_none_or(|at| at <= first_seen));
    candidates.sort_by(|a, b| {
        (a.depth, a.via)
            .cmp(&(b.depth, b.via))
            .then_with(|| b.committed_at.unwrap_or(0).cmp(&a.committed_at.unwrap_or(0)))
            .then_with(|| a.sha.cmp(&b.sha))
    });
    let mut out: Vec<Candidate> = Vec::new();
    for c in candidates {
        if !out.iter().any(|o| o.sha == c.sha) {
            out.push(c);
        }
        if out.len() >= limit {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(filename: &str, abs: Option<&str>) -> FrameRef {
        FrameRef {
            filename: filename.into(),
            abs_path: abs.map(String::from),
            line: 1,
            function: None,
            context_line: None,
            depth: 0,
        }
    }

    #[test]
    fn frames_innermost_first_in_app_only() {
        let event = json!({"exception": {"values": [
            {"type": "KeyError", "stacktrace": {"frames": [
                {"filename": "shop/db.py", "lineno": 3, "in_app": true},
            ]}},
            {"type": "ValueError", "stacktrace": {"frames": [
                {"filename": "django/core.py", "lineno": 10, "in_app": false},
                {"filename": "shop/views.py", "lineno": 20, "in_app": true, "function": "checkout"},
                {"filename": "shop/cart.py", "lineno": 7, "in_app": true},
                {"filename": "shop/nolines.py", "in_app": true},
            ]}},
        ]}});
        let frames = in_app_frames(&event, 10);
        let got: Vec<(&str, u32, usize)> = frames.iter().map(|f| (f.filename.as_str(), f.line, f.depth)).collect();
        assert_eq!(got, [("shop/cart.py", 7, 0), ("shop/views.py", 20, 1), ("shop/db.py", 3, 2)]);
        assert_eq!(in_app_frames(&event, 1).len(), 1);
        assert!(in_app_frames(&json!({"message": "x"}), 5).is_empty());
    }

    #[test]
    fn frame_paths_find_their_repository_file() {
        let files: Vec<String> =
            ["shop/views.py", "shop/cart.py", "admin/views.py", "src/app.js", "README.md"].map(String::from).into();
        let check = |f: FrameRef, want: Option<&str>| assert_eq!(match_file(&f, &files), want, "{f:?}");
        check(frame("shop/views.py", None), Some("shop/views.py"));
        check(frame("/srv/app/shop/views.py", None), Some("shop/views.py"));
        check(frame("views.py", Some("/srv/app/admin/views.py")), Some("admin/views.py"));
        check(frame("views.py", None), None); // two equally good files
        check(frame("app:///src/app.js", None), Some("src/app.js"));
        check(frame("webpack:///./src/app.js", None), Some("src/app.js"));
        check(frame("C:\\build\\shop\\cart.py", None), Some("shop/cart.py"));
        check(frame("other.py", None), None);
    }

    #[test]
    fn ranking_by_depth_reason_and_recency_before_first_seen() {
        let c = |sha: &str, at: i64, depth: usize, via: Via| Candidate {
            sha: sha.into(),
            author_name: None,
            author_email: None,
            committed_at: Some(at),
            summary: None,
            file: "f".into(),
            line: None,
            depth,
            via,
        };
        let ranked = rank(
            vec![
                c("old-deep", 10, 2, Via::Blame),
                c("release", 40, 0, Via::Release),
                c("blame", 30, 0, Via::Blame),
                c("after", 200, 0, Via::Blame),
                c("blame", 30, 1, Via::Blame),
                c("newer-deep", 50, 2, Via::Blame),
            ],
            100,
            10,
        );
        let shas: Vec<&str> = ranked.iter().map(|c| c.sha.as_str()).collect();
        assert_eq!(shas, ["blame", "release", "newer-deep", "old-deep"]);
        assert_eq!(ranked[0].depth, 0);
        assert_eq!(rank(ranked, 100, 1).len(), 1);
    }
}
