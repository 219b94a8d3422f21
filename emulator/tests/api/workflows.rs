use serde_json::{json, Value};
use sypht_emulator::{Emulator, EmulatorConfig};

use crate::common::*;

fn upload_v2(emulator: &Emulator, token: &str, bytes: &[u8]) -> String {
    let reply = post_form(emulator, "/fileupload/v2/multipart", token, Form::new().file("file", "doc.pdf", bytes));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["fileId"].as_str().unwrap().to_string()
}

fn results(emulator: &Emulator, token: &str, file_id: &str) -> Value {
    get(emulator, &format!("/result/final/{file_id}"), token).json()
}

#[test]
fn extract_job_produces_results() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload_v2(&emulator, &token, &make_pdf(&["Extract Co"], 1));
    let body = json!({ "inputs": { "file_id": file_id, "product_ids": ["invoices:2"] }, "step_id": null });
    let reply = send_json(&emulator, "POST", "/workflows/sypht.extract/jobs", &token, &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let envelope = reply.json();
    let job = &envelope["job"];
    assert!(is_uuid_v4(job["id"].as_str().unwrap()));
    assert_eq!(job["workflow_id"], "sypht.extract");
    assert_eq!(job["status"], "new");
    assert_eq!(job["file_id"], file_id.as_str());
    assert_eq!(job["inputs"]["product_ids"], json!(["invoices:2"]));
    assert_eq!(job["company_id"], company_id(&emulator, &token).as_str());
    assert_eq!(job["settings"], json!({}));
    assert!(job["usage"].is_null());
    assert_eq!(job["version"], 3);
    assert!(envelope["message_id"].is_string());
    let created = job["created"].as_str().unwrap();
    assert_eq!(created.len(), 26, "{created}");
    let final_results = results(&emulator, &token, &file_id);
    assert_eq!(final_results["status"], "FINALISED");
    assert_eq!(field(&final_results, "issuer.name")["value"], "Extract Co");
}

#[test]
fn extract_job_honours_pending_polls() {
    let emulator = Emulator::start(EmulatorConfig { pending_polls: 1, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let file_id = upload_v2(&emulator, &token, &png_bytes(8));
    let body = json!({ "inputs": { "file_id": file_id, "product_ids": ["bank"] } });
    assert_eq!(send_json(&emulator, "POST", "/workflows/sypht.extract/jobs", &token, &body).status, 200);
    assert_eq!(results(&emulator, &token, &file_id)["status"], "IN PROGRESS");
    assert_eq!(results(&emulator, &token, &file_id)["status"], "FINALISED");
}

#[test]
fn job_validation_errors() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload_v2(&emulator, &token, &png_bytes(8));
    let cases = [
        ("sypht.extract", json!({}), 400, "inputs"),
        ("sypht.extract", json!({ "inputs": [] }), 400, "inputs"),
        ("sypht.extract", json!({ "inputs": { "product_ids": ["invoices"] } }), 400, "file_id"),
        ("sypht.extract", json!({ "inputs": { "file_id": file_id } }), 400, "product_ids"),
        ("sypht.extract", json!({ "inputs": { "file_id": file_id, "product_ids": [] } }), 400, "product_ids"),
        ("sypht.extract", json!({ "inputs": { "file_id": file_id, "product_ids": ["zzz"] } }), 400, "\"zzz\""),
        ("sypht.extract", json!({ "inputs": { "file_id": file_id, "product_ids": ["bank"] }, "step_id": 5 }), 400, "step_id"),
        ("sypht.split", json!({ "inputs": {} }), 400, "file_id"),
        ("sypht.split", json!({ "inputs": { "file_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" } }), 404, "not found"),
        ("no.such.workflow", json!({ "inputs": { "file_id": file_id } }), 404, "workflow"),
    ];
    for (workflow, body, status, fragment) in cases {
        let reply = send_json(&emulator, "POST", &format!("/workflows/{workflow}/jobs"), &token, &body);
        assert_eq!(reply.status, status, "{workflow} {body}: {}", reply.text());
        let message = reply.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains(fragment), "{workflow} {body}: {message}");
    }
    let auth = format!("Bearer {token}");
    let reply = request(emulator.local_addr(), "POST", "/workflows/sypht.extract/jobs", &[("Authorization", &auth)], b"{oops");
    assert_eq!(reply.status, 400);
}

