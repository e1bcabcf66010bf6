//! The format of the `events.payload` column: zstd-compressed JSON, either the normalized
//! event (the full path) or the event as the SDK sent it behind a [`RawHeader`] (the fast
//! path), which [`decompress_payload`] normalizes when it is read. Pure: no SQL, no I/O.

/// Compresses a normalized event for the `payload` column (zstd level 1). Each thread keeps
/// its compression context: making one per event (about 1 MB of tables to set up) cost as
/// much as the compression itself.
pub fn compress_payload(json: &[u8]) -> Vec<u8> {
    use std::cell::RefCell;
    thread_local! {
        static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    }
    COMPRESSOR
        .with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            if c.is_none() {
                *c = zstd::bulk::Compressor::new(1).ok();
            }
            c.as_mut()?.compress(json).ok()
        })
        .or_else(|| zstd::bulk::compress(json, 1).ok())
        .unwrap_or_else(|| json.to_vec())
}

/// What an event stored as it came (see [`compress_raw`]) needs to be normalized when read:
/// the facts of its ingestion, and the fields grouping added (`grouping`, `title`,
/// `culprit`), so that it reads back exactly as the normalized event would have been stored.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RawHeader {
    pub event_id: String,
    pub received_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub client_ip: Option<String>,
    pub annotations: serde_json::Map<String, serde_json::Value>,
}

/// Marks a payload stored as it came: the marker, the [`RawHeader`] as one line of JSON, then
/// the event's JSON as the SDK sent it. A normalized payload starts with `{`.
const RAW_MARK: &[u8] = b"\0faultline-raw-1\n";

/// Compresses an event payload as the SDK sent it, with what normalizing it needs.
pub fn compress_raw(header: &RawHeader, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(payload.len() + 400);
    buf.extend_from_slice(RAW_MARK);
    if serde_json::to_writer(&mut buf, header).is_err() {
        return compress_payload(payload);
    }
    buf.push(b'\n');
    buf.extend_from_slice(payload);
    compress_payload(&buf)
}

/// The normalized JSON of a `payload` column: stored so, or normalized now when the event
/// was stored as it came.
pub fn decompress_payload(blob: &[u8]) -> Vec<u8> {
    let bytes = zstd::stream::decode_all(blob).unwrap_or_else(|_| blob.to_vec());
    match bytes.strip_prefix(RAW_MARK) {
        Some(rest) => normalize_raw(rest).unwrap_or_else(|| unreadable(rest)),
        None => bytes,
    }
}

/// What a reader gets for a stored payload that does not normalize (never expected: the
/// fast path stores only what parses as it is): an event that says so, with what was sent
/// as text, never an empty event or the internal header.
fn unreadable(rest: &[u8]) -> Vec<u8> {
    let (header, payload) = match rest.iter().position(|b| *b == b'\n') {
        Some(end) => (serde_json::from_slice::<RawHeader>(&rest[..end]).ok(), &rest[end + 1..]),
        None => (None, rest),
    };
    let mut ev = serde_json::json!({
        "message": "This event's stored payload could not be read; it is shown as sent.",
        "level": "error",
        "errors": [{ "type": "unreadable_payload", "reason": "the stored JSON does not normalize" }],
        "extra": { "payload_as_sent": String::from_utf8_lossy(payload) },
    });
    if let (Some(h), serde_json::Value::Object(map)) = (header, &mut ev) {
        map.insert("event_id".into(), h.event_id.into());
        map.extend(h.annotations);
    }
    serde_json::to_vec(&ev).unwrap_or_default()
}

fn normalize_raw(rest: &[u8]) -> Option<Vec<u8>> {
    let end = rest.iter().position(|b| *b == b'\n')?;
    let header: RawHeader = serde_json::from_slice(&rest[..end]).ok()?;
    let raw = crate::protocol::json::parse_lenient(&rest[end + 1..]).ok()?;
    let ctx = crate::protocol::event::Context {
        event_id: Some(header.event_id),
        received_ms: header.received_ms,
        sent_at_ms: header.sent_at_ms,
        client_ip: header.client_ip,
    };
    let mut ev = crate::protocol::event::normalize(raw, &ctx).ok()?.event;
    if let serde_json::Value::Object(map) = &mut ev {
        map.extend(header.annotations);
    }
    serde_json::to_vec(&ev).ok()
}
