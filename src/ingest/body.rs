//! Request bodies: `Content-Encoding` (gzip, deflate, br, zstd) decoded with a cap on the
//! decoded size, checked while decoding, so a decompression bomb costs at most `limit` bytes.

use std::io::Read;

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// More than the limit once decoded.
    TooLarge,
    /// An encoding we do not know (415).
    Unsupported(String),
    /// Not valid data of the announced encoding (400).
    Corrupt(String),
}

/// Decodes `body` per a `Content-Encoding` header value (a comma-separated list, applied
/// in order, so decoded in reverse). At most `limit` bytes come out.
pub fn decode(encoding: Option<&str>, body: Vec<u8>, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let encodings: Vec<String> = encoding
        .unwrap_or("")
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "identity")
        .collect();
    let mut data = body;
    for enc in encodings.iter().rev() {
        data = match enc.as_str() {
            "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(&data[..]), limit, enc)?,
            // HTTP's "deflate" is zlib; some clients send raw deflate: accept both.
            "deflate" => read_capped(flate2::read::ZlibDecoder::new(&data[..]), limit, enc)
                .or_else(|_| read_capped(flate2::read::DeflateDecoder::new(&data[..]), limit, enc))?,
            "br" => read_capped(brotli::Decompressor::new(&data[..], 4096), limit, enc)?,
            "zstd" => {
                let decoder = zstd::stream::read::Decoder::new(&data[..])
                    .map_err(|e| DecodeError::Corrupt(format!("cannot decode the zstd body: {e}")))?;
                read_capped(decoder, limit, enc)?
            }
            other => return Err(DecodeError::Unsupported(other.to_string())),
        };
    }
    if data.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    Ok(data)
}

fn read_capped(reader: impl Read, limit: usize, encoding: &str) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt(format!("cannot decode the {encoding} body: {e}")))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
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
}
