//! Callbacks into C: upload progress and log records.
//!
//! Both callback types use the plain C ABI, so a callback that unwinds
//! (a C++ exception, a `longjmp` past Rust frames) is undefined behaviour.
//! C++ callbacks must catch everything they throw. Panics in the Rust code
//! around a callback are caught here and never reach the caller.

use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::boundary::guard;
use super::client::{upload_buffer, upload_path, SyphtClient};
use super::error::SyphtError;
use crate::client::ProgressFn;
use crate::log::{set_log_callback, LogLevel};

/// Receives upload progress: `sent` bytes of the request body so far out
/// of `total`, and the `user_data` given with it. Called on the thread
/// that made the upload call, only while that call runs.
pub type SyphtProgressCallback =
    Option<extern "C" fn(sent: u64, total: u64, user_data: *mut c_void)>;

/// Receives one log record: a level (`SYPHT_LOG_*`), a NUL-terminated
/// UTF-8 message that is valid only during the call, and the `user_data`
/// given with it. May be called from any thread, by several at once.
pub type SyphtLogCallback =
    Option<extern "C" fn(level: i32, message: *const c_char, user_data: *mut c_void)>;

/// Detail useful when debugging the library.
pub const SYPHT_LOG_DEBUG: i32 = 1;
/// Normal events, such as a fetched access token.
pub const SYPHT_LOG_INFO: i32 = 2;
/// A failure the library recovers from, such as a retried request.
pub const SYPHT_LOG_WARN: i32 = 3;
/// A failure returned to the caller.
pub const SYPHT_LOG_ERROR: i32 = 4;

// Callers filter with `level >= SYPHT_LOG_WARN`, so the order is fixed.
const _: () = assert!(SYPHT_LOG_DEBUG < SYPHT_LOG_INFO);
const _: () = assert!(SYPHT_LOG_INFO < SYPHT_LOG_WARN);
const _: () = assert!(SYPHT_LOG_WARN < SYPHT_LOG_ERROR);

fn level_code(level: LogLevel) -> i32 {
    match level {
        LogLevel::Debug => SYPHT_LOG_DEBUG,
        LogLevel::Info => SYPHT_LOG_INFO,
        LogLevel::Warn => SYPHT_LOG_WARN,
        LogLevel::Error => SYPHT_LOG_ERROR,
    }
}

/// The caller's `user_data`, moved into a Rust closure.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: libsypht never dereferences the pointer. It only hands it back
// to the caller's callback. The documentation of each function that takes
// one states on which threads the callback runs.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

fn progress_fn(callback: SyphtProgressCallback, user_data: *mut c_void) -> Option<ProgressFn> {
    let callback = callback?;
    let user_data = UserData(user_data);
    Some(Arc::new(move |sent, total| {
        let user_data = user_data;
        // Nothing in this closure is expected to panic, but a panic must
        // not unwind into the C frames below the upload call.
        let _ = catch_unwind(AssertUnwindSafe(|| callback(sent, total, user_data.0)));
    }))
}

/// Like `sypht_upload`, calling `callback` (when not NULL) with the bytes
/// of the request body sent so far and their total while the file is
/// sent. `callback` runs on the calling thread, only during this call,
/// and must not unwind. `sent` starts again from 0 if the upload is sent a
/// second time after a 401 response. Returns the new fileId, freed with
/// `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_with_progress(
    client: *mut SyphtClient,
    path: *const c_char,
    products: *const *const c_char,
    products_len: usize,
    callback: SyphtProgressCallback,
    user_data: *mut c_void,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard(
        "sypht_upload_with_progress",
        error,
        std::ptr::null_mut(),
        || {
            upload_path(
                client,
                path,
                products,
                products_len,
                progress_fn(callback, user_data),
            )
        },
    )
}

/// Like `sypht_upload_bytes`, with a progress callback as for
/// `sypht_upload_with_progress`. Returns the new fileId, freed with
/// `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_bytes_with_progress(
    client: *mut SyphtClient,
    data: *const u8,
    data_len: usize,
    file_name: *const c_char,
    products: *const *const c_char,
    products_len: usize,
    callback: SyphtProgressCallback,
    user_data: *mut c_void,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard(
        "sypht_upload_bytes_with_progress",
        error,
        std::ptr::null_mut(),
        || {
            let progress = progress_fn(callback, user_data);
            upload_buffer(
                client,
                data,
                data_len,
                file_name,
                products,
                products_len,
                progress,
            )
        },
    )
}

