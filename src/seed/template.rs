//! An issue template: one raw event normalized and grouped once by the real ingestion code,
//! serialized once, then cut at its per-event fields so that every seeded event is the
//! template's bytes with that event's values spliced in (no JSON tree per event).
//!
//! Per-event fields are written into the raw event as markers (`@@fl:NAME@@`) before
//! normalization, so normalization and grouping treat them like any other string and the
//! summary tags derived from them (`release`, `environment`, `os`, `browser`...) come out
//! carrying the markers too; each event fills the same markers in its tags.

use serde_json::{json, Value};

use crate::ingest;
use crate::protocol::event::Context;
use crate::store::ingest::NewEvent;
use crate::store::payload::compress_payload;

const OPEN: &str = "@@fl:";
const CLOSE: &str = "@@";

/// The marker of per-event field `name`, e.g. `@@fl:release@@`.
pub fn marker(name: &str) -> String {
    format!("{OPEN}{name}{CLOSE}")
}

/// The event's time minus `ms` milliseconds (breadcrumbs happen just before the event).
pub fn time_marker(ms: u32) -> String {
    marker(&format!("ts-{ms}"))
}

/// Fields that differ per event and are written as text inside a JSON string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    EventId,
    Release,
    Environment,
    ServerName,
    BrowserName,
    BrowserVersion,
    OsName,
    OsVersion,
    Region,
    Tier,
}

impl Field {
    const ALL: [Field; 10] = [
        Field::EventId,
        Field::Release,
        Field::Environment,
        Field::ServerName,
        Field::BrowserName,
        Field::BrowserVersion,
        Field::OsName,
        Field::OsVersion,
        Field::Region,
        Field::Tier,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::EventId => "event_id",
            Field::Release => "release",
            Field::Environment => "environment",
            Field::ServerName => "server_name",
            Field::BrowserName => "browser_name",
            Field::BrowserVersion => "browser_version",
            Field::OsName => "os_name",
            Field::OsVersion => "os_version",
            Field::Region => "region",
            Field::Tier => "tier",
        }
    }

    pub fn marker(self) -> String {
        marker(self.name())
    }
}

/// A place in the serialized event where a per-event value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hole {
    /// Text inside a JSON string.
    Text(Field),
    /// A JSON number: the event's time minus this many milliseconds, in seconds.
    Time(u32),
    /// A JSON number: when the event was received, in seconds.
    Received,
    /// The member `,"user":{...}`, or nothing for an event without a user.
    User,
}

/// Who an event happened to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub ip_address: Option<String>,
}

impl User {
    /// The key ingestion counts distinct users by (`protocol::event` takes the id first).
    pub fn key(&self) -> String {
        format!("id:{}", self.id)
    }
}

/// The values of one event.
#[derive(Clone, Debug)]
pub struct Values<'a> {
    pub event_id: &'a str,
    pub timestamp_ms: i64,
    pub received_ms: i64,
    pub user: Option<&'a User>,
    pub release: &'a str,
    pub environment: &'a str,
    pub server_name: &'a str,
    pub browser: (&'a str, &'a str),
    pub os: (&'a str, &'a str),
    pub region: &'a str,
    pub tier: &'a str,
}

