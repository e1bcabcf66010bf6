//! Request bodies: `Content-Encoding` (gzip, deflate, br, zstd) decoded with a cap on the
//! decoded size, checked while decoding, so a decompression bomb costs at most `limit` bytes.

use std::io::{BufRead, Read};

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// More than the limit once decoded.
    TooLarge,
    /// An encoding we do not know (415).
    Unsupported(String),
    /// Not valid data of the announced encoding (400).
    Corrupt(String),
}

/// The encodings of a `Content-Encoding` header value, in the order they were applied.
fn encodings(encoding: Option<&str>) -> Vec<String> {
    encoding
        .unwrap_or("")
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "identity")
        .collect()
}

/// A reader of `body` decoded per `Content-Encoding` (a comma-separated list, applied in
/// order, so decoded in reverse), streaming: nothing is decoded until it is read.
fn open<'a>(encodings: &[String], body: &'a [u8]) -> Result<Box<dyn Read + 'a>, DecodeError> {
    let mut reader: Box<dyn Read + 'a> = Box::new(body);
    for enc in encodings.iter().rev() {
        reader = match enc.as_str() {
            "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(reader)),
            // HTTP's "deflate" is zlib; some clients send raw deflate: accept both, told
            // apart by zlib's two-byte header (method 8, a multiple of 31).
            "deflate" => {
                let mut buffered = std::io::BufReader::new(reader);
                let head = buffered.fill_buf().map_err(|e| corrupt(enc, e))?;
                let zlib =
                    head.len() >= 2 && head[0] & 0x0f == 8 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
                if zlib {
                    Box::new(flate2::read::ZlibDecoder::new(buffered))
                } else {
                    Box::new(flate2::read::DeflateDecoder::new(buffered))
                }
            }
            "br" => Box::new(brotli::Decompressor::new(reader, 4096)),
            "zstd" => Box::new(zstd::stream::read::Decoder::new(reader).map_err(|e| corrupt(enc, e))?),
            other => return Err(DecodeError::Unsupported(other.to_string())),
        };
    }
    Ok(reader)
}

fn corrupt(encoding: &str, e: std::io::Error) -> DecodeError {
    DecodeError::Corrupt(format!("cannot decode the {encoding} body: {e}"))
}

/// Decodes `body` per a `Content-Encoding` header value. At most `limit` bytes come out.
pub fn decode(encoding: Option<&str>, body: Vec<u8>, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let encodings = encodings(encoding);
    if encodings.is_empty() {
        return if body.len() > limit { Err(DecodeError::TooLarge) } else { Ok(body) };
    }
    let names = encodings.join(", ");
    let mut reader = open(&encodings, &body)?;
    // Grown by doubling but never past the limit: `read_to_end` would double a 16 MiB buffer
    // to 32 MiB for a body about to be refused at 20.
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| corrupt(&names, e))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > limit {
            return Err(DecodeError::TooLarge);
        }
        if out.capacity() < out.len() + n {
            let want = (out.capacity() * 2).max(out.len() + n).min(limit);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// The first line of the decoded body (without its `\n`), decoding no more than that: an
/// envelope's header, to authenticate by its `dsn` before the body is decoded and parsed.
/// `complete`: whether `body` is the whole body, or only what has arrived so far; then
/// `Ok(None)` means "not yet" (no newline decoded yet, or the decoder needs more bytes).
/// A first line longer than `limit` is `TooLarge`.
pub fn first_line(
    encoding: Option<&str>,
    body: &[u8],
    limit: usize,
    complete: bool,
) -> Result<Option<Vec<u8>>, DecodeError> {
    let encodings = encodings(encoding);
    let names = encodings.join(", ");
    let mut reader = match open(&encodings, body) {
        Ok(r) => r.take(limit as u64 + 1),
        Err(DecodeError::Corrupt(_)) if !complete => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut line = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            // A truncated stream: more may come.
            Err(_) if !complete => return Ok(None),
            Err(e) => return Err(corrupt(&names, e)),
        };
        if n == 0 {
            break;
        }
        match memchr::memchr(b'\n', &chunk[..n]) {
            Some(i) => {
                line.extend_from_slice(&chunk[..i]);
                return Ok(Some(line));
            }
            None => line.extend_from_slice(&chunk[..n]),
        }
    }
    if line.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    Ok(complete.then_some(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_encoding_round_trips() {
        let data = b"{\"message\":\"hello\"}".repeat(10);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&data).unwrap();
        let zlib = z.finish().unwrap();
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&data).unwrap();
        let raw = raw.finish().unwrap();
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 5, 22).write_all(&data).unwrap();
        let zst = zstd::bulk::compress(&data, 3).unwrap();
        for (enc, body) in [
            (None, data.clone()),
            (Some("identity"), data.clone()),
            (Some("gzip"), gzip(&data)),
            (Some("x-gzip"), gzip(&data)),
            (Some("deflate"), zlib),
            (Some("deflate"), raw),
            (Some("br"), br),
            (Some("zstd"), zst),
            (Some("gzip, gzip"), gzip(&gzip(&data))),
        ] {
            assert_eq!(decode(enc, body, 1000).as_deref(), Ok(&data[..]), "{enc:?}");
        }
    }

    #[test]
    fn bombs_and_garbage() {
        // 64 MiB of zeros, about 64 KB compressed: refused after `limit` bytes.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100_000);
        assert_eq!(decode(Some("gzip"), bomb, 1 << 20), Err(DecodeError::TooLarge));
        assert_eq!(decode(None, vec![1; 11], 10), Err(DecodeError::TooLarge));
        assert!(matches!(decode(Some("gzip"), b"not gzip".to_vec(), 100), Err(DecodeError::Corrupt(_))));
        let truncated = gzip(b"hello world hello world").into_iter().take(12).collect();
        assert!(matches!(decode(Some("gzip"), truncated, 100), Err(DecodeError::Corrupt(_))));
        assert!(matches!(decode(Some("br"), b"\xff\xff\xff".to_vec(), 100), Err(DecodeError::Corrupt(_))));
        assert_eq!(decode(Some("compress"), vec![], 100), Err(DecodeError::Unsupported("compress".into())));
    }

    #[test]
    fn the_first_line_alone() {
        let env = b"{\"dsn\":\"http://k@h/1\"}\n{\"type\":\"event\"}\n{}\n".to_vec();
        let line = Some(b"{\"dsn\":\"http://k@h/1\"}".to_vec());
        assert_eq!(first_line(None, &env, 100, true).unwrap(), line);
        assert_eq!(first_line(Some("gzip"), &gzip(&env), 100, true).unwrap(), line);
        assert_eq!(first_line(None, b"{}", 100, true).unwrap(), Some(b"{}".to_vec()));
        // What has arrived so far: "not yet" until the newline is decoded.
        let zipped = gzip(&env);
        assert_eq!(first_line(None, &env[..10], 100, false).unwrap(), None);
        assert_eq!(first_line(Some("gzip"), &zipped[..8], 100, false).unwrap(), None);
        assert!(first_line(Some("gzip"), &zipped[..8], 100, true).is_err());
        // A bomb behind a short first line costs the first line only; a long one is refused.
        let mut bomb = b"{}\n".to_vec();
        bomb.extend(vec![b'x'; 64 << 20]);
        assert_eq!(first_line(Some("gzip"), &gzip(&bomb), 100, true).unwrap(), Some(b"{}".to_vec()));
        assert_eq!(first_line(Some("gzip"), &gzip(&vec![b'x'; 1 << 20]), 100, false), Err(DecodeError::TooLarge));
    }
}
