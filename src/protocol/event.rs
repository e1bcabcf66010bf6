//! The event payload: normalization into one shape, and the summary ingestion indexes.
//!
//! [`normalize`] takes whatever an SDK sent (any version, any platform) and returns the event
//! in the modern shape: `exception`, `threads` and `breadcrumbs` as `{values: [...]}`, no
//! `null` list entries, `tags` as `[[key, value], ...]`, `logentry` for messages, legacy
//! `sentry.interfaces.*` keys renamed. Fields of the wrong type are dropped and recorded in
//! the event's `errors` list (as Sentry does), so a bad field never costs the event.

use serde_json::{json, Map, Value};

/// Stack traces longer than this keep their first and last frames (as Relay does).
pub const MAX_FRAMES: usize = 50;
pub const MAX_MESSAGE_CHARS: usize = 8192;
pub const MAX_TAG_VALUE_CHARS: usize = 200;
pub const MAX_TAG_KEY_CHARS: usize = 200;
pub const MAX_BREADCRUMBS: usize = 100;

/// Facts from outside the payload.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The envelope header's `event_id`, which wins over the payload's.
    pub event_id: Option<String>,
    /// When the server received the event (epoch ms).
    pub received_ms: i64,
    /// The envelope header's `sent_at` (epoch ms), to correct the client's clock.
    pub sent_at_ms: Option<i64>,
    /// The client's address, for `user.ip_address: "{{auto}}"`.
    pub client_ip: Option<String>,
}

/// What ingestion indexes about an event (the whole normalized event is stored too).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// 32 lowercase hex characters.
    pub event_id: String,
    /// When it happened, corrected for clock skew (epoch ms).
    pub timestamp_ms: i64,
    pub level: String,
    pub platform: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    /// Who was hit: `id:...`, else `email:...`, `username:...`, `ip:...`.
    pub user_key: Option<String>,
    /// The event's tags plus those derived from it (environment, release, level, os,
    /// browser, runtime, device, server_name, transaction, handled), for tag distributions.
    pub tags: Vec<(String, String)>,
}

/// A normalized event and its summary.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub event: Value,
    pub summary: Summary,
}

const LEVELS: [&str; 5] = ["fatal", "error", "warning", "info", "debug"];

