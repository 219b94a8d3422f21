//! `SyphtClientOptions`: settings for `sypht_client_new_with_options`, so
//! that everything the environment can set is settable from C too.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{arg_str, guard, guard_code};
use super::error::SyphtError;
use crate::config::{AuthFlow, ClientBuilder};
use crate::error::{Error, Result};

/// Client settings: endpoints, audience, auth flow, timeouts, User-Agent.
/// Unset settings fall back to the `SYPHT_*` environment variables and then
/// to the defaults. Created with `sypht_client_options_new`, freed with
/// `sypht_client_options_free`; one thread at a time.
pub struct SyphtClientOptions {
    pub(crate) builder: ClientBuilder,
}

fn with_options(
    options: *mut SyphtClientOptions,
    update: impl FnOnce(ClientBuilder) -> Result<ClientBuilder>,
) -> Result<()> {
    // SAFETY: NULL or a live pointer from `sypht_client_options_new`.
    let options = unsafe { options.as_mut() }
        .ok_or_else(|| Error::invalid_argument("argument `options` is NULL"))?;
    // Work on a copy so a rejected setting leaves the others in place.
    options.builder = update(options.builder.clone())?;
    Ok(())
}

fn millis(value: u64, name: &str) -> Result<Duration> {
    if value == 0 {
        return Err(Error::invalid_argument(format!("{name} must be greater than 0 ms")));
    }
    Ok(Duration::from_millis(value))
}

/// Creates an options object with nothing set. Returns NULL only if
/// memory runs out or on an internal error.
#[no_mangle]
pub extern "C" fn sypht_client_options_new() -> *mut SyphtClientOptions {
    guard("sypht_client_options_new", std::ptr::null_mut(), std::ptr::null_mut(), || {
        Ok(Box::into_raw(Box::new(SyphtClientOptions { builder: ClientBuilder::new() })))
    })
}

/// Frees an options object. NULL is ignored.
#[no_mangle]
pub extern "C" fn sypht_client_options_free(options: *mut SyphtClientOptions) {
    guard("sypht_client_options_free", std::ptr::null_mut(), (), || {
        if !options.is_null() {
            // SAFETY: a pointer from `sypht_client_options_new`, freed once.
            drop(unsafe { Box::from_raw(options) });
        }
        Ok(())
    })
}

/// Sets the API base URL (like `SYPHT_API_BASE_ENDPOINT`). Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_api_base(
    options: *mut SyphtClientOptions,
    url: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_api_base", error, || {
        let url = arg_str(url, "url")?;
        with_options(options, |b| Ok(b.api_base(url)))
    })
}

/// Sets the token endpoint (like `SYPHT_AUTH_ENDPOINT`). Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_auth_endpoint(
    options: *mut SyphtClientOptions,
    url: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_auth_endpoint", error, || {
        let url = arg_str(url, "url")?;
        with_options(options, |b| Ok(b.auth_endpoint(url)))
    })
}

/// Sets the audience of the legacy flow (like `SYPHT_AUDIENCE`). Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_audience(
    options: *mut SyphtClientOptions,
    audience: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_audience", error, || {
        let audience = arg_str(audience, "audience")?;
        with_options(options, |b| Ok(b.audience(audience)))
    })
}

/// Sets the auth flow: `SYPHT_AUTH_FLOW_AUTO` (from the token URL),
/// `SYPHT_AUTH_FLOW_CURRENT` or `SYPHT_AUTH_FLOW_LEGACY`. Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_auth_flow(
    options: *mut SyphtClientOptions,
    flow: i32,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_auth_flow", error, || {
        let flow = match flow {
            super::SYPHT_AUTH_FLOW_AUTO => AuthFlow::Auto,
            super::SYPHT_AUTH_FLOW_CURRENT => AuthFlow::Current,
            super::SYPHT_AUTH_FLOW_LEGACY => AuthFlow::Legacy,
            other => {
                return Err(Error::invalid_argument(format!(
                    "auth flow {other} is not one of SYPHT_AUTH_FLOW_AUTO (0), _CURRENT (1), _LEGACY (2)"
                )))
            }
        };
        with_options(options, |b| Ok(b.auth_flow(flow)))
    })
}

/// Sets the TCP connect timeout in milliseconds (default 10000). Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_connect_timeout_ms(
    options: *mut SyphtClientOptions,
    timeout_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_connect_timeout_ms", error, || {
        let timeout = millis(timeout_ms, "timeout_ms")?;
        with_options(options, |b| Ok(b.connect_timeout(timeout)))
    })
}

/// Sets the overall timeout of one HTTP request in milliseconds (default
/// 180000). Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_request_timeout_ms(
    options: *mut SyphtClientOptions,
    timeout_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_request_timeout_ms", error, || {
        let timeout = millis(timeout_ms, "timeout_ms")?;
        with_options(options, |b| Ok(b.request_timeout(timeout)))
    })
}

