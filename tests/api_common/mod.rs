//! Helpers shared by the API tests: an in-process emulator on loopback and
//! clients (Rust and C) pointed at it.

#![allow(dead_code)]

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use sypht::ffi::*;
use sypht::Client;
use sypht_emulator::{Emulator, EmulatorConfig};

pub const CLIENT_ID: &str = "emulator-client-id";
pub const CLIENT_SECRET: &str = "emulator-client-secret";

/// Returns a two-page PDF whose body also contains every byte value, NUL
/// included, so a byte-for-byte round trip shows nothing was cut or
/// re-encoded.
pub fn binary_pdf() -> Vec<u8> {
    let mut data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    data.extend_from_slice(b"1 0 obj <</Type /Page>> endobj\n2 0 obj <</Type /Page>> endobj\n");
    data.extend(0u8..=255);
    data.extend_from_slice(b"\0\0\0 middle \0\n");
    data.extend((0u8..=255).rev());
    data.extend_from_slice(b"\n%%EOF\n");
    data
}

/// Starts an emulator with the default settings on 127.0.0.1.
pub fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default())
}

pub fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("emulator starts on loopback")
}

/// Builds a Rust client for `emulator`, ignoring the SYPHT_* environment.
pub fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(emulator.base_url())
        .auth_endpoint(emulator.auth_url())
        .ignore_env(true)
        .build()
        .expect("client for the emulator")
}

/// Builds a C-ABI client for `emulator`; free it with `sypht_client_free`.
pub fn c_client(emulator: &Emulator) -> *mut SyphtClient {
    let options = sypht_client_options_new();
    assert!(!options.is_null());
    let base = cstring(&emulator.base_url());
    let auth = cstring(&emulator.auth_url());
    assert_eq!(sypht_client_options_set_api_base(options, base.as_ptr(), ptr::null_mut()), SYPHT_OK);
    assert_eq!(sypht_client_options_set_auth_endpoint(options, auth.as_ptr(), ptr::null_mut()), SYPHT_OK);
    assert_eq!(sypht_client_options_set_ignore_env(options, true, ptr::null_mut()), SYPHT_OK);
    let id = cstring(CLIENT_ID);
    let secret = cstring(CLIENT_SECRET);
    let mut error = ptr::null_mut();
    let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
    sypht_client_options_free(options);
    assert!(error.is_null(), "client creation failed: {}", error_message(error));
    assert!(!client.is_null());
    client
}

pub fn cstring(text: &str) -> CString {
    CString::new(text).expect("test strings contain no NUL")
}

/// Returns the message of a C error, or "" for NULL.
pub fn error_message(error: *const SyphtError) -> String {
    // SAFETY: sypht_error_message returns a NUL-terminated string owned by
    // the error.
    unsafe { CStr::from_ptr(sypht_error_message(error)) }.to_string_lossy().into_owned()
}

/// Takes ownership of a string returned by the library and frees it.
pub fn take_string(text: *mut c_char) -> String {
    assert!(!text.is_null(), "expected a string, got NULL");
    // SAFETY: a NUL-terminated string returned by the library.
    let owned = unsafe { CStr::from_ptr(text) }.to_str().expect("UTF-8 from the library").to_string();
    sypht_free_string(text);
    owned
}

/// Unwraps a C call returning a string: on error, fails with the message.
pub fn c_ok(text: *mut c_char, error: *mut SyphtError) -> String {
    if text.is_null() {
        let message = error_message(error);
        sypht_error_free(error);
        panic!("C call failed: {message}");
    }
    assert!(error.is_null());
    take_string(text)
}

/// Unwraps a C call returning JSON text.
pub fn c_json(text: *mut c_char, error: *mut SyphtError) -> serde_json::Value {
    serde_json::from_str(&c_ok(text, error)).expect("the library returns valid JSON")
}

/// Checks that a C call failed with `code`, frees the error, and returns
/// its message and HTTP status.
pub fn c_err(text: *mut c_char, error: *mut SyphtError, code: i32) -> (String, u16) {
    assert!(text.is_null(), "expected NULL on failure");
    assert!(!error.is_null(), "expected an error object");
    let message = error_message(error);
    assert_eq!(sypht_error_code(error), code, "{message}");
    let status = sypht_error_http_status(error);
    sypht_error_free(error);
    (message, status)
}

/// Takes ownership of a `SyphtBytes` and returns its contents.
pub fn take_bytes(bytes: *mut SyphtBytes) -> Vec<u8> {
    assert!(!bytes.is_null());
    let len = sypht_bytes_len(bytes);
    let data = sypht_bytes_data(bytes);
    let copy = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: the library promises `len` readable bytes at `data`.
        unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
    };
    sypht_bytes_free(bytes);
    copy
}

/// Awkward ids: spaces, slashes, reserved characters and non-ASCII.
pub const AWKWARD_IDS: &[&str] = &["with space", "a/b/c", "50% off?&x=1#frag", "Zürich–Straße 東京", "plus+sign"];

/// True when any string anywhere inside `value` equals `text`.
pub fn contains_string(value: &serde_json::Value, text: &str) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s == text,
        Value::Array(items) => items.iter().any(|v| contains_string(v, text)),
        Value::Object(map) => map.iter().any(|(k, v)| k == text || contains_string(v, text)),
        _ => false,
    }
}
