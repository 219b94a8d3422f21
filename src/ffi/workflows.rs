//! Workflows v2 and the company lookup.
//!
//! Every function here returns JSON text owned by the caller and freed
//! with `sypht_free_string`, or NULL on error.

use std::ffi::c_char;

use super::boundary::{arg_json, arg_opt_str, arg_str, guard, into_c_string, json_out};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;

/// Queues a run of `workflow_id` (such as "sypht.extract") with `inputs_json`,
/// JSON text of an object such as
/// `{"file_id": "...", "product_ids": ["invoices:2"]}`. `step_id` may be
/// NULL (sent as null). Returns the job envelope `{"job": {...},
/// "message_id": ...}` as JSON text.
#[no_mangle]
pub extern "C" fn sypht_create_workflow_job(
    client: *mut SyphtClient,
    workflow_id: *const c_char,
    inputs_json: *const c_char,
    step_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_create_workflow_job", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let workflow_id = arg_str(workflow_id, "workflow_id")?;
        let inputs = arg_json(inputs_json, "inputs_json")?;
        let step_id = arg_opt_str(step_id, "step_id")?;
        json_out(&client.create_workflow_job(workflow_id, &inputs, step_id)?)
    })
}

/// Runs `workflow_id` synchronously with `inputs_json` (as for
/// `sypht_create_workflow_job`) and returns its output as JSON text.
#[no_mangle]
pub extern "C" fn sypht_invoke_workflow(
    client: *mut SyphtClient,
    workflow_id: *const c_char,
    inputs_json: *const c_char,
    step_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_invoke_workflow", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let workflow_id = arg_str(workflow_id, "workflow_id")?;
        let inputs = arg_json(inputs_json, "inputs_json")?;
        let step_id = arg_opt_str(step_id, "step_id")?;
        json_out(&client.invoke_workflow(workflow_id, &inputs, step_id)?)
    })
}

/// Looks up the company owning `client_id`, or this client's own id when
/// NULL, and returns the company record (at least `{"id": "..."}`) as JSON
/// text. Always sends a request.
#[no_mangle]
pub extern "C" fn sypht_get_company(
    client: *mut SyphtClient,
    client_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_company", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let client_id = arg_opt_str(client_id, "client_id")?;
        json_out(&client.get_company(client_id)?)
    })
}

/// Returns this client's company id (plain text, not JSON), looked up on
/// first use and cached for the life of the client. Functions taking a
/// `company_id` use this id when given NULL.
#[no_mangle]
pub extern "C" fn sypht_company_id(client: *mut SyphtClient, error: *mut *mut SyphtError) -> *mut c_char {
    guard("sypht_company_id", error, std::ptr::null_mut(), || into_c_string(client_ref(client)?.company_id()?))
}
