//! Grouping: which issue an event belongs to. Pure (no I/O).
//!
//! Works like Sentry's "newstyle" grouping: the SDK's fingerprint (where `{{ default }}` expands
//! to the default key), else the exception chain with its stack traces (in-app frames when there
//! are any), else a stack trace, else the message with its variable parts replaced. The event is
//! read defensively: any field may be missing or of the wrong type.

mod frames;
mod message;
#[cfg(test)]
mod tests;

pub use message::normalize_message;

use frames::{culprit_frame, frames_of, grouping_function, stacktrace_components};
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The grouping strategy version stored with every grouping; bump when the algorithm changes.
pub const GROUPING_VERSION: i32 = 1;

/// Longest title and culprit, in characters.
const MAX_TEXT: usize = 200;

/// The outcome of grouping one event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grouping {
    pub version: i32,
    /// 32 lowercase hex chars (first 16 bytes of a SHA-256 over the components).
    pub hash: String,
    /// What made the key, human readable, in order, e.g. ["exception type: ZeroDivisionError",
    /// "frame: app.views divide", ...] or ["fingerprint: my-key"], ["message: Invalid user <int>"].
    /// Shown to users as "why grouped".
    pub components: Vec<String>,
    /// e.g. "ZeroDivisionError: division by zero", or the first line of the message. At most 200
    /// chars (truncated with "…").
    pub title: String,
    /// e.g. "app.views in divide", or "" when there is nothing. At most 200 chars.
    pub culprit: String,
    /// "error" for events with an exception, "default" otherwise (like Sentry's event type).
    pub kind: String,
    /// The outermost exception's type and value (for UI/metadata), when there is an exception.
    pub exception_type: Option<String>,
    pub exception_value: Option<String>,
}

/// Groups a (normalized) event given as JSON. Must never panic, whatever the input shape.
pub fn group(event: &Value) -> Grouping {
    let exceptions = exceptions(event);
    let platform = non_empty_str(event, "platform").unwrap_or("");
    let culprit_frames = culprit_frames(event, &exceptions);
    let culprit_frame = culprit_frame(&culprit_frames, platform);

    let default_components = default_components(event, &exceptions);
    let components = match fingerprint(event) {
        Some(entries) => expand_fingerprint(event, &entries, &default_components, &exceptions, culprit_frame.as_ref()),
        None => default_components,
    };

    let outermost = exceptions.last();
    let exception_type = outermost.map(|e| e.type_or_default().to_string());
    let exception_value = outermost.and_then(|e| e.value.clone());
    let title = match outermost {
        Some(exception) => exception_title(exception),
        None => message_title(event),
    };
    let culprit = non_empty_str(event, "culprit")
        .map(str::to_string)
        .or_else(|| culprit_frame.map(|(_, culprit)| culprit))
        .or_else(|| non_empty_str(event, "transaction").map(str::to_string))
        .or_else(|| event.get("request").and_then(|r| non_empty_str(r, "url")).map(str::to_string))
        .unwrap_or_default();

    Grouping {
        version: GROUPING_VERSION,
        hash: hash(GROUPING_VERSION, &components),
        components,
        title: truncate(title.trim(), MAX_TEXT),
        culprit: truncate(culprit.trim(), MAX_TEXT),
        kind: if exceptions.is_empty() { "default" } else { "error" }.to_string(),
        exception_type,
        exception_value,
    }
}

/// Normalizes an event payload and groups it: the event as it is stored (the normalized event
/// with its `grouping`, `title` and `culprit` added), its summary and its grouping.
pub fn normalize_and_group(
    raw: Value,
    ctx: &crate::protocol::event::Context,
) -> Result<(Value, crate::protocol::event::Summary, Grouping), String> {
    let normalized = crate::protocol::event::normalize(raw, ctx)?;
    let grouping = group(&normalized.event);
    let mut ev = normalized.event;
    if let Value::Object(map) = &mut ev {
        map.insert(
            "grouping".into(),
            serde_json::json!({"version": grouping.version, "hash": grouping.hash, "components": grouping.components}),
        );
        map.insert("title".into(), serde_json::json!(grouping.title));
        map.entry("culprit").or_insert(serde_json::json!(grouping.culprit));
    }
    Ok((ev, normalized.summary, grouping))
}

/// A non-empty (after trimming) string field of an object.
pub(crate) fn non_empty_str<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A scalar as text: strings as they are, numbers and booleans printed; `None` for the rest.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The items of a list given as `{values: [...]}` or as a bare list (empty for anything else).
pub(crate) fn list_items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(map)) => match map.get("values") {
            Some(Value::Array(items)) => items.iter().collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// One exception of the chain, as read from the event.
struct Exception<'a> {
    ty: Option<String>,
    value: Option<String>,
    frames: Vec<&'a Value>,
}

