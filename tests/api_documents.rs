//! Uploads (v1 with options, v2 multipart, base64 JSON), file metadata,
//! downloads and page images, through Rust and through the C ABI.

mod api_common;

use std::ptr;

use api_common::*;
use serde_json::json;
use sypht::ffi::*;
use sypht::{ErrorKind, UploadOptions, UploadV2Options};

fn write_temp(name: &str, data: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("libsypht-api-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

#[test]
fn v2_upload_then_download_round_trips() {
    let emulator = emulator();
    let client = client(&emulator);
    let data = binary_pdf();
    let path = write_temp("v2 upload.pdf", &data);
    let options = UploadV2Options {
        fields: vec![("splitState".to_string(), "created_by_split".to_string())],
        ..Default::default()
    };
    let uploaded = client.upload_file_v2(&path, &options).unwrap();
    assert!(!uploaded.file_id.is_empty());
    assert_eq!(uploaded.status.as_deref(), Some("RECEIVED"));
    let downloaded = client.download_file(&uploaded.file_id).unwrap();
    assert_eq!(downloaded.len(), data.len());
    assert!(downloaded == data, "downloaded bytes differ from the upload");
}

#[test]
fn v2_upload_bytes_keeps_file_name() {
    let emulator = emulator();
    let client = client(&emulator);
    let uploaded = client.upload_bytes_v2(&binary_pdf(), "in memory.pdf", &UploadV2Options::default()).unwrap();
    let metadata = client.get_file_metadata(&uploaded.file_id).unwrap();
    assert!(metadata.is_object(), "{metadata}");
    let text = metadata.to_string();
    assert!(text.contains(&uploaded.file_id), "{metadata}");
    assert!(text.contains("in memory.pdf"), "{metadata}");
}

#[test]
fn v2_upload_rejects_reserved_field() {
    let emulator = emulator();
    let client = client(&emulator);
    let options = UploadV2Options { fields: vec![("file".into(), "x".into())], ..Default::default() };
    let err = client.upload_bytes_v2(&binary_pdf(), "a.pdf", &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(emulator.stats().uploads, 0, "nothing may be sent for invalid options");
}

#[test]
fn json_upload_round_trips_bytes() {
    let emulator = emulator();
    let client = client(&emulator);
    let data = binary_pdf();
    let options = UploadOptions { tags: vec!["json-tag".into()], ..UploadOptions::products(["invoices"]) };
    let uploaded = client.upload_json(&data, "json upload.pdf", &options).unwrap();
    assert!(!uploaded.file_id.is_empty());
    let downloaded = client.download_file(&uploaded.file_id).unwrap();
    assert!(downloaded == data, "downloaded bytes differ from the JSON upload");
    let results = client.fetch_results(&uploaded.file_id, &Default::default()).unwrap();
    assert_eq!(results.file_id, uploaded.file_id);
}

#[test]
fn json_upload_checks_selector() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.upload_json(&binary_pdf(), "a.pdf", &UploadOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn unknown_file_is_not_found() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.download_file("no-such-file").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(404));
    let err = client.get_file_metadata("no-such-file").unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn empty_file_id_is_invalid() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.download_file("").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("file_id"), "{err}");
    assert_eq!(emulator.stats().requests, 0);
}

#[test]
fn page_image_of_first_page() {
    let emulator = emulator();
    let client = client(&emulator);
    let file_id = client.upload_bytes(&binary_pdf(), "image.pdf", &UploadOptions::products(["invoices"])).unwrap();
    let image = client.fetch_page_image(&file_id, 1).unwrap();
    assert!(!image.is_empty());
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"), "expected a PNG, got {:?}", &image[..image.len().min(8)]);
    let err = client.fetch_page_image(&file_id, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = client.fetch_page_image(&file_id, 999).unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn binary_limit_rejects_large_download() {
    let emulator = emulator();
    let small = sypht::Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(emulator.base_url())
        .auth_endpoint(emulator.auth_url())
        .ignore_env(true)
        .max_binary_response_bytes(64)
        .build()
        .unwrap();
    let uploaded = small.upload_bytes_v2(&binary_pdf(), "big.pdf", &UploadV2Options::default()).unwrap();
    let err = small.download_file(&uploaded.file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
}

#[test]
fn c_upload_with_options_and_results() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let options = sypht_upload_options_new();
    let mut error = ptr::null_mut();
    let product = cstring("invoices");
    assert_eq!(sypht_upload_options_add_product(options, product.as_ptr(), &mut error), SYPHT_OK);
    let tag = cstring("c tag");
    assert_eq!(sypht_upload_options_add_tag(options, tag.as_ptr(), &mut error), SYPHT_OK);
    let name = cstring("renamed.pdf");
    assert_eq!(sypht_upload_options_set_file_name(options, name.as_ptr(), &mut error), SYPHT_OK);
    let parent = cstring("parent-doc");
    assert_eq!(sypht_upload_options_set_parent_doc_id(options, parent.as_ptr(), &mut error), SYPHT_OK);
    let bad_json = cstring("[1, 2]");
    let code = sypht_upload_options_set_workflow_options_json(options, bad_json.as_ptr(), &mut error);
    assert_eq!(code, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_error_free(error);

    let data = binary_pdf();
    let path = write_temp("c upload.pdf", &data);
    let c_path = cstring(path.to_str().unwrap());
    let mut error = ptr::null_mut();
    let file_id = c_ok(sypht_upload_with_options(client, c_path.as_ptr(), options, &mut error), error);
    let c_file_id = cstring(&file_id);

    let results_options = sypht_results_options_new();
    assert_eq!(sypht_results_options_set_verbose(results_options, true, ptr::null_mut()), SYPHT_OK);
    assert_eq!(sypht_results_options_set_server_timeout_ms(results_options, 1000, ptr::null_mut()), SYPHT_OK);
    let mut error = ptr::null_mut();
    let body = c_json(sypht_fetch_results(client, c_file_id.as_ptr(), results_options, &mut error), error);
    assert_eq!(body["fileId"], json!(file_id));
    assert!(body["status"].is_string(), "{body}");
    let mut error = ptr::null_mut();
    let body = c_json(sypht_wait_for_results(client, c_file_id.as_ptr(), ptr::null(), 10_000, &mut error), error);
    assert_eq!(body["status"], json!("FINALISED"));
    assert!(body["results"]["fields"].is_array(), "{body}");

    let mut error = ptr::null_mut();
    let metadata = c_json(sypht_get_file_metadata(client, c_file_id.as_ptr(), &mut error), error);
    assert_eq!(metadata["fileName"], json!("renamed.pdf"), "{metadata}");
    assert!(contains_string(&metadata["tags"], "c tag"), "{metadata}");
    assert_eq!(metadata["parentDocId"], json!("parent-doc"), "{metadata}");

    let mut error = ptr::null_mut();
    let missing = cstring("missing");
    let (_, status) =
        c_err(sypht_fetch_results(client, missing.as_ptr(), ptr::null(), &mut error), error, SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(status, 404);

    sypht_results_options_free(results_options);
    sypht_upload_options_free(options);
    sypht_client_free(client);
}

#[test]
fn c_wait_for_results_times_out() {
    let emulator = emulator();
    emulator.set_pending_polls(1_000);
    let client = c_client(&emulator);
    let options = sypht_upload_options_new();
    let product = cstring("invoices");
    assert_eq!(sypht_upload_options_add_product(options, product.as_ptr(), ptr::null_mut()), SYPHT_OK);
    let data = binary_pdf();
    let name = cstring("slow.pdf");
    let mut error = ptr::null_mut();
    let file_id = c_ok(
        sypht_upload_bytes_with_options(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error),
        error,
    );
    let c_file_id = cstring(&file_id);
    let mut error = ptr::null_mut();
    let text = sypht_wait_for_results(client, c_file_id.as_ptr(), ptr::null(), 300, &mut error);
    assert!(text.is_null());
    assert_eq!(sypht_error_code(error), SYPHT_ERROR_NOT_FINALISED);
    let status = sypht_error_result_status(error);
    assert!(!status.is_null());
    sypht_error_free(error);
    sypht_upload_options_free(options);
    sypht_client_free(client);
}

#[test]
fn c_v2_and_json_uploads_download_bytes() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let data = binary_pdf();
    let name = cstring("v2 c.pdf");

    let options = sypht_upload_options_new();
    let field = cstring("splitState");
    let value = cstring("created_by_split");
    assert_eq!(sypht_upload_options_add_form_field(options, field.as_ptr(), value.as_ptr(), ptr::null_mut()), SYPHT_OK);
    let mut error = ptr::null_mut();
    let v2_id =
        c_ok(sypht_upload_v2_bytes(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error), error);

    // Form fields belong to v2 uploads only.
    let mut error = ptr::null_mut();
    let text = sypht_upload_json(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_upload_options_free(options);

    let options = sypht_upload_options_new();
    let product = cstring("invoices");
    assert_eq!(sypht_upload_options_add_product(options, product.as_ptr(), ptr::null_mut()), SYPHT_OK);
    let mut error = ptr::null_mut();
    let json_id = c_ok(sypht_upload_json(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error), error);

    // A v2 upload takes no products.
    let mut error = ptr::null_mut();
    let text = sypht_upload_v2_bytes(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_upload_options_free(options);

    let path = write_temp("v2 from path.pdf", &data);
    let c_path = cstring(path.to_str().unwrap());
    let mut error = ptr::null_mut();
    let path_id = c_ok(sypht_upload_v2(client, c_path.as_ptr(), ptr::null(), &mut error), error);

    for file_id in [&v2_id, &json_id, &path_id] {
        let c_id = cstring(file_id);
        let mut error = ptr::null_mut();
        let bytes = sypht_download_file(client, c_id.as_ptr(), &mut error);
        assert!(error.is_null(), "{}", error_message(error));
        assert!(take_bytes(bytes) == data, "download of {file_id} differs from the upload");
    }

    let c_id = cstring(&json_id);
    let mut error = ptr::null_mut();
    let image = sypht_fetch_page_image(client, c_id.as_ptr(), 1, &mut error);
    assert!(error.is_null(), "{}", error_message(error));
    assert!(take_bytes(image).starts_with(b"\x89PNG"));

    let missing = cstring("missing");
    let mut error = ptr::null_mut();
    assert!(sypht_download_file(client, missing.as_ptr(), &mut error).is_null());
    assert_eq!(sypht_error_code(error), SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(sypht_error_http_status(error), 404);
    sypht_error_free(error);

    let mut error = ptr::null_mut();
    assert!(sypht_download_file(client, ptr::null(), &mut error).is_null());
    assert_eq!(sypht_error_code(error), SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_error_free(error);
    sypht_client_free(client);
}

#[test]
fn c_bytes_accessors_accept_null() {
    assert!(sypht_bytes_data(ptr::null()).is_null());
    assert_eq!(sypht_bytes_len(ptr::null()), 0);
    sypht_bytes_free(ptr::null_mut());
}

#[test]
fn c_request_returns_body_and_status() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let get = cstring("GET");
    let path = cstring(&format!("/app/company/byclientid/{CLIENT_ID}"));
    let mut status = 0u16;
    let mut error = ptr::null_mut();
    let body = c_json(sypht_request(client, get.as_ptr(), path.as_ptr(), ptr::null(), &mut status, &mut error), error);
    assert_eq!(status, 200);
    assert!(body["id"].is_string(), "{body}");

    let missing = cstring("/result/final/missing");
    let mut status = 0u16;
    let mut error = ptr::null_mut();
    let text = sypht_request(client, get.as_ptr(), missing.as_ptr(), ptr::null(), &mut status, &mut error);
    let (_, http) = c_err(text, error, SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(http, 404);
    assert_eq!(status, 0, "status_out is written only on success");

    let bad_body = cstring("{not json");
    let post = cstring("POST");
    let mut error = ptr::null_mut();
    let text = sypht_request(client, post.as_ptr(), path.as_ptr(), bad_body.as_ptr(), ptr::null_mut(), &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_client_free(client);
}

#[test]
fn awkward_file_ids_reach_server_intact() {
    let emulator = emulator();
    let client = client(&emulator);
    for id in AWKWARD_IDS {
        // The emulator names the decoded id it looked up, so the message
        // shows whether the id arrived as one intact path segment.
        let err = client.fetch_results(id, &Default::default()).unwrap_err();
        assert_eq!(err.http_status(), Some(404), "{id:?}: {err}");
        assert!(err.message().contains(id), "{id:?} did not arrive intact: {err}");
    }
}

#[test]
fn c_split_workflow_options_reach_server() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let options = sypht_upload_options_new();
    let field_set = cstring("sypht.invoice");
    assert_eq!(sypht_upload_options_add_field_set(options, field_set.as_ptr(), ptr::null_mut()), SYPHT_OK);
    let workflow = cstring("split");
    assert_eq!(sypht_upload_options_set_workflow_id(options, workflow.as_ptr(), ptr::null_mut()), SYPHT_OK);
    let workflow_options = json!({
        "prediction": { "childWorkflow": "prediction",
                        "childWorkflowOptions": { "prediction": { "fieldSets": ["sypht.invoice"] } } }
    });
    let workflow_options = cstring(&workflow_options.to_string());
    let code = sypht_upload_options_set_workflow_options_json(options, workflow_options.as_ptr(), ptr::null_mut());
    assert_eq!(code, SYPHT_OK);

    let data = binary_pdf();
    let name = cstring("split.pdf");
    let mut error = ptr::null_mut();
    let file_id = c_ok(sypht_upload_json(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error), error);
    let c_file_id = cstring(&file_id);
    let mut error = ptr::null_mut();
    let body = c_json(sypht_wait_for_results(client, c_file_id.as_ptr(), ptr::null(), 10_000, &mut error), error);
    let fields = body["results"]["fields"].as_array().expect("fields");
    let children = fields.iter().find(|f| f["name"] == json!("components.children"));
    assert!(children.is_some(), "a split upload lists its children: {body}");

    // Clearing the workflow with NULL makes the next upload a plain extraction.
    assert_eq!(sypht_upload_options_set_workflow_id(options, ptr::null(), ptr::null_mut()), SYPHT_OK);
    assert_eq!(sypht_upload_options_set_workflow_options_json(options, ptr::null(), ptr::null_mut()), SYPHT_OK);
    let mut error = ptr::null_mut();
    let file_id = c_ok(sypht_upload_json(client, data.as_ptr(), data.len(), name.as_ptr(), options, &mut error), error);
    let c_file_id = cstring(&file_id);
    let mut error = ptr::null_mut();
    let body = c_json(sypht_wait_for_results(client, c_file_id.as_ptr(), ptr::null(), 10_000, &mut error), error);
    let fields = body["results"]["fields"].as_array().expect("fields");
    assert!(!fields.iter().any(|f| f["name"] == json!("components.children")), "{body}");
    sypht_upload_options_free(options);
    sypht_client_free(client);
}
