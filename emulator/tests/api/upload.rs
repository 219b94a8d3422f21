use sypht_emulator::{Emulator, EmulatorConfig};

use crate::common::*;

fn upload_form(emulator: &Emulator, form: Form) -> Reply {
    let token = token(emulator);
    post_form(emulator, "/fileupload", &token, form)
}

fn assert_bad_request(reply: &Reply, fragment: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text());
    let message = reply.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains(fragment), "message {message:?} lacks {fragment:?}");
}

#[test]
fn upload_returns_received() {
    let emulator = start();
    let form = Form::new()
        .file("fileToUpload", "invoice.pdf", &make_pdf(&["Acme"], 1))
        .text("products", r#"["invoices:2"]"#)
        .text("tags", "batch-1")
        .text("tags", "review")
        .text("parentDocId", "6b1d3c2e-4f7a-4b8e-9c1d-2a3b4c5d6e7f");
    let reply = upload_form(&emulator, form);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert!(is_uuid_v4(body["fileId"].as_str().unwrap()), "{body}");
    assert_eq!(body["status"], "RECEIVED");
    let uploaded_at = body["uploadedAt"].as_str().unwrap();
    assert_eq!(uploaded_at.len(), 24, "{uploaded_at}");
    assert!(uploaded_at.ends_with('Z'), "{uploaded_at}");
    assert_eq!(&uploaded_at[10..11], "T", "{uploaded_at}");
    assert_eq!(&uploaded_at[19..20], ".", "{uploaded_at}");
    assert_eq!(emulator.stats().uploads, 1);
}

#[test]
fn upload_requires_file_part() {
    let emulator = start();
    let reply = upload_form(&emulator, Form::new().text("products", r#"["invoices"]"#));
    assert_bad_request(&reply, "fileToUpload");
    // A text part with the file's name does not count as the document.
    let form = Form::new().text("fileToUpload", "not a file").text("products", r#"["invoices"]"#);
    assert_bad_request(&upload_form(&emulator, form), "fileToUpload");
}

#[test]
fn upload_takes_first_file_part() {
    let emulator = start();
    let token = token(&emulator);
    let pdf = make_pdf(&["First"], 1);
    let form = Form::new()
        .text("fileToUpload", "text part is ignored")
        .file("fileToUpload", "a.pdf", &pdf)
        .file("fileToUpload", "b.png", &png_bytes(3))
        .text("products", r#"["invoices"]"#);
    let reply = post_form(&emulator, "/fileupload", &token, form);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let file_id = reply.json()["fileId"].as_str().unwrap().to_string();
    let results = get(&emulator, &format!("/result/final/{file_id}"), &token).json();
    assert_eq!(field(&results, "document.sizeBytes")["value"], pdf.len());
}

#[test]
fn upload_validates_products() {
    let emulator = start();
    let pdf = make_pdf(&[], 1);
    let cases = [
        (Form::new().file("fileToUpload", "a.pdf", &pdf), "products"),
        (Form::new().file("fileToUpload", "a.pdf", &pdf).text("products", "invoices"), "JSON array"),
        (Form::new().file("fileToUpload", "a.pdf", &pdf).text("products", r#"{"a":1}"#), "JSON array"),
        (Form::new().file("fileToUpload", "a.pdf", &pdf).text("products", r#"["invoices", 2]"#), "JSON array"),
        (Form::new().file("fileToUpload", "a.pdf", &pdf).text("products", "[]"), "products"),
        (Form::new().file("fileToUpload", "a.pdf", &pdf).text("fieldSets", r#"["sypht.incorrect"]"#), "sypht.incorrect"),
        (
            Form::new()
                .file("fileToUpload", "a.pdf", &pdf)
                .text("products", r#"["invoices"]"#)
                .text("workflowOptions", "[1]"),
            "workflowOptions",
        ),
    ];
    for (form, fragment) in cases {
        assert_bad_request(&upload_form(&emulator, form), fragment);
    }
}

#[test]
fn upload_accepts_selectors() {
    let emulator = start();
    let pdf = make_pdf(&[], 1);
    let forms = [
        Form::new().file("fileToUpload", "a.pdf", &pdf).text("fieldSets", r#"["sypht.invoice","sypht.bank"]"#),
        Form::new().file("fileToUpload", "a.pdf", &pdf).text("fieldSets", "[]").text("workflowId", "process"),
        Form::new()
            .file("fileToUpload", "a.pdf", &pdf)
            .text("products", r#"["bills:1"]"#)
            .text("workflowOptions", r#"{"prediction":{}}"#),
    ];
    for form in forms {
        let reply = upload_form(&emulator, form);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

#[test]
fn upload_sniffs_document_type() {
    let emulator = start();
    let reply = upload_form(
        &emulator,
        Form::new().file("fileToUpload", "a.pdf", b"hello, this is text").text("products", r#"["invoices"]"#),
    );
    assert_bad_request(&reply, "plain text");
    let reply = upload_form(&emulator, Form::new().file("fileToUpload", "a.pdf", b"").text("products", r#"["invoices"]"#));
    assert_bad_request(&reply, "empty");
    let samples: [&[u8]; 4] = [&[0xff, 0xd8, 0xff, 0xe0, 1, 2], b"II*\0\x08\0\0\0", b"MM\0*\0\0\0\x08", b"GIF89a\x01\0"];
    for sample in samples {
        let reply = upload_form(&emulator, Form::new().file("fileToUpload", "x", sample).text("products", r#"["invoices"]"#));
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

#[test]
fn upload_rejects_oversized_document() {
    let emulator = Emulator::start(EmulatorConfig { max_upload_bytes: 1000, ..Default::default() }).unwrap();
    let mut big = make_pdf(&[], 1);
    big.resize(1001, b' ');
    let reply = upload_form(&emulator, Form::new().file("fileToUpload", "a.pdf", &big).text("products", r#"["invoices"]"#));
    assert_bad_request(&reply, "1000 bytes");
    assert_eq!(reply.json()["error"], "file_too_large");
    big.truncate(1000);
    let reply = upload_form(&emulator, Form::new().file("fileToUpload", "a.pdf", &big).text("products", r#"["invoices"]"#));
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn upload_rejects_oversized_content_length_early() {
    let emulator = Emulator::start(EmulatorConfig { max_upload_bytes: 1000, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let mut connection = Connection::open(emulator.local_addr());
    let auth = format!("Bearer {token}");
    let form = Form::new();
    connection.send_raw_head(
        "POST",
        "/fileupload",
        &[("Authorization", &auth), ("Content-Type", &form.content_type())],
        Some(50 * 1024 * 1024),
    );
    // The server responds without waiting for the announced 50 MiB.
    let reply = connection.read_reply();
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "file_too_large");
}

#[test]
fn upload_requires_multipart() {
    let emulator = start();
    let token = token(&emulator);
    let auth = format!("Bearer {token}");
    let reply = request(
        emulator.local_addr(),
        "POST",
        "/fileupload",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        b"{}",
    );
    assert_bad_request(&reply, "multipart/form-data");
}

#[test]
fn upload_rejects_truncated_multipart() {
    let emulator = start();
    let token = token(&emulator);
    let auth = format!("Bearer {token}");
    let (content_type, mut body) = Form::new().file("fileToUpload", "a.pdf", &make_pdf(&[], 1)).finish();
    body.truncate(body.len() - 10);
    let reply = request(
        emulator.local_addr(),
        "POST",
        "/fileupload",
        &[("Authorization", &auth), ("Content-Type", &content_type)],
        &body,
    );
    assert_bad_request(&reply, "closing boundary");
}

#[test]
fn upload_chunked_body() {
    let emulator = start();
    let token = token(&emulator);
    let auth = format!("Bearer {token}");
    let pdf = make_pdf(&["Chunky Supplies"], 2);
    let (content_type, body) = Form::new().file("fileToUpload", "a.pdf", &pdf).text("products", r#"["invoices"]"#).finish();
    let mut connection = Connection::open(emulator.local_addr());
    connection.send_raw_head(
        "POST",
        "/fileupload",
        &[("Authorization", &auth), ("Content-Type", &content_type), ("Transfer-Encoding", "chunked")],
        None,
    );
    for piece in body.chunks(37) {
        connection.write(format!("{:x};ext=1\r\n", piece.len()).as_bytes());
        connection.write(piece);
        connection.write(b"\r\n");
    }
    connection.write(b"0\r\nX-Trailer: yes\r\n\r\n");
    let reply = connection.read_reply();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let file_id = reply.json()["fileId"].as_str().unwrap().to_string();
    // The connection stays usable after a chunked request.
    let auth_headers = [("Authorization", auth.as_str())];
    let results = connection.send("GET", &format!("/result/final/{file_id}"), &auth_headers, b"").json();
    assert_eq!(field(&results, "document.sizeBytes")["value"], pdf.len());
    assert_eq!(field(&results, "issuer.name")["value"], "Chunky Supplies");
}

#[test]
fn upload_large_document_spools_to_disk() {
    let emulator = Emulator::start(EmulatorConfig { max_upload_bytes: 64 * 1024 * 1024, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let mut pdf = make_pdf(&["Big Co"], 1);
    pdf.extend(std::iter::repeat_n(b'x', 40 * 1024 * 1024));
    let file_id = upload(&emulator, &token, &pdf, r#"["invoices"]"#);
    let results = get(&emulator, &format!("/result/final/{file_id}"), &token).json();
    assert_eq!(field(&results, "document.sizeBytes")["value"], pdf.len());
    let expected = {
        use sha2::Digest;
        sha2::Sha256::digest(&pdf).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert_eq!(field(&results, "document.sha256")["value"], expected.as_str());
}

/// Reads the peak resident set size of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Streams a 1 GiB document, so it takes minutes in a debug build; run it
/// with `cargo test -p sypht-emulator --release -- --ignored`.
#[test]
#[ignore]
fn upload_one_gibibyte_streams_to_disk() {
    const SIZE: u64 = 1024 * 1024 * 1024;
    let emulator = Emulator::start(EmulatorConfig { max_upload_bytes: 2 * SIZE, ..Default::default() }).unwrap();
    let token = token(&emulator);
    let auth = format!("Bearer {token}");
    let form = Form::new();
    let boundary_type = form.content_type();
    let boundary = boundary_type.split("boundary=").nth(1).unwrap().to_string();
    let prefix = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"products\"\r\n\r\n[\"invoices\"]\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"fileToUpload\"; filename=\"big.pdf\"\r\n\r\n%PDF-1.4\n"
    );
    let suffix = format!("\r\n--{boundary}--\r\n");
    let filler = SIZE - "%PDF-1.4\n".len() as u64;
    let length = prefix.len() as u64 + filler + suffix.len() as u64;
    let rss_before = peak_rss_kib();
    let mut connection = Connection::open(emulator.local_addr());
    connection.send_raw_head(
        "POST",
        "/fileupload",
        &[("Authorization", &auth), ("Content-Type", &boundary_type)],
        Some(length as usize),
    );
    connection.write(prefix.as_bytes());
    let block = vec![b'%'; 1024 * 1024];
    let mut left = filler;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        connection.write(&block[..n]);
        left -= n as u64;
    }
    connection.write(suffix.as_bytes());
    let reply = connection.read_reply();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let file_id = reply.json()["fileId"].as_str().unwrap().to_string();
    let results = get(&emulator, &format!("/result/final/{file_id}"), &token).json();
    assert_eq!(field(&results, "document.sizeBytes")["value"], SIZE);
    let growth_mib = (peak_rss_kib() - rss_before) / 1024;
    assert!(growth_mib < 256, "peak memory grew by {growth_mib} MiB during a 1 GiB upload");
}
