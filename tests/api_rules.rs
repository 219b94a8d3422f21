//! Specifications, tasks, validation rules and workflow data, through Rust
//! and the C ABI.

mod api_common;

use std::ptr;

use api_common::*;
use serde_json::json;
use sypht::ffi::*;
use sypht::{ErrorKind, NewTask, UploadV2Options};

#[test]
fn rules_put_get_delete() {
    let emulator = emulator();
    let client = client(&emulator);
    let rules = json!({ "rules": [{ "field": "invoice.total", "min": 0 }] });
    client.set_validation_rules("invoice rules/v1", &rules, true, None).unwrap();
    let fetched = client.get_validation_rules("invoice rules/v1", None).unwrap();
    assert!(contains_string(&fetched, "invoice.total"), "{fetched}");
    client.delete_validation_rules("invoice rules/v1", None).unwrap();
    let err = client.get_validation_rules("invoice rules/v1", None).unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn workflow_data_is_separate_from_rules() {
    let emulator = emulator();
    let client = client(&emulator);
    client.set_validation_rules("shared-key", &json!({ "kind": "rules" }), true, None).unwrap();
    client.set_workflow_data("shared-key", &json!({ "kind": "data", "list": [1, 2] }), None).unwrap();
    let data = client.get_workflow_data("shared-key", None).unwrap();
    assert!(contains_string(&data, "data"), "{data}");
    assert!(!contains_string(&data, "rules"), "{data}");
    client.delete_validation_rules("shared-key", None).unwrap();
    let data = client.get_workflow_data("shared-key", None).unwrap();
    assert!(contains_string(&data, "data"), "deleting rules must leave workflow data: {data}");
    for key in AWKWARD_IDS {
        client.set_workflow_data(key, &json!({ "key": key }), None).unwrap();
        let data = client.get_workflow_data(key, None).unwrap();
        assert!(contains_string(&data, key), "{key:?}: {data}");
    }
}

#[test]
fn rule_ids_are_checked() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.get_validation_rules("", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("rules_id"), "{err}");
    let err = client.set_workflow_data("", &json!(1), None).unwrap_err();
    assert!(err.message().contains("data_key"), "{err}");
    let err = client.delete_validation_rules("..", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(emulator.stats().requests, 0, "invalid ids must fail before any request");
    let err = client.get_workflow_data("missing", None).unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn specification_and_task() {
    let emulator = emulator();
    let client = client(&emulator);
    let file_id = client.upload_bytes_v2(&binary_pdf(), "task.pdf", &UploadV2Options::default()).unwrap().file_id;
    let spec = client.create_specification(&json!({ "name": "review-spec", "fields": ["invoice.total"] })).unwrap();
    assert!(contains_string(&spec, "review-spec"), "{spec}");
    let task = NewTask { priority: Some(3), replication: 2, ..NewTask::new(file_id.clone(), "review-spec") };
    let created = client.create_task(&task, None).unwrap();
    assert!(contains_string(&created, &file_id), "{created}");
    let err = client.create_task(&NewTask { replication: 0, ..task.clone() }, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = client.create_specification(&json!("not an object")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn c_rules_tasks_and_data() {
    let emulator = emulator();
    let rust_client = client(&emulator);
    let file_id =
        rust_client.upload_bytes_v2(&binary_pdf(), "c task.pdf", &UploadV2Options::default()).unwrap().file_id;
    let client = c_client(&emulator);

    let spec = cstring(r#"{"name": "c-spec", "fields": []}"#);
    let mut error = ptr::null_mut();
    c_json(sypht_create_specification(client, spec.as_ptr(), &mut error), error);
    let doc = cstring(&file_id);
    let spec_name = cstring("c-spec");
    let priority = 5i32;
    let mut error = ptr::null_mut();
    let task = c_json(
        sypht_create_task(client, doc.as_ptr(), spec_name.as_ptr(), 1, &priority, ptr::null(), &mut error),
        error,
    );
    assert!(contains_string(&task, &file_id), "{task}");
    let mut error = ptr::null_mut();
    c_err(
        sypht_create_task(client, doc.as_ptr(), spec_name.as_ptr(), 0, ptr::null(), ptr::null(), &mut error),
        error,
        SYPHT_ERROR_INVALID_ARGUMENT,
    );

    let rules_id = cstring("c rules");
    let rules = cstring(r#"{"rules": ["total > 0"]}"#);
    let mut error = ptr::null_mut();
    c_json(sypht_set_validation_rules(client, rules_id.as_ptr(), rules.as_ptr(), true, ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let fetched = c_json(sypht_get_validation_rules(client, rules_id.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&fetched, "total > 0"), "{fetched}");
    let mut error = ptr::null_mut();
    c_json(sypht_delete_validation_rules(client, rules_id.as_ptr(), ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let (_, status) = c_err(
        sypht_get_validation_rules(client, rules_id.as_ptr(), ptr::null(), &mut error),
        error,
        SYPHT_ERROR_HTTP_STATUS,
    );
    assert_eq!(status, 404);

    let key = cstring("c/data key");
    let data = cstring(r#"[1, "two", null]"#);
    let mut error = ptr::null_mut();
    c_json(sypht_set_workflow_data(client, key.as_ptr(), data.as_ptr(), ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let fetched = c_json(sypht_get_workflow_data(client, key.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&fetched, "two"), "{fetched}");

    let mut error = ptr::null_mut();
    c_err(
        sypht_set_workflow_data(client, key.as_ptr(), ptr::null(), ptr::null(), &mut error),
        error,
        SYPHT_ERROR_INVALID_ARGUMENT,
    );
    sypht_client_free(client);
}
