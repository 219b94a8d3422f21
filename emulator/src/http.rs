//! HTTP/1.1 request parsing and response writing on plain std streams.
//!
//! Bodies are read through [`BodyReader`], which decodes Content-Length and
//! chunked framing on demand, so handlers can stream large uploads instead of
//! buffering them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::parse_form;

/// Limit on the request line plus headers.
const MAX_HEAD_BYTES: u64 = 64 * 1024;
const MAX_HEADERS: usize = 100;

pub struct Request {
    pub method: String,
    /// Path as sent, without the query string and still percent-encoded.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub http_1_0: bool,
    /// Header names are lower-cased; values are trimmed.
    pub headers: Vec<(String, String)>,
    pub framing: Framing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
}

/// A request head that could not be parsed, with the status to send back.
pub struct HeadError {
    pub status: u16,
    pub message: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Reports whether the client asked to close the connection after this
    /// exchange, following the HTTP/1.0 and HTTP/1.1 defaults.
    pub fn wants_close(&self) -> bool {
        let tokens = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |token: &str| tokens.split(',').any(|t| t.trim() == token);
        if self.http_1_0 {
            !has("keep-alive")
        } else {
            has("close")
        }
    }

    pub fn content_length(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            Framing::Chunked => None,
        }
    }
}

/// Reads one request head. Returns `Ok(None)` on a clean end of stream
/// before any byte of a new request.
pub fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Result<Request, HeadError>>> {
    let mut limited = reader.take(MAX_HEAD_BYTES);
    let mut line = Vec::new();
    // Tolerate empty lines before a request line, as RFC 9112 section 2.2 allows.
    loop {
        line.clear();
        if limited.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        if line != b"\r\n" && line != b"\n" {
            break;
        }
    }
    if !line.ends_with(b"\n") {
        return Ok(Some(Err(head_error(431, "request line too long"))));
    }
    let request_line = match std::str::from_utf8(&line) {
        Ok(text) => text.trim_end().to_string(),
        Err(_) => return Ok(Some(Err(head_error(400, "request line is not valid UTF-8")))),
    };
    let mut headers = Vec::new();
    loop {
        line.clear();
        if limited.read_until(b'\n', &mut line)? == 0 || !line.ends_with(b"\n") {
            if limited.limit() == 0 {
                return Ok(Some(Err(head_error(431, "request headers exceed 64 KiB"))));
            }
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside request headers"));
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Ok(Some(Err(head_error(431, "more than 100 request headers"))));
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            return Ok(Some(Err(head_error(400, "request header is not valid UTF-8"))));
        };
        let Some((name, value)) = text.split_once(':') else {
            return Ok(Some(Err(head_error(400, "request header line has no colon"))));
        };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Ok(Some(Err(head_error(400, "invalid request header name"))));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Some(parse_head(&request_line, headers)))
}

fn head_error(status: u16, message: &str) -> HeadError {
    HeadError { status, message: message.to_string() }
}

fn parse_head(request_line: &str, headers: Vec<(String, String)>) -> Result<Request, HeadError> {
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(head_error(400, "malformed request line"));
    };
    let http_1_0 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(head_error(505, "only HTTP/1.0 and HTTP/1.1 are supported")),
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(head_error(400, "malformed request method"));
    }
    if !target.starts_with('/') {
        return Err(head_error(400, "request target must be an origin-form path starting with '/'"));
    }

    let (path, query_text) = target.split_once('?').unwrap_or((target, ""));
    let Some(query) = parse_form(query_text) else {
        return Err(head_error(400, "query string has a malformed percent escape or is not UTF-8"));
    };

    let find = |name: &str| headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
    let lengths = find("content-length");
    let encodings = find("transfer-encoding");
    let framing = if !encodings.is_empty() {
        if !lengths.is_empty() {
            return Err(head_error(400, "request has both Transfer-Encoding and Content-Length"));
        }
        let last = encodings.join(",");
        let last = last.rsplit(',').next().unwrap_or("").trim().to_ascii_lowercase();
        if last != "chunked" {
            return Err(head_error(501, "only the chunked transfer coding is supported"));
        }
        Framing::Chunked
    } else if let Some(first) = lengths.first() {
        if lengths.iter().any(|v| v != first) {
            return Err(head_error(400, "request has conflicting Content-Length headers"));
        }
        match first.parse::<u64>() {
            Ok(n) if first.bytes().all(|b| b.is_ascii_digit()) => Framing::Length(n),
            _ => return Err(head_error(400, "invalid Content-Length")),
        }
    } else {
        Framing::Length(0)
    };
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query,
        http_1_0,
        headers,
        framing,
    })
}

/// Reads a request body according to its framing. After an error the body
/// is left in an unknown state and the connection must be closed.
pub struct BodyReader<'a> {
    inner: &'a mut BufReader<TcpStream>,
    state: BodyState,
    /// Stream for the `100 Continue` interim response, sent before the
    /// first body read when the client sent `Expect: 100-continue`.
    continue_writer: Option<TcpStream>,
    failed: bool,
    /// Body bytes delivered so far (decoded, without chunk framing).
    pub bytes_read: u64,
}

enum BodyState {
    Length { remaining: u64 },
    /// Inside a chunk with this many data bytes left; 0 means a chunk-size
    /// line comes next.
    Chunk { remaining: u64, first: bool },
    Done,
}