/// Installs `callback` as the process-wide receiver of log records (token
/// fetches, retries, failures), or removes it when `callback` is NULL.
/// The library is silent until one is installed. Messages never contain
/// secrets or tokens. When this returns, no call of the previous callback
/// is still running, so its `user_data` may be freed. The callback must be
/// thread-safe, must not unwind, and must not call libsypht functions.
#[no_mangle]
pub extern "C" fn sypht_set_log_callback(callback: SyphtLogCallback, user_data: *mut c_void) {
    guard("sypht_set_log_callback", std::ptr::null_mut(), (), || {
        let installed = callback.map(|callback| {
            let user_data = UserData(user_data);
            let forward = move |level: LogLevel, message: &str| {
                let user_data = user_data;
                let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
                callback(level_code(level), text.as_ptr(), user_data.0);
            };
            Arc::new(forward) as crate::log::LogFn
        });
        set_log_callback(installed);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    extern "C" fn record_progress(sent: u64, total: u64, user_data: *mut c_void) {
        // SAFETY: the tests pass a pointer to a live `[AtomicU64; 2]`.
        let counters = unsafe { &*(user_data as *const [AtomicU64; 2]) };
        counters[0].store(sent, Ordering::SeqCst);
        counters[1].store(total, Ordering::SeqCst);
    }

    #[test]
    fn progress_fn_forwards_arguments() {
        let counters = [AtomicU64::new(0), AtomicU64::new(0)];
        let user_data = &counters as *const _ as *mut c_void;
        let progress = progress_fn(Some(record_progress), user_data).expect("a callback was given");
        progress(5, 10);
        assert_eq!(counters[0].load(Ordering::SeqCst), 5);
        assert_eq!(counters[1].load(Ordering::SeqCst), 10);
    }

    #[test]
    fn progress_fn_null_callback_is_none() {
        assert!(progress_fn(None, std::ptr::null_mut()).is_none());
    }

    #[test]
    fn upload_with_progress_null_client_fails() {
        let mut error: *mut SyphtError = std::ptr::null_mut();
        let id = sypht_upload_with_progress(
            std::ptr::null_mut(),
            c"x.pdf".as_ptr(),
            std::ptr::null(),
            0,
            Some(record_progress),
            std::ptr::null_mut(),
            &mut error,
        );
        assert!(id.is_null());
        assert_eq!(
            super::super::sypht_error_code(error),
            super::super::SYPHT_ERROR_INVALID_ARGUMENT
        );
        super::super::sypht_error_free(error);
    }

    extern "C" fn record_log(level: i32, message: *const c_char, user_data: *mut c_void) {
        // SAFETY: the test passes a pointer to a live `Mutex<Vec<_>>`, and
        // `message` is a NUL-terminated string valid during the call.
        let records = unsafe { &*(user_data as *const std::sync::Mutex<Vec<(i32, String)>>) };
        let message = unsafe { std::ffi::CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned();
        if message.starts_with("ffi log test") {
            records.lock().unwrap().push((level, message));
        }
    }

    #[test]
    fn log_callback_receives_c_strings() {
        let _serial = crate::log::TEST_CALLBACK_LOCK
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let records = std::sync::Mutex::new(Vec::<(i32, String)>::new());
        let user_data = &records as *const _ as *mut c_void;
        sypht_set_log_callback(Some(record_log), user_data);
        crate::log::warn("ffi log test with\0a NUL");
        sypht_set_log_callback(None, std::ptr::null_mut());
        crate::log::warn("ffi log test after removal");

        let records = records.lock().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0],
            (SYPHT_LOG_WARN, "ffi log test with a NUL".to_string())
        );
    }

    #[test]
    fn log_levels_map_to_constants() {
        assert_eq!(level_code(LogLevel::Debug), SYPHT_LOG_DEBUG);
        assert_eq!(level_code(LogLevel::Info), SYPHT_LOG_INFO);
        assert_eq!(level_code(LogLevel::Warn), SYPHT_LOG_WARN);
        assert_eq!(level_code(LogLevel::Error), SYPHT_LOG_ERROR);
    }
}
