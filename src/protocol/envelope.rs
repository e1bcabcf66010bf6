//! Envelope framing: a header line, then items, each a header line and a payload, with or
//! without an explicit `length`.

use serde_json::{Map, Value};

/// A parsed envelope; payloads borrow from the request body.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub header: Map<String, Value>,
    pub items: Vec<Item<'a>>,
}

#[derive(Debug)]
pub struct Item<'a> {
    /// `event`, `attachment`, `transaction`, ... (any string; unknown types are kept).
    pub ty: String,
    pub header: Map<String, Value>,
    pub payload: &'a [u8],
}

impl Envelope<'_> {
    /// A string field of the envelope header.
    pub fn header_str(&self, key: &str) -> Option<&str> {
        self.header.get(key).and_then(Value::as_str)
    }
}

impl Item<'_> {
    pub fn header_str(&self, key: &str) -> Option<&str> {
        self.header.get(key).and_then(Value::as_str)
    }
}

/// Items one envelope may hold. SDKs send one event with its attachments, or a handful of
/// sessions and client reports; an envelope of more is not from an SDK, and its cost
/// (a header map per item) is refused before it is paid.
pub const MAX_ITEMS: usize = 1000;
/// The longest envelope or item header line (the JSON before a payload). SDKs' are well
/// under 1 KB (a `dsn`, `trace` and `sdk` header); the rest would be parsed for nothing.
pub const MAX_HEADER_BYTES: usize = 16 << 10;
/// The longest item type kept as sent; longer ones are not types any SDK sends.
pub const MAX_TYPE_LEN: usize = 64;

/// What is wrong with an envelope: its framing (400), or more than the limits allow (413).
#[derive(Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    Malformed(String),
    TooLarge(String),
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvelopeError::Malformed(m) | EnvelopeError::TooLarge(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EnvelopeError {}

impl From<String> for EnvelopeError {
    fn from(m: String) -> Self {
        EnvelopeError::Malformed(m)
    }
}

/// The envelope header alone (its first line), for authenticating by its `dsn` before the
/// rest is decoded or parsed.
pub fn parse_first_line(line: &[u8]) -> Result<Map<String, Value>, EnvelopeError> {
    if line.len() > MAX_HEADER_BYTES {
        return Err(EnvelopeError::TooLarge(format!("the envelope header is longer than {MAX_HEADER_BYTES} bytes")));
    }
    Ok(parse_header(line).map_err(|e| format!("envelope header: {e}"))?)
}

/// Parses an envelope. Errors name what is wrong and where, for the 400 (or 413) answer.
pub fn parse(body: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("empty envelope".to_string().into());
    }
    let (line, mut rest) = split_line(body);
    let header = parse_first_line(line)?;
    let mut items = Vec::new();
    loop {
        // Blank lines between items are tolerated; the end may come with or without '\n'.
        while let Some(after) = rest.strip_prefix(b"\n") {
            rest = after;
        }
        if rest.is_empty() {
            break;
        }
        let n = items.len() + 1;
        if n > MAX_ITEMS {
            return Err(EnvelopeError::TooLarge(format!("the envelope has more than {MAX_ITEMS} items")));
        }
        let (line, after_header) = split_line(rest);
        if line.len() > MAX_HEADER_BYTES {
            return Err(EnvelopeError::TooLarge(format!("item {n} header is longer than {MAX_HEADER_BYTES} bytes")));
        }
        let item_header = parse_header(line).map_err(|e| format!("item {n} header: {e}"))?;
        let ty = match item_header.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => return Err(format!("item {n} header: missing \"type\"").into()),
        };
        let (payload, after_payload) = match item_header.get("length") {
            None | Some(Value::Null) => split_line(after_header),
            Some(len) => {
                let len = len.as_u64().ok_or_else(|| format!("item {n} header: \"length\" is not a number"))?;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > after_header.len() {
                    return Err(format!(
                        "item {n} ({}): length {len} runs past the end of the envelope ({} bytes left)",
                        type_name(&ty),
                        after_header.len()
                    )
                    .into());
                }
                let (payload, after) = after_header.split_at(len);
                if !(after.is_empty() || after[0] == b'\n') {
                    return Err(format!(
                        "item {n} ({}): payload of length {len} is not followed by a newline",
                        type_name(&ty)
                    )
                    .into());
                }
                (payload, after)
            }
        };
        items.push(Item { ty, header: item_header, payload });
        rest = after_payload;
    }
    Ok(Envelope { header, items })
}

