use serde_json::{json, Value};
use sypht_emulator::Emulator;

use crate::common::*;

fn delete(emulator: &Emulator, path: &str, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    request(emulator.local_addr(), "DELETE", path, &[("Authorization", &auth)], b"")
}

fn file_tags(emulator: &Emulator, company: &str, token: &str, file_id: &str) -> Value {
    get(emulator, &format!("/app/company/{company}/documents/{file_id}/tags"), token).json()["tags"].clone()
}

#[test]
fn tag_lifecycle() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let base = format!("/app/company/{company}/tags");
    let reply = send_json(&emulator, "POST", &base, &token, &json!({ "name": "to review", "description": null }));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["name"], "to review");
    assert_eq!(send_json(&emulator, "POST", &base, &token, &json!({ "name": "to review" })).status, 409);
    assert_eq!(send_json(&emulator, "POST", &base, &token, &json!({ "description": "x" })).status, 400);
    assert_eq!(send_json(&emulator, "POST", &base, &token, &json!({ "name": 5 })).status, 400);
    let tag = get(&emulator, &format!("{base}/to%20review"), &token);
    assert_eq!(tag.status, 200);
    assert!(tag.json()["description"].is_null());
    assert_eq!(delete(&emulator, &format!("{base}/to%20review"), &token).status, 200);
    assert_eq!(get(&emulator, &format!("{base}/to%20review"), &token).status, 404);
    assert_eq!(delete(&emulator, &format!("{base}/to%20review"), &token).status, 404);
}

#[test]
fn tag_documents_views_agree() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let a = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    let b = upload(&emulator, &token, &png_bytes(2), r#"["invoices"]"#);
    let c = upload(&emulator, &token, &png_bytes(3), r#"["invoices"]"#);
    let docs_path = format!("/app/company/{company}/tags/batch%2F7/documents");

    let reply = send_json(&emulator, "PUT", &docs_path, &token, &json!({ "docs": [a, b] }));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["docs"], json!([a, b]));
    assert_eq!(file_tags(&emulator, &company, &token, &a), json!(["batch/7"]));

    let reply = send_json(&emulator, "PATCH", &docs_path, &token, &json!({ "docs": [c] }));
    assert_eq!(reply.json()["docs"], json!([a, b, c]));

    let reply = send_json(&emulator, "PUT", &docs_path, &token, &json!({ "docs": [c] }));
    assert_eq!(reply.json()["docs"], json!([c]));
    assert_eq!(file_tags(&emulator, &company, &token, &a), json!([]));

    assert_eq!(delete(&emulator, &format!("{docs_path}/{c}"), &token).status, 200);
    assert_eq!(get(&emulator, &docs_path, &token).json()["docs"], json!([]));
    assert_eq!(delete(&emulator, &format!("{docs_path}/{c}"), &token).status, 404);

    let missing = send_json(&emulator, "PATCH", &docs_path, &token, &json!({ "docs": ["nope"] }));
    assert_eq!(missing.status, 404);
    assert_eq!(send_json(&emulator, "PUT", &docs_path, &token, &json!({ "docs": "a" })).status, 400);
}

#[test]
fn document_tags_replace_and_add() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let form = Form::new().file("fileToUpload", "a.png", &png_bytes(1)).text("products", r#"["invoices"]"#).text("tags", "upload");
    let file_id = post_form(&emulator, "/fileupload", &token, form).json()["fileId"].as_str().unwrap().to_string();
    assert_eq!(file_tags(&emulator, &company, &token, &file_id), json!(["upload"]));
    let path = format!("/app/company/{company}/documents/{file_id}/tags");
    let reply = send_json(&emulator, "PATCH", &path, &token, &json!({ "tags": ["café", "upload"] }));
    assert_eq!(reply.json()["tags"], json!(["upload", "café"]));
    let reply = send_json(&emulator, "PUT", &path, &token, &json!({ "tags": ["only"] }));
    assert_eq!(reply.json()["tags"], json!(["only"]));
    // Tags named on a file exist as tags and list the file.
    let listed = get(&emulator, &format!("/app/company/{company}/tags/caf%C3%A9/documents"), &token).json();
    assert_eq!(listed["docs"], json!([]));
    let listed = get(&emulator, &format!("/app/company/{company}/tags/only/documents"), &token).json();
    assert_eq!(listed["docs"], json!([file_id]));
    assert_eq!(send_json(&emulator, "PUT", &path, &token, &json!({ "tags": [""] })).status, 400);
    assert_eq!(send_json(&emulator, "PUT", &path, &token, &json!({})).status, 400);
}

#[test]
fn deleting_tag_clears_files() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let file_id = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    let path = format!("/app/company/{company}/documents/{file_id}/tags");
    send_json(&emulator, "PUT", &path, &token, &json!({ "tags": ["x", "y"] }));
    assert_eq!(delete(&emulator, &format!("/app/company/{company}/tags/x"), &token).status, 200);
    assert_eq!(file_tags(&emulator, &company, &token, &file_id), json!(["y"]));
}

#[test]
fn task_tags_batch() {
    let emulator = start();
    let token = token(&emulator);
    let company = company_id(&emulator, &token);
    let file_id = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    let task = json!({ "docId": file_id, "companyId": company, "specification": "invoice-review", "replication": 1 });
    let task_id = send_json(&emulator, "POST", "/app/tasks", &token, &task).json()["id"].as_str().unwrap().to_string();
    let batch = format!("/app/company/{company}/tasks/tags/batch");
    let reply = send_json(&emulator, "POST", &batch, &token, &json!({ "taskIds": [task_id], "add": ["p1", "p2"] }));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = send_json(&emulator, "POST", &batch, &token, &json!({ "taskIds": [task_id], "remove": ["p1"] }));
    assert_eq!(reply.status, 200);
    let tags = get(&emulator, &format!("/app/company/{company}/tasks/{task_id}/tags"), &token).json();
    assert_eq!(tags["tags"], json!(["p2"]));
    let unknown = send_json(&emulator, "POST", &batch, &token, &json!({ "taskIds": ["nope"], "add": ["p"] }));
    assert_eq!(unknown.status, 404);
    assert_eq!(send_json(&emulator, "POST", &batch, &token, &json!({ "add": ["p"] })).status, 400);
    assert_eq!(send_json(&emulator, "POST", &batch, &token, &json!({ "taskIds": [task_id] })).status, 400);
    assert_eq!(get(&emulator, &format!("/app/company/{company}/tasks/nope/tags"), &token).status, 404);
}

#[test]
fn tags_reject_other_company() {
    let emulator = start();
    let token = token(&emulator);
    let other = "5f4e3d2c-1b0a-4987-8654-3210fedcba98";
    let paths = [
        ("GET", format!("/app/company/{other}/tags/x")),
        ("POST", format!("/app/company/{other}/tags")),
        ("GET", format!("/app/company/{other}/tags/x/documents")),
        ("GET", format!("/app/company/{other}/documents/abc/tags")),
        ("POST", format!("/app/company/{other}/tasks/tags/batch")),
        ("GET", format!("/app/company/{other}/tasks/t/tags")),
    ];
    for (method, path) in paths {
        let reply = send_json(&emulator, method, &path, &token, &json!({ "name": "x" }));
        assert_eq!(reply.status, 403, "{method} {path}");
    }
}
