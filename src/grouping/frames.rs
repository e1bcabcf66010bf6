//! Stack frames: what a frame contributes to the grouping key, and which frame is the culprit.

use super::{list_items, non_empty_str};
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// Longest `context_line` used in place of a missing function name.
const MAX_CONTEXT_LINE: usize = 120;

/// Compiles a constant pattern (a bad pattern is a programming error caught by the tests).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant regex")
}

/// `$$Lambda$123/0x0000000800c01234` (and the newer `$$Lambda/0x...`) → `$$Lambda`.
static JAVA_LAMBDA_CLASS: LazyLock<Regex> = LazyLock::new(|| re(r"\$\$Lambda(?:\$\d+)?(?:/(?:0x)?[0-9a-fA-F]+)?"));
/// Generated proxy suffixes: CGLIB enhancers, javassist and Hibernate proxies.
static JAVA_GENERATED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\$\$(?:EnhancerBy|FastClassBy)\w*?CGLIB\$\$[0-9A-Za-z]+|_\$\$_jvst[0-9a-fA-F]*_[0-9a-fA-F]+|\$HibernateProxy\$\w+",
    )
});
/// `$Proxy123` → `$Proxy`.
static JAVA_PROXY: LazyLock<Regex> = LazyLock::new(|| re(r"\$Proxy\d+"));
/// `lambda$foo$0` → `lambda$foo$`.
static JAVA_LAMBDA_METHOD: LazyLock<Regex> = LazyLock::new(|| re(r"(lambda\$[\w$]*?\$)\d+"));
/// Addresses such as `0x1091ab42c` or `+0x1c`.
static HEX_ADDRESS: LazyLock<Regex> = LazyLock::new(|| re(r"\s*\+?\s*\b0x[0-9a-fA-F]+\b"));

/// Removes generated parts from a class, module or function name.
fn normalize_symbol(symbol: &str) -> String {
    // Every pattern below needs a `$` or a `0x`: most names have neither.
    if !symbol.contains('$') && !symbol.contains("0x") {
        return symbol.trim().to_string();
    }
    let s = JAVA_LAMBDA_CLASS.replace_all(symbol, "$$$$Lambda");
    let s = JAVA_GENERATED.replace_all(&s, "");
    let s = JAVA_PROXY.replace_all(&s, "$$Proxy");
    let s = JAVA_LAMBDA_METHOD.replace_all(&s, "$1");
    let s = HEX_ADDRESS.replace_all(&s, "");
    s.trim().to_string()
}

/// The frame's function name as it counts for grouping; anonymous names count as absent.
pub(crate) fn grouping_function(frame: &Value) -> Option<String> {
    let raw = non_empty_str(frame, "function").or_else(|| non_empty_str(frame, "raw_function"))?;
    if matches!(raw, "?" | "<anonymous>" | "<unknown>" | "<redacted>") {
        return None;
    }
    Some(normalize_symbol(raw)).filter(|f| !f.is_empty())
}

/// The lowercased base name of a file path, or `None` when it is a URL or carries no name.
fn file_base_name(path: &str) -> Option<String> {
    let path = path.trim();
    let lower = path.to_ascii_lowercase();
    let is_url = ["http://", "https://", "blob:", "data:"].iter().any(|p| lower.starts_with(p));
    if is_url || matches!(path, "<anonymous>" | "[native code]") {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let base = path.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "<anonymous>" {
        return None;
    }
    Some(base.to_lowercase())
}

/// What a frame contributes to the grouping key, e.g. `frame: app.views divide`, or `None`.
pub(crate) fn frame_component(frame: &Value) -> Option<String> {
    let location = match non_empty_str(frame, "module") {
        Some(module) => Some(normalize_symbol(module)).filter(|m| !m.is_empty()),
        None => non_empty_str(frame, "filename").or_else(|| non_empty_str(frame, "abs_path")).and_then(file_base_name),
    };
    let function = grouping_function(frame);
    let context = match function {
        Some(_) => None,
        None => non_empty_str(frame, "context_line").filter(|line| line.chars().count() <= MAX_CONTEXT_LINE),
    };
    match (location, function, context) {
        (Some(loc), Some(func), _) => Some(format!("frame: {loc} {func}")),
        (None, Some(func), _) => Some(format!("frame: {func}")),
        (Some(loc), None, Some(line)) => Some(format!("frame: {loc} | {line}")),
        (None, None, Some(line)) => Some(format!("frame: | {line}")),
        (Some(loc), None, None) => Some(format!("frame: {loc}")),
        (None, None, None) => None,
    }
}

/// Whether the frame is marked as application code.
fn is_in_app(frame: &Value) -> bool {
    frame.get("in_app").and_then(Value::as_bool).unwrap_or(false)
}

/// The frame objects of a stack trace (`{frames: [...]}` or a bare list), oldest first.
pub(crate) fn frames_of(stacktrace: Option<&Value>) -> Vec<&Value> {
    let frames = match stacktrace {
        Some(Value::Object(map)) => map.get("frames"),
        other => other,
    };
    list_items(frames).into_iter().filter(|f| f.is_object()).collect()
}

/// The frame components of a stack trace: in-app frames only when there are any, without
/// directly recursive frames.
pub(crate) fn stacktrace_components(frames: &[&Value]) -> Vec<String> {
    let any_in_app = frames.iter().any(|f| is_in_app(f));
    let mut components: Vec<String> = Vec::new();
    for frame in frames.iter().filter(|f| !any_in_app || is_in_app(f)) {
        if let Some(component) = frame_component(frame) {
            if components.last() != Some(&component) {
                components.push(component);
            }
        }
    }
    components
}

/// How Sentry names a frame as culprit: `module in function`, `function(file.js)`, or a native
/// function. `None` when the frame has nothing to show.
fn frame_culprit(frame: &Value, event_platform: &str) -> Option<String> {
    let platform = non_empty_str(frame, "platform").unwrap_or(event_platform);
    let function = non_empty_str(frame, "function").or_else(|| non_empty_str(frame, "raw_function"));
    if matches!(platform, "objc" | "cocoa" | "native" | "c") {
        return Some(function.unwrap_or("?").to_string());
    }
    let fileloc = non_empty_str(frame, "module").or_else(|| non_empty_str(frame, "filename"))?;
    let function = function.unwrap_or("?");
    if matches!(platform, "javascript" | "node") {
        Some(format!("{function}({fileloc})"))
    } else {
        Some(format!("{fileloc} in {function}"))
    }
}

/// The culprit frame and its text: walking from the most recent frame, the first in-app frame
/// that names something, else the most recent frame that does. Frames without a (non-anonymous)
/// function name are used only when no frame has one.
pub(crate) fn culprit_frame<'a>(frames: &[&'a Value], event_platform: &str) -> Option<(&'a Value, String)> {
    let candidates: Vec<(&Value, String)> =
        frames.iter().rev().filter_map(|f| frame_culprit(f, event_platform).map(|c| (*f, c))).collect();
    let named = |(frame, _): &&(&Value, String)| grouping_function(frame).is_some();
    candidates
        .iter()
        .filter(named)
        .find(|(frame, _)| is_in_app(frame))
        .or_else(|| candidates.iter().find(named))
        .or_else(|| candidates.first())
        .cloned()
}
