//! The form of a minidump upload (Breakpad, Crashpad, Electron): the dump, the event in a
//! `sentry` JSON field or in `sentry[key][...]` fields, other files as attachments and other
//! fields as extra data. The crash facts come from `protocol::minidump` (no symbolication).

use serde_json::{json, Value};

use super::{IngestError, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES};
use crate::protocol::{self, event, json as lenient, multipart};
use crate::store::ingest::NewAttachment;

/// The form field that holds the dump.
pub(super) const FIELD: &str = "upload_file_minidump";

pub(super) struct Crash {
    pub event: Value,
    pub attachments: Vec<NewAttachment>,
}

/// The event and attachments of a minidump upload's form fields.
pub(super) fn form(parts: &[multipart::Part<'_>]) -> Result<Crash, IngestError> {
    let dump = parts
        .iter()
        .find(|p| p.name == FIELD)
        .ok_or_else(|| IngestError::BadRequest(format!("no {FIELD} field in the form")))?;
    let summary = protocol::minidump::summarize(dump.data).map_err(IngestError::BadRequest)?;
    if dump.data.len() > MAX_ATTACHMENT_BYTES {
        return Err(IngestError::TooLarge(format!("the minidump is larger than {MAX_ATTACHMENT_BYTES} bytes")));
    }
    let mut event = serde_json::Map::new();
    let mut attachments = Vec::new();
    for part in parts {
        if part.name == FIELD {
            attachments.push(NewAttachment {
                filename: part.filename.clone().unwrap_or_else(|| "Minidump".into()).chars().take(200).collect(),
                content_type: Some("application/x-dmp".into()),
                attachment_type: "event.minidump".into(),
                data: bytes::Bytes::copy_from_slice(part.data),
            });
        } else if part.name == "sentry" {
            // The whole event as JSON: its fields, unless a bracketed field set them already.
            if let Ok(Value::Object(map)) = lenient::parse_lenient(part.data) {
                for (k, v) in map {
                    event.entry(k).or_insert(v);
                }
            }
        } else if let Some(path) = part.name.strip_prefix("sentry[") {
            let keys: Vec<&str> = path.trim_end_matches(']').split("][").collect();
            set_path(&mut event, &keys, Value::String(String::from_utf8_lossy(part.data).into_owned()));
        } else if part.filename.is_some() {
            if part.data.len() <= MAX_ATTACHMENT_BYTES && attachments.len() < MAX_ATTACHMENTS {
                attachments.push(NewAttachment {
                    filename: part.filename.clone().unwrap_or_default().chars().take(200).collect(),
                    content_type: part.content_type.clone(),
                    attachment_type: "event.attachment".into(),
                    data: bytes::Bytes::copy_from_slice(part.data),
                });
            }
        } else if !part.name.is_empty() {
            // Crash reporters' own annotations (product, version, ...): kept as extra data.
            let extra = event.entry("extra").or_insert_with(|| json!({}));
            if let Value::Object(extra) = extra {
                let value = event::truncate(&String::from_utf8_lossy(part.data), 8192);
                extra.entry(event::truncate(&part.name, 200)).or_insert(Value::String(value));
            }
        }
    }
    event.entry("platform").or_insert(json!("native"));
    event.entry("level").or_insert(json!("fatal"));
    if let (None, Some(t)) = (event.get("timestamp"), summary.timestamp) {
        event.insert("timestamp".into(), json!(t));
    }
    let has_exception = event.get("exception").is_some_and(|e| !e.is_null());
    if !has_exception {
        let reason = summary.reason.clone().unwrap_or_else(|| "Minidump".into());
        let mut mechanism = json!({"type": "minidump", "handled": false, "synthetic": true});
        if let Some(addr) = summary.address {
            mechanism["meta"] = json!({"address": format!("0x{addr:016x}")});
        }
        let mut exception = json!({"type": reason, "value": format!("Fatal Error: {reason}"), "mechanism": mechanism});
        if let Some(thread) = summary.thread_id {
            exception["thread_id"] = json!(thread);
        }
        event.insert("exception".into(), json!({ "values": [exception] }));
    }
    let contexts = event.entry("contexts").or_insert_with(|| json!({}));
    if let Value::Object(contexts) = contexts {
        if let Some(name) = &summary.os_name {
            let os = contexts.entry("os").or_insert_with(|| json!({}));
            if let Value::Object(os) = os {
                os.entry("name").or_insert(json!(name));
                if let Some(v) = &summary.os_version {
                    os.entry("version").or_insert(json!(v));
                }
            }
        }
        if let Some(arch) = &summary.arch {
            let device = contexts.entry("device").or_insert_with(|| json!({}));
            if let Value::Object(device) = device {
                device.entry("arch").or_insert(json!(arch));
            }
        }
    }
    Ok(Crash { event: Value::Object(event), attachments })
}

/// Sets `map[k1][k2]... = value`, making objects on the way (bracketed form field names).
fn set_path(map: &mut serde_json::Map<String, Value>, keys: &[&str], value: Value) {
    let Some((first, rest)) = keys.split_first() else { return };
    if first.is_empty() || keys.len() > 8 {
        return;
    }
    if rest.is_empty() {
        map.insert(first.to_string(), value);
        return;
    }
    let child = map.entry(first.to_string()).or_insert_with(|| json!({}));
    if !child.is_object() {
        *child = json!({});
    }
    if let Value::Object(child) = child {
        set_path(child, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part<'a>(name: &str, filename: Option<&str>, data: &'a [u8]) -> multipart::Part<'a> {
        multipart::Part { name: name.into(), filename: filename.map(Into::into), content_type: None, data }
    }

    #[test]
    fn a_minidump_form_becomes_an_event_with_its_attachments() {
        let dump = protocol::minidump::tests::sample(0x8201, 11, 0);
        let sentry = br#"{"release": "from-json", "tags": {"a": "b"}}"#;
        let parts = [
            part("upload_file_minidump", Some("crash.dmp"), &dump),
            part("sentry", None, sentry),
            part("sentry[release]", None, b"app@2.0"),
            part("sentry[user][id]", None, b"u-1"),
            part("product", None, b"Game"),
            part("log", Some("log.txt"), b"last words"),
        ];
        let crash = form(&parts).unwrap();
        let ev = &crash.event;
        assert_eq!(ev["release"], "app@2.0", "a bracketed field wins over the JSON");
        assert_eq!(ev["tags"]["a"], "b");
        assert_eq!(ev["user"]["id"], "u-1");
        assert_eq!(ev["extra"]["product"], "Game");
        assert_eq!(ev["platform"], "native");
        assert_eq!(ev["level"], "fatal");
        assert_eq!(ev["exception"]["values"][0]["type"], "SIGSEGV");
        assert_eq!(ev["exception"]["values"][0]["mechanism"]["type"], "minidump");
        assert_eq!(ev["contexts"]["os"]["name"], "Linux");
        assert_eq!(ev["contexts"]["device"]["arch"], "x86_64");
        let kinds: Vec<_> =
            crash.attachments.iter().map(|a| (a.filename.as_str(), a.attachment_type.as_str())).collect();
        assert_eq!(kinds, [("crash.dmp", "event.minidump"), ("log.txt", "event.attachment")]);

        assert!(matches!(form(&[part("other", None, b"x")]), Err(IngestError::BadRequest(_))));
        let not_a_dump = [part("upload_file_minidump", Some("x"), b"hello")];
        assert!(matches!(form(&not_a_dump), Err(IngestError::BadRequest(_))));
    }
}
