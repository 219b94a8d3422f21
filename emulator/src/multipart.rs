//! Streaming `multipart/form-data` parser (RFC 7578 over RFC 2046 framing).
//!
//! Part data is handed to a sink in pieces while the body is read, so a file
//! part of any size passes through a bounded buffer.

use std::io::{self, Read};

const READ_CHUNK: usize = 64 * 1024;
const MAX_PART_HEADER_BYTES: usize = 16 * 1024;

pub struct PartHead {
    pub name: String,
    /// Present when the Content-Disposition has a filename, which is what
    /// makes a part a file part.
    pub filename: Option<String>,
}

#[derive(Debug)]
pub enum MultipartError {
    /// The body does not follow multipart framing, as the message describes.
    Malformed(String),
    /// Reading the request body failed.
    Io(io::Error),
}

impl From<io::Error> for MultipartError {
    fn from(error: io::Error) -> Self {
        MultipartError::Io(error)
    }
}

fn malformed(message: impl Into<String>) -> MultipartError {
    MultipartError::Malformed(message.into())
}

/// Extracts the boundary parameter from a `multipart/form-data` media type.
pub fn boundary_from_content_type(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let media_type = params.next()?.trim();
    if !media_type.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    for param in params {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("boundary") {
            let value = value.trim().trim_matches('"');
            if value.is_empty() || value.len() > 70 {
                return None;
            }
            return Some(value.to_string());
        }
    }
    None
}

pub struct MultipartReader<R: Read> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    /// `\r\n--boundary`; the first delimiter has no leading CRLF, which
    /// `new` handles by pretending the body starts with one.
    delimiter: Vec<u8>,
    eof: bool,
    finished: bool,
    /// Set once the data of the current part has been consumed.
    at_part_boundary: bool,
}

