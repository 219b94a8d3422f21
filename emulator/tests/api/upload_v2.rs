use base64::Engine;
use serde_json::json;
use sypht_emulator::{Emulator, EmulatorConfig};

use crate::common::*;

#[test]
fn v2_multipart_upload_waits_for_job() {
    let emulator = start();
    let token = token(&emulator);
    let form = Form::new().file("file", "scan.png", &png_bytes(4)).text("splitState", "created_by_split");
    let reply = post_form(&emulator, "/fileupload/v2/multipart", &token, form);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["id"], body["fileId"]);
    assert!(is_uuid_v4(body["fileId"].as_str().unwrap()));
    assert_eq!(body["status"], "RECEIVED");
    assert!(body["uploadedAt"].is_string());
    let file_id = body["fileId"].as_str().unwrap();
    let results = get(&emulator, &format!("/result/final/{file_id}"), &token).json();
    assert_eq!(results["status"], "RECEIVED");
    assert!(results.get("results").is_none());
}

#[test]
fn v2_multipart_requires_file_part() {
    let emulator = start();
    let token = token(&emulator);
    let form = Form::new().file("fileToUpload", "scan.png", &png_bytes(4));
    let reply = post_form(&emulator, "/fileupload/v2/multipart", &token, form);
    assert_eq!(reply.status, 400);
    assert!(reply.json()["message"].as_str().unwrap().contains("\"file\""));
}

#[test]
fn json_upload_round_trip() {
    let emulator = start();
    let token = token(&emulator);
    let pdf = make_pdf(&["Json Supplies", "Total: 12.5"], 2);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let body = json!({
        "fileToUpload": encoded,
        "fileName": "inv.pdf",
        "products": ["invoices"],
        "tags": ["json"],
    });
    let reply = send_json(&emulator, "POST", "/fileupload/json", &token, &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let file_id = reply.json()["fileId"].as_str().unwrap().to_string();
    let results = get(&emulator, &format!("/result/final/{file_id}"), &token).json();
    assert_eq!(field(&results, "issuer.name")["value"], "Json Supplies");
    assert_eq!(field(&results, "invoice.total")["value"], "12.50");
    assert_eq!(field(&results, "document.pageCount")["value"], 2);
    let meta = get(&emulator, &format!("/app/docs/{file_id}"), &token).json();
    assert_eq!(meta["fileName"], "inv.pdf");
    assert_eq!(meta["tags"], json!(["json"]));
}

#[test]
fn json_upload_validation() {
    let emulator = start();
    let token = token(&emulator);
    let pdf = base64::engine::general_purpose::STANDARD.encode(make_pdf(&[], 1));
    let cases = [
        (json!({ "products": ["invoices"] }), "fileToUpload"),
        (json!({ "fileToUpload": "***", "products": ["invoices"] }), "base64"),
        (json!({ "fileToUpload": pdf }), "products"),
        (json!({ "fileToUpload": pdf, "products": "invoices" }), "JSON array"),
        (json!({ "fileToUpload": pdf, "products": ["nope"] }), "\"nope\""),
        (json!({ "fileToUpload": pdf, "fieldSets": ["sypht.invoice"], "workflowOptions": 3 }), "workflowOptions"),
        (json!(["not", "an", "object"]), "JSON object"),
    ];
    for (body, fragment) in cases {
        let reply = send_json(&emulator, "POST", "/fileupload/json", &token, &body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
        let message = reply.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains(fragment), "{body}: {message}");
    }
}

#[test]
fn json_upload_size_limit() {
    let emulator = Emulator::start(EmulatorConfig { max_upload_bytes: 100, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let mut pdf = make_pdf(&[], 1);
    pdf.resize(101.max(pdf.len()), b' ');
    let body = json!({ "fileToUpload": base64::engine::general_purpose::STANDARD.encode(&pdf), "products": ["invoices"] });
    let reply = send_json(&emulator, "POST", "/fileupload/json", &token, &body);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "file_too_large");
}
