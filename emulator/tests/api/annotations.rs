use serde_json::{json, Value};
use sypht_emulator::{Emulator, EmulatorConfig};

use crate::common::*;

fn annotation_body(doc_id: &str) -> Value {
    json!({
        "origin": "external",
        "docId": doc_id,
        "fields": [
            { "id": "issuer.name", "type": "simple", "data": { "value": "Harbourside" } },
            { "id": "invoice.total", "type": "simple", "data": { "value": "$2,310.5" } },
            { "id": "invoice.dueDate", "type": "simple", "data": { "value": "13/06/2024" } },
        ],
    })
}

/// Collects every annotation by requesting pages until an empty one.
fn collect_pages(emulator: &Emulator, token: &str, query: &str) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    for offset in 0..100 {
        let reply = get(emulator, &format!("/app/annotations?offset={offset}{query}"), token);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.json()["annotations"].as_array().unwrap().clone();
        if page.is_empty() {
            return (all, offset + 1);
        }
        all.extend(page);
    }
    panic!("annotation paging does not end");
}

#[test]
fn upload_annotation_normalises_values() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let doc = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    let path = format!("/app/docs/{doc}/companyannotation/{company}/data");
    let reply = send_json(&emulator, "PUT", &path, &token, &annotation_body(&doc));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (annotations, _) = collect_pages(&emulator, &token, &format!("&docId={doc}"));
    assert_eq!(annotations.len(), 1);
    let fields = &annotations[0]["fields"];
    assert_eq!(fields[1]["data"]["value"], "2310.50");
    assert_eq!(fields[2]["data"]["value"], "2024-06-13");
    assert_eq!(annotations[0]["origin"], "external");
    // A second upload replaces the first.
    send_json(&emulator, "PUT", &path, &token, &annotation_body(&doc));
    assert_eq!(collect_pages(&emulator, &token, &format!("&docId={doc}")).0.len(), 1);
}

#[test]
fn upload_annotation_validation() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let doc = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    let path = format!("/app/docs/{doc}/companyannotation/{company}/data");
    let line_items = json!({ "origin": "external", "fields": [{ "id": "invoice.lineitems", "type": "lineitems", "data": { "value": "x" } }] });
    let cases = [
        (json!({ "fields": [] }), "origin"),
        (json!({ "origin": "model", "fields": [] }), "origin"),
        (json!({ "origin": "external", "fields": [] }), "fields"),
        (line_items, "only text fields"),
        (json!({ "origin": "external", "fields": [{ "id": "a", "type": "simple", "data": { "value": 5 } }] }), "data.value"),
        (json!({ "origin": "external", "fields": [{ "type": "simple", "data": { "value": "x" } }] }), "id"),
        (json!({ "origin": "external", "docId": "other", "fields": [{ "id": "a", "type": "simple", "data": { "value": "x" } }] }), "docId"),
    ];
    for (body, fragment) in cases {
        let reply = send_json(&emulator, "PUT", &path, &token, &body);
        assert_eq!(reply.status, 400, "{body}");
        let message = reply.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let unknown = format!("/app/docs/nope/companyannotation/{company}/data");
    assert_eq!(send_json(&emulator, "PUT", &unknown, &token, &annotation_body("nope")).status, 404);
    let other = format!("/app/docs/{doc}/companyannotation/5f4e3d2c-1b0a-4987-8654-3210fedcba98/data");
    assert_eq!(send_json(&emulator, "PUT", &other, &token, &annotation_body(&doc)).status, 403);
}

#[test]
fn annotation_listing_pages_and_filters() {
    let emulator = Emulator::start(EmulatorConfig { annotation_page_size: 2, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let mut docs = Vec::new();
    for i in 0..5u8 {
        let doc = upload(&emulator, &token, &png_bytes(i), r#"["invoices"]"#);
        let path = format!("/app/docs/{doc}/companyannotation/{company}/data");
        assert_eq!(send_json(&emulator, "PUT", &path, &token, &annotation_body(&doc)).status, 200);
        docs.push(doc);
    }
    let task = json!({ "docId": docs[0], "companyId": company, "specification": "review", "replication": 2, "priority": 5 });
    let reply = send_json(&emulator, "POST", "/app/tasks", &token, &task);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let task_id = reply.json()["id"].as_str().unwrap().to_string();

    let (all, requests) = collect_pages(&emulator, &token, "");
    assert_eq!(all.len(), 6);
    assert_eq!(requests, 4);
    let (by_task, _) = collect_pages(&emulator, &token, &format!("&taskId={task_id}"));
    assert_eq!(by_task.len(), 1);
    assert_eq!(by_task[0]["specification"], "review");
    assert!(by_task[0]["fields"].as_array().unwrap().iter().any(|f| f["id"] == "invoice.total"));
    let (by_spec, _) = collect_pages(&emulator, &token, "&specification=review&userId=emulator-reviewer");
    assert_eq!(by_spec.len(), 1);
    let (future, _) = collect_pages(&emulator, &token, "&fromDate=2999-01-01");
    assert!(future.is_empty());
    let (past, _) = collect_pages(&emulator, &token, "&fromDate=2000-01-01&toDate=2999-12-31");
    assert_eq!(past.len(), 6);
    assert_eq!(get(&emulator, "/app/annotations?fromDate=yesterday", &token).status, 400);
    assert_eq!(get(&emulator, "/app/annotations?offset=-1", &token).status, 400);
    let other = "/app/annotations?companyId=5f4e3d2c-1b0a-4987-8654-3210fedcba98";
    assert_eq!(get(&emulator, other, &token).status, 403);

    let search = |offset: u64| {
        send_json(&emulator, "POST", "/app/annotations/search", &token, &json!({ "docIds": [docs[0], docs[1]], "offset": offset }))
            .json()["annotations"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(search(0), 2);
    assert_eq!(search(1), 1);
    assert_eq!(search(2), 0);
    assert_eq!(send_json(&emulator, "POST", "/app/annotations/search", &token, &json!({ "offset": 0 })).status, 400);
}

#[test]
fn tasks_and_specifications_validation() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let doc = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    let spec = json!({ "name": "invoice-review", "fields": ["invoice.total"] });
    let reply = send_json(&emulator, "POST", "/app/specifications", &token, &spec);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["created"], true);
    assert_eq!(send_json(&emulator, "POST", "/app/specifications", &token, &spec).json()["created"], false);
    assert_eq!(send_json(&emulator, "POST", "/app/specifications", &token, &json!({ "fields": [] })).status, 400);

    let cases = [
        (json!({ "companyId": company, "specification": "s" }), 400),
        (json!({ "docId": doc, "specification": "s" }), 400),
        (json!({ "docId": doc, "companyId": company }), 400),
        (json!({ "docId": doc, "companyId": company, "specification": "s", "replication": 0 }), 400),
        (json!({ "docId": doc, "companyId": company, "specification": "s", "priority": "high" }), 400),
        (json!({ "docId": "nope", "companyId": company, "specification": "s" }), 404),
        (json!({ "docId": doc, "companyId": "5f4e3d2c-1b0a-4987-8654-3210fedcba98", "specification": "s" }), 403),
    ];
    for (body, status) in cases {
        assert_eq!(send_json(&emulator, "POST", "/app/tasks", &token, &body).status, status, "{body}");
    }
}
