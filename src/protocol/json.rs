//! Lenient JSON: what Python SDKs send (`NaN`, `Infinity`) and very old clients' encodings.

use base64::Engine;
use serde_json::Value;
use std::io::Read;

/// Nesting serde_json accepts at most (its recursion limit is 128 levels, the 128th
/// refused).
pub const MAX_DEPTH: usize = 127;
/// Nesting the fast path takes (deeper documents take the full path, which decides). No SDK
/// nests anywhere near this: they cut databags at 5 to 10 levels.
const FAST_PATH_DEPTH: usize = 64;

/// Parses JSON leniently: what serde_json accepts as it is, else the same text repaired.
/// Repairs keep what is good: the bare `NaN`, `Infinity` and `-Infinity` tokens that
/// Python's `json` module writes, and numbers beyond a double's range, become `null`; bytes
/// that are not UTF-8 become U+FFFD, and so does a `\u` escape of a lone surrogate (Python
/// SDKs send them for `surrogateescape`d bytes). Nesting deeper than [`MAX_DEPTH`] is an
/// error, as is anything else that is not JSON.
pub fn parse_lenient(bytes: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => match repair(bytes) {
            Some(fixed) => serde_json::from_slice(&fixed).map_err(|e| describe(&e)),
            None => Err(describe(&first)),
        },
    }
}

fn describe(e: &serde_json::Error) -> String {
    if e.to_string().starts_with("recursion limit exceeded") {
        return format!("invalid JSON: nested deeper than {MAX_DEPTH} levels ({e})");
    }
    format!("invalid JSON: {e}")
}

/// Whether the fast path may take `bytes` as they are: valid UTF-8 with no escape of a lone
/// surrogate, no number outside a double's range, no `NaN`-like token, and nesting within
/// [`FAST_PATH_DEPTH`]. Then the full path's parse, which validates all of this, accepts the
/// same document (the skim validates the grammar), so both paths give one verdict. `false`
/// only sends the event down the full path. One pass, with strings skipped by `memchr`.
pub fn fast_path_safe(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_err() {
        return false;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => match string_end(bytes, i + 1) {
                Some(end) => i = end,
                None => return false,
            },
            b'{' | b'[' => {
                depth += 1;
                if depth > FAST_PATH_DEPTH {
                    return false;
                }
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let end = number_end(bytes, i);
                if !number_in_range(&bytes[i..end]) {
                    return false;
                }
                i = end;
            }
            b'N' | b'I' => return false,
            _ => i += 1,
        }
    }
    true
}

/// The index after the closing quote of the string whose content starts at `i`, or `None`
/// when it holds an escape of a lone surrogate or is not closed.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        if bytes[i] == b'"' {
            return Some(i + 1);
        }
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        match surrogate_escape(bytes, i) {
            Escape::Plain => i += 6,
            Escape::Pair => i += 12,
            Escape::Lone => return None,
        }
    }
}

enum Escape {
    Plain,
    Pair,
    Lone,
}

/// What the `\uXXXX` escape at `i` is: a code point of its own, the first of a valid
/// surrogate pair, or a lone surrogate. (A malformed escape counts as `Plain`: the parser
/// refuses it on either path.)
fn surrogate_escape(bytes: &[u8], i: usize) -> Escape {
    let hex = |at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    match hex(i + 2) {
        Some(0xD800..=0xDBFF) => {
            let low =
                (bytes.get(i + 6) == Some(&b'\\') && bytes.get(i + 7) == Some(&b'u')).then(|| hex(i + 8)).flatten();
            if matches!(low, Some(0xDC00..=0xDFFF)) {
                Escape::Pair
            } else {
                Escape::Lone
            }
        }
        Some(0xDC00..=0xDFFF) => Escape::Lone,
        _ => Escape::Plain,
    }
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
        i += 1;
    }
    i
}

/// serde_json refuses a number that is infinite as a double (`1e999`), and its arithmetic
/// (without `float_roundtrip`) overflows a little before Rust's exact parse does (near
/// `f64::MAX`), so the parser itself is asked; short plain numbers are never out of range.
/// A token that is not a number at all is the parser's to refuse on either path.
fn number_in_range(token: &[u8]) -> bool {
    if token.len() < 300 && !token.iter().any(|b| matches!(b, b'e' | b'E')) {
        return true;
    }
    match serde_json::from_slice::<Value>(token) {
        Ok(_) => true,
        Err(e) => !e.to_string().starts_with("number out of range"),
    }
}

