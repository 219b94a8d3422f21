//! Helpers every exported function uses: panic catching, error
//! out-parameters, and checked conversion of C arguments.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::SyphtError;
use crate::error::{Error, ErrorKind, Result};

/// Runs `body`, catching panics. On success stores NULL in `*error` and
/// returns the value; on failure stores a new error (when `error` is not
/// NULL) and returns `failed`.
pub(crate) fn guard<T>(
    function: &str,
    error: *mut *mut SyphtError,
    failed: T,
    body: impl FnOnce() -> Result<T>,
) -> T {
    if !error.is_null() {
        // SAFETY: the caller passes either NULL or a writable pointer.
        unsafe { *error = std::ptr::null_mut() };
    }
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_string());
        Err(Error::internal(format!("{function} panicked: {detail}; please report this bug")))
    });
    match outcome {
        Ok(value) => value,
        Err(err) => {
            store_error(error, err);
            failed
        }
    }
}

/// Like [`guard`] for functions that return a status code.
pub(crate) fn guard_code(function: &str, error: *mut *mut SyphtError, body: impl FnOnce() -> Result<()>) -> i32 {
    let mut code = 0;
    let wrapped = || {
        body().inspect_err(|e| code = e.code())
    };
    let result = guard(function, error, None, || wrapped().map(Some));
    match result {
        Some(()) => 0,
        None if code != 0 => code,
        None => ErrorKind::Internal.code(),
    }
}

/// Stores `err` in `*error` unless `error` is NULL.
pub(crate) fn store_error(error: *mut *mut SyphtError, err: Error) {
    if !error.is_null() {
        let boxed = Box::new(SyphtError::from_error(err));
        // SAFETY: checked non-NULL; the caller passes a writable pointer.
        unsafe { *error = Box::into_raw(boxed) };
    }
}

/// Borrows a required C string argument as UTF-8.
pub(crate) fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("argument `{name}` is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives the call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidUtf8,
            format!("argument `{name}` is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })
}

/// Borrows an optional C string argument: NULL gives `None`.
pub(crate) fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        arg_str(ptr, name).map(Some)
    }
}

/// Reads an array of `len` C strings; NULL with `len == 0` is empty.
pub(crate) fn arg_str_array(ptr: *const *const c_char, len: usize, name: &str) -> Result<Vec<String>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("argument `{name}` is NULL but its length is {len}")));
    }
    if len > 1_000_000 {
        return Err(Error::invalid_argument(format!("argument `{name}` has an implausible length {len}")));
    }
    // SAFETY: the caller passes `len` readable pointers.
    let items = unsafe { std::slice::from_raw_parts(ptr, len) };
    items
        .iter()
        .enumerate()
        .map(|(i, &item)| arg_str(item, &format!("{name}[{i}]")).map(str::to_string))
        .collect()
}

/// Borrows a byte buffer argument; NULL with `len == 0` is empty.
pub(crate) fn arg_bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("argument `{name}` is NULL but its length is {len}")));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid_argument(format!("argument `{name}` has an impossible length {len}")));
    }
    // SAFETY: the caller passes `len` readable bytes that outlive the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Hands a Rust string to C as a NUL-terminated string the caller frees
/// with `sypht_free_string`.
pub(crate) fn into_c_string(value: String) -> Result<*mut c_char> {
    CString::new(value)
        .map(CString::into_raw)
        .map_err(|_| Error::decode("the server's response contains a NUL character and cannot be returned as a C string"))
}

/// Parses a required JSON text argument. Text that is not JSON gives
/// `SYPHT_ERROR_INVALID_ARGUMENT` naming the argument and the position.
pub(crate) fn arg_json(ptr: *const c_char, name: &str) -> Result<serde_json::Value> {
    let text = arg_str(ptr, name)?;
    serde_json::from_str(text).map_err(|e| Error::invalid_argument(format!("argument `{name}` is not valid JSON: {e}")))
}

/// Parses an optional JSON text argument: NULL gives `None`.
pub(crate) fn arg_opt_json(ptr: *const c_char, name: &str) -> Result<Option<serde_json::Value>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        arg_json(ptr, name).map(Some)
    }
}

/// Hands a JSON value to C as text the caller frees with
/// `sypht_free_string`. serde_json escapes NUL as `\u0000`, so the text never
/// contains an interior NUL.
pub(crate) fn json_out(value: &impl serde::Serialize) -> Result<*mut c_char> {
    let text = serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot serialise JSON: {e}")))?;
    into_c_string(text)
}

/// Borrows each string of `items` as `&str`, for Rust calls taking `&[&str]`.
pub(crate) fn as_strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_panic_into_internal_error() {
        let mut error: *mut SyphtError = std::ptr::null_mut();
        let code = guard_code("test_function", &mut error, || panic!("deliberate test panic"));
        assert_eq!(code, ErrorKind::Internal.code());
        assert!(!error.is_null());
        // SAFETY: `guard_code` stored a pointer from Box::into_raw.
        let boxed = unsafe { Box::from_raw(error) };
        let message = super::super::error::sypht_error_message(&*boxed);
        // SAFETY: the message is a NUL-terminated string owned by `boxed`.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
        assert!(text.contains("test_function panicked: deliberate test panic"), "{text}");
        let pointer = guard("test_function", std::ptr::null_mut(), std::ptr::null_mut::<u8>(), || {
            panic!("{}", String::from("owned payload"))
        });
        assert!(pointer.is_null());
    }
}
