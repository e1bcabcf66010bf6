//! The event as the issue page shows it: a small serializable view model, built on the
//! server from the stored (normalized) event JSON by [`build`]. The browser renders it
//! without ever seeing the JSON. Every string is kept verbatim: the view escapes it.

use serde::{Deserialize, Serialize};

/// A key and its value as text.
pub type Pair = (String, String);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub event_id: String,
    /// When it happened (epoch ms).
    pub timestamp: i64,
    pub level: String,
    pub platform: String,
    /// The log message (`logentry.formatted`), if any.
    pub message: Option<String>,
    /// The exception chain, the one raised last (the outermost) first; each following one
    /// is the cause of the one before.
    pub exceptions: Vec<ExceptionView>,
    /// A stack trace that belongs to no exception: a message's (`attach_stacktrace`) or the
    /// crashed thread's.
    pub stacktrace: Option<StackView>,
    /// Oldest first.
    pub breadcrumbs: Vec<Crumb>,
    pub request: Option<RequestView>,
    pub user: Vec<Pair>,
    pub tags: Vec<Pair>,
    pub contexts: Vec<ContextView>,
    pub sdk: Option<SdkView>,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub server_name: Option<String>,
    pub dist: Option<String>,
    pub transaction: Option<String>,
    pub logger: Option<String>,
    pub extra: Vec<Pair>,
    pub fingerprint: Vec<String>,
    /// What ingestion had to drop or fix in the payload.
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExceptionView {
    /// May be empty (a value-only exception).
    pub ty: String,
    pub value: String,
    pub module: Option<String>,
    pub mechanism: Option<MechanismView>,
    pub stack: Option<StackView>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MechanismView {
    pub kind: String,
    pub handled: Option<bool>,
    pub description: Option<String>,
    pub help_link: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StackView {
    /// As sent: the oldest call first, the frame that raised last.
    pub frames: Vec<FrameView>,
    /// Frames dropped from the middle of a very long trace at ingestion.
    pub omitted: Option<u64>,
}

impl StackView {
    pub fn has_in_app(&self) -> bool {
        self.frames.iter().any(|f| f.in_app)
    }

    /// The frame to open first: the innermost in-app frame, else the innermost frame.
    pub fn focus(&self) -> Option<usize> {
        self.frames.iter().rposition(|f| f.in_app).or_else(|| self.frames.len().checked_sub(1))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameView {
    /// Where: the file name, else the absolute path, module or package (may be empty).
    pub file: String,
    /// The absolute path (or URL) when it says more than `file`.
    pub abs_path: Option<String>,
    pub function: Option<String>,
    pub module: Option<String>,
    /// The binary or package of a native or library frame.
    pub package: Option<String>,
    pub lineno: Option<u64>,
    pub colno: Option<u64>,
    /// The application's own code (the SDK said so); everything else is a library frame.
    pub in_app: bool,
    pub instruction_addr: Option<String>,
    /// Source lines around `lineno`, in order.
    pub context: Vec<SourceLine>,
    /// Local variables, values as text.
    pub vars: Vec<Pair>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLine {
    pub lineno: Option<u64>,
    pub code: String,
    /// The line that was executing.
    pub current: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Crumb {
    /// When (epoch ms), if it says.
    pub time: Option<i64>,
    /// `time` minus the event's time (negative: before the error).
    pub offset_ms: Option<i64>,
    /// `default`, `http`, `navigation`, `query`, `error`, ...
    pub kind: String,
    pub category: String,
    pub level: String,
    pub message: String,
    pub data: Vec<Pair>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    pub method: Option<String>,
    pub url: Option<String>,
    pub query: Vec<Pair>,
    pub fragment: Option<String>,
    pub headers: Vec<Pair>,
    pub cookies: Vec<Pair>,
    /// The body as sent, JSON pretty-printed.
    pub body: Option<String>,
    pub env: Vec<Pair>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextView {
    /// The key in `contexts` (`os`, `runtime`, `server-os`, ...).
    pub key: String,
    /// What it describes, for its heading (`Operating system`, `Runtime`, ...).
    pub title: String,
    pub entries: Vec<Pair>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SdkView {
    pub name: String,
    pub version: String,
    pub integrations: Vec<String>,
    pub packages: Vec<String>,
}

/// A time offset as the breadcrumbs show it: `-40ms`, `-1.3s`, `-42s`, `-3m 05s`, `-2h 10m`,
/// `-3d 4h`.
pub fn format_offset(ms: i64) -> String {
    let sign = if ms < 0 {
        "-"
    } else if ms > 0 {
        "+"
    } else {
        ""
    };
    let a = ms.unsigned_abs();
    let body = if a < 1000 {
        format!("{a}ms")
    } else if a < 10_000 {
        format!("{}.{}s", a / 1000, a % 1000 / 100)
    } else if a < 60_000 {
        format!("{}s", a / 1000)
    } else if a < 3_600_000 {
        format!("{}m {:02}s", a / 60_000, a % 60_000 / 1000)
    } else if a < 86_400_000 {
        format!("{}h {:02}m", a / 3_600_000, a % 3_600_000 / 60_000)
    } else {
        format!("{}d {}h", a / 86_400_000, a % 86_400_000 / 3_600_000)
    };
    format!("{sign}{body}")
}

/// How long ago `then` was at `now` (epoch ms): `just now`, `5 min ago`, `3 h ago`, `12 days ago`.
pub fn format_ago(now: i64, then: i64) -> String {
    let secs = (now - then).max(0) / 1000;
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        86_400..=172_799 => "yesterday".into(),
        _ if secs < 86_400 * 365 => format!("{} days ago", secs / 86_400),
        _ => format!("{} years ago", secs / (86_400 * 365)),
    }
}

#[cfg(feature = "ssr")]
pub use build::build;

#[cfg(feature = "ssr")]
mod build {
    use serde_json::{Map, Value};

    use super::*;
    use crate::protocol::event::parse_timestamp;

    /// The view model of a normalized event (the shape `protocol::event::normalize` makes;
    /// anything else is tolerated: a field of an unexpected type is left out).
    pub fn build(ev: &Value) -> EventView {
        let empty = Map::new();
        let ev = ev.as_object().unwrap_or(&empty);
        let timestamp = ev.get("timestamp").and_then(parse_timestamp).unwrap_or(0);
        let threads = thread_stacks(ev);

        let mut exceptions: Vec<ExceptionView> = values(ev.get("exception"))
            .map(|exc| {
                let stack = exc.get("stacktrace").and_then(stack).or_else(|| {
                    // Native crashes put the trace on the thread the exception names.
                    let id = exc.get("thread_id").map(id_text)?;
                    threads.iter().find(|(tid, _, _)| *tid == id).map(|(_, _, s)| s.clone())
                });
                ExceptionView {
                    ty: text(exc.get("type")).unwrap_or_default(),
                    value: text(exc.get("value")).unwrap_or_default(),
                    module: text(exc.get("module")),
                    mechanism: exc.get("mechanism").and_then(Value::as_object).map(|m| MechanismView {
                        kind: text(m.get("type")).unwrap_or_else(|| "generic".into()),
                        handled: m.get("handled").and_then(Value::as_bool),
                        description: text(m.get("description")),
                        help_link: text(m.get("help_link")),
                    }),
                    stack,
                }
            })
            .collect();
        exceptions.reverse();

        let stacktrace = if exceptions.iter().any(|e| e.stack.is_some()) {
            None
        } else {
            ev.get("stacktrace").and_then(stack).or_else(|| {
                // No exception trace: the crashed thread's, else the current one's, else the first.
                threads.iter().find(|(_, crashed, _)| *crashed).or_else(|| threads.first()).map(|(_, _, s)| s.clone())
            })
        };

        EventView {
            event_id: text(ev.get("event_id")).unwrap_or_default(),
            timestamp,
            level: text(ev.get("level")).unwrap_or_else(|| "error".into()),
            platform: text(ev.get("platform")).unwrap_or_else(|| "other".into()),
            message: ev.get("logentry").and_then(|l| text(l.get("formatted")).or_else(|| text(l.get("message")))),
            exceptions,
            stacktrace,
            breadcrumbs: values(ev.get("breadcrumbs")).map(|c| crumb(c, timestamp)).collect(),
            request: ev.get("request").and_then(Value::as_object).map(request),
            user: ev.get("user").and_then(Value::as_object).map(user).unwrap_or_default(),
            tags: pairs(ev.get("tags")),
            contexts: ev.get("contexts").and_then(Value::as_object).map(contexts).unwrap_or_default(),
            sdk: ev.get("sdk").and_then(Value::as_object).map(sdk),
            release: text(ev.get("release")),
            environment: text(ev.get("environment")),
            server_name: text(ev.get("server_name")),
            dist: text(ev.get("dist")),
            transaction: text(ev.get("transaction")),
            logger: text(ev.get("logger")),
            extra: ev
                .get("extra")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), display(v))).collect())
                .unwrap_or_default(),
            fingerprint: ev
                .get("fingerprint")
                .and_then(Value::as_array)
                .map(|l| l.iter().map(display).collect())
                .unwrap_or_default(),
            errors: ev
                .get("errors")
                .and_then(Value::as_array)
                .map(|l| l.iter().map(error).collect())
                .unwrap_or_default(),
        }
    }

    /// The objects of a `{values: [...]}` interface (or of a bare list).
    fn values(v: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
        let list = match v {
            Some(Value::Array(l)) => Some(l),
            Some(Value::Object(o)) => o.get("values").and_then(Value::as_array),
            _ => None,
        };
        list.into_iter().flatten().filter_map(Value::as_object)
    }

    /// A scalar as text; `None` for null, empty strings, objects and lists.
    fn text(v: Option<&Value>) -> Option<String> {
        match v? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Any value as text: strings verbatim, the rest as JSON (pretty when long).
    pub(super) fn display(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(_) | Value::Object(_) => {
                let compact = v.to_string();
                if compact.len() > 80 {
                    serde_json::to_string_pretty(v).unwrap_or(compact)
                } else {
                    compact
                }
            }
            other => other.to_string(),
        }
    }

    /// A thread id, numeric or not, as text.
    fn id_text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// (thread id, crashed, stack) of every thread that has a stack trace.
    fn thread_stacks(ev: &Map<String, Value>) -> Vec<(String, bool, StackView)> {
        values(ev.get("threads"))
            .filter_map(|t| {
                let s = t.get("stacktrace").and_then(stack)?;
                let crashed = t.get("crashed").and_then(Value::as_bool).unwrap_or(false)
                    || t.get("current").and_then(Value::as_bool).unwrap_or(false);
                Some((t.get("id").map(id_text).unwrap_or_default(), crashed, s))
            })
            .collect()
    }

    fn stack(st: &Value) -> Option<StackView> {
        let frames: Vec<FrameView> =
            st.get("frames")?.as_array()?.iter().filter_map(Value::as_object).map(frame).collect();
        if frames.is_empty() {
            return None;
        }
        let omitted = st.get("frames_omitted").and_then(Value::as_array).and_then(|r| {
            let (a, b) = (r.first()?.as_u64()?, r.get(1)?.as_u64()?);
            b.checked_sub(a).filter(|n| *n > 0)
        });
        Some(StackView { frames, omitted })
    }

    fn frame(f: &Map<String, Value>) -> FrameView {
        let filename = text(f.get("filename"));
        let abs_path = text(f.get("abs_path"));
        let module = text(f.get("module"));
        let package = text(f.get("package"));
        let file = filename
            .clone()
            .or_else(|| abs_path.clone())
            .or_else(|| module.clone())
            .or_else(|| package.as_deref().map(basename))
            .unwrap_or_default();
        let lineno = f.get("lineno").and_then(Value::as_u64);
        let lines = |key: &str| -> Vec<String> {
            f.get(key)
                .and_then(Value::as_array)
                .map(|l| l.iter().map(|s| s.as_str().unwrap_or("").to_string()).collect())
                .unwrap_or_default()
        };
        let (pre, post) = (lines("pre_context"), lines("post_context"));
        let mut context = Vec::new();
        if let Some(line) = f.get("context_line").and_then(Value::as_str) {
            let at = |offset: i64| lineno.and_then(|l| u64::try_from(l as i64 + offset).ok()).filter(|n| *n > 0);
            let n = pre.len() as i64;
            for (i, code) in pre.into_iter().enumerate() {
                context.push(SourceLine { lineno: at(i as i64 - n), code, current: false });
            }
            context.push(SourceLine { lineno, code: line.to_string(), current: true });
            for (i, code) in post.into_iter().enumerate() {
                context.push(SourceLine { lineno: at(i as i64 + 1), code, current: false });
            }
        }
        FrameView {
            abs_path: abs_path.filter(|p| Some(p) != filename.as_ref() && *p != file),
            function: text(f.get("function")).or_else(|| text(f.get("raw_function"))),
            module,
            package,
            lineno,
            colno: f.get("colno").and_then(Value::as_u64),
            in_app: f.get("in_app").and_then(Value::as_bool).unwrap_or(false),
            instruction_addr: text(f.get("instruction_addr")),
            context,
            vars: f
                .get("vars")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), display(v))).collect())
                .unwrap_or_default(),
            file,
        }
    }

    /// The last component of a Unix or Windows path.
    fn basename(path: &str) -> String {
        path.rsplit(['/', '\\']).next().filter(|s| !s.is_empty()).unwrap_or(path).to_string()
    }

    fn crumb(c: &Map<String, Value>, event_ms: i64) -> Crumb {
        let time = c.get("timestamp").and_then(parse_timestamp);
        Crumb {
            time,
            offset_ms: time.filter(|_| event_ms > 0).map(|t| t - event_ms),
            kind: text(c.get("type")).unwrap_or_else(|| "default".into()),
            category: text(c.get("category")).unwrap_or_default(),
            level: text(c.get("level")).unwrap_or_else(|| "info".into()),
            message: c.get("message").map(display).unwrap_or_default(),
            data: match c.get("data") {
                Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), display(v))).collect(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![(String::new(), display(other))],
            },
        }
    }

    /// `[[k, v], ...]`, `{k: v}` or `"k=v&..."` (query strings), values as text.
    fn pairs(v: Option<&Value>) -> Vec<Pair> {
        match v {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|p| {
                    let p = p.as_array()?;
                    Some((p.first().map(display)?, p.get(1).map(display).unwrap_or_default()))
                })
                .collect(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), display(v))).collect(),
            _ => Vec::new(),
        }
    }

    fn split_pairs(s: &str, sep: char) -> Vec<Pair> {
        s.split(sep)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect()
    }

    fn request(r: &Map<String, Value>) -> RequestView {
        let query = match r.get("query_string") {
            Some(Value::String(q)) => split_pairs(q.trim_start_matches('?'), '&'),
            other => pairs(other),
        };
        let cookies = match r.get("cookies") {
            Some(Value::String(c)) => split_pairs(c, ';'),
            other => pairs(other),
        };
        let body = match r.get("data") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => serde_json::to_string_pretty(other).ok(),
        };
        RequestView {
            method: text(r.get("method")).map(|m| m.to_ascii_uppercase()),
            url: text(r.get("url")),
            query,
            fragment: text(r.get("fragment")),
            headers: pairs(r.get("headers")),
            cookies,
            body,
            env: pairs(r.get("env")),
        }
    }

    fn user(u: &Map<String, Value>) -> Vec<Pair> {
        const FIRST: [&str; 5] = ["id", "email", "username", "name", "ip_address"];
        let mut out: Vec<Pair> = FIRST
            .iter()
            .filter_map(|k| u.get(*k).filter(|v| !v.is_null()).map(|v| (k.to_string(), display(v))))
            .collect();
        out.extend(
            u.iter()
                .filter(|(k, v)| !FIRST.contains(&k.as_str()) && !v.is_null())
                .map(|(k, v)| (k.clone(), display(v))),
        );
        out
    }

    const CONTEXT_ORDER: [&str; 6] = ["trace", "os", "runtime", "browser", "device", "app"];

    fn contexts(c: &Map<String, Value>) -> Vec<ContextView> {
        let mut out: Vec<ContextView> = c
            .iter()
            .filter_map(|(key, v)| {
                let m = v.as_object()?;
                let kind = text(m.get("type")).unwrap_or_else(|| key.clone());
                let title = match kind.as_str() {
                    "os" => "Operating system".to_string(),
                    "runtime" => "Runtime".into(),
                    "browser" => "Browser".into(),
                    "device" => "Device".into(),
                    "app" => "App".into(),
                    "trace" => "Trace".into(),
                    "gpu" => "GPU".into(),
                    "culture" => "Culture".into(),
                    "cloud_resource" => "Cloud resource".into(),
                    "response" => "Response".into(),
                    "state" => "State".into(),
                    _ => key.clone(),
                };
                // A second context of a kind (`server-os` beside `os`) is named by its key.
                let title = if kind != *key && CONTEXT_ORDER.contains(&kind.as_str()) {
                    format!("{title} ({key})")
                } else {
                    title
                };
                let entries: Vec<Pair> = m
                    .iter()
                    .filter(|(k, v)| k.as_str() != "type" && !v.is_null())
                    .map(|(k, v)| (k.clone(), display(v)))
                    .collect();
                (!entries.is_empty()).then(|| ContextView { key: key.clone(), title, entries })
            })
            .collect();
        let rank = |c: &ContextView| CONTEXT_ORDER.iter().position(|k| *k == c.key).unwrap_or(CONTEXT_ORDER.len());
        out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.key.cmp(&b.key)));
        out
    }

    fn sdk(s: &Map<String, Value>) -> SdkView {
        let strings = |key: &str| -> Vec<String> {
            s.get(key)
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(|v| text(Some(v))).collect())
                .unwrap_or_default()
        };
        SdkView {
            name: text(s.get("name")).unwrap_or_default(),
            version: text(s.get("version")).unwrap_or_default(),
            integrations: strings("integrations"),
            packages: s
                .get("packages")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|p| {
                            let name = text(p.get("name"))?;
                            Some(match text(p.get("version")) {
                                Some(v) => format!("{name} {v}"),
                                None => name,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// A processing error (`{type, name, value}`) as one line.
    fn error(e: &Value) -> String {
        let kind = text(e.get("type")).unwrap_or_else(|| "error".into());
        match (text(e.get("name")), e.get("value").filter(|v| !v.is_null())) {
            (Some(name), Some(v)) => format!("{kind}: {name} = {}", display(v)),
            (Some(name), None) => format!("{kind}: {name}"),
            _ => kind,
        }
    }
}