/// Normalizes an event payload. Fails only when the payload is not a JSON object.
pub fn normalize(raw: Value, ctx: &Context) -> Result<Normalized, String> {
    let Value::Object(mut ev) = raw else {
        return Err("the event is not a JSON object".into());
    };
    let mut errors: Vec<Value> = match ev.remove("errors") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let mut n = Normalizer { errors: &mut errors };

    for (legacy, modern) in [
        ("sentry.interfaces.Exception", "exception"),
        ("sentry.interfaces.Stacktrace", "stacktrace"),
        ("sentry.interfaces.Message", "logentry"),
        ("sentry.interfaces.Http", "request"),
        ("sentry.interfaces.User", "user"),
        ("sentry.interfaces.Breadcrumbs", "breadcrumbs"),
        ("sentry.interfaces.Template", "template"),
    ] {
        if let Some(v) = ev.remove(legacy) {
            ev.entry(modern.to_string()).or_insert(v);
        }
    }

    let event_id = ctx
        .event_id
        .as_deref()
        .and_then(normalize_event_id)
        .or_else(|| ev.get("event_id").and_then(Value::as_str).and_then(normalize_event_id))
        .unwrap_or_else(|| {
            if ev.get("event_id").is_some_and(|v| !v.is_null()) {
                n.invalid("event_id", ev.get("event_id"));
            }
            uuid::Uuid::new_v4().simple().to_string()
        });
    ev.insert("event_id".into(), json!(event_id));

    // Time: the client's clock corrected by the skew between `sent_at` and our receipt.
    let timestamp = match ev.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(v) => match parse_timestamp(v) {
            Some(ms) => Some(ms),
            None => {
                n.invalid("timestamp", Some(v));
                None
            }
        },
    };
    let skew = ctx.sent_at_ms.map(|sent| ctx.received_ms - sent).filter(|s| s.abs() > 60_000).unwrap_or(0);
    let mut timestamp_ms = timestamp.map(|t| t + skew).unwrap_or(ctx.received_ms);
    if timestamp_ms > ctx.received_ms + 60_000 {
        // Still in the future: the clock is wrong; our receipt is the best we know.
        timestamp_ms = ctx.received_ms;
    }
    ev.insert("timestamp".into(), json!(timestamp_ms as f64 / 1000.0));
    ev.insert("received".into(), json!(ctx.received_ms as f64 / 1000.0));

    let level = match ev.get("level") {
        None | Some(Value::Null) => "error".to_string(),
        Some(v) => normalize_level(v).unwrap_or_else(|| {
            n.invalid("level", Some(v));
            "error".into()
        }),
    };
    ev.insert("level".into(), json!(level));

    let platform = n.short_string(&mut ev, "platform", 64).unwrap_or_else(|| "other".into());
    ev.insert("platform".into(), json!(platform));
    for (key, max) in [("logger", 64), ("transaction", 200), ("server_name", 200), ("dist", 64), ("culprit", 200)] {
        n.short_string(&mut ev, key, max);
    }
    let release = n.short_string(&mut ev, "release", 200);
    let environment = n.short_string(&mut ev, "environment", 64).or_else(|| Some("production".into()));
    if let Some(env) = &environment {
        ev.insert("environment".into(), json!(env));
    }

    n.tags(&mut ev);
    n.object(&mut ev, "contexts");
    n.object(&mut ev, "extra");
    n.object(&mut ev, "modules");
    n.object(&mut ev, "sdk");
    n.object(&mut ev, "debug_meta");
    n.user(&mut ev, ctx);
    n.request(&mut ev);
    n.message(&mut ev);
    n.fingerprint(&mut ev);
    n.values_list(&mut ev, "breadcrumbs", MAX_BREADCRUMBS);
    n.exception(&mut ev);
    n.threads(&mut ev);
    if let Some(st) = ev.get_mut("stacktrace") {
        if !n.stacktrace(st, "stacktrace") {
            ev.remove("stacktrace");
        }
    }

    let user_key = user_key(ev.get("user"));
    let tags = summary_tags(&ev, &level, release.as_deref(), environment.as_deref());
    if !errors.is_empty() {
        ev.insert("errors".into(), Value::Array(errors));
    }
    Ok(Normalized {
        event: Value::Object(ev),
        summary: Summary { event_id, timestamp_ms, level, platform, release, environment, user_key, tags },
    })
}

/// A 32-hex event id from either form (`9ec79c33...` or a dashed UUID), lowercased.
pub fn normalize_event_id(id: &str) -> Option<String> {
    let hex: String = id.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Epoch milliseconds from an epoch-seconds number or an RFC 3339 string (a string without
/// an offset is UTC, as old Python SDKs send it).
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| (f * 1000.0) as i64),
        Value::String(s) => parse_rfc3339(s),
        _ => None,
    }
}

pub fn parse_rfc3339(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    let parsed = time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339))
        .ok()?;
    Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn normalize_level(v: &Value) -> Option<String> {
    let level = match v {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        // Python logging levels.
        Value::Number(n) => match n.as_i64()? {
            i64::MIN..=10 => "debug".into(),
            11..=20 => "info".into(),
            21..=30 => "warning".into(),
            31..=40 => "error".into(),
            _ => "fatal".into(),
        },
        _ => return None,
    };
    let level = match level.as_str() {
        "warn" => "warning".to_string(),
        "critical" => "fatal".to_string(),
        "log" => "info".to_string(),
        "" => "error".to_string(),
        _ => level,
    };
    LEVELS.contains(&level.as_str()).then_some(level)
}

