//! The issue search language, a subset of Sentry's: `is:unresolved level:error
//! environment:prod release:1.2.0 assigned:me user.email:a@b.c lastSeen:-24h` plus free
//! text. Pure (no I/O): it turns a query string into a [`Filter`] that `store` turns into SQL,
//! and the errors to show for what it did not understand. The UI, the JSON API and the CLI
//! share it, so one query means the same everywhere.

use serde::{Deserialize, Serialize};

/// What the issue list shows when the user has not asked for anything else.
pub const DEFAULT_QUERY: &str = "is:unresolved";

/// Keys the language knows, for the error message and the help text.
pub const KEYS: &[&str] = &[
    "is",
    "level",
    "environment",
    "release",
    "firstRelease",
    "assigned",
    "user.email",
    "platform",
    "firstSeen",
    "lastSeen",
    "age",
    "timesSeen",
];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// `unresolved`, `resolved` or `ignored`; `None`: every status.
    pub status: Option<String>,
    /// Any of these levels (empty: any level); `exclude_levels`: none of these.
    pub levels: Vec<String>,
    pub exclude_levels: Vec<String>,
    /// Issues seen in any of these environments / releases (empty: no condition).
    pub environments: Vec<String>,
    pub releases: Vec<String>,
    /// Issues first seen in any of these releases (`firstRelease:`).
    pub first_releases: Vec<String>,
    pub assigned: Option<Assigned>,
    pub user_email: Option<String>,
    pub platform: Option<String>,
    /// Bounds on first and last seen, epoch ms, inclusive.
    pub first_seen_after: Option<i64>,
    pub first_seen_before: Option<i64>,
    pub last_seen_after: Option<i64>,
    pub last_seen_before: Option<i64>,
    pub min_events: Option<i64>,
    pub max_events: Option<i64>,
    pub regressed: bool,
    /// Words and quoted phrases that must each occur in the title, culprit or message.
    pub text: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Assigned {
    /// `assigned:me`: the user asking.
    Me,
    /// `is:unassigned`, `assigned:none`.
    Nobody,
    /// `is:assigned`: anyone at all.
    Anyone,
    /// `assigned:ada@example.com`.
    Email(String),
}

/// The orders of the issue list, by the names Sentry's API uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sort {
    /// Last seen, newest first (`date`).
    #[default]
    LastSeen,
    /// First seen, newest first (`new`).
    FirstSeen,
    /// Most events first (`freq`).
    Events,
    /// Most users first (`user`).
    Users,
    /// Events in the last hour against the day's hourly rate, highest first (`trend`).
    Trend,
}

impl Sort {
    pub const ALL: [Sort; 5] = [Sort::LastSeen, Sort::FirstSeen, Sort::Events, Sort::Users, Sort::Trend];

    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "date" | "last_seen" | "lastSeen" | "" => Sort::LastSeen,
            "new" | "first_seen" | "firstSeen" => Sort::FirstSeen,
            "freq" | "events" => Sort::Events,
            "user" | "users" => Sort::Users,
            "trend" | "trends" => Sort::Trend,
            _ => return None,
        })
    }

    /// The API name, which the URL carries too.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::LastSeen => "date",
            Sort::FirstSeen => "new",
            Sort::Events => "freq",
            Sort::Users => "user",
            Sort::Trend => "trend",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::LastSeen => "Last seen",
            Sort::FirstSeen => "First seen",
            Sort::Events => "Events",
            Sort::Users => "Users",
            Sort::Trend => "Trend",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub filter: Filter,
    /// One message per token that was not understood; the rest of the query still applies.
    pub errors: Vec<String>,
}

const MINUTE: i64 = 60_000;

/// Parses a query. `now` (epoch ms) anchors relative times such as `lastSeen:-24h`.
pub fn parse(query: &str, now: i64) -> Parsed {
    let mut p = Parsed::default();
    for token in tokens(query) {
        let Token { negated, key, value } = token;
        let Some(key) = key else {
            if !value.is_empty() {
                p.filter.text.push(value);
            }
            continue;
        };
        if let Err(e) = apply(&mut p.filter, negated, &key, &value, now) {
            p.errors.push(e);
        }
    }
    p
}

