use serde_json::json;

use crate::common::*;

#[test]
fn page_image_png_per_page() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &make_pdf(&[], 2), r#"["invoices"]"#);
    let page1 = get(&emulator, &format!("/result/image/{file_id}?page=1"), &token);
    assert_eq!(page1.status, 200);
    assert_eq!(page1.header("Content-Type"), Some("image/png"));
    assert!(page1.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let again = get(&emulator, &format!("/result/image/{file_id}?page=1"), &token);
    assert_eq!(page1.body, again.body);
    let page2 = get(&emulator, &format!("/result/image/{file_id}?page=2"), &token);
    assert_eq!(page2.status, 200);
    assert_ne!(page1.body, page2.body);
    for page in ["0", "3"] {
        let reply = get(&emulator, &format!("/result/image/{file_id}?page={page}"), &token);
        assert_eq!(reply.status, 404, "page {page}");
        assert!(reply.json()["message"].is_string());
    }
    assert_eq!(get(&emulator, &format!("/result/image/{file_id}?page=undefined"), &token).status, 400);
    assert_eq!(get(&emulator, "/result/image/unknown?page=1", &token).status, 404);
}

#[test]
fn page_image_decodes_as_png() {
    // Check the chunk layout and CRCs by walking the file.
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &png_bytes(3), r#"["invoices"]"#);
    let png = get(&emulator, &format!("/result/image/{file_id}"), &token).body;
    let mut at = 8;
    let mut kinds = Vec::new();
    while at < png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = String::from_utf8(png[at + 4..at + 8].to_vec()).unwrap();
        let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(crc, crc32_reference(&png[at + 4..at + 8 + len]), "{kind} CRC");
        kinds.push(kind);
        at += 12 + len;
    }
    assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
}

/// Bitwise CRC-32, independent of the emulator's table version.
fn crc32_reference(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn doc_metadata_and_download() {
    let emulator = start();
    let token = token(&emulator);
    let pdf = make_pdf(&["Meta"], 2);
    let form = Form::new()
        .file("fileToUpload", "inv 1.pdf", &pdf)
        .text("products", r#"["invoices"]"#)
        .text("tags", "a")
        .text("tags", "b");
    let file_id = post_form(&emulator, "/fileupload", &token, form).json()["fileId"].as_str().unwrap().to_string();
    let meta = get(&emulator, &format!("/app/docs/{file_id}"), &token).json();
    assert_eq!(meta["fileId"], file_id.as_str());
    assert_eq!(meta["fileName"], "inv 1.pdf");
    assert_eq!(meta["sizeBytes"], pdf.len());
    assert_eq!(meta["mimeType"], "application/pdf");
    assert_eq!(meta["pageCount"], 2);
    assert_eq!(meta["tags"], json!(["a", "b"]));
    assert_eq!(meta["sha256"].as_str().unwrap().len(), 64);
    assert!(meta["uploadedAt"].is_string());
    let download = get(&emulator, &format!("/app/docs/{file_id}/download"), &token);
    assert_eq!(download.status, 200);
    assert_eq!(download.header("Content-Type"), Some("application/pdf"));
    assert_eq!(download.body, pdf);
    assert_eq!(get(&emulator, "/app/docs/nope/download", &token).status, 404);
    assert_eq!(get(&emulator, "/app/docs/nope", &token).status, 404);
}

#[test]
fn download_large_spooled_file() {
    let emulator = sypht_emulator::Emulator::start(sypht_emulator::EmulatorConfig {
        max_upload_bytes: 32 * 1024 * 1024,
        ..Default::default()
    })
    .unwrap();
    let token = token(&emulator);
    let mut png = png_bytes(1);
    png.extend((0..9 * 1024 * 1024u32).map(|i| (i % 251) as u8));
    let file_id = upload(&emulator, &token, &png, r#"["invoices"]"#);
    let download = get(&emulator, &format!("/app/docs/{file_id}/download"), &token);
    assert_eq!(download.header("Content-Type"), Some("image/png"));
    assert_eq!(download.body.len(), png.len());
    assert!(download.body == png, "downloaded bytes differ");
}

#[test]
fn company_lookup_by_client_id() {
    let emulator = start();
    let token = token(&emulator);
    let reply = get(&emulator, "/app/company/byclientid/emulator-client-id", &token);
    assert_eq!(reply.status, 200);
    let id = reply.json()["id"].as_str().unwrap().to_string();
    assert!(is_uuid_v4(&id));
    assert!(reply.json()["name"].is_string());
    // The id is stable across instances.
    let other = start();
    assert_eq!(company_id(&other, &crate::common::token(&other)), id);
    assert_eq!(get(&emulator, "/app/company/byclientid/emulator-legacy-id", &token).status, 403);
    assert_eq!(get(&emulator, "/app/company/byclientid/somebody-else", &token).status, 404);
}