/// Who was hit, for counting distinct users: the id, else e-mail, username, IP address.
fn user_key(user: Option<&Value>) -> Option<String> {
    let user = user?.as_object()?;
    ["id", "email", "username", "ip_address"].iter().find_map(|k| {
        let v = user.get(*k)?;
        let s = match v {
            Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let prefix = if *k == "ip_address" { "ip" } else { k };
        Some(format!("{prefix}:{}", truncate(&s, 200)))
    })
}

/// The tags of a normalized event: its own plus those derived from it (see [`Summary::tags`]).
pub fn summary_tags(
    ev: &Map<String, Value>,
    level: &str,
    release: Option<&str>,
    env: Option<&str>,
) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| {
        let v = v.trim();
        if !v.is_empty() && !tags.iter().any(|(key, _)| key == k) && tags.len() < 64 {
            tags.push((k.to_string(), truncate(v, MAX_TAG_VALUE_CHARS)));
        }
    };
    add("level", level);
    if let Some(env) = env {
        add("environment", env);
    }
    if let Some(release) = release {
        add("release", release);
    }
    if let Some(s) = ev.get("server_name").and_then(Value::as_str) {
        add("server_name", s);
    }
    if let Some(s) = ev.get("transaction").and_then(Value::as_str) {
        add("transaction", s);
    }
    let contexts = ev.get("contexts").and_then(Value::as_object);
    for (tag, ctx) in [("os", "os"), ("browser", "browser"), ("runtime", "runtime"), ("device", "device")] {
        let Some(c) = contexts.and_then(|c| c.get(ctx)).and_then(Value::as_object) else { continue };
        let name = c.get("name").or_else(|| c.get("model")).or_else(|| c.get("family")).and_then(Value::as_str);
        let version = c.get("version").and_then(Value::as_str);
        match (name, version) {
            (Some(n), Some(v)) if tag != "device" => add(tag, &format!("{n} {v}")),
            (Some(n), _) => add(tag, n),
            _ => {}
        }
    }
    // The affected user's e-mail, for the `user.email:` search (Sentry's `user.email` tag).
    if let Some(email) = ev.get("user").and_then(|u| u.get("email")).and_then(Value::as_str) {
        add("user.email", email);
    }
    if let Some(handled) = ev
        .get("exception")
        .and_then(|e| e.get("values"))
        .and_then(Value::as_array)
        .and_then(|v| v.last())
        .and_then(|e| e.get("mechanism"))
        .and_then(|m| m.get("handled"))
        .and_then(Value::as_bool)
    {
        add("handled", if handled { "yes" } else { "no" });
    }
    if let Some(list) = ev.get("tags").and_then(Value::as_array) {
        for pair in list {
            if let (Some(k), Some(v)) = (pair.get(0).and_then(Value::as_str), pair.get(1).and_then(Value::as_str)) {
                add(k, v);
            }
        }
    }
    tags
}

pub fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// A scalar as a string (numbers and booleans too), for fields SDKs send loosely typed.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

struct Normalizer<'a> {
    errors: &'a mut Vec<Value>,
}