fn apply(f: &mut Filter, negated: bool, key: &str, value: &str, now: i64) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("`{key}:` needs a value."));
    }
    if negated && key != "level" {
        return Err(format!("`!{key}:` is not supported; only `!level:` can be negated."));
    }
    match key {
        "is" => match value {
            "unresolved" | "resolved" | "ignored" => f.status = Some(value.to_string()),
            "archived" | "muted" => f.status = Some("ignored".into()),
            "assigned" => f.assigned = Some(Assigned::Anyone),
            "unassigned" => f.assigned = Some(Assigned::Nobody),
            "regressed" => f.regressed = true,
            "new" => f.first_seen_after = Some(now - 24 * 60 * MINUTE),
            "all" => f.status = None,
            _ => {
                return Err(format!(
                    "`is:{value}` is unknown; use unresolved, resolved, ignored, assigned, unassigned, regressed, new or all."
                ))
            }
        },
        "level" => {
            let levels = list(value);
            for l in &levels {
                if !matches!(l.as_str(), "fatal" | "error" | "warning" | "info" | "debug") {
                    return Err(format!("`level:{l}` is unknown; use fatal, error, warning, info or debug."));
                }
            }
            if negated {
                f.exclude_levels.extend(levels)
            } else {
                f.levels.extend(levels)
            }
        }
        "environment" | "env" => f.environments.extend(list(value)),
        "release" => f.releases.extend(list(value)),
        "firstRelease" | "first_release" | "firstrelease" => f.first_releases.extend(list(value)),
        "assigned" | "assigned_to" | "assignee" => {
            f.assigned = Some(match value {
                "me" | "#me" => Assigned::Me,
                "none" | "nobody" | "[]" => Assigned::Nobody,
                v => Assigned::Email(v.trim_start_matches('#').to_lowercase()),
            })
        }
        "user.email" => f.user_email = Some(value.to_string()),
        "platform" => f.platform = Some(value.to_string()),
        "firstSeen" | "first_seen" | "age" => {
            let (after, before) = time_bound(key, value, now)?;
            f.first_seen_after = after.or(f.first_seen_after);
            f.first_seen_before = before.or(f.first_seen_before);
        }
        "lastSeen" | "last_seen" => {
            let (after, before) = time_bound(key, value, now)?;
            f.last_seen_after = after.or(f.last_seen_after);
            f.last_seen_before = before.or(f.last_seen_before);
        }
        "timesSeen" | "times_seen" | "events" => {
            let (op, n) = split_op(value);
            let n: i64 = n.parse().map_err(|_| format!("`{key}:{value}` needs a number, e.g. `timesSeen:>100`."))?;
            match op {
                ">" => f.min_events = Some(n + 1),
                ">=" => f.min_events = Some(n),
                "<" => f.max_events = Some(n - 1),
                "<=" => f.max_events = Some(n),
                _ => {
                    f.min_events = Some(n);
                    f.max_events = Some(n);
                }
            }
        }
        _ => return Err(format!("Unknown search key `{key}`. Known keys: {}.", KEYS.join(", "))),
    }
    Ok(())
}

/// `-24h` (within the last 24 hours), `+7d` (more than 7 days ago), also with `>`/`<` as
/// Sentry writes them, or an absolute RFC 3339 date after `>`/`<`.
fn time_bound(key: &str, value: &str, now: i64) -> Result<(Option<i64>, Option<i64>), String> {
    let bad =
        || format!("`{key}:{value}` is not a time range; use e.g. `{key}:-24h`, `{key}:+7d` or `{key}:>2026-01-31`.");
    let (op, rest) = split_op(value);
    if let Some(ago) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('+')).and_then(duration_ms) {
        let newer = match (op, rest.starts_with('-')) {
            ("<" | "<=", _) => true, // age:<24h style is rare; read "less old than"
            (">" | ">=", _) => false,
            (_, minus) => minus,
        };
        return Ok(if newer { (Some(now - ago), None) } else { (None, Some(now - ago)) });
    }
    if let Some(ago) = duration_ms(rest) {
        return Ok(match op {
            ">" | ">=" => (None, Some(now - ago)),
            _ => (Some(now - ago), None),
        });
    }
    let at = parse_date(rest).ok_or_else(bad)?;
    Ok(match op {
        ">" | ">=" => (Some(at), None),
        "<" | "<=" => (None, Some(at)),
        _ => return Err(bad()),
    })
}

