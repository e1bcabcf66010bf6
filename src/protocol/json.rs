//! Lenient JSON: what Python SDKs send (`NaN`, `Infinity`) and very old clients' encodings.

use base64::Engine;
use serde_json::Value;
use std::io::Read;

/// Parses JSON, accepting the bare `NaN`, `Infinity` and `-Infinity` tokens that Python's
/// `json` module writes (they become `null`). Nesting deeper than 128 levels is an error.
pub fn parse_lenient(bytes: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => match replace_non_finite(bytes) {
            Some(fixed) => serde_json::from_slice(&fixed).map_err(|e| describe(&e)),
            None => Err(describe(&first)),
        },
    }
}

fn describe(e: &serde_json::Error) -> String {
    format!("invalid JSON: {e}")
}

/// Rewrites `NaN` / `Infinity` / `-Infinity` outside strings to `null`; `None` when there are
/// none (so the original error stands).
fn replace_non_finite(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let token: Option<usize> = if rest.starts_with(b"NaN") {
            Some(3)
        } else if rest.starts_with(b"Infinity") {
            Some(8)
        } else if rest.starts_with(b"-Infinity") {
            Some(9)
        } else {
            None
        };
        match token {
            Some(n) => {
                out.extend_from_slice(b"null");
                changed = true;
                i += n;
            }
            None => {
                if b == b'"' {
                    in_string = true;
                }
                out.push(b);
                i += 1;
            }
        }
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
