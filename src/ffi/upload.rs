//! `SyphtUploadOptions` and the uploads that take it: v1 multipart (from a
//! path or memory), the base64 JSON upload, and the v2 multipart upload.

use std::ffi::c_char;

use super::boundary::{arg_bytes, arg_json, arg_str, guard, guard_code, into_c_string};
use super::client::client_ref;
use super::error::SyphtError;
use crate::api::UploadV2Options;
use crate::client::UploadOptions;
use crate::error::{Error, Result};

/// Settings of one upload: products or field sets, workflow, tags, parent
/// document, file name, and extra form fields for v2 uploads. Created with
/// `sypht_upload_options_new`, freed with `sypht_upload_options_free`; one
/// thread at a time. Upload calls only read it, so one options object can
/// serve many uploads.
pub struct SyphtUploadOptions {
    options: UploadOptions,
    form_fields: Vec<(String, String)>,
}

impl SyphtUploadOptions {
    /// Returns the options of a v1 or JSON upload, rejecting extra form
    /// fields because only v2 uploads send them.
    fn v1(&self) -> Result<&UploadOptions> {
        if !self.form_fields.is_empty() {
            return Err(Error::invalid_argument(
                "extra form fields are only sent by v2 uploads; use sypht_upload_v2 or clear them",
            ));
        }
        Ok(&self.options)
    }

    /// Returns the options of a v2 upload, which takes only a file name and form
    /// fields: products, field sets, workflows, tags and parent documents
    /// are chosen later through a workflow call.
    fn v2(&self) -> Result<UploadV2Options> {
        let o = &self.options;
        if !o.products.is_empty()
            || !o.field_sets.is_empty()
            || o.workflow_id.is_some()
            || o.workflow_options.is_some()
            || !o.tags.is_empty()
            || o.parent_doc_id.is_some()
        {
            return Err(Error::invalid_argument(
                "a v2 upload takes only a file name and form fields; products, field sets, workflows, tags \
                 and parent documents are set by the workflow call",
            ));
        }
        Ok(UploadV2Options { fields: self.form_fields.clone(), file_name: o.file_name.clone(), progress: None })
    }
}

fn options_mut<'a>(options: *mut SyphtUploadOptions) -> Result<&'a mut SyphtUploadOptions> {
    // SAFETY: NULL or a live pointer from `sypht_upload_options_new`.
    unsafe { options.as_mut() }.ok_or_else(|| Error::invalid_argument("argument `options` is NULL"))
}

fn options_ref<'a>(options: *const SyphtUploadOptions) -> Result<&'a SyphtUploadOptions> {
    // SAFETY: NULL or a live pointer from `sypht_upload_options_new`.
    unsafe { options.as_ref() }.ok_or_else(|| Error::invalid_argument("argument `options` is NULL"))
}

fn non_empty<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    let value = arg_str(ptr, name)?;
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("argument `{name}` is empty")));
    }
    Ok(value)
}

/// Creates an empty upload options object. Returns NULL only on an
/// internal error. Free it with `sypht_upload_options_free`.
#[no_mangle]
pub extern "C" fn sypht_upload_options_new() -> *mut SyphtUploadOptions {
    guard("sypht_upload_options_new", std::ptr::null_mut(), std::ptr::null_mut(), || {
        let options = SyphtUploadOptions { options: UploadOptions::default(), form_fields: Vec::new() };
        Ok(Box::into_raw(Box::new(options)))
    })
}

/// Frees an upload options object. NULL is ignored.
#[no_mangle]
pub extern "C" fn sypht_upload_options_free(options: *mut SyphtUploadOptions) {
    guard("sypht_upload_options_free", std::ptr::null_mut(), (), || {
        if !options.is_null() {
            // SAFETY: a pointer from `sypht_upload_options_new`, freed once.
            drop(unsafe { Box::from_raw(options) });
        }
        Ok(())
    })
}

/// Adds a product id such as "invoices:2" (sent as `products`). Products
/// and field sets are mutually exclusive. Returns `SYPHT_OK` or an error
/// code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_add_product(
    options: *mut SyphtUploadOptions,
    product: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_add_product", error, || {
        let product = non_empty(product, "product")?;
        options_mut(options)?.options.products.push(product.to_string());
        Ok(())
    })
}

/// Adds a field set id such as "sypht.invoice" (sent as `fieldSets`).
/// Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_add_field_set(
    options: *mut SyphtUploadOptions,
    field_set: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_add_field_set", error, || {
        let field_set = non_empty(field_set, "field_set")?;
        options_mut(options)?.options.field_sets.push(field_set.to_string());
        Ok(())
    })
}

/// Sets the v1 workflow to run, such as "validate" or "split"; NULL clears
/// it. Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_set_workflow_id(
    options: *mut SyphtUploadOptions,
    workflow_id: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_set_workflow_id", error, || {
        let value = if workflow_id.is_null() { None } else { Some(non_empty(workflow_id, "workflow_id")?) };
        options_mut(options)?.options.workflow_id = value.map(str::to_string);
        Ok(())
    })
}

/// Sets the workflow options, JSON text of an object; NULL clears them.
/// Returns `SYPHT_OK` or an error code (`SYPHT_ERROR_INVALID_ARGUMENT` for
/// text that is not a JSON object).
#[no_mangle]
pub extern "C" fn sypht_upload_options_set_workflow_options_json(
    options: *mut SyphtUploadOptions,
    json: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_set_workflow_options_json", error, || {
        let value = if json.is_null() {
            None
        } else {
            let value = arg_json(json, "json")?;
            crate::api::require_object(&value, "json")?;
            Some(value)
        };
        options_mut(options)?.options.workflow_options = value;
        Ok(())
    })
}