/// `30m`, `24h`, `7d`, `2w` in milliseconds.
pub fn duration_ms(s: &str) -> Option<i64> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1000,
        "m" => MINUTE,
        "h" => 60 * MINUTE,
        "d" => 24 * 60 * MINUTE,
        "w" => 7 * 24 * 60 * MINUTE,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// `YYYY-MM-DD` (midnight UTC) as epoch ms.
fn parse_date(s: &str) -> Option<i64> {
    let s = s.get(..10)?;
    let mut parts = s.split('-');
    let (y, m, d): (i64, i64, i64) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

fn split_op(v: &str) -> (&str, &str) {
    for op in [">=", "<=", ">", "<"] {
        if let Some(rest) = v.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", v)
}

/// `a,b` and Sentry's `[a, b]` lists.
fn list(value: &str) -> Vec<String> {
    let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).unwrap_or(value);
    inner.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

struct Token {
    negated: bool,
    key: Option<String>,
    value: String,
}

/// Splits on whitespace outside quotes; `key:value`, `key:"a b"`, `!key:value`, `"free text"`.
fn tokens(q: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return out;
        }
        let mut raw = String::new();
        let mut quoted = false;
        let starts_quoted = chars.peek() == Some(&'"');
        while let Some(&c) = chars.peek() {
            if c == '"' {
                quoted = !quoted;
                chars.next();
                continue;
            }
            if c.is_whitespace() && !quoted {
                break;
            }
            raw.push(c);
            chars.next();
        }
        // A key is a run of identifier characters before the first colon, outside quotes; a
        // quoted token or one like `http://x` (slash after the colon) is text.
        let split = raw.find(':').filter(|&i| {
            let key = raw[..i].trim_start_matches('!');
            !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                && !raw[i + 1..].starts_with("//")
        });
        match split {
            Some(i) if !starts_quoted => {
                let (k, v) = raw.split_at(i);
                let negated = k.starts_with('!');
                out.push(Token {
                    negated,
                    key: Some(k.trim_start_matches('!').to_string()),
                    value: v[1..].to_string(),
                });
            }
            _ => out.push(Token { negated: false, key: None, value: raw }),
        }
    }
}

/// Rewrites `query` so that `key` has `value` (or is gone when `value` is `None`), keeping
/// every other token as typed: the UI's filter menus edit the query box this way.
pub fn set_key(query: &str, key: &str, value: Option<&str>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut placed = false;
    for part in split_raw(query) {
        let is_key = part.split_once(':').is_some_and(|(k, _)| k.trim_start_matches('!') == key);
        // `is:` carries both status and assignment: only replace the status values.
        let same = is_key
            && (key != "is"
                || part.split_once(':').is_some_and(|(_, v)| {
                    matches!(v, "unresolved" | "resolved" | "ignored" | "all" | "archived" | "muted")
                }));
        if same {
            if let (Some(v), false) = (value, placed) {
                parts.push(format!("{key}:{}", quote(v)));
                placed = true;
            }
        } else {
            parts.push(part);
        }
    }
    if let (Some(v), false) = (value, placed) {
        parts.insert(0, format!("{key}:{}", quote(v)));
    }
    parts.join(" ")
}

/// The value of `key` in the query as typed, if present (the first one).
pub fn get_key(query: &str, key: &str) -> Option<String> {
    tokens(query).into_iter().find(|t| t.key.as_deref() == Some(key) && !t.negated).map(|t| t.value)
}

