//! Message normalization (variable parts → placeholders) and log template formatting.

use regex::{Captures, Regex};
use serde_json::Value;
use std::net::Ipv6Addr;
use std::sync::LazyLock;

/// Compiles a constant pattern (a bad pattern is a programming error caught by the tests).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant regex")
}

static URL: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>`]+"#));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"));
static UUID: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"));
static SHA1: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9a-fA-F]{40}\b"));
static MD5: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9a-fA-F]{32}\b"));
/// ISO 8601 dates with an optional time and zone.
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"));
/// Textual dates as `Date.toString()`, `ctime` and RFC 2822 print them.
static TEXT_DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+\d{1,2})?(?:\s+\d{4})?\s+\d{1,2}:\d{2}:\d{2}(?:\s+\d{4})?(?:\s+(?:[a-z]{1,5}[+-]\d{4}|[a-z]{1,5}|[+-]\d{4}))?\b",
    )
});
/// A time of day with seconds (`22:31:45`, `22:31:45.123`).
static TIME: LazyLock<Regex> = LazyLock::new(|| re(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"));
/// Candidates for IP v6 addresses; confirmed by parsing.
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"));
/// Host names under common top-level domains (a full list would catch file names and module paths).
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|edu|gov|io|co|us|uk|de|fr|nl|ru|jp|cn|eu|ca|au|ch|se|fi|dk|es|br|info|biz|cloud|local|localhost|internal|lan)\b",
    )
});
static HEX_PREFIXED: LazyLock<Regex> = LazyLock::new(|| re(r"\b0[xX][0-9a-fA-F]+\b"));
/// Long bare hex strings (ids, hashes); only those mixing digits and letters are replaced.
static HEX_BARE: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9a-fA-F]{8,}\b"));
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|sec|secs|min|mins|hr|hrs)\b|\b\d+(?:\.\d+)?\s?(?:nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?)\b",
    )
});
static QUOTED: LazyLock<Regex> = LazyLock::new(|| re(r#"=\s*(?:"[^"\n]*"|'[^'\n]*')"#));
static FLOAT: LazyLock<Regex> = LazyLock::new(|| re(r"\b\d+\.\d+\b"));
static INT: LazyLock<Regex> = LazyLock::new(|| re(r"\b\d+\b"));

/// Replaces the variable parts of a message (e-mail, URL, host name, IP v4/v6, UUID, SHA-1, MD5,
/// ISO dates/times, durations like 15ms, hex like 0xdeadbeef, integers and decimals, quoted
/// strings after '=') with placeholders such as <email>, <url>, <ip>, <uuid>, <sha1>, <md5>,
/// <date>, <duration>, <hex>, <int>, <float>, <quoted>.
pub fn normalize_message(message: &str) -> String {
    // URLs first (they contain host names, numbers, e-mail-like user info); keep the trailing
    // sentence punctuation out of the URL.
    let s = URL.replace_all(message, |caps: &Captures| {
        let url = &caps[0];
        let kept = url.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
        format!("<url>{}", &url[kept.len()..])
    });
    let s = EMAIL.replace_all(&s, "<email>");
    let s = UUID.replace_all(&s, "<uuid>");
    let s = SHA1.replace_all(&s, "<sha1>");
    let s = MD5.replace_all(&s, "<md5>");
    let s = ISO_DATE.replace_all(&s, "<date>");
    let s = TEXT_DATE.replace_all(&s, "<date>");
    let s = TIME.replace_all(&s, "<date>");
    let s = replace_ipv6(&s);
    let s = IPV4.replace_all(&s, "<ip>");
    let s = replace_hostnames(&s);
    let s = HEX_PREFIXED.replace_all(&s, "<hex>");
    let s = HEX_BARE.replace_all(&s, |caps: &Captures| {
        let hex = &caps[0];
        let digits = hex.bytes().any(|b| b.is_ascii_digit());
        let letters = hex.bytes().any(|b| b.is_ascii_alphabetic());
        if digits && letters {
            "<hex>".to_string()
        } else {
            hex.to_string()
        }
    });
    let s = DURATION.replace_all(&s, "<duration>");
    let s = QUOTED.replace_all(&s, "=<quoted>");
    let s = FLOAT.replace_all(&s, "<float>");
    let s = INT.replace_all(&s, "<int>");
    s.into_owned()
}

/// Whether `c` would continue a word or an address next to a match.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces IP v6 addresses, confirmed by parsing and not glued to a word (`std::io` stays).
fn replace_ipv6(s: &str) -> String {
    IPV6.replace_all(s, |caps: &Captures| {
        let m = caps.get(0).map_or((0, 0), |m| (m.start(), m.end()));
        let text = &caps[0];
        let before = s[..m.0].chars().next_back();
        let after = s[m.1..].chars().next();
        let glued = before.is_some_and(|c| is_word_char(c) || c == ':' || c == '.')
            || after.is_some_and(|c| is_word_char(c) || c == ':');
        let valid = text.parse::<Ipv6Addr>().is_ok() && text.bytes().any(|b| b.is_ascii_digit());
        if valid && !glued {
            "<ip>".to_string()
        } else {
            text.to_string()
        }
    })
    .into_owned()
}

/// Replaces host names, but not when they are the start or end of a dotted path such as a module
/// name (`app.io.reader`).
fn replace_hostnames(s: &str) -> String {
    HOSTNAME
        .replace_all(s, |caps: &Captures| {
            let m = caps.get(0).map_or((0, 0), |m| (m.start(), m.end()));
            let text = &caps[0];
            let mut after = s[m.1..].chars();
            let dotted_after = after.next() == Some('.') && after.next().is_some_and(is_word_char);
            let dotted_before = s[..m.0].ends_with('.');
            if dotted_after || dotted_before {
                text.to_string()
            } else {
                "<hostname>".to_string()
            }
        })
        .into_owned()
}

/// Placeholders in log templates: printf style, Python named, `{}`, `{0}` and .NET `{Name}`.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"%%|%\((?P<key>[^)]*)\)[-+ #0]*\d*(?:\.\d+)?[sdifrxXeEgGoc]|%[-+ #0]*\d*(?:\.\d+)?[sdifrxXeEgGoc]|\{(?P<index>\d+)?\}|\{(?P<name>[A-Za-z_@][\w.@-]*(?::[^{}]*)?)\}",
    )
});

/// Renders a log parameter for display.
fn param_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_string(),
        other => other.to_string(),
    }
}

/// Substitutes `params` (a list, or an object for `%(name)s`) into a log `template`, in order.
/// Placeholders without a matching parameter are left as they are.
pub(crate) fn format_template(template: &str, params: &Value) -> String {
    let mut next = 0usize;
    PLACEHOLDER
        .replace_all(template, |caps: &Captures| {
            let whole = &caps[0];
            if whole == "%%" {
                return "%".to_string();
            }
            let found = match (params, caps.name("key"), caps.name("index")) {
                (Value::Object(map), Some(key), _) => map.get(key.as_str()),
                (Value::Array(list), None, Some(index)) => {
                    index.as_str().parse::<usize>().ok().and_then(|i| list.get(i))
                }
                (Value::Array(list), None, None) => {
                    next += 1;
                    list.get(next - 1)
                }
                _ => None,
            };
            found.map_or_else(|| whole.to_string(), param_text)
        })
        .into_owned()
}