impl<R: Read> MultipartReader<R> {
    pub fn new(inner: R, boundary: &str) -> Self {
        MultipartReader {
            inner,
            buf: b"\r\n".to_vec(),
            start: 0,
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            eof: false,
            finished: false,
            at_part_boundary: false,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Reads more body into the buffer. Returns false at end of body.
    fn fill(&mut self) -> Result<bool, MultipartError> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old_len = self.buf.len();
        self.buf.resize(old_len + READ_CHUNK, 0);
        let n = self.inner.read(&mut self.buf[old_len..])?;
        self.buf.truncate(old_len + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn ensure(&mut self, n: usize) -> Result<bool, MultipartError> {
        while self.available().len() < n {
            if !self.fill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Advances to the next part and parses its headers. Returns `None`
    /// after the closing delimiter. Unread data of the previous part is
    /// skipped.
    pub fn next_part(&mut self) -> Result<Option<PartHead>, MultipartError> {
        if self.finished {
            return Ok(None);
        }
        if !self.at_part_boundary {
            // Skips the preamble, or the unread rest of the previous part.
            self.read_part_data(&mut |_| Ok(()))?;
        }
        self.at_part_boundary = false;
        if !self.ensure(2)? {
            return Err(malformed("body ended right after a boundary delimiter"));
        }
        if self.available().starts_with(b"--") {
            self.finished = true;
            return Ok(None);
        }
        // Transport padding (spaces and tabs) may follow the delimiter.
        loop {
            if !self.ensure(1)? {
                return Err(malformed("body ended after a boundary delimiter"));
            }
            match self.available()[0] {
                b' ' | b'\t' => self.start += 1,
                _ => break,
            }
        }
        if !self.ensure(2)? || !self.available().starts_with(b"\r\n") {
            return Err(malformed("boundary delimiter is not followed by CRLF"));
        }
        self.start += 2;
        let headers = self.read_part_headers()?;
        parse_part_headers(&headers).map(Some)
    }

    fn read_part_headers(&mut self) -> Result<String, MultipartError> {
        loop {
            let available = self.available();
            if available.starts_with(b"\r\n") {
                self.start += 2;
                return Ok(String::new());
            }
            if let Some(end) = find(available, b"\r\n\r\n") {
                let text = std::str::from_utf8(&available[..end])
                    .map_err(|_| malformed("part headers are not valid UTF-8"))?
                    .to_string();
                self.start += end + 4;
                return Ok(text);
            }
            if available.len() > MAX_PART_HEADER_BYTES {
                return Err(malformed("part headers exceed 16 KiB"));
            }
            if !self.fill()? {
                return Err(malformed("body ended inside part headers"));
            }
        }
    }

    /// Streams the current part's data to `sink` until the next delimiter.
    /// A sink error stops the parse and is returned as is.
    pub fn read_part_data<E>(&mut self, sink: &mut dyn FnMut(&[u8]) -> Result<(), E>) -> Result<(), PartError<E>> {
        loop {
            let available = &self.buf[self.start..];
            if let Some(at) = find(available, &self.delimiter) {
                let data_end = self.start + at;
                sink(&self.buf[self.start..data_end]).map_err(PartError::Sink)?;
                self.start = data_end + self.delimiter.len();
                self.at_part_boundary = true;
                return Ok(());
            }
            // Keep a tail that could be the start of a delimiter.
            let keep = (self.delimiter.len() - 1).min(available.len());
            let safe_end = self.buf.len() - keep;
            if safe_end > self.start {
                sink(&self.buf[self.start..safe_end]).map_err(PartError::Sink)?;
                self.start = safe_end;
            }
            if !self.fill().map_err(PartError::Multipart)? {
                return Err(PartError::Multipart(malformed("body ended before the closing boundary")));
            }
        }
    }

    /// Reads the current part's data into memory, up to `max` bytes.
    pub fn read_part_to_vec(&mut self, max: usize) -> Result<Vec<u8>, PartError<usize>> {
        let mut out = Vec::new();
        self.read_part_data(&mut |piece: &[u8]| {
            if out.len() + piece.len() > max {
                return Err(max);
            }
            out.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(out)
    }
}

pub enum PartError<E> {
    Multipart(MultipartError),
    Sink(E),
}

impl<E> From<MultipartError> for PartError<E> {
    fn from(error: MultipartError) -> Self {
        PartError::Multipart(error)
    }
}

impl From<PartError<()>> for MultipartError {
    fn from(error: PartError<()>) -> Self {
        match error {
            PartError::Multipart(error) => error,
            PartError::Sink(()) => malformed("part data rejected"),
        }
    }
}

/// Finds `needle` in `haystack`, scanning for its first byte and then
/// comparing the rest.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut offset = 0;
    while offset + needle.len() <= haystack.len() {
        let at = haystack[offset..haystack.len() - needle.len() + 1].iter().position(|&b| b == first)?;
        let candidate = offset + at;
        if &haystack[candidate..candidate + needle.len()] == needle {
            return Some(candidate);
        }
        offset = candidate + 1;
    }
    None
}

fn parse_part_headers(text: &str) -> Result<PartHead, MultipartError> {
    let mut disposition = None;
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(malformed(format!("part header line has no colon: {line:?}")));
        };
        // The part Content-Type is ignored, because the Java and Kotlin
        // clients send a wrong one for the file part.
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim().to_string());
        }
    }
    let Some(disposition) = disposition else {
        return Err(malformed("a part has no Content-Disposition header"));
    };
    let params = parse_disposition(&disposition)?;
    let param = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let Some(name) = param("name") else {
        return Err(malformed("a part's Content-Disposition has no name parameter"));
    };
    let filename = param("filename*")
        .and_then(|v| decode_ext_value(&v))
        .or_else(|| param("filename"));
    Ok(PartHead { name, filename })
}

/// Parses `form-data; name="a"; filename="b"` into lower-cased parameter
/// names and unquoted values.
fn parse_disposition(value: &str) -> Result<Vec<(String, String)>, MultipartError> {
    let bytes = value.as_bytes();
    let type_end = value.find(';').unwrap_or(value.len());
    if !value[..type_end].trim().eq_ignore_ascii_case("form-data") {
        return Err(malformed(format!("part Content-Disposition must be form-data, not {:?}", &value[..type_end])));
    }
    let mut params = Vec::new();
    let mut i = type_end;
    while i < bytes.len() {
        // Skip the ';' and whitespace before a parameter.
        while i < bytes.len() && (bytes[i] == b';' || bytes[i].is_ascii_whitespace()) {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b';' {
            i += 1;
        }
        let name = value[name_start..i].trim().to_ascii_lowercase();
        if i >= bytes.len() || bytes[i] == b';' {
            if !name.is_empty() {
                params.push((name, String::new()));
            }
            continue;
        }
        i += 1;
        let mut param_value = Vec::new();
        if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return Err(malformed("unterminated quoted string in Content-Disposition")),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    // Browsers do not escape backslashes in file names, so
                    // only \" and \\ are treated as escapes.
                    Some(b'\\') if matches!(bytes.get(i + 1), Some(b'"') | Some(b'\\')) => {
                        param_value.push(bytes[i + 1]);
                        i += 2;
                    }
                    Some(&b) => {
                        param_value.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            while i < bytes.len() && bytes[i] != b';' {
                param_value.push(bytes[i]);
                i += 1;
            }
        }
        let param_value = String::from_utf8(param_value)
            .map_err(|_| malformed("Content-Disposition parameter is not valid UTF-8"))?;
        params.push((name, param_value.trim().to_string()));
    }
    Ok(params)
}

/// Decodes an RFC 8187 extended value such as `UTF-8''na%C3%AFve.pdf`.
fn decode_ext_value(value: &str) -> Option<String> {
    let (charset, rest) = value.split_once('\'')?;
    let (_language, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    crate::util::percent_decode(&encoded.replace('+', "%2B"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(body: &[u8], boundary: &str, read_size: usize) -> Result<Vec<(String, Option<String>, Vec<u8>)>, String> {
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = MultipartReader::new(Slow(body, read_size), boundary);
        let mut parts = Vec::new();
        loop {
            match reader.next_part() {
                Ok(Some(head)) => {
                    let data = match reader.read_part_to_vec(1 << 20) {
                        Ok(data) => data,
                        Err(PartError::Multipart(MultipartError::Malformed(m))) => return Err(m),
                        Err(_) => return Err("part read failed".to_string()),
                    };
                    parts.push((head.name, head.filename, data));
                }
                Ok(None) => return Ok(parts),
                Err(MultipartError::Malformed(m)) => return Err(m),
                Err(MultipartError::Io(e)) => return Err(e.to_string()),
            }
        }
    }

    #[test]
    fn parses_parts_at_any_read_size() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"fileToUpload\"; filename=\"a \\\"b\\\".pdf\"\r\n\
            Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--Xy\r\n--XyZ\r\n\
            Content-Disposition: form-data; name=\"products\"\r\n\r\n[\"invoices\"]\r\n--XyZ--\r\nepilogue";
        for read_size in [1, 2, 5, 13, 4096] {
            let parts = collect(body, "XyZ", read_size).unwrap();
            assert_eq!(parts.len(), 2, "read size {read_size}");
            assert_eq!(parts[0].0, "fileToUpload");
            assert_eq!(parts[0].1.as_deref(), Some("a \"b\".pdf"));
            assert_eq!(parts[0].2, b"%PDF-1.4\r\n--Xy");
            assert_eq!(parts[1].0, "products");
            assert_eq!(parts[1].1, None);
            assert_eq!(parts[1].2, b"[\"invoices\"]");
        }
    }

    #[test]
    fn rejects_truncated_body() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue";
        assert!(collect(body, "b", 3).unwrap_err().contains("closing boundary"));
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(boundary_from_content_type("multipart/form-data; boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary_from_content_type("Multipart/Form-Data;charset=utf-8; boundary=q").as_deref(), Some("q"));
        assert_eq!(boundary_from_content_type("application/json"), None);
        assert_eq!(boundary_from_content_type("multipart/form-data"), None);
    }
}