/// Sets how long `sypht_get_results` waits for FINALISED, in milliseconds
/// (default 300000; 0 means a single request). Returns `SYPHT_OK` or an
/// error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_results_deadline_ms(
    options: *mut SyphtClientOptions,
    deadline_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_results_deadline_ms", error, || {
        with_options(options, |b| Ok(b.results_deadline(Duration::from_millis(deadline_ms))))
    })
}

/// Replaces the User-Agent header (default "libsypht/VERSION"). Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_user_agent(
    options: *mut SyphtClientOptions,
    user_agent: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_user_agent", error, || {
        let user_agent = arg_str(user_agent, "user_agent")?;
        with_options(options, |b| Ok(b.user_agent(user_agent)))
    })
}

/// Sets the largest JSON response body accepted, in bytes (default 64 MiB).
/// Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_max_response_bytes(
    options: *mut SyphtClientOptions,
    max_bytes: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_max_response_bytes", error, || {
        if max_bytes == 0 {
            return Err(Error::invalid_argument("max_bytes must be greater than 0"));
        }
        with_options(options, |b| Ok(b.max_response_bytes(max_bytes)))
    })
}

/// Allows credentials over plain http:// to hosts other than loopback
/// (off by default). Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_allow_insecure_http(
    options: *mut SyphtClientOptions,
    allow: bool,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_allow_insecure_http", error, || {
        with_options(options, |b| Ok(b.allow_insecure_http(allow)))
    })
}

/// Makes the client ignore the `SYPHT_*` environment variables for
/// settings left unset. Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_ignore_env(
    options: *mut SyphtClientOptions,
    ignore: bool,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_ignore_env", error, || {
        with_options(options, |b| Ok(b.ignore_env(ignore)))
    })
}

/// Sets the largest binary response body accepted, such as a page image or
/// a downloaded document, in bytes (default 256 MiB). Returns `SYPHT_OK` or
/// an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_max_binary_response_bytes(
    options: *mut SyphtClientOptions,
    max_bytes: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_max_binary_response_bytes", error, || {
        if max_bytes == 0 {
            return Err(Error::invalid_argument("max_bytes must be greater than 0"));
        }
        with_options(options, |b| Ok(b.max_binary_response_bytes(max_bytes)))
    })
}

/// Sets the longest wait for the next bytes of a response, in milliseconds
/// (default: only the request timeout applies). Returns `SYPHT_OK` or an
/// error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_read_timeout_ms(
    options: *mut SyphtClientOptions,
    timeout_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_read_timeout_ms", error, || {
        let timeout = millis(timeout_ms, "timeout_ms")?;
        with_options(options, |b| Ok(b.read_timeout(timeout)))
    })
}

/// Sets a deadline for one whole call, retries and backoff included, in
/// milliseconds (default: none). Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_call_deadline_ms(
    options: *mut SyphtClientOptions,
    deadline_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_call_deadline_ms", error, || {
        let deadline = millis(deadline_ms, "deadline_ms")?;
        with_options(options, |b| Ok(b.call_deadline(deadline)))
    })
}

/// Sets how GET and token requests are retried on connection failures and
/// 429/502/503/504: `max_retries` after the first attempt (0 disables
/// retries), a first backoff of `initial_backoff_ms` that doubles up to
/// `max_backoff_ms`. Defaults: 3, 200, 5000. A `Retry-After` from the
/// server replaces the backoff, unless it asks for more than 60 s, which
/// ends the retries. Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_retries(
    options: *mut SyphtClientOptions,
    max_retries: u32,
    initial_backoff_ms: u64,
    max_backoff_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_retries", error, || {
        if initial_backoff_ms > max_backoff_ms {
            return Err(Error::invalid_argument(format!(
                "initial_backoff_ms ({initial_backoff_ms}) is larger than max_backoff_ms ({max_backoff_ms})"
            )));
        }
        let policy = crate::RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(initial_backoff_ms),
            max_backoff: Duration::from_millis(max_backoff_ms),
        };
        with_options(options, |b| Ok(b.retry_policy(policy)))
    })
}

/// Trusts only the CA certificates in the NUL-terminated PEM text `pem`
/// instead of the public roots (for a private CA). Verification stays on.
/// Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_ca_pem(
    options: *mut SyphtClientOptions,
    pem: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_ca_pem", error, || {
        let pem = arg_str(pem, "pem")?;
        with_options(options, |b| b.root_certificates_pem(pem.as_bytes()))
    })
}

/// Like `sypht_client_options_set_ca_pem`, reading the PEM from the file
/// at `path`. Returns `SYPHT_OK` or an error code: `SYPHT_ERROR_IO` when
/// the file cannot be read, `SYPHT_ERROR_CONFIG` when it is not a regular
/// file, is over 16 MiB or contains no certificate.
#[no_mangle]
pub extern "C" fn sypht_client_options_set_ca_file(
    options: *mut SyphtClientOptions,
    path: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_client_options_set_ca_file", error, || {
        let path = arg_str(path, "path")?;
        with_options(options, |b| b.root_certificates_file(path))
    })
}
