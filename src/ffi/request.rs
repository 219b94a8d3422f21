//! `sypht_request`: one authenticated call to any API path.

use std::ffi::c_char;

use super::boundary::{arg_opt_json, arg_str, guard, into_c_string};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;
use crate::error::Error;

/// Sends an authenticated request to any API path and returns the response
/// body as a string, for endpoints without a dedicated function. `method`
/// is an HTTP method such as "GET"; `path` starts with '/' and may carry a
/// query, with its parts already percent-encoded; `json_body` is JSON text
/// sent as the body, or NULL for none. On success the HTTP status is
/// stored in `*status_out` when it is not NULL. Non-2xx answers are errors
/// (`SYPHT_ERROR_HTTP_STATUS`). Returns the body, owned by the caller and
/// freed with `sypht_free_string` (an empty string for an empty body), or
/// NULL on error; a body that is not UTF-8 or contains NUL gives
/// `SYPHT_ERROR_DECODE`.
#[no_mangle]
pub extern "C" fn sypht_request(
    client: *mut SyphtClient,
    method: *const c_char,
    path: *const c_char,
    json_body: *const c_char,
    status_out: *mut u16,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_request", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let method = arg_str(method, "method")?;
        let path = arg_str(path, "path")?;
        let body = arg_opt_json(json_body, "json_body")?;
        let response = client.request(method, path, body.as_ref())?;
        let text = String::from_utf8(response.body)
            .map_err(|_| Error::decode(format!("{method} {path} returned a body that is not UTF-8")))?;
        let out = into_c_string(text)?;
        if !status_out.is_null() {
            // SAFETY: checked non-NULL; the caller passes a writable pointer.
            unsafe { *status_out = response.status };
        }
        Ok(out)
    })
}
