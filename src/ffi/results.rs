//! `SyphtResultsOptions`, results calls that return the whole JSON response,
//! page images, and file management (metadata and download).

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{arg_str, guard, guard_code, json_out};
use super::bytes::SyphtBytes;
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;
use crate::client::ResultsOptions;
use crate::error::{Error, Result};

/// Settings of a results request: verbose form and server-side wait.
/// Created with `sypht_results_options_new`, freed with
/// `sypht_results_options_free`; one thread at a time. Calls only read it.
pub struct SyphtResultsOptions {
    options: ResultsOptions,
}

fn options_mut<'a>(options: *mut SyphtResultsOptions) -> Result<&'a mut ResultsOptions> {
    // SAFETY: NULL or a live pointer from `sypht_results_options_new`.
    unsafe { options.as_mut() }
        .map(|o| &mut o.options)
        .ok_or_else(|| Error::invalid_argument("argument `options` is NULL"))
}

/// Reads optional results options: NULL gives the defaults.
fn options_or_default(options: *const SyphtResultsOptions) -> ResultsOptions {
    // SAFETY: NULL or a live pointer from `sypht_results_options_new`.
    unsafe { options.as_ref() }.map(|o| o.options.clone()).unwrap_or_default()
}

/// Creates results options with the defaults (not verbose, no server-side
/// wait). Returns NULL only on an internal error. Free it with
/// `sypht_results_options_free`.
#[no_mangle]
pub extern "C" fn sypht_results_options_new() -> *mut SyphtResultsOptions {
    guard("sypht_results_options_new", std::ptr::null_mut(), std::ptr::null_mut(), || {
        Ok(Box::into_raw(Box::new(SyphtResultsOptions { options: ResultsOptions::default() })))
    })
}

/// Frees results options. NULL is ignored.
#[no_mangle]
pub extern "C" fn sypht_results_options_free(options: *mut SyphtResultsOptions) {
    guard("sypht_results_options_free", std::ptr::null_mut(), (), || {
        if !options.is_null() {
            // SAFETY: a pointer from `sypht_results_options_new`, freed once.
            drop(unsafe { Box::from_raw(options) });
        }
        Ok(())
    })
}

/// Asks for the verbose form of the results (`verbose=true`). Returns
/// `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_results_options_set_verbose(
    options: *mut SyphtResultsOptions,
    verbose: bool,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_results_options_set_verbose", error, || {
        options_mut(options)?.verbose = verbose;
        Ok(())
    })
}

/// Sets how long the server may wait for pending work before responding, in
/// milliseconds (sent as `timeout`); 0 sends no timeout. Returns `SYPHT_OK`
/// or an error code.
#[no_mangle]
pub extern "C" fn sypht_results_options_set_server_timeout_ms(
    options: *mut SyphtResultsOptions,
    timeout_ms: u64,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_results_options_set_server_timeout_ms", error, || {
        options_mut(options)?.server_timeout = (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms));
        Ok(())
    })
}

/// Sends one results request and returns the whole JSON response (fileId,
/// status and, once FINALISED, results), whatever the status. `options`
/// may be NULL for the defaults. Returns JSON text owned by the caller and
/// freed with `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_fetch_results(
    client: *mut SyphtClient,
    file_id: *const c_char,
    options: *const SyphtResultsOptions,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_fetch_results", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        let response = client.fetch_results(file_id, &options_or_default(options))?;
        json_out(&response.body)
    })
}

/// Polls the results until FINALISED or until `deadline_ms` milliseconds
/// have passed (0 means a single request), and returns the whole JSON
/// response. `options` may be NULL. Returns JSON text freed with
/// `sypht_free_string`, or NULL on error: `SYPHT_ERROR_NOT_FINALISED` when
/// the deadline passed first (see `sypht_error_result_status`).
#[no_mangle]
pub extern "C" fn sypht_wait_for_results(
    client: *mut SyphtClient,
    file_id: *const c_char,
    options: *const SyphtResultsOptions,
    deadline_ms: u64,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_wait_for_results", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        let deadline = Duration::from_millis(deadline_ms);
        let response = client.wait_for_results(file_id, &options_or_default(options), deadline)?;
        json_out(&response.body)
    })
}

/// Fetches the image of page `page` (1-based) of a document. Returns the
/// raw bytes (normally PNG) in a `SyphtBytes` owned by the caller and freed
/// with `sypht_bytes_free`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_fetch_page_image(
    client: *mut SyphtClient,
    file_id: *const c_char,
    page: u32,
    error: *mut *mut SyphtError,
) -> *mut SyphtBytes {
    guard("sypht_fetch_page_image", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        Ok(SyphtBytes::into_raw(client.fetch_page_image(file_id, page)?))
    })
}

/// Fetches a document's metadata as JSON text, freed with
/// `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_get_file_metadata(
    client: *mut SyphtClient,
    file_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_file_metadata", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        json_out(&client.get_file_metadata(file_id)?)
    })
}

/// Downloads the original bytes of a document, up to the binary size
/// limit. Returns a `SyphtBytes` owned by the caller and freed with
/// `sypht_bytes_free`, or NULL on error (`SYPHT_ERROR_TOO_LARGE` past the
/// limit).
#[no_mangle]
pub extern "C" fn sypht_download_file(
    client: *mut SyphtClient,
    file_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut SyphtBytes {
    guard("sypht_download_file", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        Ok(SyphtBytes::into_raw(client.download_file(file_id)?))
    })
}