/// The repairs of [`parse_lenient`]; `None` when there is nothing to repair (so the original
/// error stands).
fn repair(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut changed = matches!(text, std::borrow::Cow::Owned(_));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            // Copy the string, replacing escapes of lone surrogates.
            out.push(b);
            i += 1;
            while i < bytes.len() {
                let c = bytes[i];
                if c == b'"' {
                    out.push(c);
                    i += 1;
                    break;
                }
                if c == b'\\' && bytes.get(i + 1) == Some(&b'u') {
                    match surrogate_escape(bytes, i) {
                        Escape::Lone => {
                            out.extend_from_slice(b"\\ufffd");
                            changed = true;
                            i += 6;
                        }
                        Escape::Pair => {
                            out.extend_from_slice(&bytes[i..i + 12]);
                            i += 12;
                        }
                        Escape::Plain => {
                            let end = (i + 6).min(bytes.len());
                            out.extend_from_slice(&bytes[i..end]);
                            i = end;
                        }
                    }
                    continue;
                }
                if c == b'\\' {
                    let end = (i + 2).min(bytes.len());
                    out.extend_from_slice(&bytes[i..end]);
                    i = end;
                    continue;
                }
                out.push(c);
                i += 1;
            }
            continue;
        }
        let rest = &bytes[i..];
        let token = [&b"NaN"[..], b"Infinity", b"-Infinity"].into_iter().find(|t| rest.starts_with(t));
        if let Some(t) = token {
            out.extend_from_slice(b"null");
            changed = true;
            i += t.len();
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let end = number_end(bytes, i);
            if number_in_range(&bytes[i..end]) {
                out.extend_from_slice(&bytes[i..end]);
            } else {
                out.extend_from_slice(b"null");
                changed = true;
            }
            i = end;
            continue;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

/// The legacy `store` body of very old SDKs: base64 of zlib-compressed JSON. Returns the
/// decoded JSON bytes, at most `limit` of them (`Err` says why it is not that encoding).
pub fn decode_legacy_store_body(body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let trimmed: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&trimmed)
        .map_err(|_| "the body is neither JSON nor base64-encoded zlib JSON".to_string())?;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(&raw[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot inflate the base64 body: {e}"))?;
    if out.len() > limit {
        return Err("too large".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_become_null() {
        let v = parse_lenient(br#"{"a": NaN, "b": [Infinity, -Infinity], "s": "NaN Infinity", "c": 1.5}"#).unwrap();
        assert_eq!(v["a"], Value::Null);
        assert_eq!(v["b"][1], Value::Null);
        assert_eq!(v["s"], "NaN Infinity");
        assert_eq!(v["c"], 1.5);
    }

    #[test]
    fn strings_with_escapes_are_left_alone() {
        let v = parse_lenient(br#"{"s": "a \" NaN", "n": NaN}"#).unwrap();
        assert_eq!(v["s"], "a \" NaN");
    }

    #[test]
    fn what_an_sdk_sends_broken_is_repaired() {
        // A lone surrogate (Python's surrogateescape), alone or at the end; a valid pair stays.
        let v = parse_lenient(br#"{"m": "caf\udce9.csv", "e": "\ud800", "ok": "\ud83d\ude00"}"#).unwrap();
        assert_eq!(v["m"], "caf\u{fffd}.csv");
        assert_eq!(v["e"], "\u{fffd}");
        assert_eq!(v["ok"], "\u{1f600}");
        // Bytes that are not UTF-8, an escaped backslash before a `u`, numbers out of range.
        let v = parse_lenient(b"{\"m\": \"caf\xe9\", \"s\": \"\\\\udc00\", \"n\": 1e999, \"k\": -2E400, \"f\": 1.5e3}")
            .unwrap();
        assert_eq!(v["m"], "caf\u{fffd}");
        assert_eq!(v["s"], "\\udc00");
        assert_eq!((v["n"].clone(), v["k"].clone(), v["f"].clone()), (Value::Null, Value::Null, 1500.0.into()));
        let v = parse_lenient(br#"{"n": 1.7976931348623158e308, "m": 1.7976931348623157e308}"#).unwrap();
        assert_eq!(v["n"], Value::Null);
        assert!(v["m"].is_f64());
    }

    #[test]
    fn the_fast_path_takes_only_what_parses_as_it_is() {
        for (doc, safe) in [
            (&br#"{"a": [1, 2.5, -3e10, "x\"y\\", {"b": null}], "u": "\u00e9\ud83d\ude00"}"#[..], true),
            (br#"{"m": "\udc00"}"#, false),
            (br#"{"m": "\ud800x"}"#, false),
            (b"{\"m\": \"\xe9\"}", false),
            (br#"{"n": 1e999}"#, false),
            // Beyond serde_json's own arithmetic, though Rust parses them as f64::MAX.
            (br#"{"n": 1.7976931348623158e308}"#, false),
            (br#"{"n": 17976931348623158e292}"#, false),
            (br#"{"n": 0.17976931348623158e309}"#, false),
            (br#"{"n": 1.7976931348623157e308}"#, true),
            (br#"{"n": NaN}"#, false),
            (br#"{"m": "unterminated"#, false),
        ] {
            assert_eq!(fast_path_safe(doc), safe, "{}", String::from_utf8_lossy(doc));
            if safe {
                assert!(serde_json::from_slice::<Value>(doc).is_ok());
            }
        }
        let deep = |n: usize| format!("{{\"extra\": {}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(fast_path_safe(deep(60).as_bytes()));
        assert!(!fast_path_safe(deep(70).as_bytes()));
        assert!(parse_lenient(deep(126).as_bytes()).is_ok());
        assert!(parse_lenient(deep(127).as_bytes()).unwrap_err().contains("nested deeper than 127 levels"));
    }

    #[test]
    fn errors_are_reported() {
        assert!(parse_lenient(b"{").unwrap_err().starts_with("invalid JSON"));
        assert!(parse_lenient(b"{\"a\": Nope}").is_err());
        let deep = "[".repeat(10_000);
        assert!(parse_lenient(deep.as_bytes()).is_err());
    }

    #[test]
    fn legacy_store_body() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(br#"{"message":"hi"}"#).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
        assert_eq!(decode_legacy_store_body(b64.as_bytes(), 1000).unwrap(), br#"{"message":"hi"}"#);
        assert!(decode_legacy_store_body(b64.as_bytes(), 3).is_err());
        assert!(decode_legacy_store_body(b"not base64!", 1000).is_err());
    }
}
