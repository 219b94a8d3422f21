//! Entity storage: single entities, bulk upload in batches, bulk get,
//! paged listing to the end, and search, through Rust and the C ABI.

mod api_common;

use std::collections::BTreeSet;
use std::ptr;

use api_common::*;
use serde_json::{json, Value};
use sypht::ffi::*;
use sypht::{BulkEntity, ErrorKind};

fn bulk(count: usize) -> Vec<BulkEntity> {
    (0..count)
        .map(|i| BulkEntity {
            entity_id: format!("SUP-{i:05}"),
            data: json!({ "supplier_name": format!("Supplier {i}"), "abn": format!("{i:011}"), "bsb": null }),
        })
        .collect()
}

#[test]
fn entity_set_get_delete() {
    let emulator = emulator();
    let client = client(&emulator);
    let data = json!({ "entity_id": "SUP-1", "supplier_name": "Harbourside Plumbing", "account_no": null });
    client.set_entity("supplier", "SUP-1", &data, None).unwrap();
    let fetched = client.get_entity("supplier", "SUP-1", None).unwrap();
    assert!(contains_string(&fetched, "Harbourside Plumbing"), "{fetched}");
    client.delete_entity("supplier", "SUP-1", None).unwrap();
    let err = client.get_entity("supplier", "SUP-1", None).unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn awkward_entity_ids_round_trip() {
    let emulator = emulator();
    let client = client(&emulator);
    for (i, id) in AWKWARD_IDS.iter().enumerate() {
        let entity_type = format!("type {i}/x");
        let marker = format!("marker-{i}");
        client.set_entity(&entity_type, id, &json!({ "marker": marker }), None).unwrap();
        let fetched = client.get_entity(&entity_type, id, None).unwrap();
        assert!(contains_string(&fetched, &marker), "{id:?}: {fetched}");
        let ids = client.all_entity_ids(&entity_type, None).unwrap();
        assert_eq!(ids, vec![id.to_string()], "listing of {entity_type:?}");
    }
}

#[test]
fn entity_arguments_are_checked() {
    let emulator = emulator();
    let client = client(&emulator);
    let err = client.set_entity("supplier", "", &json!({}), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("entity_id"), "{err}");
    let err = client.set_entity("supplier", "x", &json!([1]), None).unwrap_err();
    assert!(err.message().contains("data"), "{err}");
    let err = client.get_entity("..", "x", None).unwrap_err();
    assert!(err.message().contains("entity_type"), "{err}");
    let err = client.search_entities("supplier", None, None, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = client.all_entity_ids("", None).unwrap_err();
    assert!(err.message().contains("entity_type"), "{err}");
    assert_eq!(emulator.stats().requests, 0);
}

#[test]
fn bulk_set_sends_batches() {
    let emulator = emulator();
    let client = client(&emulator);
    client.company_id().unwrap();
    let before = emulator.stats().requests;
    let answers = client.set_entities("supplier", &bulk(2_500), None).unwrap();
    assert_eq!(answers.len(), 3, "2500 entities in batches of 1000");
    assert_eq!(emulator.stats().requests - before, 3);
    let answers = client.set_entities_in_batches("vehicle", &bulk(10), 4, None).unwrap();
    assert_eq!(answers.len(), 3, "10 entities in batches of 4");
    let err = client.set_entities_in_batches("vehicle", &bulk(1), 0, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let ids = client.all_entity_ids("supplier", None).unwrap();
    assert_eq!(ids.len(), 2_500);
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 2_500, "paging must not repeat ids");
}

#[test]
fn list_pages_until_end() {
    let emulator = emulator();
    let client = client(&emulator);
    client.set_entities("vehicle", &bulk(25), None).unwrap();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client.list_entities("vehicle", token.as_deref(), Some(10), None).unwrap();
        assert!(page.entities.len() <= 10, "page larger than the limit: {}", page.entities.len());
        seen.extend(page.entities);
        pages += 1;
        match page.next_page {
            Some(next) => token = Some(next),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert!(pages >= 3, "25 ids at 10 per page need at least 3 pages, got {pages}");
    let expected: BTreeSet<String> = bulk(25).into_iter().map(|e| e.entity_id).collect();
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[test]
fn bulk_get_and_search() {
    let emulator = emulator();
    let client = client(&emulator);
    client.set_entities("supplier", &bulk(5), None).unwrap();
    let found = client.get_entities("supplier", &["SUP-00001", "SUP-00003"], None).unwrap();
    assert!(contains_string(&found, "Supplier 1"), "{found}");
    assert!(contains_string(&found, "Supplier 3"), "{found}");
    assert!(!contains_string(&found, "Supplier 2"), "{found}");

    let exact = client.search_entities("supplier", Some(&json!({ "abn": "00000000004" })), None, None).unwrap();
    assert!(contains_string(&exact, "Supplier 4"), "{exact}");
    assert!(!contains_string(&exact, "Supplier 1"), "{exact}");
    let fuzzy =
        client.search_entities("supplier", None, Some(&json!({ "supplier_name": "supplier 2" })), None).unwrap();
    assert!(contains_string(&fuzzy, "Supplier 2"), "{fuzzy}");
}

#[test]
fn c_entity_functions() {
    let emulator = emulator();
    let client = c_client(&emulator);
    let entity_type = cstring("supplier type");
    let entity_id = cstring("SUP/1 ü");
    let data = cstring(r#"{"supplier_name": "C Supplier", "status": "active"}"#);
    let mut error = ptr::null_mut();
    c_json(
        sypht_set_entity(client, entity_type.as_ptr(), entity_id.as_ptr(), data.as_ptr(), ptr::null(), &mut error),
        error,
    );
    let mut error = ptr::null_mut();
    let fetched =
        c_json(sypht_get_entity(client, entity_type.as_ptr(), entity_id.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&fetched, "C Supplier"), "{fetched}");

    let entities = serde_json::to_string(&bulk(7)).unwrap();
    let entities = cstring(&entities);
    let mut error = ptr::null_mut();
    let answers =
        c_json(sypht_set_entities(client, entity_type.as_ptr(), entities.as_ptr(), 3, ptr::null(), &mut error), error);
    assert_eq!(answers.as_array().map(Vec::len), Some(3), "{answers}");

    let wanted = [cstring("SUP-00002"), cstring("SUP-00006")];
    let wanted_ptrs: Vec<_> = wanted.iter().map(|c| c.as_ptr()).collect();
    let mut error = ptr::null_mut();
    let found = c_json(
        sypht_get_entities(client, entity_type.as_ptr(), wanted_ptrs.as_ptr(), 2, ptr::null(), &mut error),
        error,
    );
    assert!(contains_string(&found, "Supplier 6"), "{found}");

    let mut error = ptr::null_mut();
    let page =
        c_json(sypht_list_entities(client, entity_type.as_ptr(), ptr::null(), 5, ptr::null(), &mut error), error);
    assert_eq!(page["entities"].as_array().map(Vec::len), Some(5), "{page}");
    let token = page["next_page"].as_str().expect("a second page").to_string();
    let token = cstring(&token);
    let mut error = ptr::null_mut();
    let page =
        c_json(sypht_list_entities(client, entity_type.as_ptr(), token.as_ptr(), 5, ptr::null(), &mut error), error);
    assert_eq!(page["entities"].as_array().map(Vec::len), Some(3), "{page}");
    assert_eq!(page["next_page"], Value::Null);

    let mut error = ptr::null_mut();
    let all = c_json(sypht_get_all_entity_ids(client, entity_type.as_ptr(), ptr::null(), &mut error), error);
    assert_eq!(all.as_array().map(Vec::len), Some(8), "{all}");

    let exact = cstring(r#"{"supplier_name": "C Supplier"}"#);
    let mut error = ptr::null_mut();
    let found = c_json(
        sypht_search_entities(client, entity_type.as_ptr(), exact.as_ptr(), ptr::null(), ptr::null(), &mut error),
        error,
    );
    assert!(contains_string(&found, "C Supplier"), "{found}");

    let mut error = ptr::null_mut();
    c_json(sypht_delete_entity(client, entity_type.as_ptr(), entity_id.as_ptr(), ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let text = sypht_get_entity(client, entity_type.as_ptr(), entity_id.as_ptr(), ptr::null(), &mut error);
    let (_, status) = c_err(text, error, SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(status, 404);

    let bad = cstring(r#"[{"id": "missing entity_id"}]"#);
    let mut error = ptr::null_mut();
    let text = sypht_set_entities(client, entity_type.as_ptr(), bad.as_ptr(), 0, ptr::null(), &mut error);
    let (message, _) = c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    assert!(message.contains("entities_json"), "{message}");
    sypht_client_free(client);
}

#[test]
fn failed_batch_reports_stored_count() {
    let emulator = emulator();
    let client = client(&emulator);
    let mut entities = bulk(6);
    // The emulator rejects entity data that is not an object.
    entities[4].data = Value::Null;
    let err = client.set_entities_in_batches("supplier", &entities, 2, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(400));
    assert!(err.message().contains("batch 3"), "{err}");
    assert!(err.message().contains("the 4 entities before it were stored"), "{err}");
    let stored = client.all_entity_ids("supplier", None).unwrap();
    assert_eq!(stored.len(), 4, "later batches must not be sent: {stored:?}");
}
