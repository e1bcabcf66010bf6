//! Client authentication: `X-Sentry-Auth` / `Authorization: Sentry ...`, the `sentry_key`
//! query parameter, or the DSN in the envelope header.

/// What a client presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    pub public_key: String,
    pub client: Option<String>,
}

/// The highest protocol version we speak.
pub const PROTOCOL_VERSION: u32 = 7;

/// Parses a `Sentry sentry_key=..., sentry_version=7, ...` header value. `Ok(None)` when the
/// value is not of the Sentry scheme (e.g. a `Bearer` token on `Authorization`).
pub fn parse_header(value: &str) -> Result<Option<ClientAuth>, String> {
    let value = value.trim();
    let scheme_end = value.find(char::is_whitespace).unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case("sentry") {
        return Ok(None);
    }
    parse_pairs(value[scheme_end..].split(',').map(|p| p.trim()).filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k.trim().to_string(), v.trim().trim_matches('"').to_string())
    }))
    .map(Some)
}

/// Parses the `sentry_key` / `sentry_version` / `sentry_client` query parameters;
/// `Ok(None)` when there is no `sentry_key`.
pub fn parse_query(query: &str) -> Result<Option<ClientAuth>, String> {
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter_map(|p| p.split_once('=').or(Some((p, ""))))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .filter(|(k, _)| k.starts_with("sentry_"))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "sentry_key") {
        return Ok(None);
    }
    parse_pairs(pairs.into_iter()).map(Some)
}

fn parse_pairs(pairs: impl Iterator<Item = (String, String)>) -> Result<ClientAuth, String> {
    let mut key = None;
    let mut client = None;
    for (k, v) in pairs {
        match k.as_str() {
            "sentry_key" => {
                if key.is_some() {
                    return Err("sentry_key given twice".into());
                }
                key = Some(v);
            }
            "sentry_version" => {
                let version: u32 = v.parse().map_err(|_| format!("sentry_version {v:?} is not a number"))?;
                if version > PROTOCOL_VERSION {
                    return Err(format!("unsupported protocol version {version} (at most {PROTOCOL_VERSION})"));
                }
            }
            "sentry_client" => client = Some(v),
            _ => {}
        }
    }
    let key = key.filter(|k| !k.is_empty()).ok_or("missing sentry_key")?;
    if !valid_key(&key) {
        return Err("malformed sentry_key".into());
    }
    Ok(ClientAuth { public_key: key, client })
}

/// The public key and project id of a DSN (`scheme://key[:secret]@host[:port][/path]/project`).
pub fn parse_dsn(dsn: &str) -> Option<(String, String)> {
    let (_, rest) = dsn.split_once("://")?;
    let (userinfo, location) = rest.split_once('@')?;
    let key = userinfo.split(':').next()?.to_string();
    let project = location.trim_end_matches('/').rsplit('/').next()?.to_string();
    (valid_key(&key) && !project.is_empty()).then_some((key, project))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Option<ClientAuth> {
        Some(ClientAuth { public_key: k.into(), client: None })
    }

    #[test]
    fn headers() {
        let a = parse_header("Sentry sentry_key=abc123, sentry_version=7, sentry_client=sentry.python/2.0").unwrap();
        assert_eq!(a.unwrap().client.as_deref(), Some("sentry.python/2.0"));
        assert_eq!(parse_header("sentry sentry_version=7,sentry_key=abc").unwrap(), key("abc"));
        assert_eq!(parse_header("Sentry sentry_key=abc, sentry_secret=s").unwrap(), key("abc"));
        assert_eq!(parse_header("Bearer xyz").unwrap(), None);
        assert!(parse_header("Sentry sentry_version=7").is_err());
        assert!(parse_header("Sentry sentry_key=abc, sentry_version=8").unwrap_err().contains("version 8"));
        assert!(parse_header("Sentry sentry_key=a b").is_err());
        assert!(parse_header("Sentry sentry_key=a, sentry_key=b").is_err());
    }

    #[test]
    fn query() {
        assert_eq!(parse_query("sentry_key=abc&sentry_version=7").unwrap(), key("abc"));
        assert_eq!(parse_query("sentry_version=7&x=1").unwrap(), None);
        assert_eq!(parse_query("").unwrap(), None);
        assert_eq!(
            parse_query("sentry_key=abc&sentry_client=sentry.javascript.browser%2F8.0").unwrap().unwrap().client,
            Some("sentry.javascript.browser/8.0".into())
        );
    }

    #[test]
    fn dsns() {
        assert_eq!(parse_dsn("http://abc@localhost:8000/3"), Some(("abc".into(), "3".into())));
        assert_eq!(parse_dsn("https://abc:secret@o1.example.com/sub/path/42/"), Some(("abc".into(), "42".into())));
        assert_eq!(parse_dsn("http://localhost/3"), None);
        assert_eq!(parse_dsn("nonsense"), None);
    }
}
