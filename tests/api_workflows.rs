//! Workflows v2 (jobs and invoke) and the company lookup, through Rust
//! and through the C ABI.

mod api_common;

use std::ptr;

use api_common::*;
use serde_json::json;
use sypht::ffi::*;
use sypht::{ErrorKind, UploadV2Options};

#[test]
fn job_extracts_v2_upload() {
    let emulator = emulator();
    let client = client(&emulator);
    let uploaded = client.upload_bytes_v2(&binary_pdf(), "job.pdf", &UploadV2Options::default()).unwrap();
    let inputs = json!({ "file_id": uploaded.file_id, "product_ids": ["invoices"] });
    let envelope = client.create_workflow_job("sypht.extract", &inputs, None).unwrap();
    assert!(!envelope.job.id.is_empty());
    assert_eq!(envelope.job.workflow_id.as_deref(), Some("sypht.extract"));
    assert_eq!(envelope.job.inputs["file_id"], json!(uploaded.file_id));
    let results = client.wait_for_results(&uploaded.file_id, &Default::default(), std::time::Duration::from_secs(10));
    assert!(results.unwrap().is_finalised());
}

#[test]
fn invoke_returns_workflow_output() {
    let emulator = emulator();
    let client = client(&emulator);
    let uploaded = client.upload_bytes_v2(&binary_pdf(), "invoke.pdf", &UploadV2Options::default()).unwrap();
    let inputs = json!({ "file_id": uploaded.file_id, "product_ids": ["invoices"] });
    let output = client.invoke_workflow("sypht.extract", &inputs, Some("extract")).unwrap();
    assert!(output.is_object(), "{output}");
}

#[test]
fn workflow_inputs_must_be_object() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.create_workflow_job("sypht.extract", &json!(["x"]), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("inputs"), "{err}");
    let err = client.invoke_workflow("", &json!({}), None).unwrap_err();
    assert!(err.message().contains("workflow_id"), "{err}");
    assert_eq!(emulator.stats().requests, 0);
}

#[test]
fn unknown_workflow_is_rejected() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.create_workflow_job("no such/workflow", &json!({ "file_id": "x" }), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert!(matches!(err.http_status(), Some(400) | Some(404)), "{err:?}");
}

#[test]
fn company_id_is_cached() {
    let emulator = emulator();
    let client = client(&emulator);
    let company = client.get_company(None).unwrap();
    assert!(!company.id.is_empty());
    let first = client.company_id().unwrap();
    assert_eq!(first, company.id);
    let requests = emulator.stats().requests;
    let clone = client.clone();
    assert_eq!(clone.company_id().unwrap(), first);
    assert_eq!(emulator.stats().requests, requests, "the cached id must not be looked up again");
}

#[test]
fn company_lookup_unknown_client() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.get_company(Some("someone else/../x")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn c_workflow_job_and_invoke() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let data = binary_pdf();
    let name = cstring("c job.pdf");
    let mut error = ptr::null_mut();
    let file_id =
        c_ok(sypht_upload_v2_bytes(client, data.as_ptr(), data.len(), name.as_ptr(), ptr::null(), &mut error), error);

    let workflow = cstring("sypht.extract");
    let inputs = cstring(&json!({ "file_id": file_id, "product_ids": ["invoices"] }).to_string());
    let mut error = ptr::null_mut();
    let envelope =
        c_json(sypht_create_workflow_job(client, workflow.as_ptr(), inputs.as_ptr(), ptr::null(), &mut error), error);
    assert_eq!(envelope["job"]["inputs"]["file_id"], json!(file_id));
    assert!(envelope["job"]["id"].is_string(), "{envelope}");

    let step = cstring("extract");
    let mut error = ptr::null_mut();
    let output =
        c_json(sypht_invoke_workflow(client, workflow.as_ptr(), inputs.as_ptr(), step.as_ptr(), &mut error), error);
    assert!(output.is_object(), "{output}");

    let bad = cstring("not json");
    let mut error = ptr::null_mut();
    let text = sypht_create_workflow_job(client, workflow.as_ptr(), bad.as_ptr(), ptr::null(), &mut error);
    let (message, _) = c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    assert!(message.contains("inputs_json"), "{message}");
    sypht_client_free(client);
}

#[test]
fn c_company_lookup() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let mut error = ptr::null_mut();
    let company = c_json(sypht_get_company(client, ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let id = c_ok(sypht_company_id(client, &mut error), error);
    assert_eq!(company["id"], json!(id));

    let other = cstring("unknown-client");
    let mut error = ptr::null_mut();
    let (_, status) = c_err(sypht_get_company(client, other.as_ptr(), &mut error), error, SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(status, 404);

    let mut error = ptr::null_mut();
    c_err(sypht_company_id(ptr::null_mut(), &mut error), error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_client_free(client);
}