impl Normalizer<'_> {
    /// Records a dropped or replaced field, as Sentry's `errors` entries.
    fn invalid(&mut self, name: &str, value: Option<&Value>) {
        if self.errors.len() >= 100 {
            return;
        }
        let mut value = value.cloned().unwrap_or(Value::Null);
        if let Ok(s) = serde_json::to_string(&value) {
            if s.len() > 200 {
                value = json!(truncate(&s, 200));
            }
        }
        self.errors.push(json!({"type": "invalid_data", "name": name, "value": value}));
    }

    /// Keeps `key` as a trimmed, truncated string (numbers become strings); drops it
    /// otherwise. Returns the value.
    fn short_string(&mut self, ev: &mut Map<String, Value>, key: &str, max: usize) -> Option<String> {
        let v = ev.get(key)?;
        match v {
            Value::Null => {
                ev.remove(key);
                None
            }
            Value::String(_) | Value::Number(_) => {
                let s = scalar_string(v).unwrap_or_default();
                let s = truncate(s.trim(), max);
                if s.is_empty() {
                    ev.remove(key);
                    return None;
                }
                ev.insert(key.into(), json!(s));
                Some(s)
            }
            other => {
                let other = other.clone();
                self.invalid(key, Some(&other));
                ev.remove(key);
                None
            }
        }
    }

    fn object(&mut self, ev: &mut Map<String, Value>, key: &str) {
        match ev.get(key) {
            None | Some(Value::Object(_)) => {}
            Some(Value::Null) => {
                ev.remove(key);
            }
            Some(other) => {
                let other = other.clone();
                self.invalid(key, Some(&other));
                ev.remove(key);
            }
        }
    }

    /// `tags`: an object or a list of `[key, value]` pairs → a list of string pairs.
    fn tags(&mut self, ev: &mut Map<String, Value>) {
        let Some(raw) = ev.remove("tags") else { return };
        let pairs: Vec<(String, Value)> = match raw {
            Value::Object(map) => map.into_iter().collect(),
            Value::Array(list) => list
                .into_iter()
                .filter_map(|p| match p {
                    Value::Array(mut kv) if kv.len() == 2 => {
                        let v = kv.pop()?;
                        let k = kv.pop().and_then(|k| scalar_string(&k))?;
                        Some((k, v))
                    }
                    other => {
                        self.invalid("tags", Some(&other));
                        None
                    }
                })
                .collect(),
            Value::Null => return,
            other => {
                self.invalid("tags", Some(&other));
                return;
            }
        };
        let mut out = Vec::new();
        for (k, v) in pairs {
            let key = truncate(k.trim(), MAX_TAG_KEY_CHARS);
            match scalar_string(&v) {
                Some(s) if !key.is_empty() => out.push(json!([key, truncate(s.trim(), MAX_TAG_VALUE_CHARS)])),
                _ if v.is_null() => {}
                _ => self.invalid(&format!("tags.{key}"), Some(&v)),
            }
        }
        if !out.is_empty() {
            ev.insert("tags".into(), Value::Array(out));
        }
    }

    fn user(&mut self, ev: &mut Map<String, Value>, ctx: &Context) {
        self.object(ev, "user");
        let Some(Value::Object(user)) = ev.get_mut("user") else { return };
        for key in ["id", "username", "email", "ip_address", "name"] {
            match user.get(key) {
                None | Some(Value::String(_)) => {}
                Some(Value::Number(n)) => {
                    let s = n.to_string();
                    user.insert(key.into(), json!(s));
                }
                Some(Value::Null) => {
                    user.remove(key);
                }
                Some(other) => {
                    let other = other.clone();
                    user.remove(key);
                    self.invalid(&format!("user.{key}"), Some(&other));
                }
            }
        }
        if user.get("ip_address").and_then(Value::as_str) == Some("{{auto}}") {
            match &ctx.client_ip {
                Some(ip) => user.insert("ip_address".into(), json!(ip)),
                None => user.remove("ip_address"),
            };
        }
    }

    fn request(&mut self, ev: &mut Map<String, Value>) {
        self.object(ev, "request");
        let Some(Value::Object(req)) = ev.get_mut("request") else { return };
        // Headers and cookies: an object or a list of pairs → a list of string pairs.
        for key in ["headers", "env"] {
            let Some(raw) = req.remove(key) else { continue };
            let pairs: Vec<Value> = match raw {
                Value::Object(map) => {
                    map.into_iter().map(|(k, v)| json!([k, scalar_string(&v).unwrap_or_default()])).collect()
                }
                Value::Array(list) => list
                    .into_iter()
                    .filter_map(|p| {
                        let k = p.get(0).and_then(scalar_string)?;
                        let v = p.get(1).map(|v| scalar_string(v).unwrap_or_else(|| v.to_string()))?;
                        Some(json!([k, v]))
                    })
                    .collect(),
                _ => continue,
            };
            req.insert(key.into(), Value::Array(pairs));
        }
        if let Some(url) = req.get("url").filter(|u| !u.is_string() && !u.is_null()).cloned() {
            req.remove("url");
            self.invalid("request.url", Some(&url));
        }
    }

    /// `message` / `logentry` → `logentry {message, params, formatted}`.
    fn message(&mut self, ev: &mut Map<String, Value>) {
        let mut logentry = match ev.remove("logentry") {
            Some(Value::Object(map)) => map,
            Some(Value::String(s)) => [("formatted".to_string(), json!(s))].into_iter().collect(),
            Some(Value::Null) | None => Map::new(),
            Some(other) => {
                self.invalid("logentry", Some(&other));
                Map::new()
            }
        };
        match ev.remove("message") {
            Some(Value::String(s)) => {
                logentry.entry("formatted").or_insert(json!(s));
            }
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    logentry.entry(k).or_insert(v);
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => self.invalid("message", Some(&other)),
        }
        for key in ["message", "formatted"] {
            match logentry.get(key) {
                Some(Value::String(s)) => {
                    let s = truncate(s, MAX_MESSAGE_CHARS);
                    logentry.insert(key.into(), json!(s));
                }
                None => {}
                Some(other) => {
                    let other = other.clone();
                    logentry.remove(key);
                    self.invalid(&format!("logentry.{key}"), Some(&other));
                }
            }
        }
        if !logentry.contains_key("formatted") {
            if let Some(template) = logentry.get("message").and_then(Value::as_str) {
                let formatted = format_params(template, logentry.get("params"));
                logentry.insert("formatted".into(), json!(formatted));
            }
        }
        if logentry.get("formatted").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
            ev.insert("logentry".into(), Value::Object(logentry));
        }
    }

    fn fingerprint(&mut self, ev: &mut Map<String, Value>) {
        let Some(raw) = ev.remove("fingerprint") else { return };
        match raw {
            Value::Array(list) => {
                let parts: Vec<Value> = list.iter().filter_map(scalar_string).map(Value::String).collect();
                if parts.len() != list.len() {
                    self.invalid("fingerprint", Some(&Value::Array(list)));
                }
                if !parts.is_empty() {
                    ev.insert("fingerprint".into(), Value::Array(parts));
                }
            }
            Value::Null => {}
            other => self.invalid("fingerprint", Some(&other)),
        }
    }

    /// A `{values: [...]}` or bare-list interface → `{values: [...]}` without nulls, at
    /// most `max` entries (the last ones).
    fn values_list(&mut self, ev: &mut Map<String, Value>, key: &str, max: usize) -> bool {
        let Some(raw) = ev.remove(key) else { return false };
        let list = match raw {
            Value::Array(list) => list,
            Value::Object(mut map) => match map.remove("values") {
                Some(Value::Array(list)) => list,
                Some(Value::Null) | None => return false,
                Some(other) => {
                    self.invalid(&format!("{key}.values"), Some(&other));
                    return false;
                }
            },
            Value::Null => return false,
            other => {
                self.invalid(key, Some(&other));
                return false;
            }
        };
        let mut values: Vec<Value> = list.into_iter().filter(Value::is_object).collect();
        if values.len() > max {
            values.drain(..values.len() - max);
        }
        if values.is_empty() {
            return false;
        }
        ev.insert(key.into(), json!({ "values": values }));
        true
    }

    fn exception(&mut self, ev: &mut Map<String, Value>) {
        if !self.values_list(ev, "exception", 32) {
            return;
        }
        let Some(values) = ev.get_mut("exception").and_then(|e| e.get_mut("values")).and_then(Value::as_array_mut)
        else {
            return;
        };
        for (i, exc) in values.iter_mut().enumerate() {
            let Value::Object(exc) = exc else { continue };
            for key in ["type", "value", "module"] {
                match exc.get(key) {
                    None | Some(Value::String(_)) => {}
                    Some(Value::Null) => {
                        exc.remove(key);
                    }
                    Some(other) => {
                        // A number or object as value: keep its text.
                        let text = scalar_string(other).unwrap_or_else(|| other.to_string());
                        exc.insert(key.into(), json!(text));
                    }
                }
            }
            if let Some(Value::String(v)) = exc.get("value") {
                let v = truncate(v, MAX_MESSAGE_CHARS);
                exc.insert("value".into(), json!(v));
            }
            if let Some(st) = exc.get_mut("stacktrace") {
                if !self.stacktrace(st, &format!("exception.values.{i}.stacktrace")) {
                    exc.remove("stacktrace");
                }
            }
        }
    }

    fn threads(&mut self, ev: &mut Map<String, Value>) {
        if !self.values_list(ev, "threads", 256) {
            return;
        }
        let Some(values) = ev.get_mut("threads").and_then(|e| e.get_mut("values")).and_then(Value::as_array_mut) else {
            return;
        };
        for (i, thread) in values.iter_mut().enumerate() {
            let Value::Object(thread) = thread else { continue };
            if let Some(st) = thread.get_mut("stacktrace") {
                if !self.stacktrace(st, &format!("threads.values.{i}.stacktrace")) {
                    thread.remove("stacktrace");
                }
            }
        }
    }

    /// Cleans a stack trace in place; `false` when nothing usable is left.
    fn stacktrace(&mut self, st: &mut Value, path: &str) -> bool {
        let Value::Object(st) = st else {
            let bad = st.clone();
            self.invalid(path, Some(&bad));
            return false;
        };
        let frames = match st.remove("frames") {
            Some(Value::Array(frames)) => frames,
            Some(Value::Null) | None => return false,
            Some(other) => {
                self.invalid(&format!("{path}.frames"), Some(&other));
                return false;
            }
        };
        let mut frames: Vec<Value> = frames.into_iter().filter(Value::is_object).collect();
        for frame in frames.iter_mut() {
            let Value::Object(f) = frame else { continue };
            // One pass over the frame's fields (a lookup per known key cost twice as much).
            f.retain(|key, v| match key.as_str() {
                "lineno" | "colno" => match v {
                    Value::Number(_) => true,
                    Value::String(s) => match s.trim().parse::<u64>() {
                        Ok(n) => {
                            *v = json!(n);
                            true
                        }
                        Err(_) => false,
                    },
                    _ => false,
                },
                "filename" | "abs_path" | "function" | "raw_function" | "module" | "package" | "context_line" => {
                    v.is_string()
                }
                "in_app" => v.is_boolean(),
                "pre_context" | "post_context" => match v {
                    Value::Array(lines) => {
                        for line in lines.iter_mut().filter(|l| !l.is_string()) {
                            *line = json!("");
                        }
                        true
                    }
                    _ => false,
                },
                _ => true,
            });
        }
        if frames.len() > MAX_FRAMES {
            let omitted = frames.len() - MAX_FRAMES;
            let keep_head = MAX_FRAMES / 2;
            frames.drain(keep_head..keep_head + omitted);
            st.insert("frames_omitted".into(), json!([keep_head, keep_head + omitted]));
        }
        if frames.is_empty() {
            return false;
        }
        st.insert("frames".into(), Value::Array(frames));
        true
    }
}

