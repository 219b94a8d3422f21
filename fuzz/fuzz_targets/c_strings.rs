//! C string entry points: arbitrary bytes (split at NUL into several
//! strings) passed to every setter and to client creation must return a
//! documented code and never panic. No request is sent: the client is
//! built but never used.

#![no_main]

use std::ffi::{c_char, CString};
use std::ptr;

use libfuzzer_sys::fuzz_target;
use sypht::ffi::*;

type Setter = extern "C" fn(*mut SyphtClientOptions, *const c_char, *mut *mut SyphtError) -> i32;

// sypht_client_options_set_ca_file is left out: a fuzzed path could name
// a device or FIFO that blocks the run.
const SETTERS: [Setter; 5] = [
    sypht_client_options_set_api_base,
    sypht_client_options_set_auth_endpoint,
    sypht_client_options_set_audience,
    sypht_client_options_set_user_agent,
    sypht_client_options_set_ca_pem,
];

/// Every code a failed call may return.
fn is_documented(code: i32) -> bool {
    (SYPHT_OK..=SYPHT_ERROR_TOO_LARGE).contains(&code)
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<CString> = data
        .split(|&b| b == 0)
        .map(|p| CString::new(p).unwrap())
        .collect();
    let string = |i: usize| parts.get(i).map_or(ptr::null(), |s| s.as_ptr());
    let options = sypht_client_options_new();
    let mut error = ptr::null_mut();
    for (i, setter) in SETTERS.iter().enumerate() {
        let code = setter(options, string(i), &mut error);
        assert!(is_documented(code));
        assert_eq!(code, sypht_error_code(error));
        sypht_error_free(error);
    }
    // Never read the environment, so the run does not depend on it.
    sypht_client_options_set_ignore_env(options, true, ptr::null_mut());
    let client = sypht_client_new_with_options(options, string(5), string(6), &mut error);
    assert_eq!(client.is_null(), !error.is_null());
    assert!(is_documented(sypht_error_code(error)));
    sypht_error_free(error);
    sypht_client_free(client);
    sypht_client_options_free(options);
    let id = sypht_get_results(ptr::null_mut(), string(0), &mut error);
    assert!(id.is_null());
    assert_eq!(sypht_error_code(error), SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_error_free(error);
});
