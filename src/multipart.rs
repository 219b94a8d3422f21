//! A streaming `multipart/form-data` body: text parts and one file part,
//! with the file read from its source while the request is sent.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Cursor, Read};

/// The body of a multipart request as three pieces: the bytes before the
/// file content, the file content itself (streamed by the caller), and the
/// closing bytes.
pub(crate) struct MultipartBody {
    pub(crate) content_type: String,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

pub(crate) struct MultipartBuilder {
    boundary: String,
    prefix: Vec<u8>,
}

/// Quotes a value for a `Content-Disposition` parameter: backslash and
/// double quote are escaped, CR and LF (which would end the header) become
/// spaces.
fn quote_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl MultipartBuilder {
    pub(crate) fn new() -> MultipartBuilder {
        // The boundary only has to be absent from the content; 128 random
        // bits make a collision with a document vanishingly unlikely.
        let mut bits = String::new();
        for i in 0..2u64 {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(i);
            bits.push_str(&format!("{:016x}", hasher.finish()));
        }
        MultipartBuilder { boundary: format!("libsypht-{bits}"), prefix: Vec::new() }
    }

    /// Appends a text field.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.prefix.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name={}\r\n\r\n{}\r\n",
                self.boundary,
                quote_param(name),
                value
            )
            .as_bytes(),
        );
    }

    /// Ends the text fields and opens the file part; the file's bytes go
    /// between the returned body's prefix and suffix.
    pub(crate) fn file(mut self, name: &str, file_name: &str, content_type: &str) -> MultipartBody {
        self.prefix.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name={}; filename={}\r\nContent-Type: {}\r\n\r\n",
                self.boundary,
                quote_param(name),
                quote_param(file_name),
                content_type
            )
            .as_bytes(),
        );
        MultipartBody {
            content_type: format!("multipart/form-data; boundary={}", self.boundary),
            prefix: self.prefix,
            suffix: format!("\r\n--{}--\r\n", self.boundary).into_bytes(),
        }
    }
}

impl MultipartBody {
    /// Total body length for a file of `file_len` bytes.
    pub(crate) fn length(&self, file_len: u64) -> u64 {
        self.prefix.len() as u64 + file_len + self.suffix.len() as u64
    }

    /// Chains prefix, exactly `file_len` bytes of `file`, and suffix.
    pub(crate) fn reader<'a, R: Read + 'a>(&self, file: R, file_len: u64) -> impl Read + 'a {
        Cursor::new(self.prefix.clone())
            .chain(ExactReader { inner: file, remaining: file_len })
            .chain(Cursor::new(self.suffix.clone()))
    }
}

/// Reads exactly `remaining` bytes, failing if the source ends early (the
/// file shrank during the upload), so the Content-Length stays true.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ended {} bytes early; was it changed during the upload?", self.remaining),
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Guesses a document's media type from its name.
pub(crate) fn content_type_for(file_name: &str) -> &'static str {
    let lower = file_name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_length_matches_bytes() {
        let mut b = MultipartBuilder::new();
        b.text("products", "[\"invoices\"]");
        let body = b.file("fileToUpload", "a \"b\".pdf", "application/pdf");
        let mut out = Vec::new();
        body.reader(&b"%PDF-1.4 data"[..], 13).read_to_end(&mut out).unwrap();
        assert_eq!(out.len() as u64, body.length(13));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("filename=\"a \\\"b\\\".pdf\""));
        assert!(text.ends_with("--\r\n"));
    }

    #[test]
    fn short_file_is_an_error() {
        let body = MultipartBuilder::new().file("f", "x", "application/pdf");
        let mut out = Vec::new();
        let err = body.reader(&b"abc"[..], 10).read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