impl<'a> BodyReader<'a> {
    pub fn new(inner: &'a mut BufReader<TcpStream>, framing: Framing, continue_writer: Option<TcpStream>) -> Self {
        let state = match framing {
            Framing::Length(0) => BodyState::Done,
            Framing::Length(n) => BodyState::Length { remaining: n },
            Framing::Chunked => BodyState::Chunk { remaining: 0, first: true },
        };
        BodyReader { inner, state, continue_writer, failed: false, bytes_read: 0 }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, BodyState::Done)
    }

    /// Returns the number of body bytes not yet read for a Content-Length
    /// body, or `None` for a chunked one.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            BodyState::Done => Some(0),
            BodyState::Length { remaining } => Some(remaining),
            BodyState::Chunk { .. } => None,
        }
    }

    /// Reports whether a read failed, which leaves the framing unknown.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Reads and discards the rest of the body, up to `max` bytes or until
    /// `deadline`. Returns true when the body ended within that budget.
    pub fn discard_until(&mut self, max: u64, deadline: std::time::Instant) -> io::Result<bool> {
        let mut buf = vec![0u8; 64 * 1024];
        let start = self.bytes_read;
        while !self.is_done() {
            if self.bytes_read - start >= max || std::time::Instant::now() >= deadline {
                return Ok(false);
            }
            if self.read(&mut buf)? == 0 {
                break;
            }
        }
        Ok(self.is_done())
    }

    /// Reads the whole body into memory, failing with `InvalidData` once it
    /// exceeds `max` bytes.
    pub fn read_to_vec(&mut self, max: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.take(max + 1).read_to_end(&mut out)?;
        if out.len() as u64 > max {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("request body exceeds {max} bytes")));
        }
        Ok(out)
    }

    fn read_chunk_size(&mut self, first: bool) -> io::Result<u64> {
        let mut line = Vec::new();
        if !first {
            // Every chunk's data is followed by CRLF before the next size line.
            (&mut *self.inner).take(2).read_until(b'\n', &mut line)?;
            if line != b"\r\n" && line != b"\n" {
                return Err(invalid("chunk data not followed by CRLF"));
            }
            line.clear();
        }
        (&mut *self.inner).take(1024).read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(invalid("chunk size line missing or longer than 1 KiB"));
        }
        let text = std::str::from_utf8(&line).map_err(|_| invalid("chunk size line is not UTF-8"))?;
        let size_text = text.split(';').next().unwrap_or("").trim();
        u64::from_str_radix(size_text, 16).map_err(|_| invalid("invalid chunk size"))
    }

    fn skip_trailers(&mut self) -> io::Result<()> {
        let mut total = 0;
        loop {
            let mut line = Vec::new();
            (&mut *self.inner).take(8 * 1024).read_until(b'\n', &mut line)?;
            if !line.ends_with(b"\n") {
                return Err(invalid("chunked trailer line missing or too long"));
            }
            if line == b"\r\n" || line == b"\n" {
                return Ok(());
            }
            total += line.len();
            if total > 64 * 1024 {
                return Err(invalid("chunked trailers exceed 64 KiB"));
            }
        }
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.is_done() {
            return Ok(0);
        }
        if let Some(mut writer) = self.continue_writer.take() {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let result = self.read_decoded(buf);
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

impl BodyReader<'_> {
    fn read_decoded(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                BodyState::Done => return Ok(0),
                BodyState::Length { remaining } => {
                    let want = buf.len().min(remaining.min(usize::MAX as u64) as usize);
                    let n = self.inner.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside request body"));
                    }
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 { BodyState::Done } else { BodyState::Length { remaining } };
                    self.bytes_read += n as u64;
                    return Ok(n);
                }
                BodyState::Chunk { remaining: 0, first } => {
                    let size = self.read_chunk_size(first)?;
                    if size == 0 {
                        self.skip_trailers()?;
                        self.state = BodyState::Done;
                    } else {
                        self.state = BodyState::Chunk { remaining: size, first: false };
                    }
                }
                BodyState::Chunk { remaining, .. } => {
                    let want = buf.len().min(remaining.min(usize::MAX as u64) as usize);
                    let n = self.inner.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside a chunk"));
                    }
                    self.state = BodyState::Chunk { remaining: remaining - n as u64, first: false };
                    self.bytes_read += n as u64;
                    return Ok(n);
                }
            }
        }
    }
}

pub enum Body {
    Bytes(Vec<u8>),
    /// A file streamed from disk, such as a spooled upload.
    File { path: PathBuf, len: u64 },
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Close the connection after this response, for example because the
    /// request body was not read.
    pub close: bool,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: Body::Bytes(body),
            close: false,
        }
    }

    pub fn json(status: u16, value: &Value) -> Response {
        let mut body = serde_json::to_vec(value).expect("serializing a JSON value cannot fail");
        body.push(b'\n');
        Response::new(status, "application/json", body)
    }

    /// Builds the emulator's error body, `{"message": ..., "error": ...}`,
    /// which carries both keys that clients look for.
    pub fn error(status: u16, error: &str, message: &str) -> Response {
        Response::json(status, &serde_json::json!({ "message": message, "error": error }))
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body_len(&self) -> u64 {
        match &self.body {
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::File { len, .. } => *len,
        }
    }
}

pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Serializes the status line and headers, adding Content-Length and
/// Connection. `content_length` is normally the body length, but fault
/// injection may announce more bytes than it sends.
pub fn head_bytes(response: &Response, content_length: u64, close: bool) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", response.status, reason_phrase(response.status));
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {content_length}\r\n"));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Writes the response body, streaming files in 64 KiB pieces.
pub fn write_body(stream: &mut impl Write, body: &Body) -> io::Result<()> {
    match body {
        Body::Bytes(bytes) => stream.write_all(bytes),
        Body::File { path, .. } => {
            let mut file = File::open(path)?;
            io::copy(&mut file, stream).map(|_| ())
        }
    }
}