/// Substitutes `%s`-style (and `{}`) placeholders of a log template with its params.
fn format_params(template: &str, params: Option<&Value>) -> String {
    let params: Vec<String> = match params {
        Some(Value::Array(list)) => list.iter().map(|p| scalar_string(p).unwrap_or_else(|| p.to_string())).collect(),
        _ => return template.to_string(),
    };
    let mut out = String::with_capacity(template.len());
    let mut next = params.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('%', Some('%')) => {
                chars.next();
                out.push('%');
            }
            ('%', Some(p)) if "sdifrx".contains(*p) => {
                chars.next();
                match next.next() {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('%');
                    }
                }
            }
            ('{', Some('}')) => {
                chars.next();
                match next.next() {
                    Some(v) => out.push_str(v),
                    None => out.push_str("{}"),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context { received_ms: 1_700_000_000_000, ..Context::default() }
    }

    fn norm(v: Value) -> Normalized {
        normalize(v, &ctx()).expect("normalizes")
    }

    #[test]
    fn minimal_event() {
        let n = norm(json!({}));
        assert_eq!(n.summary.event_id.len(), 32);
        assert_eq!(n.summary.level, "error");
        assert_eq!(n.summary.platform, "other");
        assert_eq!(n.summary.timestamp_ms, 1_700_000_000_000);
        assert_eq!(n.summary.environment.as_deref(), Some("production"));
        assert!(normalize(json!([1]), &ctx()).is_err());
    }

    #[test]
    fn ids_times_and_levels() {
        let n = norm(json!({
            "event_id": "9EC79C33-EC99-42AB-8353-589FCB2E04DC",
            "timestamp": "2023-11-14T22:13:20.500Z",
            "level": "warn",
        }));
        assert_eq!(n.summary.event_id, "9ec79c33ec9942ab8353589fcb2e04dc");
        assert_eq!(n.summary.timestamp_ms, 1_700_000_000_500);
        assert_eq!(n.summary.level, "warning");
        assert_eq!(norm(json!({"timestamp": 1_699_999_000.25})).summary.timestamp_ms, 1_699_999_000_250);
        assert_eq!(norm(json!({"timestamp": "2023-11-14T22:00:00"})).summary.timestamp_ms, 1_699_999_200_000);
        assert_eq!(norm(json!({"level": 40})).summary.level, "error");
        // Bad values are dropped and recorded, not fatal.
        let n = norm(json!({"level": "loud", "timestamp": "yesterday", "event_id": "xyz"}));
        assert_eq!(n.summary.level, "error");
        assert_eq!(n.event["errors"].as_array().unwrap().len(), 3);
        // The envelope's id wins.
        let c = Context { event_id: Some("00000000000000000000000000000001".into()), ..ctx() };
        let n = normalize(json!({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}), &c).unwrap();
        assert_eq!(n.summary.event_id, "00000000000000000000000000000001");
    }

    #[test]
    fn clock_skew_is_corrected() {
        // The client's clock is one hour ahead: sent_at and timestamp both say so.
        let c = Context { sent_at_ms: Some(1_700_003_600_000), ..ctx() };
        let n = normalize(json!({"timestamp": 1_700_003_590.0}), &c).unwrap();
        assert_eq!(n.summary.timestamp_ms, 1_699_999_990_000);
        // A timestamp in the future without sent_at: our receipt.
        assert_eq!(norm(json!({"timestamp": 1_800_000_000})).summary.timestamp_ms, 1_700_000_000_000);
    }

    #[test]
    fn legacy_interfaces_and_shapes() {
        let n = norm(json!({
            "sentry.interfaces.Exception": [{"type": "E", "value": 3, "stacktrace": {"frames": [null, {"function": "f", "lineno": "12"}]}}],
            "sentry.interfaces.Message": {"message": "hello %s", "params": ["world"]},
            "tags": [["a", 1], ["b", null], ["c", "x"]],
            "breadcrumbs": [null, {"message": "m"}],
            "user": {"id": 42},
        }));
        let e = &n.event;
        assert_eq!(e["exception"]["values"][0]["value"], "3");
        assert_eq!(e["exception"]["values"][0]["stacktrace"]["frames"].as_array().unwrap().len(), 1);
        assert_eq!(e["exception"]["values"][0]["stacktrace"]["frames"][0]["lineno"], 12);
        assert_eq!(e["logentry"]["formatted"], "hello world");
        assert_eq!(e["tags"], json!([["a", "1"], ["c", "x"]]));
        assert_eq!(e["breadcrumbs"]["values"].as_array().unwrap().len(), 1);
        assert_eq!(n.summary.user_key.as_deref(), Some("id:42"));
    }

    #[test]
    fn messages() {
        assert_eq!(norm(json!({"message": "plain"})).event["logentry"]["formatted"], "plain");
        let n = norm(json!({"logentry": {"message": "%s of %d", "params": ["a", 2]}}));
        assert_eq!(n.event["logentry"]["formatted"], "a of 2");
        assert_eq!(n.event["logentry"]["message"], "%s of %d");
        let n = norm(json!({"message": {"formatted": "x", "message": "y"}}));
        assert_eq!(n.event["logentry"]["formatted"], "x");
        assert_eq!(norm(json!({"logentry": "as string"})).event["logentry"]["formatted"], "as string");
    }

    #[test]
    fn long_stack_traces_drop_the_middle() {
        let frames: Vec<Value> = (0..80).map(|i| json!({"function": format!("f{i}")})).collect();
        let n = norm(json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}));
        let kept = n.event["exception"]["values"][0]["stacktrace"]["frames"].as_array().unwrap().clone();
        assert_eq!(kept.len(), MAX_FRAMES);
        assert_eq!(kept[0]["function"], "f0");
        assert_eq!(kept[49]["function"], "f79");
    }

    #[test]
    fn user_keys_and_tags() {
        assert_eq!(user_key(Some(&json!({"email": "a@b.c", "ip_address": "1.2.3.4"}))).as_deref(), Some("email:a@b.c"));
        assert_eq!(user_key(Some(&json!({"ip_address": "1.2.3.4"}))).as_deref(), Some("ip:1.2.3.4"));
        let c = Context { client_ip: Some("10.1.1.1".into()), ..ctx() };
        let n = normalize(json!({"user": {"ip_address": "{{auto}}"}}), &c).unwrap();
        assert_eq!(n.summary.user_key.as_deref(), Some("ip:10.1.1.1"));
        let n = norm(json!({
            "release": "1.0", "environment": "prod", "server_name": "web1",
            "contexts": {"os": {"name": "Linux", "version": "6.1"}, "browser": {"name": "Chrome", "version": "120"}},
            "tags": {"custom": "v", "level": "ignored-duplicate"},
            "exception": {"values": [{"type": "E", "mechanism": {"handled": false}}]},
        }));
        let tags: Vec<String> = n.summary.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            tags,
            [
                "level=error",
                "environment=prod",
                "release=1.0",
                "server_name=web1",
                "os=Linux 6.1",
                "browser=Chrome 120",
                "handled=no",
                "custom=v"
            ]
        );
    }
}