/// Adds a tag to attach to the document. Returns `SYPHT_OK` or an error
/// code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_add_tag(
    options: *mut SyphtUploadOptions,
    tag: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_add_tag", error, || {
        let tag = non_empty(tag, "tag")?;
        options_mut(options)?.options.tags.push(tag.to_string());
        Ok(())
    })
}

/// Sets the parent document the upload is linked to; NULL clears it.
/// Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_set_parent_doc_id(
    options: *mut SyphtUploadOptions,
    parent_doc_id: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_set_parent_doc_id", error, || {
        let value = if parent_doc_id.is_null() { None } else { Some(non_empty(parent_doc_id, "parent_doc_id")?) };
        options_mut(options)?.options.parent_doc_id = value.map(str::to_string);
        Ok(())
    })
}

/// Sets the file name sent to the server, overriding the path's base name
/// or the name passed with the bytes; NULL clears it. Returns `SYPHT_OK` or
/// an error code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_set_file_name(
    options: *mut SyphtUploadOptions,
    file_name: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_set_file_name", error, || {
        let value = if file_name.is_null() { None } else { Some(non_empty(file_name, "file_name")?) };
        options_mut(options)?.options.file_name = value.map(str::to_string);
        Ok(())
    })
}

/// Adds an extra plain form field sent before the file by v2 uploads, such
/// as ("splitState", "created_by_split"). v1 and JSON uploads reject
/// options with form fields. Returns `SYPHT_OK` or an error code.
#[no_mangle]
pub extern "C" fn sypht_upload_options_add_form_field(
    options: *mut SyphtUploadOptions,
    name: *const c_char,
    value: *const c_char,
    error: *mut *mut SyphtError,
) -> i32 {
    guard_code("sypht_upload_options_add_form_field", error, || {
        let name = non_empty(name, "name")?;
        let value = arg_str(value, "value")?;
        options_mut(options)?.form_fields.push((name.to_string(), value.to_string()));
        Ok(())
    })
}

/// Uploads the file at `path` (streamed from disk) with `options` (not
/// consumed) and starts processing it. Returns the new fileId, owned by
/// the caller and freed with `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_with_options(
    client: *mut super::SyphtClient,
    path: *const c_char,
    options: *const SyphtUploadOptions,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_with_options", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let path = non_empty(path, "path")?;
        let options = options_ref(options)?.v1()?;
        into_c_string(client.upload_file(path, options)?)
    })
}

/// Uploads `data_len` bytes at `data` as a document named `file_name`
/// (unless the options set a file name) and starts processing it. NULL
/// `data` with length 0 uploads an empty document. Returns the new fileId,
/// freed with `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_bytes_with_options(
    client: *mut super::SyphtClient,
    data: *const u8,
    data_len: usize,
    file_name: *const c_char,
    options: *const SyphtUploadOptions,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_bytes_with_options", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let data = arg_bytes(data, data_len, "data")?;
        let file_name = arg_str(file_name, "file_name")?;
        let options = options_ref(options)?.v1()?;
        into_c_string(client.upload_bytes(data, file_name, options)?)
    })
}

/// Uploads `data_len` bytes at `data` base64-encoded in a JSON body
/// (`POST /fileupload/json`), with the same options as
/// `sypht_upload_bytes_with_options`. Returns the new fileId, freed with
/// `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_json(
    client: *mut super::SyphtClient,
    data: *const u8,
    data_len: usize,
    file_name: *const c_char,
    options: *const SyphtUploadOptions,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_json", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let data = arg_bytes(data, data_len, "data")?;
        let file_name = arg_str(file_name, "file_name")?;
        let options = options_ref(options)?.v1()?;
        into_c_string(client.upload_json(data, file_name, options)?.file_id)
    })
}

/// Uploads the file at `path` (streamed from disk) with the v2 upload,
/// which stores it without processing; start processing with
/// `sypht_create_workflow_job`. `options` may be NULL; otherwise only its
/// file name and form fields may be set. Returns the new fileId, freed
/// with `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_v2(
    client: *mut super::SyphtClient,
    path: *const c_char,
    options: *const SyphtUploadOptions,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_v2", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let path = non_empty(path, "path")?;
        let options = v2_options(options)?;
        into_c_string(client.upload_file_v2(path, &options)?.file_id)
    })
}

/// Uploads `data_len` bytes at `data` named `file_name` with the v2 upload.
/// `options` works as for `sypht_upload_v2`. Returns the new fileId, freed
/// with `sypht_free_string`, or NULL on error.
#[no_mangle]
pub extern "C" fn sypht_upload_v2_bytes(
    client: *mut super::SyphtClient,
    data: *const u8,
    data_len: usize,
    file_name: *const c_char,
    options: *const SyphtUploadOptions,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_v2_bytes", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let data = arg_bytes(data, data_len, "data")?;
        let file_name = arg_str(file_name, "file_name")?;
        let options = v2_options(options)?;
        into_c_string(client.upload_bytes_v2(data, file_name, &options)?.file_id)
    })
}

fn v2_options(options: *const SyphtUploadOptions) -> Result<UploadV2Options> {
    if options.is_null() {
        Ok(UploadV2Options::default())
    } else {
        options_ref(options)?.v2()
    }
}