/// An item type as it may be echoed in an error or counted: at most [`MAX_TYPE_LEN`] bytes.
fn type_name(ty: &str) -> &str {
    if ty.len() <= MAX_TYPE_LEN {
        ty
    } else {
        "an over-long type"
    }
}

/// Splits at the first '\n' (not included in either part).
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

fn parse_header(line: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(format!("invalid JSON ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and describes it as `type:payload` per item, or `error: ...`.
    fn check(input: &[u8], expected: &[&str]) {
        let got: Vec<String> = match parse(input) {
            Ok(env) => env.items.iter().map(|i| format!("{}:{}", i.ty, String::from_utf8_lossy(i.payload))).collect(),
            Err(e) => vec![format!("error: {e}")],
        };
        assert_eq!(got, expected, "input: {:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn framing() {
        check(b"{}", &[]);
        check(b"{}\n", &[]);
        check(
            b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"event\"}\n{\"a\":1}\n",
            &["event:{\"a\":1}"],
        );
        check(b"{}\n{\"type\":\"event\"}\n{\"a\":1}", &["event:{\"a\":1}"]);
        check(b"{}\n{\"type\":\"attachment\",\"length\":7}\nab\ncd\ne\n", &["attachment:ab\ncd\ne"]);
        check(b"{}\n{\"type\":\"attachment\",\"length\":2}\nab", &["attachment:ab"]);
        check(
            b"{}\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"session\"}\n{}\n",
            &["attachment:", "session:{}"],
        );
        check(b"{}\n{\"type\":\"x\"}\na\r\n", &["x:a\r"]);
        check(
            b"{}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n{\"type\":\"client_report\"}\n{}",
            &["event:{\"a\":1}", "client_report:{}"],
        );
    }

    #[test]
    fn malformed() {
        check(b"", &["error: empty envelope"]);
        check(b"nope\n", &["error: envelope header: invalid JSON (expected ident at line 1 column 2)"]);
        check(b"[]\n", &["error: envelope header: not a JSON object"]);
        check(b"{}\n{\"length\":2}\nab", &["error: item 1 header: missing \"type\""]);
        check(
            b"{}\n{\"type\":\"event\",\"length\":50}\n{}",
            &["error: item 1 (event): length 50 runs past the end of the envelope (2 bytes left)"],
        );
        check(
            b"{}\n{\"type\":\"event\",\"length\":1}\n{}",
            &["error: item 1 (event): payload of length 1 is not followed by a newline"],
        );
        check(b"{}\n{\"type\":\"event\",\"length\":\"x\"}\n{}", &["error: item 1 header: \"length\" is not a number"]);
        check(
            b"{}\n{\"type\":\"event\",\"length\":18446744073709551615}\n{}",
            &["error: item 1 (event): length 18446744073709551615 runs past the end of the envelope (2 bytes left)"],
        );
    }

    #[test]
    fn limits() {
        // 1.3 million tiny items (the 40 KB gzip bomb): refused at the 1,001st, as too large.
        let many = format!("{{}}\n{}", "{\"type\":\"x\",\"length\":0}\n\n".repeat(1_300_000));
        assert_eq!(
            parse(many.as_bytes()).unwrap_err(),
            EnvelopeError::TooLarge("the envelope has more than 1000 items".into())
        );
        let just = format!("{{}}\n{}", "{\"type\":\"x\",\"length\":0}\n\n".repeat(MAX_ITEMS));
        assert_eq!(parse(just.as_bytes()).unwrap().items.len(), MAX_ITEMS);
        let long_header = format!("{{\"dsn\":\"{}\"}}\n", "a".repeat(MAX_HEADER_BYTES));
        assert!(matches!(parse(long_header.as_bytes()), Err(EnvelopeError::TooLarge(_))));
        let long_item = format!("{{}}\n{{\"type\":\"{}\"}}\n{{}}\n", "t".repeat(MAX_HEADER_BYTES));
        assert!(matches!(parse(long_item.as_bytes()), Err(EnvelopeError::TooLarge(_))));
        let long_type = format!("{{}}\n{{\"type\":\"{}\",\"length\":9}}\n{{}}", "t".repeat(1000));
        assert_eq!(
            parse(long_type.as_bytes()).unwrap_err().to_string(),
            "item 1 (an over-long type): length 9 runs past the end of the envelope (2 bytes left)"
        );
    }
}
