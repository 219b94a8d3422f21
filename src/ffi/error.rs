//! `SyphtError`: the error object returned through `SyphtError **`.

use std::ffi::{c_char, CString};

use super::boundary::guard;
use crate::error::Error;

/// A failed call's error: a code (`SYPHT_ERROR_*`), a message, and the HTTP
/// status when the server answered. Created by the library, owned by the
/// caller, freed with `sypht_error_free`. One thread at a time.
pub struct SyphtError {
    code: i32,
    http_status: u16,
    message: CString,
    result_status: Option<CString>,
}

impl SyphtError {
    pub(crate) fn from_error(err: Error) -> SyphtError {
        let to_c = |text: &str| CString::new(text.replace('\0', " ")).unwrap_or_default();
        SyphtError {
            code: err.code(),
            http_status: err.http_status().unwrap_or(0),
            message: to_c(&err.to_string()),
            result_status: err.result_status().map(to_c),
        }
    }
}

/// Returns the error's code (`SYPHT_ERROR_*`), or `SYPHT_OK` (0) when
/// `error` is NULL.
#[no_mangle]
pub extern "C" fn sypht_error_code(error: *const SyphtError) -> i32 {
    // SAFETY: NULL or a pointer from this library that was not yet freed.
    unsafe { error.as_ref() }.map_or(0, |e| e.code)
}

/// Returns the error's message, a NUL-terminated UTF-8 string owned by the
/// error and valid until `sypht_error_free`. Returns an empty string when
/// `error` is NULL. The message never contains secrets or tokens.
#[no_mangle]
pub extern "C" fn sypht_error_message(error: *const SyphtError) -> *const c_char {
    // SAFETY: as for `sypht_error_code`.
    match unsafe { error.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Returns the HTTP status of the response behind the error, or 0 when
/// there was none (or `error` is NULL).
#[no_mangle]
pub extern "C" fn sypht_error_http_status(error: *const SyphtError) -> u16 {
    // SAFETY: as for `sypht_error_code`.
    unsafe { error.as_ref() }.map_or(0, |e| e.http_status)
}

/// Returns the last `status` the results endpoint gave for a
/// `SYPHT_ERROR_NOT_FINALISED` error (such as "IN PROGRESS"), owned by the
/// error; NULL for other errors or when `error` is NULL.
#[no_mangle]
pub extern "C" fn sypht_error_result_status(error: *const SyphtError) -> *const c_char {
    // SAFETY: as for `sypht_error_code`.
    match unsafe { error.as_ref() }.and_then(|e| e.result_status.as_ref()) {
        Some(status) => status.as_ptr(),
        None => std::ptr::null(),
    }
}

/// Returns a static description of an error code, such as
/// "authentication failed"; "unknown error code" for values not listed.
/// The string must not be freed.
#[no_mangle]
pub extern "C" fn sypht_error_code_name(code: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match code {
        0 => c"ok",
        1 => c"invalid argument",
        2 => c"invalid UTF-8",
        3 => c"configuration error",
        4 => c"I/O error",
        5 => c"network error",
        6 => c"timeout",
        7 => c"authentication failed",
        8 => c"HTTP error",
        9 => c"invalid response",
        10 => c"not finalised",
        11 => c"internal error",
        12 => c"response too large",
        13 => c"record limit exceeded",
        _ => c"unknown error code",
    };
    name.as_ptr()
}

/// Frees an error. NULL is ignored.
#[no_mangle]
pub extern "C" fn sypht_error_free(error: *mut SyphtError) {
    guard("sypht_error_free", std::ptr::null_mut(), (), || {
        if !error.is_null() {
            // SAFETY: a pointer from this library, freed once.
            drop(unsafe { Box::from_raw(error) });
        }
        Ok(())
    })
}

/// Frees a string returned by libsypht. NULL is ignored. Strings from other
/// allocators must not be passed.
#[no_mangle]
pub extern "C" fn sypht_free_string(string: *mut c_char) {
    guard("sypht_free_string", std::ptr::null_mut(), (), || {
        if !string.is_null() {
            // SAFETY: a string from `CString::into_raw` in this library, freed once.
            drop(unsafe { CString::from_raw(string) });
        }
        Ok(())
    })
}

/// Returns the library version ("MAJOR.MINOR.PATCH"), a static string that
/// must not be freed.
#[no_mangle]
pub extern "C" fn sypht_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
