//! `SyphtClient`: creation, upload and results.

use std::ffi::c_char;

use super::boundary::{arg_bytes, arg_opt_str, arg_str, arg_str_array, guard, into_c_string};
use super::error::SyphtError;
use super::options::SyphtClientOptions;
use crate::client::{Client, ProgressFn, UploadOptions};
use crate::config::ClientBuilder;
use crate::error::{Error, Result};

/// A Sypht API client: credentials, endpoints, a connection pool and a
/// cached token. Safe to share between threads; free it with
/// `sypht_client_free` once no call is using it.
pub struct SyphtClient {
    pub(crate) client: Client,
}

/// Borrows the client behind a C pointer.
pub(crate) fn client_ref<'a>(client: *const SyphtClient) -> Result<&'a Client> {
    // SAFETY: NULL or a live pointer from `sypht_client_new*`.
    unsafe { client.as_ref() }
        .map(|c| &c.client)
        .ok_or_else(|| Error::invalid_argument("argument `client` is NULL"))
}

fn new_client(
    builder: ClientBuilder,
    client_id: *const c_char,
    client_secret: *const c_char,
) -> Result<*mut SyphtClient> {
    let id = arg_opt_str(client_id, "client_id")?;
    let secret = arg_opt_str(client_secret, "client_secret")?;
    let builder = match (id, secret) {
        (Some(id), Some(secret)) => builder.credentials(id, secret),
        (None, None) => builder,
        (Some(_), None) => {
            return Err(Error::invalid_argument(
                "argument `client_secret` is NULL but `client_id` is not; pass both, or both NULL to read SYPHT_API_KEY",
            ))
        }
        (None, Some(_)) => {
            return Err(Error::invalid_argument(
                "argument `client_id` is NULL but `client_secret` is not; pass both, or both NULL to read SYPHT_API_KEY",
            ))
        }
    };
    let client = builder.build()?;
    Ok(Box::into_raw(Box::new(SyphtClient { client })))
}

/// Creates a client. With `client_id` and `client_secret` both NULL the
/// credentials come from `SYPHT_API_KEY` ("client_id:client_secret").
/// Endpoints come from `SYPHT_API_BASE_ENDPOINT`, `SYPHT_AUTH_ENDPOINT` and
/// `SYPHT_AUDIENCE`, or the defaults. No request is sent until the first
/// call. Returns NULL on error. Free the client with `sypht_client_free`.
#[no_mangle]
pub extern "C" fn sypht_client_new(
    client_id: *const c_char,
    client_secret: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut SyphtClient {
    guard("sypht_client_new", error, std::ptr::null_mut(), || {
        new_client(ClientBuilder::new(), client_id, client_secret)
    })
}

/// Creates a client with the settings in `options` (which is not consumed
/// and may be freed right after). Credentials work as for
/// `sypht_client_new`. Returns NULL on error.
#[no_mangle]
pub extern "C" fn sypht_client_new_with_options(
    options: *const SyphtClientOptions,
    client_id: *const c_char,
    client_secret: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut SyphtClient {
    guard("sypht_client_new_with_options", error, std::ptr::null_mut(), || {
        // SAFETY: NULL or a live pointer from `sypht_client_options_new`.
        let options = unsafe { options.as_ref() }
            .ok_or_else(|| Error::invalid_argument("argument `options` is NULL"))?;
        new_client(options.builder.clone(), client_id, client_secret)
    })
}

/// Frees a client and wipes its secret and token from memory. NULL is
/// ignored. No other call may be using the client.
#[no_mangle]
pub extern "C" fn sypht_client_free(client: *mut SyphtClient) {
    guard("sypht_client_free", std::ptr::null_mut(), (), || {
        if !client.is_null() {
            // SAFETY: a pointer from `sypht_client_new*`, freed once.
            let owned = unsafe { Box::from_raw(client) };
            owned.client.clear_token();
            drop(owned);
        }
        Ok(())
    })
}

/// Fetches an access token now, to check credentials and endpoints before
/// the first real call. Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_client_authenticate(client: *mut SyphtClient, error: *mut *mut SyphtError) -> i32 {
    super::boundary::guard_code("sypht_client_authenticate", error, || client_ref(client)?.authenticate())
}

/// Uploads the file at `path` (streamed from disk) for extraction by the
/// `products_len` products in `products` (such as "invoices"; NULL with 0
/// is allowed only if the server accepts an empty selector). Returns the
/// new fileId, freed with `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload(
    client: *mut SyphtClient,
    path: *const c_char,
    products: *const *const c_char,
    products_len: usize,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload", error, std::ptr::null_mut(), || {
        upload_path(client, path, products, products_len, None)
    })
}

/// Checks the arguments of `sypht_upload*` and uploads the file at `path`.
pub(crate) fn upload_path(
    client: *mut SyphtClient,
    path: *const c_char,
    products: *const *const c_char,
    products_len: usize,
    progress: Option<ProgressFn>,
) -> Result<*mut c_char> {
    let client = client_ref(client)?;
    let path = arg_str(path, "path")?;
    if path.is_empty() {
        return Err(Error::invalid_argument("argument `path` is empty"));
    }
    let products = arg_str_array(products, products_len, "products")?;
    let options = UploadOptions { products, progress, ..Default::default() };
    into_c_string(client.upload_file(path, &options)?)
}

/// Uploads `data_len` bytes at `data` as a document named `file_name` for
/// extraction by `products`. Returns the new fileId, freed with
/// `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_bytes(
    client: *mut SyphtClient,
    data: *const u8,
    data_len: usize,
    file_name: *const c_char,
    products: *const *const c_char,
    products_len: usize,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_bytes", error, std::ptr::null_mut(), || {
        upload_buffer(client, data, data_len, file_name, products, products_len, None)
    })
}

/// Checks the arguments of `sypht_upload_bytes*` and uploads the buffer.
pub(crate) fn upload_buffer(
    client: *mut SyphtClient,
    data: *const u8,
    data_len: usize,
    file_name: *const c_char,
    products: *const *const c_char,
    products_len: usize,
    progress: Option<ProgressFn>,
) -> Result<*mut c_char> {
    let client = client_ref(client)?;
    let data = arg_bytes(data, data_len, "data")?;
    let file_name = arg_str(file_name, "file_name")?;
    let products = arg_str_array(products, products_len, "products")?;
    let options = UploadOptions { products, progress, ..Default::default() };
    into_c_string(client.upload_bytes(data, file_name, &options)?)
}

/// Waits until the document's results are FINALISED (up to the results
/// deadline) and returns them as a JSON object mapping each field name to
/// its value, freed with `sypht_free_string`. Keys are sorted and each
/// value keeps the exact JSON text the server sent, so numbers keep every
/// digit. Returns NULL on error; `SYPHT_ERROR_NOT_FINALISED` when the
/// deadline passed first.
#[no_mangle]
pub extern "C" fn sypht_get_results(
    client: *mut SyphtClient,
    file_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_results", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        into_c_string(client.get_results_json(file_id)?)
    })
}

/// Like `sypht_get_results`, but asks for the verbose form and returns the
/// whole `results` object (timestamp and full field objects) as JSON.
#[no_mangle]
pub extern "C" fn sypht_get_results_verbose(
    client: *mut SyphtClient,
    file_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_results_verbose", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        into_c_string(client.get_results_verbose(file_id)?.to_string())
    })
}
