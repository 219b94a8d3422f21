//! The C ABI.
//!
//! Conventions, shared by every function:
//!
//! - A call that can fail takes `SyphtError **error` as its last argument.
//!   On failure it returns NULL (or a non-zero code) and, when `error` is
//!   not NULL, stores a new error there that the caller frees with
//!   `sypht_error_free`. On success it stores NULL there.
//! - Strings passed in are NUL-terminated UTF-8. NULL where a string is
//!   required gives `SYPHT_ERROR_INVALID_ARGUMENT`; bytes that are not
//!   UTF-8 give `SYPHT_ERROR_INVALID_UTF8`.
//! - Strings returned are NUL-terminated UTF-8, owned by the caller, and
//!   freed only with `sypht_free_string`.
//! - Binary bodies (page images, downloads) are returned as a `SyphtBytes`,
//!   read with `sypht_bytes_data` and `sypht_bytes_len` and freed with
//!   `sypht_bytes_free`. They may contain NUL bytes.
//! - JSON request bodies go in as JSON text, and JSON responses come back
//!   as JSON text freed with `sypht_free_string`.
//! - Every free function accepts NULL.
//! - No panic crosses the boundary: a caught panic becomes
//!   `SYPHT_ERROR_INTERNAL`.

// The exported functions take raw pointers from C and check each one
// (NULL, UTF-8) before use; marking them `unsafe` would change nothing for
// C callers.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod annotations;
mod batch;
mod boundary;
mod bytes;
mod callbacks;
mod client;
mod entities;
#[cfg(feature = "test-panic")]
mod debug;
mod error;
mod options;
mod request;
mod results;
mod rules;
mod tags;
mod upload;
mod workflows;

pub use annotations::*;
pub use bytes::*;
pub use callbacks::*;
pub use batch::*;
pub use client::*;
pub use entities::*;
#[cfg(feature = "test-panic")]
pub use debug::*;
pub use error::*;
pub use options::*;
pub use request::*;
pub use results::*;
pub use rules::*;
pub use tags::*;
pub use upload::*;
pub use workflows::*;

/// Success.
pub const SYPHT_OK: i32 = 0;
/// An argument was NULL, empty or out of range.
pub const SYPHT_ERROR_INVALID_ARGUMENT: i32 = 1;
/// A string argument was not valid UTF-8.
pub const SYPHT_ERROR_INVALID_UTF8: i32 = 2;
/// The configuration is incomplete or wrong (credentials, endpoints, auth
/// flow).
pub const SYPHT_ERROR_CONFIG: i32 = 3;
/// Reading a local file failed.
pub const SYPHT_ERROR_IO: i32 = 4;
/// The connection failed or broke.
pub const SYPHT_ERROR_NETWORK: i32 = 5;
/// A connect, read or overall deadline ran out.
pub const SYPHT_ERROR_TIMEOUT: i32 = 6;
/// The token endpoint rejected the credentials, or a request stayed
/// unauthorised with a fresh token.
pub const SYPHT_ERROR_AUTH: i32 = 7;
/// The API answered with a non-2xx status; see `sypht_error_http_status`.
pub const SYPHT_ERROR_HTTP_STATUS: i32 = 8;
/// The API answered 2xx with a body that could not be understood.
pub const SYPHT_ERROR_DECODE: i32 = 9;
/// The results were not FINALISED before the deadline.
pub const SYPHT_ERROR_NOT_FINALISED: i32 = 10;
/// A bug inside libsypht, such as a caught panic.
pub const SYPHT_ERROR_INTERNAL: i32 = 11;
/// A response body exceeded the configured size limit.
pub const SYPHT_ERROR_TOO_LARGE: i32 = 12;
/// A paged listing had more records than the record limit; raise the
/// limit or ask for partial results.
pub const SYPHT_ERROR_LIMIT_EXCEEDED: i32 = 13;

/// Auth flow chosen from the token URL (`/oauth2/` or `/oauth/`).
pub const SYPHT_AUTH_FLOW_AUTO: i32 = 0;
/// The current flow: HTTP Basic credentials and a form body.
pub const SYPHT_AUTH_FLOW_CURRENT: i32 = 1;
/// The legacy flow: id, secret and audience in the body.
pub const SYPHT_AUTH_FLOW_LEGACY: i32 = 2;

#[cfg(test)]
mod tests {
    use crate::ErrorKind;

    #[test]
    fn constants_match_error_kinds() {
        assert_eq!(super::SYPHT_ERROR_INVALID_ARGUMENT, ErrorKind::InvalidArgument.code());
        assert_eq!(super::SYPHT_ERROR_INVALID_UTF8, ErrorKind::InvalidUtf8.code());
        assert_eq!(super::SYPHT_ERROR_CONFIG, ErrorKind::Config.code());
        assert_eq!(super::SYPHT_ERROR_IO, ErrorKind::Io.code());
        assert_eq!(super::SYPHT_ERROR_NETWORK, ErrorKind::Network.code());
        assert_eq!(super::SYPHT_ERROR_TIMEOUT, ErrorKind::Timeout.code());
        assert_eq!(super::SYPHT_ERROR_AUTH, ErrorKind::Auth.code());
        assert_eq!(super::SYPHT_ERROR_HTTP_STATUS, ErrorKind::HttpStatus.code());
        assert_eq!(super::SYPHT_ERROR_DECODE, ErrorKind::Decode.code());
        assert_eq!(super::SYPHT_ERROR_NOT_FINALISED, ErrorKind::NotFinalised.code());
        assert_eq!(super::SYPHT_ERROR_INTERNAL, ErrorKind::Internal.code());
        assert_eq!(super::SYPHT_ERROR_TOO_LARGE, ErrorKind::TooLarge.code());
        assert_eq!(super::SYPHT_ERROR_LIMIT_EXCEEDED, ErrorKind::LimitExceeded.code());
    }

    #[test]
    fn default_constants_match_rust_defaults() {
        assert_eq!(super::SYPHT_DEFAULT_RECORD_LIMIT, crate::DEFAULT_RECORD_LIMIT);
        assert_eq!(super::SYPHT_DEFAULT_ENTITY_BATCH_SIZE, crate::DEFAULT_ENTITY_BATCH_SIZE);
    }
}