#[test]
fn split_job_creates_children() {
    let emulator = start();
    let token = token(&emulator);
    let parent = upload_v2(&emulator, &token, &make_pdf(&["Split Co"], 3));
    let body = json!({ "inputs": { "file_id": parent } });
    assert_eq!(send_json(&emulator, "POST", "/workflows/sypht.split/jobs", &token, &body).status, 200);
    let parent_results = results(&emulator, &token, &parent);
    assert_eq!(parent_results["status"], "FINALISED");
    let children = field(&parent_results, "components.children")["value"].as_array().unwrap().clone();
    assert_eq!(children.len(), 3);
    for child in &children {
        let child_id = child["file_id"].as_str().unwrap();
        assert!(is_uuid_v4(child_id));
        let child_results = results(&emulator, &token, child_id);
        assert_eq!(child_results["status"], "FINALISED");
        assert!(child_results["results"]["fields"].as_array().unwrap().len() > 3);
        let meta = get(&emulator, &format!("/app/docs/{child_id}"), &token).json();
        assert_eq!(meta["parentDocId"], parent.as_str());
    }
    // Children can then go through extraction themselves.
    let child_id = children[0]["file_id"].as_str().unwrap();
    let body = json!({ "inputs": { "file_id": child_id, "product_ids": ["invoices"] } });
    assert_eq!(send_json(&emulator, "POST", "/workflows/sypht.extract/jobs", &token, &body).status, 200);
    field(&results(&emulator, &token, child_id), "invoice.total");
}

#[test]
fn v1_split_workflow_at_upload() {
    let emulator = start();
    let token = token(&emulator);
    let options = r#"{"prediction":{"childWorkflow":"prediction","childWorkflowOptions":{"prediction":{"fieldSets":["sypht.bank"]}}}}"#;
    let form = Form::new()
        .file("fileToUpload", "a.pdf", &make_pdf(&[], 2))
        .text("fieldSets", "[]")
        .text("workflowId", "split")
        .text("workflowOptions", options);
    let reply = post_form(&emulator, "/fileupload", &token, form);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let parent = reply.json()["fileId"].as_str().unwrap().to_string();
    let parent_results = results(&emulator, &token, &parent);
    let children = field(&parent_results, "components.children")["value"].as_array().unwrap().clone();
    assert_eq!(children.len(), 2);
    let child = results(&emulator, &token, children[0]["file_id"].as_str().unwrap());
    field(&child, "bank.bsb");
}

#[test]
fn invoke_returns_output() {
    let emulator = Emulator::start(EmulatorConfig { pending_polls: 3, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let file_id = upload_v2(&emulator, &token, &png_bytes(8));
    let body = json!({ "inputs": { "file_id": file_id, "product_ids": ["bank"] }, "step_id": "extract" });
    let reply = send_json(&emulator, "POST", "/workflows/sypht.extract/invoke", &token, &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply_body = reply.json();
    assert_eq!(reply_body["job"]["step_id"], "extract");
    let names: Vec<&str> = reply_body["output"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"bank.bsb"), "{names:?}");
    // A synchronous run leaves nothing pending.
    assert_eq!(results(&emulator, &token, &file_id)["status"], "FINALISED");
}

#[test]
fn validation_rules_and_data() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let rules_path = format!("/workflows/{company}/rules/supplier-rules");
    assert_eq!(get(&emulator, &rules_path, &token).status, 404);
    let rules = json!({ "rules": [{ "field": "invoice.total", "min": 0 }] });
    let reply = send_json(&emulator, "PUT", &rules_path, &token, &json!({ "data": rules, "schema": true }));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let stored = get(&emulator, &rules_path, &token).json();
    assert_eq!(stored["data"], rules);
    assert_eq!(stored["schema"], true);
    let reply = send_json(&emulator, "PUT", &rules_path, &token, &json!({ "data": "text", "schema": true }));
    assert_eq!(reply.status, 400);
    assert_eq!(send_json(&emulator, "PUT", &rules_path, &token, &json!({ "schema": true })).status, 400);
    let auth = format!("Bearer {token}");
    let delete = request(emulator.local_addr(), "DELETE", &rules_path, &[("Authorization", &auth)], b"");
    assert_eq!(delete.status, 200);
    assert_eq!(get(&emulator, &rules_path, &token).status, 404);

    let data_path = format!("/workflows/{company}/data/last%20run");
    assert_eq!(get(&emulator, &data_path, &token).status, 404);
    assert_eq!(send_json(&emulator, "PUT", &data_path, &token, &json!({ "data": [1, 2] })).status, 200);
    let stored = get(&emulator, &data_path, &token).json();
    assert_eq!(stored["data"], json!([1, 2]));
    assert_eq!(stored["key"], "last run");

    let other = "/workflows/5f4e3d2c-1b0a-4987-8654-3210fedcba98/data/x";
    assert_eq!(get(&emulator, other, &token).status, 403);
}
