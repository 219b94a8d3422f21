//! Annotations: upload, listing with filters and search by document ids,
//! both paged to the end under a record limit, through Rust and the C ABI.

mod api_common;

use std::ptr;

use api_common::*;
use serde_json::json;
use sypht::ffi::*;
use sypht::{AnnotationField, AnnotationFilter, ErrorKind, PagingOptions, UploadV2Options};
use sypht_emulator::EmulatorConfig;

const PAGE_SIZE: usize = 3;

/// Starts an emulator with small annotation pages and uploads one
/// annotation for each of `count` new documents; returns their ids.
fn annotated(count: usize) -> (sypht_emulator::Emulator, sypht::Client, Vec<String>) {
    let emulator = emulator_with(EmulatorConfig { annotation_page_size: PAGE_SIZE, ..Default::default() });
    let client = client(&emulator);
    let mut ids = Vec::new();
    for i in 0..count {
        let file_id =
            client.upload_bytes_v2(&binary_pdf(), &format!("a{i}.pdf"), &UploadV2Options::default()).unwrap().file_id;
        let fields = [AnnotationField::simple("invoice.total", format!("{i}.00"))];
        client.upload_company_annotation(&file_id, &fields, None).unwrap();
        ids.push(file_id);
    }
    (emulator, client, ids)
}

fn unlimited() -> PagingOptions {
    PagingOptions { record_limit: usize::MAX, allow_partial: false }
}

#[test]
fn list_pages_to_the_end() {
    let (_emulator, client, ids) = annotated(8);
    let list = client.list_annotations(&AnnotationFilter::default(), unlimited()).unwrap();
    assert!(!list.truncated);
    assert!(list.annotations.len() >= ids.len(), "{} annotations for {} documents", list.annotations.len(), ids.len());
    for id in &ids {
        assert!(list.annotations.iter().any(|a| contains_string(a, id)), "no annotation of {id}");
    }
    let first_page = client.list_annotations_page(&AnnotationFilter::default(), 0).unwrap();
    assert_eq!(first_page.len(), PAGE_SIZE);
}

#[test]
fn list_filters_by_document() {
    let (_emulator, client, ids) = annotated(4);
    let filter = AnnotationFilter { doc_id: Some(ids[2].clone()), ..Default::default() };
    let list = client.list_annotations(&filter, PagingOptions::default()).unwrap();
    assert!(!list.annotations.is_empty());
    for annotation in &list.annotations {
        assert!(contains_string(annotation, &ids[2]), "{annotation}");
        assert!(!contains_string(annotation, &ids[1]), "{annotation}");
    }
}

#[test]
fn record_limit_is_exact() {
    let (_emulator, client, _ids) = annotated(7);
    let total = client.list_annotations(&AnnotationFilter::default(), unlimited()).unwrap().annotations.len();

    let at_limit = PagingOptions { record_limit: total, allow_partial: false };
    let list = client.list_annotations(&AnnotationFilter::default(), at_limit).unwrap();
    assert_eq!(list.annotations.len(), total);
    assert!(!list.truncated);

    let below = PagingOptions { record_limit: total - 1, allow_partial: false };
    let err = client.list_annotations(&AnnotationFilter::default(), below).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(err.message().contains(&format!("record limit of {}", total - 1)), "{err}");

    let partial = PagingOptions { record_limit: total - 1, allow_partial: true };
    let list = client.list_annotations(&AnnotationFilter::default(), partial).unwrap();
    assert!(list.truncated);
    assert_eq!(list.annotations.len(), total - 1);
    let full = client.list_annotations(&AnnotationFilter::default(), unlimited()).unwrap();
    assert_eq!(list.annotations[..], full.annotations[..total - 1], "partial results keep server order");
}

