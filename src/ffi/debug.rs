//! Test-only exports, compiled only with the `test-panic` cargo feature
//! and left out of `sypht.h`, so release builds never contain them.

use std::ffi::c_char;

use super::boundary::{arg_str, guard_code};
use super::error::SyphtError;

/// Panics inside the library with `message`, so tests can check that the
/// panic is caught and returned as `SYPHT_ERROR_INTERNAL` (11) instead of
/// unwinding into C. Never returns `SYPHT_OK`.
#[no_mangle]
pub extern "C" fn sypht_debug_panic(message: *const c_char, error: *mut *mut SyphtError) -> i32 {
    guard_code("sypht_debug_panic", error, || {
        let message = arg_str(message, "message")?;
        panic!("{message}");
    })
}
