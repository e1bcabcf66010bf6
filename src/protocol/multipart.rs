//! `multipart/form-data` bodies (RFC 7578), as crash reporters (Breakpad, Crashpad, Electron)
//! post minidumps. The whole body is in memory (ingestion caps it), so parts borrow from it.

/// One part of a form.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename`, for file fields.
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type (`None` for any other type).
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let essence = params.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// Splits a body into its parts. Errors say what is wrong, for the 400 answer.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let first = find(body, delimiter).ok_or("the multipart body has no boundary line")?;
    let mut rest = &body[first + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts); // the closing delimiter
        }
        // The rest of the delimiter line (transport padding), then the part's headers.
        let line_end = find(rest, b"\n").ok_or("a multipart boundary line does not end")?;
        rest = &rest[line_end + 1..];
        let (head_len, sep) = match (find(rest, b"\r\n\r\n"), find(rest, b"\n\n")) {
            (Some(a), Some(b)) if b < a => (b, 2),
            (Some(a), _) => (a, 4),
            (None, Some(b)) => (b, 2),
            (None, None) => return Err(format!("multipart part {} has no end of headers", parts.len() + 1)),
        };
        let head = std::str::from_utf8(&rest[..head_len])
            .map_err(|_| format!("multipart part {} has non-UTF-8 headers", parts.len() + 1))?;
        let content = &rest[head_len + sep..];
        let mut close = Vec::with_capacity(delimiter.len() + 1);
        close.push(b'\n');
        close.extend_from_slice(delimiter);
        let end = find(content, &close)
            .ok_or_else(|| format!("multipart part {} is not closed by a boundary", parts.len() + 1))?;
        let mut data = &content[..end];
        if data.ends_with(b"\r") {
            data = &data[..data.len() - 1];
        }
        let mut part = Part { name: String::new(), filename: None, content_type: None, data };
        for line in head.lines() {
            let Some((name, value)) = line.split_once(':') else { continue };
            if name.trim().eq_ignore_ascii_case("content-disposition") {
                for param in value.split(';').skip(1) {
                    if let Some((k, v)) = param.split_once('=') {
                        let v = v.trim().trim_matches('"').to_string();
                        match k.trim().to_ascii_lowercase().as_str() {
                            "name" => part.name = v,
                            "filename" => part.filename = Some(v),
                            _ => {}
                        }
                    }
                }
            } else if name.trim().eq_ignore_ascii_case("content-type") {
                part.content_type = Some(value.trim().to_string());
            }
        }
        parts.push(part);
        rest = &content[end + close.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_boundary() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("Multipart/Form-Data;boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("application/octet-stream"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn splits_fields_and_files() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"sentry[release]\"\r\n\r\napp@1\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"crash.dmp\"\r\n\
Content-Type: application/octet-stream\r\n\r\nMDMP\x00\r\n--Xy\x01\r\n--XyZ--\r\n";
        let parts = parse(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0].name, "sentry[release]");
        assert_eq!(parts[0].data, b"app@1");
        assert_eq!(parts[1].name, "upload_file_minidump");
        assert_eq!(parts[1].filename.as_deref(), Some("crash.dmp"));
        assert_eq!(parts[1].content_type.as_deref(), Some("application/octet-stream"));
        assert_eq!(parts[1].data, b"MDMP\x00\r\n--Xy\x01");
    }

    #[test]
    fn refuses_broken_bodies() {
        assert!(parse(b"no boundary here", "b").is_err());
        assert!(parse(b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunclosed", "b").is_err());
        assert!(parse(b"--b\r\nno end of headers", "b").is_err());
        assert_eq!(parse(b"--b--\r\n", "b").unwrap(), vec![]);
    }
}
