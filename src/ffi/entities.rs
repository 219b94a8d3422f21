//! Entity storage for entity matching.
//!
//! `company_id` works as for the tag functions (NULL: the client's cached
//! company id). Each function returns JSON text owned by the caller and
//! freed with `sypht_free_string` ("null" when the response body was empty), or
//! NULL on error.

use std::ffi::c_char;

use super::boundary::{arg_json, arg_opt_json, arg_opt_str, arg_str, arg_str_array, as_strs, guard, json_out};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;
use crate::api::BulkEntity;
use crate::error::Error;

/// Entities sent per request by `sypht_set_entities` when `batch_size` is 0.
pub const SYPHT_DEFAULT_ENTITY_BATCH_SIZE: usize = 1000;

/// Fetches one entity.
#[no_mangle]
pub extern "C" fn sypht_get_entity(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    entity_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_entity", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let entity_id = arg_str(entity_id, "entity_id")?;
        json_out(&client.get_entity(entity_type, entity_id, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Creates or replaces one entity with `data_json`, JSON text of an object.
#[no_mangle]
pub extern "C" fn sypht_set_entity(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    entity_id: *const c_char,
    data_json: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_set_entity", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let entity_id = arg_str(entity_id, "entity_id")?;
        let data = arg_json(data_json, "data_json")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.set_entity(entity_type, entity_id, &data, company)?)
    })
}

/// Deletes one entity.
#[no_mangle]
pub extern "C" fn sypht_delete_entity(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    entity_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_delete_entity", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let entity_id = arg_str(entity_id, "entity_id")?;
        json_out(&client.delete_entity(entity_type, entity_id, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Creates or replaces many entities. `entities_json` is JSON text of an
/// array of `{"entity_id": "...", "data": {...}}`. They are sent
/// `batch_size` per request (0 means `SYPHT_DEFAULT_ENTITY_BATCH_SIZE`),
/// one batch after another; if a batch fails, later batches are not sent
/// and the error message states how many entities were stored. Returns a
/// JSON array with one response body per batch.
#[no_mangle]
pub extern "C" fn sypht_set_entities(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    entities_json: *const c_char,
    batch_size: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_set_entities", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let entities: Vec<BulkEntity> =
            serde_json::from_value(arg_json(entities_json, "entities_json")?).map_err(|e| {
                Error::invalid_argument(format!(
                    "argument `entities_json` must be an array of {{\"entity_id\": ..., \"data\": ...}}: {e}"
                ))
            })?;
        let batch_size = if batch_size == 0 { SYPHT_DEFAULT_ENTITY_BATCH_SIZE } else { batch_size };
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.set_entities_in_batches(entity_type, &entities, batch_size, company)?)
    })
}

/// Fetches the `entity_ids_len` entities named in `entity_ids` in one
/// request.
#[no_mangle]
pub extern "C" fn sypht_get_entities(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    entity_ids: *const *const c_char,
    entity_ids_len: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_entities", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let ids = arg_str_array(entity_ids, entity_ids_len, "entity_ids")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.get_entities(entity_type, &as_strs(&ids), company)?)
    })
}

/// Fetches one page of entity ids: `page` is NULL for the first page and
/// then the `next_page` of the previous page; `limit` caps the page size (0
/// for the server's default). Returns `{"entities": [...], "next_page":
/// "<token>" or null}`.
#[no_mangle]
pub extern "C" fn sypht_list_entities(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    page: *const c_char,
    limit: u32,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_list_entities", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let page = arg_opt_str(page, "page")?;
        let limit = (limit > 0).then_some(limit);
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.list_entities(entity_type, page, limit, company)?)
    })
}

/// Returns every entity id of a type as a JSON array, following the pages
/// to the end.
#[no_mangle]
pub extern "C" fn sypht_get_all_entity_ids(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_all_entity_ids", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        json_out(&client.all_entity_ids(entity_type, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Searches entities of a type. `exact_json` and `fuzzy_json` are JSON
/// text of objects mapping field names to values, or NULL; at least one is
/// required.
#[no_mangle]
pub extern "C" fn sypht_search_entities(
    client: *mut SyphtClient,
    entity_type: *const c_char,
    exact_json: *const c_char,
    fuzzy_json: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_search_entities", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let entity_type = arg_str(entity_type, "entity_type")?;
        let exact = arg_opt_json(exact_json, "exact_json")?;
        let fuzzy = arg_opt_json(fuzzy_json, "fuzzy_json")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.search_entities(entity_type, exact.as_ref(), fuzzy.as_ref(), company)?)
    })
}