#[test]
fn search_by_doc_ids() {
    let (_emulator, client, ids) = annotated(5);
    let wanted = [ids[0].as_str(), ids[4].as_str()];
    let list = client.search_annotations(&wanted, PagingOptions::default()).unwrap();
    assert!(list.annotations.iter().any(|a| contains_string(a, &ids[0])));
    assert!(list.annotations.iter().any(|a| contains_string(a, &ids[4])));
    assert!(!list.annotations.iter().any(|a| contains_string(a, &ids[2])));
    let err = client.search_annotations(&[], PagingOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn search_record_limit() {
    let (_emulator, client, ids) = annotated(5);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let total = client.search_annotations(&refs, unlimited()).unwrap().annotations.len();
    assert!(total > PAGE_SIZE, "the search must span pages");
    let err = client.search_annotations(&refs, PagingOptions { record_limit: total - 1, allow_partial: false });
    assert_eq!(err.unwrap_err().kind(), ErrorKind::LimitExceeded);
    let list = client.search_annotations(&refs, PagingOptions { record_limit: 2, allow_partial: true }).unwrap();
    assert_eq!(list.annotations.len(), 2);
    assert!(list.truncated);
}

#[test]
fn upload_annotation_checks_fields() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.upload_company_annotation("doc", &[], None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = client.upload_company_annotation("", &[AnnotationField::simple("a", "b")], None).unwrap_err();
    assert!(err.message().contains("doc_id"), "{err}");
    let err = client.upload_company_annotation("missing-doc", &[AnnotationField::simple("a", "b")], None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn c_annotation_functions() {
    let (emulator, _client, ids) = annotated(5);
    let client = c_client(&emulator);

    let fields =
        cstring(&json!([{ "id": "issuer.name", "type": "simple", "data": { "value": "From C" } }]).to_string());
    let doc = cstring(&ids[1]);
    let mut error = ptr::null_mut();
    c_json(sypht_upload_company_annotation(client, doc.as_ptr(), fields.as_ptr(), ptr::null(), &mut error), error);

    let mut truncated = true;
    let mut error = ptr::null_mut();
    let all = c_json(sypht_list_annotations(client, ptr::null(), 0, false, &mut truncated, &mut error), error);
    assert!(!truncated);
    let total = all.as_array().unwrap().len();
    assert!(total > PAGE_SIZE);
    assert!(all.as_array().unwrap().iter().any(|a| contains_string(a, "From C")), "{all}");

    let filter = cstring(&json!({ "docId": ids[1] }).to_string());
    let mut error = ptr::null_mut();
    let one = c_json(sypht_list_annotations(client, filter.as_ptr(), 0, false, ptr::null_mut(), &mut error), error);
    assert!(one.as_array().unwrap().iter().all(|a| contains_string(a, &ids[1])), "{one}");

    let mut error = ptr::null_mut();
    let text = sypht_list_annotations(client, ptr::null(), total - 1, false, &mut truncated, &mut error);
    let (message, _) = c_err(text, error, SYPHT_ERROR_LIMIT_EXCEEDED);
    assert!(message.contains("record limit"), "{message}");

    let mut error = ptr::null_mut();
    let partial =
        c_json(sypht_list_annotations(client, ptr::null(), total - 1, true, &mut truncated, &mut error), error);
    assert!(truncated);
    assert_eq!(partial.as_array().unwrap().len(), total - 1);

    let c_ids: Vec<_> = ids.iter().map(|id| cstring(id)).collect();
    let id_ptrs: Vec<_> = c_ids.iter().map(|c| c.as_ptr()).collect();
    let mut error = ptr::null_mut();
    let found =
        c_json(sypht_search_annotations(client, id_ptrs.as_ptr(), 2, 0, false, &mut truncated, &mut error), error);
    assert!(!truncated);
    assert!(found.as_array().unwrap().iter().any(|a| contains_string(a, &ids[0])), "{found}");

    let bad_filter = cstring(r#"{"docid": "wrong case"}"#);
    let mut error = ptr::null_mut();
    let text = sypht_list_annotations(client, bad_filter.as_ptr(), 0, false, ptr::null_mut(), &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);

    let bad_fields = cstring(r#"[{"id": "x"}]"#);
    let mut error = ptr::null_mut();
    let text = sypht_upload_company_annotation(client, doc.as_ptr(), bad_fields.as_ptr(), ptr::null(), &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_client_free(client);
}
