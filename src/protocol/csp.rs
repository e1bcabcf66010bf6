//! Content-Security-Policy violation reports (`/api/{project}/security/`, `/csp-report/`),
//! as browsers send them: the legacy `{"csp-report": {...}}` body (`application/csp-report`)
//! or the Reporting API's list of `{"type": "csp-violation", "body": {...}}`
//! (`application/reports+json`). Each becomes an event, titled as Sentry titles them:
//! "Blocked 'script' from 'evil.example'". Pure: JSON in, events out.

use serde_json::{json, Map, Value};

/// The events of a report body; an error when it holds no CSP violation.
pub fn events(body: &Value) -> Result<Vec<Value>, String> {
    let reports: Vec<Map<String, Value>> = match body {
        Value::Object(o) => match o.get("csp-report") {
            Some(Value::Object(r)) => vec![r.clone()],
            _ => return Err("expected a \"csp-report\" object".into()),
        },
        Value::Array(items) => items
            .iter()
            .filter(|i| i.get("type").and_then(Value::as_str) == Some("csp-violation"))
            .filter_map(|i| i.get("body").and_then(Value::as_object).cloned())
            .collect(),
        _ => return Err("expected a JSON object or list".into()),
    };
    if reports.is_empty() {
        return Err("the report holds no CSP violation".into());
    }
    Ok(reports.iter().map(event).collect())
}

/// A field by its legacy (kebab-case) or Reporting API (camelCase) name.
fn field<'a>(r: &'a Map<String, Value>, kebab: &str, camel: &str) -> Option<&'a str> {
    r.get(kebab).or_else(|| r.get(camel)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn event(r: &Map<String, Value>) -> Value {
    let directive = field(r, "effective-directive", "effectiveDirective")
        .or_else(|| field(r, "violated-directive", "violatedDirective"))
        .and_then(|d| d.split_whitespace().next())
        .unwrap_or("unknown-directive");
    let blocked = field(r, "blocked-uri", "blockedURL").unwrap_or("self");
    let document = field(r, "document-uri", "documentURL");
    // "script-src-elem" → "script"; "img-src" → "image"; as Sentry names them.
    let kind = match directive.split('-').next().unwrap_or(directive) {
        "img" => "image",
        "default" => "resource",
        "frame" | "child" => "frame",
        "connect" => "connection",
        other => other,
    };
    let what = match blocked {
        "inline" | "eval" | "wasm-eval" => format!("'{blocked}'"),
        uri => format!("'{}'", host(uri)),
    };
    let mut csp = r.clone();
    csp.retain(|_, v| !v.is_null());
    json!({
        "platform": "javascript",
        "level": "error",
        "logger": "csp",
        "message": format!("Blocked '{kind}' from {what}"),
        "culprit": directive,
        "request": { "url": document },
        "tags": { "effective-directive": directive, "blocked-uri": blocked },
        "contexts": { "csp": Value::Object(csp) },
    })
}

/// The host of a URI (`https://evil.example/x.js` → `evil.example`), else the URI as it is.
fn host(uri: &str) -> &str {
    match uri.split_once("://") {
        Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or(rest),
        None => uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: Value, expected: &[(&str, &str)]) {
        let got: Vec<(String, String)> = events(&body)
            .unwrap()
            .iter()
            .map(|e| (e["message"].as_str().unwrap().to_string(), e["culprit"].as_str().unwrap().to_string()))
            .collect();
        let expected: Vec<(String, String)> = expected.iter().map(|(m, c)| (m.to_string(), c.to_string())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn legacy_and_reporting_api_bodies() {
        check(
            json!({"csp-report": {"document-uri": "https://shop.example/cart", "violated-directive": "script-src-elem",
                   "effective-directive": "script-src-elem", "blocked-uri": "https://evil.example/x.js?v=1"}}),
            &[("Blocked 'script' from 'evil.example'", "script-src-elem")],
        );
        check(
            json!({"csp-report": {"violated-directive": "img-src 'self'", "blocked-uri": "data"}}),
            &[("Blocked 'image' from 'data'", "img-src")],
        );
        check(
            json!({"csp-report": {"effective-directive": "script-src", "blocked-uri": "inline"}}),
            &[("Blocked 'script' from 'inline'", "script-src")],
        );
        check(
            json!([{"type": "csp-violation", "body": {"documentURL": "https://shop.example/", "effectiveDirective": "connect-src",
                     "blockedURL": "wss://tracker.example/socket"}},
                   {"type": "deprecation", "body": {}}]),
            &[("Blocked 'connection' from 'tracker.example'", "connect-src")],
        );
        assert!(events(&json!({"something": 1})).is_err());
        assert!(events(&json!([{"type": "deprecation", "body": {}}])).is_err());
        assert!(events(&json!("text")).is_err());
    }
}