impl Exception<'_> {
    /// The type to show: "Error" when the SDK sent none.
    fn type_or_default(&self) -> &str {
        self.ty.as_deref().unwrap_or("Error")
    }
}

/// The exception chain, oldest first (the last is the outermost), without empty entries.
fn exceptions(event: &Value) -> Vec<Exception<'_>> {
    for key in ["exception", "sentry.interfaces.Exception"] {
        let Some(raw) = event.get(key) else { continue };
        // A single exception object, as some old clients send.
        let items = match raw {
            Value::Object(map) if !map.contains_key("values") => vec![raw],
            _ => list_items(Some(raw)),
        };
        let chain: Vec<Exception> = items
            .into_iter()
            .filter(|e| e.is_object())
            .map(|e| Exception {
                ty: e.get("type").and_then(scalar_text).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
                value: e.get("value").and_then(scalar_text).filter(|v| !v.trim().is_empty()),
                frames: frames_of(e.get("stacktrace")),
            })
            .filter(|e| e.ty.is_some() || e.value.is_some() || !e.frames.is_empty())
            .collect();
        if !chain.is_empty() {
            return chain;
        }
    }
    Vec::new()
}

/// The frames of the event's stack trace when it has no exception: the top-level (or legacy)
/// stack trace, else the crashed thread's, else the current thread's, else the only thread's.
fn standalone_frames(event: &Value) -> Vec<&Value> {
    for key in ["stacktrace", "sentry.interfaces.Stacktrace"] {
        let frames = frames_of(event.get(key));
        if !frames.is_empty() {
            return frames;
        }
    }
    let threads: Vec<&Value> = list_items(event.get("threads")).into_iter().filter(|t| t.is_object()).collect();
    let flagged = |flag: &str| threads.iter().find(|t| t.get(flag).and_then(Value::as_bool) == Some(true)).copied();
    let thread = flagged("crashed").or_else(|| flagged("current")).or(match threads.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    thread.map(|t| frames_of(t.get("stacktrace"))).unwrap_or_default()
}

/// The frames the culprit comes from: the last exception that has frames, else the event's
/// stack trace.
fn culprit_frames<'a>(event: &'a Value, exceptions: &[Exception<'a>]) -> Vec<&'a Value> {
    match exceptions.iter().rev().find(|e| !e.frames.is_empty()) {
        Some(exception) => exception.frames.clone(),
        None => standalone_frames(event),
    }
}

/// The components Sentry's default strategy would use: exception chain, stack trace, message,
/// or "fallback".
fn default_components(event: &Value, exceptions: &[Exception]) -> Vec<String> {
    if !exceptions.is_empty() {
        let per_exception: Vec<Vec<String>> = exceptions.iter().map(|e| stacktrace_components(&e.frames)).collect();
        let any_frames = per_exception.iter().any(|frames| !frames.is_empty());
        let mut components = Vec::new();
        for (exception, frames) in exceptions.iter().zip(per_exception) {
            if let Some(ty) = &exception.ty {
                components.push(format!("exception type: {ty}"));
            }
            if any_frames {
                components.extend(frames);
            } else if let Some(value) = &exception.value {
                components.push(format!("exception value: {}", normalize_message(value)));
            }
        }
        if !components.is_empty() {
            return components;
        }
    }
    let frames = stacktrace_components(&standalone_frames(event));
    if !frames.is_empty() {
        return frames;
    }
    if let Some(message) = message_key(event) {
        return vec![format!("message: {message}")];
    }
    vec!["fallback".to_string()]
}

/// A log message: template, parameters and formatted text.
#[derive(Default)]
struct LogEntry {
    template: Option<String>,
    params: Value,
    formatted: Option<String>,
}

/// Reads `logentry`, else `sentry.interfaces.Message`, else `message`, each an object or a string
/// (a string is the formatted message); a top-level `message` string fills in a missing text.
fn log_entry(event: &Value) -> LogEntry {
    let text =
        |v: &Value, key: &str| v.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(String::from);
    let mut entry = LogEntry::default();
    for key in ["logentry", "sentry.interfaces.Message", "message"] {
        match event.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                entry.formatted = Some(s.clone());
                break;
            }
            Some(obj @ Value::Object(_)) => {
                entry.template = text(obj, "message");
                entry.formatted = text(obj, "formatted");
                entry.params = obj.get("params").cloned().unwrap_or(Value::Null);
                if entry.template.is_some() || entry.formatted.is_some() {
                    break;
                }
            }
            _ => {}
        }
    }
    if entry.template.is_none() && entry.formatted.is_none() {
        entry.formatted = text(event, "message");
    }
    entry
}

