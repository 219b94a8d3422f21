//! Annotations: paged listing and search, and annotation upload.
//!
//! Each function returns JSON text owned by the caller and freed with
//! `sypht_free_string`, or NULL on error.

use std::ffi::c_char;

use super::boundary::{arg_json, arg_opt_json, arg_opt_str, arg_str, arg_str_array, as_strs, guard, json_out};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;
use crate::api::{AnnotationField, AnnotationFilter, AnnotationList, PagingOptions};
use crate::error::{Error, Result};

/// Records gathered by the annotation listings when `record_limit` is 0.
pub const SYPHT_DEFAULT_RECORD_LIMIT: usize = 100_000;

fn paging(record_limit: usize, allow_partial: bool) -> PagingOptions {
    let record_limit = if record_limit == 0 { SYPHT_DEFAULT_RECORD_LIMIT } else { record_limit };
    PagingOptions { record_limit, allow_partial }
}

/// Returns the annotations as JSON text and stores the truncation flag.
fn list_out(list: AnnotationList, truncated_out: *mut bool) -> Result<*mut c_char> {
    let out = json_out(&list.annotations)?;
    if !truncated_out.is_null() {
        // SAFETY: checked non-NULL; the caller passes a writable pointer.
        unsafe { *truncated_out = list.truncated };
    }
    Ok(out)
}

/// Fetches every annotation matching `filter_json` and returns them as a
/// JSON array. `filter_json` is NULL (no filter) or JSON text of an object
/// with any of the string keys "docId", "taskId", "userId",
/// "specification", "fromDate", "toDate", "companyId". Pages are fetched
/// until one is empty. Past `record_limit` records (0 means
/// `SYPHT_DEFAULT_RECORD_LIMIT`) the call fails with
/// `SYPHT_ERROR_LIMIT_EXCEEDED`, unless `allow_partial` is true: then it
/// returns the first `record_limit` records. On success `*truncated_out`
/// (when not NULL) is set to true if records were left out.
#[no_mangle]
pub extern "C" fn sypht_list_annotations(
    client: *mut SyphtClient,
    filter_json: *const c_char,
    record_limit: usize,
    allow_partial: bool,
    truncated_out: *mut bool,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_list_annotations", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let filter: AnnotationFilter = match arg_opt_json(filter_json, "filter_json")? {
            Some(value) => serde_json::from_value(value).map_err(|e| {
                Error::invalid_argument(format!("argument `filter_json` is not a valid annotation filter: {e}"))
            })?,
            None => AnnotationFilter::default(),
        };
        let list = client.list_annotations(&filter, paging(record_limit, allow_partial))?;
        list_out(list, truncated_out)
    })
}

/// Fetches every annotation of the `doc_ids_len` documents in `doc_ids`
/// (at least one) and returns them as a JSON array. Paging, the record
/// limit and `truncated_out` work as for `sypht_list_annotations`.
#[no_mangle]
pub extern "C" fn sypht_search_annotations(
    client: *mut SyphtClient,
    doc_ids: *const *const c_char,
    doc_ids_len: usize,
    record_limit: usize,
    allow_partial: bool,
    truncated_out: *mut bool,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_search_annotations", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let doc_ids = arg_str_array(doc_ids, doc_ids_len, "doc_ids")?;
        let list = client.search_annotations(&as_strs(&doc_ids), paging(record_limit, allow_partial))?;
        list_out(list, truncated_out)
    })
}

/// Uploads human-checked values of the document `doc_id`. `fields_json` is
/// JSON text of an array of `{"id": "<field name>", "type": "simple",
/// "data": {"value": "<text>"}}`. `company_id` NULL uses the client's
/// cached company id. Returns the server's response body as JSON text.
#[no_mangle]
pub extern "C" fn sypht_upload_company_annotation(
    client: *mut SyphtClient,
    doc_id: *const c_char,
    fields_json: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_upload_company_annotation", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let doc_id = arg_str(doc_id, "doc_id")?;
        let fields: Vec<AnnotationField> =
            serde_json::from_value(arg_json(fields_json, "fields_json")?).map_err(|e| {
                Error::invalid_argument(format!(
                    "argument `fields_json` must be an array of {{\"id\", \"type\", \"data\": {{\"value\"}}}}: {e}"
                ))
            })?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.upload_company_annotation(doc_id, &fields, company)?)
    })
}
