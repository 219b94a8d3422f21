//! The error type shared by the Rust API and the C ABI.

use std::fmt;

/// Maximum number of characters of a server message kept in an error.
pub(crate) const MAX_SERVER_MESSAGE_CHARS: usize = 512;

/// What went wrong, as a stable category.
///
/// Each kind maps to one stable C error code (see [`ErrorKind::code`]). New
/// kinds are only ever appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument was missing, empty, out of range or NULL.
    InvalidArgument,
    /// A string argument was not valid UTF-8.
    InvalidUtf8,
    /// The client configuration is incomplete or inconsistent
    /// (credentials, endpoints, auth flow).
    Config,
    /// Reading a local file failed.
    Io,
    /// The connection failed or broke (DNS, refused, reset, TLS).
    Network,
    /// A connect, read or overall deadline ran out.
    Timeout,
    /// The token endpoint rejected the credentials, or a request was still
    /// unauthorised after a fresh token.
    Auth,
    /// The API responded with a non-2xx status.
    HttpStatus,
    /// The API responded 2xx with a body that is not what the call expects.
    Decode,
    /// The document's results did not reach `FINALISED` before the deadline.
    NotFinalised,
    /// A bug inside libsypht (for example a caught panic).
    Internal,
    /// A response body was larger than the configured limit.
    TooLarge,
    /// A paged listing had more records than the caller's record limit.
    LimitExceeded,
}

impl ErrorKind {
    /// The stable C error code of this kind (`SYPHT_ERROR_*` in `sypht.h`).
    pub fn code(self) -> i32 {
        match self {
            ErrorKind::InvalidArgument => 1,
            ErrorKind::InvalidUtf8 => 2,
            ErrorKind::Config => 3,
            ErrorKind::Io => 4,
            ErrorKind::Network => 5,
            ErrorKind::Timeout => 6,
            ErrorKind::Auth => 7,
            ErrorKind::HttpStatus => 8,
            ErrorKind::Decode => 9,
            ErrorKind::NotFinalised => 10,
            ErrorKind::Internal => 11,
            ErrorKind::TooLarge => 12,
            ErrorKind::LimitExceeded => 13,
        }
    }

    /// A short lowercase name of the kind, used as the message prefix.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::InvalidUtf8 => "invalid UTF-8",
            ErrorKind::Config => "configuration error",
            ErrorKind::Io => "I/O error",
            ErrorKind::Network => "network error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::HttpStatus => "HTTP error",
            ErrorKind::Decode => "invalid response",
            ErrorKind::NotFinalised => "not finalised",
            ErrorKind::Internal => "internal error",
            ErrorKind::TooLarge => "response too large",
            ErrorKind::LimitExceeded => "record limit exceeded",
        }
    }
}

/// An error from libsypht: a kind, a message, and the HTTP status when the
/// server responded.
///
/// Messages never contain the client secret, the Basic credential or an
/// access token: text taken from server responses is redacted before it is
/// stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    http_status: Option<u16>,
    result_status: Option<String>,
}

impl Error {
    /// Creates an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            http_status: None,
            result_status: None,
        }
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Error {
        self.http_status = Some(status);
        self
    }

    pub(crate) fn with_result_status(mut self, status: impl Into<String>) -> Error {
        self.result_status = Some(status.into());
        self
    }

    /// Appends `context` to the message, keeping the kind and statuses.
    pub(crate) fn with_context(mut self, context: &str) -> Error {
        self.message.push_str(context);
        self
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    pub(crate) fn decode(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Decode, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable C error code (`SYPHT_ERROR_*`).
    pub fn code(&self) -> i32 {
        self.kind.code()
    }

    /// The human-readable message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the response that caused the error, if any.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The last `status` value the results endpoint returned, for
    /// [`ErrorKind::NotFinalised`] errors.
    pub fn result_status(&self) -> Option<&str> {
        self.result_status.as_deref()
    }

    /// Replaces every occurrence of each secret in the message.
    pub(crate) fn redact(mut self, secrets: &[&str]) -> Error {
        self.message = redact(&self.message, secrets);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.kind).field("message", &self.message);
        if let Some(status) = self.http_status {
            s.field("http_status", &status);
        }
        if let Some(status) = &self.result_status {
            s.field("result_status", status);
        }
        s.finish()
    }
}

impl std::error::Error for Error {}

/// Result alias for libsypht calls.
pub type Result<T> = std::result::Result<T, Error>;

/// Replaces each non-empty secret in `text` with `[redacted]`. A text that
/// contains a secret percent-encoded becomes `[redacted]` whole.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if secret.len() >= 4 && out.contains(secret) {
            out = out.replace(secret, "[redacted]");
        }
    }
    if contains_encoded_secret(out.as_bytes(), secrets) {
        return "[redacted]".to_string();
    }
    out
}

/// Secrets shorter than this are not searched for in response bytes, so
/// that a short value cannot match ordinary bytes of a document.
pub(crate) const MIN_SCRUBBED_SECRET_BYTES: usize = 8;

/// Checks whether `bytes` contains `secret` anywhere.
pub(crate) fn contains_bytes(bytes: &[u8], secret: &[u8]) -> bool {
    bytes.windows(secret.len()).any(|window| window == secret)
}

/// Checks whether `bytes`, once its `%XX` escapes are decoded, contains a
/// secret. Servers that echo a request in a URL or a form body write the
/// secret this way, which a plain search misses.
pub(crate) fn contains_encoded_secret(bytes: &[u8], secrets: &[&str]) -> bool {
    let spaced = secrets.iter().any(|s| s.contains(' '));
    if !bytes.contains(&b'%') && !(spaced && bytes.contains(&b'+')) {
        return false;
    }
    let found_in = |decoded: &[u8]| {
        secrets
            .iter()
            .filter(|s| s.len() >= MIN_SCRUBBED_SECRET_BYTES)
            .any(|secret| contains_bytes(decoded, secret.as_bytes()))
    };
    // A form body also writes a space as `+`, which only matters for a
    // secret with a space in it.
    found_in(&percent_decode(bytes, false)) || (spaced && found_in(&percent_decode(bytes, true)))
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`),
/// leaving any malformed escape as it is.
fn percent_decode(bytes: &[u8], plus_is_space: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    out
}

/// Makes server-provided text safe to show: control characters become
/// spaces, runs of whitespace collapse, and the text is cut to
/// [`MAX_SERVER_MESSAGE_CHARS`] characters with a marker.
pub(crate) fn sanitize_server_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SERVER_MESSAGE_CHARS + 16));
    let mut count = 0;
    let mut last_space = false;
    for c in text.trim().chars() {
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if count == MAX_SERVER_MESSAGE_CHARS {
            out.push_str("... (truncated)");
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(ErrorKind::InvalidArgument.code(), 1);
        assert_eq!(ErrorKind::NotFinalised.code(), 10);
        assert_eq!(ErrorKind::TooLarge.code(), 12);
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let text = redact("a s3cret b s3cret", &["s3cret", ""]);
        assert_eq!(text, "a [redacted] b [redacted]");
    }

    #[test]
    fn sanitize_cuts_long_text_and_controls() {
        let long = "x".repeat(2000);
        let out = sanitize_server_text(&long);
        assert!(out.ends_with("... (truncated)"));
        assert_eq!(out.chars().count(), MAX_SERVER_MESSAGE_CHARS + 15);
        assert_eq!(sanitize_server_text("a\n\r\tb\u{1b}c"), "a b c");
    }
}
