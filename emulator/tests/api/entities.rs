use serde_json::{json, Value};

use crate::common::*;

#[test]
fn entity_put_get_delete() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let path = format!("/storage/{company}/entity/supplier/SUP%2F0001%20%C3%A9");
    let entity = json!({ "entity_id": "SUP/0001 é", "supplier_name": "Harbourside", "account_no": null });
    assert_eq!(get(&emulator, &path, &token).status, 404);
    let reply = send_json(&emulator, "PUT", &path, &token, &entity);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(get(&emulator, &path, &token).json(), entity);
    assert_eq!(send_json(&emulator, "PUT", &path, &token, &json!([1])).status, 400);
    let auth = format!("Bearer {token}");
    let deleted = request(emulator.local_addr(), "DELETE", &path, &[("Authorization", &auth)], b"");
    assert_eq!(deleted.status, 200);
    assert_eq!(get(&emulator, &path, &token).status, 404);
    let again = request(emulator.local_addr(), "DELETE", &path, &[("Authorization", &auth)], b"");
    assert_eq!(again.status, 404);
    // Python's quote_plus spells spaces as '+'.
    let plus = format!("/storage/{company}/entity/supplier/with+space");
    send_json(&emulator, "PUT", &plus, &token, &json!({ "a": 1 }));
    assert_eq!(get(&emulator, &format!("/storage/{company}/entity/supplier/with%20space"), &token).status, 200);
}

#[test]
fn entity_bulk_and_paging() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let batch: Vec<Value> = (0..25).map(|i| json!({ "entity_id": format!("E{i:03}"), "data": { "n": i } })).collect();
    let reply = send_json(&emulator, "POST", &format!("/storage/{company}/bulkentity/vehicle/"), &token, &json!(batch));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["count"], 25);
    let mut all = Vec::new();
    let mut page: Option<String> = None;
    let mut calls = 0;
    loop {
        let query = match &page {
            Some(token) => format!("?limit=10&page={token}"),
            None => "?limit=10".to_string(),
        };
        let reply = get(&emulator, &format!("/storage/{company}/entitysearch/vehicle{query}"), &token);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        calls += 1;
        all.extend(body["entities"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()));
        match body["next_page"].as_str() {
            Some(next) => page = Some(next.to_string()),
            None => break,
        }
        assert!(calls < 10, "paging does not end");
    }
    assert_eq!(calls, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("E{i:03}")).collect();
    assert_eq!(all, expected);
    let stored = get(&emulator, &format!("/storage/{company}/entity/vehicle/E007"), &token).json();
    assert_eq!(stored, json!({ "n": 7 }));
    let bad = get(&emulator, &format!("/storage/{company}/entitysearch/vehicle?limit=0"), &token);
    assert_eq!(bad.status, 400);
    let bad = get(&emulator, &format!("/storage/{company}/entitysearch/vehicle?page=%%%"), &token);
    assert_eq!(bad.status, 400);
    let empty = get(&emulator, &format!("/storage/{company}/entitysearch/nothing"), &token).json();
    assert_eq!(empty, json!({ "entities": [], "next_page": null }));
    let invalid = send_json(&emulator, "POST", &format!("/storage/{company}/bulkentity/vehicle"), &token, &json!([{ "entity_id": "x" }]));
    assert_eq!(invalid.status, 400);
}

#[test]
fn entity_by_id_and_search() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let suppliers = json!([
        { "entity_id": "S1", "data": { "name": "Harbourside Plumbing Supplies", "status": "active" } },
        { "entity_id": "S2", "data": { "name": "Northgate Electrical", "status": "inactive" } },
        { "entity_id": "S3", "data": { "name": "Harbourside Plumbing", "status": "inactive" } },
    ]);
    send_json(&emulator, "POST", &format!("/storage/{company}/bulkentity/supplier"), &token, &suppliers);
    let by_id = send_json(
        &emulator,
        "POST",
        &format!("/storage/{company}/entitysearch/supplier/by_id"),
        &token,
        &json!([{ "entity_id": "S2" }, { "entity_id": "S9" }]),
    )
    .json();
    assert_eq!(by_id["entities"][0]["entity_id"], "S2");
    assert_eq!(by_id["not_found"], json!(["S9"]));

    let search_path = format!("/storage/{company}/entitysearch/supplier/");
    let exact = send_json(&emulator, "POST", &search_path, &token, &json!({ "exact": { "status": "inactive" } })).json();
    let ids: Vec<&str> = exact["entities"].as_array().unwrap().iter().map(|e| e["entity_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["S2", "S3"]);
    let fuzzy = send_json(&emulator, "POST", &search_path, &token, &json!({ "fuzzy": { "name": "harbourside plumbing supply" } })).json();
    let hits = fuzzy["entities"].as_array().unwrap();
    assert_eq!(hits[0]["entity_id"], "S1");
    assert!(hits.iter().all(|h| h["entity_id"] != "S2"));
    let both = send_json(
        &emulator,
        "POST",
        &search_path,
        &token,
        &json!({ "exact": { "status": "inactive" }, "fuzzy": { "name": "Harbourside" } }),
    )
    .json();
    assert_eq!(both["entities"][0]["entity_id"], "S3");
    assert_eq!(send_json(&emulator, "POST", &search_path, &token, &json!({})).status, 400);
    assert_eq!(send_json(&emulator, "POST", &search_path, &token, &json!({ "exact": [1] })).status, 400);
}

#[test]
fn entity_other_company_forbidden() {
    let emulator = start();
    let token = token(&emulator);
    let reply = get(&emulator, "/storage/5f4e3d2c-1b0a-4987-8654-3210fedcba98/entity/supplier/S1", &token);
    assert_eq!(reply.status, 403);
}