/// Whether log parameters are present (a non-empty list or object).
fn has_params(params: &Value) -> bool {
    match params {
        Value::Array(list) => !list.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

/// The message part of the key: the template when there is a real one, else the normalized text.
fn message_key(event: &Value) -> Option<String> {
    let entry = log_entry(event);
    if let Some(template) = &entry.template {
        if has_params(&entry.params) || entry.formatted.as_ref().is_some_and(|f| f != template) {
            return Some(template.clone());
        }
    }
    entry.formatted.or(entry.template).map(|text| normalize_message(&text))
}

/// The first non-blank line of a text, trimmed.
fn first_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("")
}

/// `Type: first line of value`, or just the type; just the value when the SDK sent no type
/// (e.g. the synthetic exception @sentry/node attaches to `captureMessage` for its stack).
fn exception_title(exception: &Exception) -> String {
    let ty = exception.type_or_default();
    match (exception.ty.as_deref(), exception.value.as_deref().map(first_line)) {
        (None, Some(value)) if !value.is_empty() => value.to_string(),
        (_, Some(value)) if !value.is_empty() => format!("{ty}: {value}"),
        _ => ty.to_string(),
    }
}

/// The first line of the message, or `<unlabeled event>`.
fn message_title(event: &Value) -> String {
    let entry = log_entry(event);
    let text = match (entry.formatted, entry.template) {
        (Some(formatted), _) => formatted,
        (None, Some(template)) if has_params(&entry.params) => message::format_template(&template, &entry.params),
        (None, Some(template)) => template,
        (None, None) => String::new(),
    };
    let line = first_line(&text);
    if line.is_empty() {
        "<unlabeled event>".to_string()
    } else {
        line.to_string()
    }
}

/// The fingerprint entries as strings (numbers converted, other values skipped); `None` when
/// there is no usable fingerprint.
fn fingerprint(event: &Value) -> Option<Vec<String>> {
    let entries: Vec<String> = match event.get("fingerprint") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(entries).filter(|e| !e.is_empty())
}

/// `{{ name }}`, matched with optional spaces.
static FINGERPRINT_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}$").expect("constant regex"));

/// Replaces the fingerprint entries by components, expanding `{{ default }}`, `{{ type }}`,
/// `{{ transaction }}`, `{{ level }}`, `{{ function }}`, `{{ message }}`, `{{ logger }}` and
/// `{{ tags.NAME }}`.
fn expand_fingerprint(
    event: &Value,
    entries: &[String],
    default_components: &[String],
    exceptions: &[Exception],
    culprit_frame: Option<&(&Value, String)>,
) -> Vec<String> {
    let mut components = Vec::new();
    for entry in entries {
        let variable = FINGERPRINT_VARIABLE.captures(entry.trim()).map(|c| c[1].to_ascii_lowercase());
        let value = match variable.as_deref() {
            Some("default") => {
                components.extend_from_slice(default_components);
                continue;
            }
            Some("type") => exceptions.last().map_or("<no-type>".to_string(), |e| e.type_or_default().to_string()),
            Some("transaction") => non_empty_str(event, "transaction").unwrap_or("<no-transaction>").to_string(),
            Some("level") => non_empty_str(event, "level").unwrap_or("error").to_string(),
            Some("logger") => non_empty_str(event, "logger").unwrap_or("<no-logger>").to_string(),
            Some("message") => message_key(event).unwrap_or_else(|| "<no-message>".to_string()),
            Some("function") => culprit_frame
                .and_then(|(frame, _)| grouping_function(frame))
                .unwrap_or_else(|| "<no-function>".to_string()),
            Some(name) if name.starts_with("tags.") => {
                tag(event, &name[5..]).unwrap_or_else(|| "<no-value>".to_string())
            }
            _ => entry.clone(),
        };
        components.push(format!("fingerprint: {value}"));
    }
    components
}

/// A tag value (tags are an object or a list of `[key, value]` pairs), keys compared
/// case-insensitively.
fn tag(event: &Value, name: &str) -> Option<String> {
    match event.get("tags")? {
        Value::Object(map) => map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| scalar_text(v)),
        Value::Array(pairs) => pairs.iter().find_map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([k, v]) if k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)) => scalar_text(v),
            _ => None,
        }),
        _ => None,
    }
}

/// Hex of the first 16 bytes of SHA-256 over the version and the components, one per line
/// (backslashes and newlines inside a component are escaped so the encoding stays unambiguous).
fn hash(version: i32, components: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(version.to_string().as_bytes());
    for component in components {
        hasher.update(b"\n");
        hasher.update(component.replace('\\', "\\\\").replace('\n', "\\n").as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Truncates to at most `max` characters, ending with "…" when shortened.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
