//! Specifications, human-review tasks, validation rules and workflow data.
//!
//! `company_id` works as for the tag functions (NULL: the client's cached
//! company id). Each function returns the server's response body as JSON text
//! owned by the caller and freed with `sypht_free_string` ("null" when the
//! response body was empty), or NULL on error.

use std::ffi::c_char;

use super::boundary::{arg_json, arg_opt_str, arg_str, guard, json_out};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;
use crate::api::NewTask;

/// Creates or updates a task specification from `specification_json`, JSON
/// text of an object.
#[no_mangle]
pub extern "C" fn sypht_create_specification(
    client: *mut SyphtClient,
    specification_json: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_create_specification", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let specification = arg_json(specification_json, "specification_json")?;
        json_out(&client.create_specification(&specification)?)
    })
}

/// Creates a human-review task on `doc_id` following `specification`,
/// annotated by `replication` reviewers (at least 1). `priority` points to
/// the priority, or is NULL for the server's default.
#[no_mangle]
pub extern "C" fn sypht_create_task(
    client: *mut SyphtClient,
    doc_id: *const c_char,
    specification: *const c_char,
    replication: u32,
    priority: *const i32,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_create_task", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let mut task = NewTask::new(arg_str(doc_id, "doc_id")?, arg_str(specification, "specification")?);
        task.replication = replication;
        // SAFETY: NULL or a readable pointer to an int32_t.
        task.priority = unsafe { priority.as_ref() }.copied();
        json_out(&client.create_task(&task, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Fetches the validation rules `rules_id`.
#[no_mangle]
pub extern "C" fn sypht_get_validation_rules(
    client: *mut SyphtClient,
    rules_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_validation_rules", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let rules_id = arg_str(rules_id, "rules_id")?;
        json_out(&client.get_validation_rules(rules_id, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Stores `rules_json` (any JSON text) as the validation rules `rules_id`,
/// with the `schema` flag that the official Python client sets to true by
/// default.
#[no_mangle]
pub extern "C" fn sypht_set_validation_rules(
    client: *mut SyphtClient,
    rules_id: *const c_char,
    rules_json: *const c_char,
    schema: bool,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_set_validation_rules", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let rules_id = arg_str(rules_id, "rules_id")?;
        let rules = arg_json(rules_json, "rules_json")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.set_validation_rules(rules_id, &rules, schema, company)?)
    })
}

/// Deletes the validation rules `rules_id`.
#[no_mangle]
pub extern "C" fn sypht_delete_validation_rules(
    client: *mut SyphtClient,
    rules_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_delete_validation_rules", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let rules_id = arg_str(rules_id, "rules_id")?;
        json_out(&client.delete_validation_rules(rules_id, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Fetches the workflow data stored under `data_key`. The API has no call
/// to delete workflow data.
#[no_mangle]
pub extern "C" fn sypht_get_workflow_data(
    client: *mut SyphtClient,
    data_key: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_workflow_data", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let data_key = arg_str(data_key, "data_key")?;
        json_out(&client.get_workflow_data(data_key, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Stores `data_json` (any JSON text) under `data_key`.
#[no_mangle]
pub extern "C" fn sypht_set_workflow_data(
    client: *mut SyphtClient,
    data_key: *const c_char,
    data_json: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_set_workflow_data", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let data_key = arg_str(data_key, "data_key")?;
        let data = arg_json(data_json, "data_json")?;
        json_out(&client.set_workflow_data(data_key, &data, arg_opt_str(company_id, "company_id")?)?)
    })
}