fn quote(v: &str) -> String {
    if v.contains(char::is_whitespace) {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

/// Splits a query into its raw tokens, quotes kept.
fn split_raw(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in q.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    /// One row per query: what the filter must hold, built from the default.
    fn check(query: &str, expected: Filter) {
        let p = parse(query, NOW);
        assert!(p.errors.is_empty(), "{query:?}: unexpected errors {:?}", p.errors);
        assert_eq!(p.filter, expected, "{query:?}");
    }

    fn check_error(query: &str, needle: &str) {
        let p = parse(query, NOW);
        assert!(p.errors.iter().any(|e| e.contains(needle)), "{query:?}: errors {:?} lack {needle:?}", p.errors);
    }

    #[test]
    fn queries() {
        check("", Filter::default());
        check("is:unresolved", Filter { status: Some("unresolved".into()), ..Default::default() });
        check(
            "is:unresolved level:error environment:prod release:1.2.0 assigned:me user.email:a@b.c",
            Filter {
                status: Some("unresolved".into()),
                levels: vec!["error".into()],
                environments: vec!["prod".into()],
                releases: vec!["1.2.0".into()],
                assigned: Some(Assigned::Me),
                user_email: Some("a@b.c".into()),
                ..Default::default()
            },
        );
        check(
            "database  timeout \"connection refused\"",
            Filter {
                text: vec!["database".into(), "timeout".into(), "connection refused".into()],
                ..Default::default()
            },
        );
        check(
            "level:[error,fatal] !level:warning",
            Filter {
                levels: vec!["error".into(), "fatal".into()],
                exclude_levels: vec!["warning".into()],
                ..Default::default()
            },
        );
        check("is:unassigned", Filter { assigned: Some(Assigned::Nobody), ..Default::default() });
        check(
            "assigned:Ada@Example.com",
            Filter { assigned: Some(Assigned::Email("ada@example.com".into())), ..Default::default() },
        );
        check("lastSeen:-24h", Filter { last_seen_after: Some(NOW - 24 * HOUR), ..Default::default() });
        check("firstSeen:+7d", Filter { first_seen_before: Some(NOW - 7 * 24 * HOUR), ..Default::default() });
        check("age:-1h", Filter { first_seen_after: Some(NOW - HOUR), ..Default::default() });
        check("timesSeen:>100", Filter { min_events: Some(101), ..Default::default() });
        check("release:\"my app 1.0\"", Filter { releases: vec!["my app 1.0".into()], ..Default::default() });
        check("firstRelease:shop@2.0", Filter { first_releases: vec!["shop@2.0".into()], ..Default::default() });
        check("http://example.com/x", Filter { text: vec!["http://example.com/x".into()], ..Default::default() });
        check("is:all", Filter::default());
    }

    #[test]
    fn errors_name_the_token_and_keep_the_rest() {
        check_error("browser:firefox", "Unknown search key `browser`");
        check_error("is:happy", "`is:happy` is unknown");
        check_error("level:loud", "`level:loud` is unknown");
        check_error("lastSeen:yesterday", "not a time range");
        check_error("timesSeen:many", "needs a number");
        check_error("!release:1", "only `!level:`");
        let p = parse("foo:bar level:error text", NOW);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.filter.levels, vec!["error".to_string()]);
        assert_eq!(p.filter.text, vec!["text".to_string()]);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-11-29"), Some(1_795_910_400_000));
        let p = parse("firstSeen:>2026-11-29", NOW);
        assert_eq!(p.filter.first_seen_after, Some(1_795_910_400_000));
    }

    #[test]
    fn editing_the_query() {
        assert_eq!(set_key("is:unresolved foo", "is", Some("resolved")), "is:resolved foo");
        assert_eq!(set_key("is:assigned foo", "is", Some("resolved")), "is:resolved is:assigned foo");
        assert_eq!(set_key("foo level:error", "level", None), "foo");
        assert_eq!(set_key("foo", "environment", Some("prod eu")), "environment:\"prod eu\" foo");
        assert_eq!(get_key("is:resolved level:error", "level").as_deref(), Some("error"));
        assert_eq!(set_key("", "is", Some("unresolved")), "is:unresolved");
    }

    #[test]
    fn sorts_round_trip() {
        for s in Sort::ALL {
            assert_eq!(Sort::parse(s.as_str()), Some(s));
        }
        assert_eq!(Sort::parse("priority"), None);
    }
}