impl Values<'_> {
    fn text(&self, field: Field) -> &str {
        match field {
            Field::EventId => self.event_id,
            Field::Release => self.release,
            Field::Environment => self.environment,
            Field::ServerName => self.server_name,
            Field::BrowserName => self.browser.0,
            Field::BrowserVersion => self.browser.1,
            Field::OsName => self.os.0,
            Field::OsVersion => self.os.1,
            Field::Region => self.region,
            Field::Tier => self.tier,
        }
    }

    /// `s` with every marker replaced by its value.
    fn fill(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find(OPEN) {
            out.push_str(&rest[..start]);
            let after = &rest[start + OPEN.len()..];
            match after.find(CLOSE).and_then(|end| Some((Field::ALL.iter().find(|f| f.name() == &after[..end])?, end)))
            {
                Some((field, end)) => {
                    out.push_str(self.text(*field));
                    rest = &after[end + CLOSE.len()..];
                }
                None => {
                    out.push_str(OPEN);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// One issue's event, prepared once.
#[derive(Debug)]
pub struct Template {
    /// The serialized normalized event around the holes: `chunks[0] hole[0] chunks[1] ...`.
    chunks: Vec<Vec<u8>>,
    holes: Vec<Hole>,
    /// Everything that does not change per event (grouping, level, platform); its tags
    /// carry markers.
    base: NewEvent,
}

impl Template {
    /// Normalizes and groups `raw` as ingestion does, then cuts the result at its markers.
    pub fn new(raw: Value, project_id: i64, received_ms: i64) -> Result<Template, String> {
        let ctx = Context { received_ms, ..Default::default() };
        let (mut ev, summary, grouping) = ingest::normalize_and_group(raw, &ctx).map_err(|e| e.to_string())?;
        let map = ev.as_object_mut().ok_or("not an object")?;
        map.insert("event_id".into(), json!(Field::EventId.marker()));
        map.insert("timestamp".into(), json!(time_marker(0)));
        map.insert("received".into(), json!(marker("received")));
        map.insert("user".into(), json!(marker("user")));
        let bytes = serde_json::to_vec(&ev).map_err(|e| e.to_string())?;
        let (chunks, holes) = cut(&bytes)?;
        let base = NewEvent {
            project_id,
            event_id: String::new(),
            timestamp: 0,
            received_at: 0,
            level: summary.level,
            platform: summary.platform,
            release: None,
            environment: None,
            user_key: None,
            tags: summary.tags,
            grouping,
            payload: Vec::new(),
            attachments: Vec::new(),
        };
        Ok(Template { chunks, holes, base })
    }

    pub fn grouping_hash(&self) -> &str {
        &self.base.grouping.hash
    }

    /// The normalized event JSON with `values` filled in.
    pub fn render(&self, values: &Values) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.chunks.iter().map(Vec::len).sum::<usize>() + 64 * self.holes.len());
        for (i, chunk) in self.chunks.iter().enumerate() {
            out.extend_from_slice(chunk);
            let Some(hole) = self.holes.get(i) else { break };
            match *hole {
                Hole::Text(field) => push_json_text(&mut out, values.text(field)),
                Hole::Time(minus) => push_seconds(&mut out, values.timestamp_ms - i64::from(minus)),
                Hole::Received => push_seconds(&mut out, values.received_ms),
                Hole::User => {
                    if let Some(u) = values.user {
                        out.extend_from_slice(b",\"user\":{\"email\":\"");
                        push_json_text(&mut out, &u.email);
                        out.extend_from_slice(b"\",\"id\":\"");
                        push_json_text(&mut out, &u.id);
                        if let Some(ip) = &u.ip_address {
                            out.extend_from_slice(b"\",\"ip_address\":\"");
                            push_json_text(&mut out, ip);
                        }
                        out.extend_from_slice(b"\"}");
                    }
                }
            }
        }
        out
    }

    /// The event to store: the template's constant parts, this event's values, the
    /// compressed payload.
    pub fn event(&self, values: &Values) -> NewEvent {
        let mut e = self.base.clone();
        e.event_id = values.event_id.to_string();
        e.timestamp = values.timestamp_ms;
        e.received_at = values.received_ms;
        e.release = Some(values.release.to_string());
        e.environment = Some(values.environment.to_string());
        e.user_key = values.user.map(User::key);
        for (_, v) in e.tags.iter_mut() {
            if v.contains(OPEN) {
                *v = values.fill(v);
            }
        }
        // The normalizer tags the user's e-mail right after the context tags, as it would
        // have had the user been in the template.
        if let Some(u) = values.user {
            const BEFORE: [&str; 9] =
                ["level", "environment", "release", "server_name", "transaction", "os", "browser", "runtime", "device"];
            let at = e.tags.iter().position(|(k, _)| !BEFORE.contains(&k.as_str())).unwrap_or(e.tags.len());
            e.tags.insert(at, ("user.email".into(), u.email.clone()));
        }
        e.payload = compress_payload(&self.render(values));
        e
    }
}

/// Splits serialized JSON at its markers. Text markers sit inside strings; a marker that is
/// a whole string and stands for a number (`ts-N`, `received`) takes its quotes with it, and
/// the `user` marker its whole member.
fn cut(bytes: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<Hole>), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let mut chunks = Vec::new();
    let mut holes = Vec::new();
    let mut from = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find(OPEN) {
        let start = search + found;
        let name_start = start + OPEN.len();
        let end = name_start + text[name_start..].find(CLOSE).ok_or("unterminated marker")?;
        let name = &text[name_start..end];
        let after = end + CLOSE.len();
        let (hole, span) = if let Some(field) = Field::ALL.iter().find(|f| f.name() == name) {
            (Hole::Text(*field), (start, after))
        } else if let Some(ms) = name.strip_prefix("ts-") {
            (Hole::Time(ms.parse().map_err(|_| format!("bad marker {name}"))?), quoted(text, start, after)?)
        } else if name == "received" {
            (Hole::Received, quoted(text, start, after)?)
        } else if name == "user" {
            let member = ",\"user\":\"";
            if !text[..start].ends_with(member) || !text[after..].starts_with('"') {
                return Err("the user marker is not a member after another".into());
            }
            (Hole::User, (start - member.len(), after + 1))
        } else {
            return Err(format!("unknown marker {name}"));
        };
        if span.0 < from {
            return Err(format!("overlapping marker {name}"));
        }
        chunks.push(bytes[from..span.0].to_vec());
        holes.push(hole);
        from = span.1;
        search = span.1;
    }
    chunks.push(bytes[from..].to_vec());
    Ok((chunks, holes))
}

/// The span of a marker with the quotes around it (it must be a whole JSON string).
fn quoted(text: &str, start: usize, after: usize) -> Result<(usize, usize), String> {
    if start == 0 || &text[start - 1..start] != "\"" || !text[after..].starts_with('"') {
        return Err("a number marker must be a whole string".into());
    }
    Ok((start - 1, after + 1))
}

/// Appends `s` escaped for the inside of a JSON string.
fn push_json_text(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// Epoch milliseconds as JSON seconds, as normalization writes them (`1714566896.789`).
fn push_seconds(out: &mut Vec<u8>, ms: i64) {
    let _ = serde_json::to_writer(&mut *out, &(ms as f64 / 1000.0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::event;

    fn raw() -> Value {
        json!({
            "platform": "python",
            "level": "error",
            "release": Field::Release.marker(),
            "environment": Field::Environment.marker(),
            "server_name": Field::ServerName.marker(),
            "tags": {"region": Field::Region.marker(), "customer_tier": Field::Tier.marker(), "team": "payments"},
            "contexts": {"os": {"name": Field::OsName.marker(), "version": Field::OsVersion.marker()},
                         "browser": {"name": Field::BrowserName.marker(), "version": Field::BrowserVersion.marker()}},
            "breadcrumbs": {"values": [{"message": "loaded \"cart\"", "timestamp": time_marker(1500)}]},
            "exception": {"values": [{"type": "ValueError", "value": "bad \\ value",
                "stacktrace": {"frames": [{"module": "app.views", "function": "index", "in_app": true}]}}]},
        })
    }

    fn values<'a>(user: Option<&'a User>) -> Values<'a> {
        Values {
            event_id: "0123456789abcdef0123456789abcdef",
            timestamp_ms: 1_714_566_896_789,
            received_ms: 1_714_566_897_001,
            user,
            release: "app@1.2.0",
            environment: "staging",
            server_name: "web-2",
            browser: ("Chrome", "126.0.0"),
            os: ("Windows", "10"),
            region: "eu-west-1",
            tier: "pro \"plus\"",
        }
    }

    /// The rendered payload is what ingestion would have stored for the same event: the
    /// same summary when normalized again, and the row's fields agree with it.
    #[test]
    fn rendered_events_match_what_ingestion_makes() {
        let t = Template::new(raw(), 7, 1_714_000_000_000).unwrap();
        let user = User { id: "4711".into(), email: "jane@example.com".into(), ip_address: Some("203.0.113.9".into()) };
        for user in [Some(&user), None] {
            let v = values(user);
            let e = t.event(&v);
            let json: Value = serde_json::from_slice(&crate::store::payload::decompress_payload(&e.payload)).unwrap();
            assert_eq!(json["event_id"], v.event_id);
            assert_eq!(json["timestamp"].as_f64().unwrap(), 1_714_566_896.789);
            assert_eq!(json["received"].as_f64().unwrap(), 1_714_566_897.001);
            assert_eq!(json["breadcrumbs"]["values"][0]["timestamp"].as_f64().unwrap(), 1_714_566_895.289);
            assert_eq!(json["breadcrumbs"]["values"][0]["message"], "loaded \"cart\"");
            assert_eq!(json["title"], "ValueError: bad \\ value");
            assert_eq!(json["grouping"]["hash"], e.grouping.hash);
            assert!(!String::from_utf8_lossy(&crate::store::payload::decompress_payload(&e.payload)).contains(OPEN));

            let again = event::normalize(json, &Context { received_ms: v.received_ms, ..Default::default() }).unwrap();
            let s = again.summary;
            assert_eq!(s.event_id, e.event_id);
            assert!((s.timestamp_ms - e.timestamp).abs() <= 1);
            assert_eq!((s.level.as_str(), s.platform.as_str()), (e.level.as_str(), e.platform.as_str()));
            assert_eq!((s.release.as_deref(), s.environment.as_deref()), (Some("app@1.2.0"), Some("staging")));
            assert_eq!(s.user_key, e.user_key);
            assert_eq!(s.tags, e.tags);
            assert!(e.tags.contains(&("browser".into(), "Chrome 126.0.0".into())), "{:?}", e.tags);
            assert!(e.tags.contains(&("customer_tier".into(), "pro \"plus\"".into())), "{:?}", e.tags);
            assert!(e.tags.contains(&("server_name".into(), "web-2".into())), "{:?}", e.tags);
        }
        assert_eq!(t.event(&values(Some(&user))).user_key.as_deref(), Some("id:4711"));
    }

    #[test]
    fn bad_markers_are_refused() {
        assert!(cut(b"{\"a\":\"@@fl:nope@@\"}").is_err());
        assert!(cut(b"{\"a\":\"x @@fl:ts-5@@\"}").is_err());
        assert!(cut(b"{\"user\":\"@@fl:user@@\"}").is_err());
        let (chunks, holes) = cut(b"{\"a\":\"v=@@fl:release@@;\",\"t\":\"@@fl:ts-0@@\"}").unwrap();
        assert_eq!(holes, vec![Hole::Text(Field::Release), Hole::Time(0)]);
        assert_eq!(chunks, vec![b"{\"a\":\"v=".to_vec(), b";\",\"t\":".to_vec(), b"}".to_vec()]);
    }
}
