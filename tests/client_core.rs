//! The Rust client against the in-process emulator over loopback: both
//! auth flows, token reuse and refresh, uploads, results, error paths.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use sypht::{AuthFlow, Client, ErrorKind, ResultsOptions, UploadOptions};

fn invoices() -> UploadOptions {
    UploadOptions::products(["invoices"])
}

#[test]
fn current_flow_uploads_and_reads_fields() {
    let emu = emulator();
    let client = client(&emu);
    let pdf = make_pdf(3, "Harbour Supplies");
    let file_id = client.upload_bytes(&pdf, "three-pages.pdf", &invoices()).unwrap();
    assert_eq!(file_id.len(), 36, "fileId {file_id:?} is not a UUID");

    let fields = client.get_results(&file_id).unwrap();
    assert_eq!(fields["document.sizeBytes"], Value::from(pdf.len() as u64));
    assert_eq!(fields["document.sha256"], Value::from(sha256_hex(&pdf)));
    assert_eq!(fields["document.pageCount"], Value::from(3));
    assert!(fields.contains_key("invoice.total"), "{fields:?}");
}

#[test]
fn legacy_flow_authenticates() {
    let emu = emulator();
    let client = Client::builder()
        .credentials(LEGACY_ID, LEGACY_SECRET)
        .api_base(emu.base_url())
        .auth_endpoint(emu.legacy_auth_url())
        .ignore_env(true)
        .build()
        .unwrap();
    let file_id = client.upload_bytes(&make_pdf(1, "legacy"), "l.pdf", &invoices()).unwrap();
    assert!(client.get_results(&file_id).unwrap().contains_key("document.sha256"));
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn current_credentials_fail_on_legacy_endpoint() {
    let emu = emulator();
    let client = builder(&emu).auth_endpoint(emu.legacy_auth_url()).build().unwrap();
    let err = client.authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.http_status(), Some(401));
    assert!(!err.to_string().contains(CLIENT_SECRET), "{err}");
}

#[test]
fn explicit_flow_overrides_url() {
    let emu = emulator();
    // The legacy endpoint's URL contains /oauth/, yet forcing the current
    // flow sends Basic credentials there, which the legacy endpoint rejects.
    let client = Client::builder()
        .credentials(LEGACY_ID, LEGACY_SECRET)
        .api_base(emu.base_url())
        .auth_endpoint(emu.legacy_auth_url())
        .auth_flow(AuthFlow::Current)
        .ignore_env(true)
        .build()
        .unwrap();
    assert_eq!(client.authenticate().unwrap_err().kind(), ErrorKind::Auth);
}

#[test]
fn token_is_reused_across_calls() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "reuse"), "r.pdf", &invoices()).unwrap();
    for _ in 0..5 {
        client.fetch_results(&file_id, &ResultsOptions::default()).unwrap();
    }
    let stats = emu.stats();
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.tokens_issued, 1);
}

#[test]
fn refresh_across_expiry_is_single_flight() {
    let lifetime = Duration::from_secs(2);
    let emu = emulator_with(|c| c.token_lifetime = lifetime);
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "threads"), "t.pdf", &invoices()).unwrap();
    let run_for = Duration::from_millis(4500);
    let start = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let file_id = file_id.clone();
            std::thread::spawn(move || {
                let mut calls = 0;
                while start.elapsed() < run_for {
                    let r = client.fetch_results(&file_id, &ResultsOptions::default()).unwrap();
                    assert!(r.is_finalised());
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    let calls: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let elapsed = start.elapsed();
    let stats = emu.stats();
    // Tokens are reused for 90% of their lifetime (1.8 s), so the run needs
    // one token at start plus one per 1.8 s window, and never more.
    let windows = (elapsed.as_secs_f64() / 1.8).ceil() as u64 + 1;
    assert!(calls > 50, "only {calls} calls");
    assert!(stats.tokens_issued >= 3, "expected refreshes, got {}", stats.tokens_issued);
    assert!(stats.tokens_issued <= windows, "{} tokens for {windows} windows", stats.tokens_issued);
    assert_eq!(stats.token_requests, stats.tokens_issued, "a token request was wasted");
}

#[test]
fn revoked_token_is_refreshed_once() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "revoke"), "v.pdf", &invoices()).unwrap();
    emu.revoke_tokens();
    assert!(client.get_results(&file_id).is_ok());
    assert_eq!(emu.stats().tokens_issued, 2);
}

#[test]
fn upload_from_path_streams_file() {
    let emu = emulator();
    let client = client(&emu);
    let dir = tempdir();
    let path = dir.join("invoice 2024 #7.pdf");
    let pdf = make_pdf(2, "from disk");
    std::fs::write(&path, &pdf).unwrap();
    let file_id = client.upload_file(&path, &invoices()).unwrap();
    let fields = client.get_results(&file_id).unwrap();
    assert_eq!(fields["document.sha256"], Value::from(sha256_hex(&pdf)));
    assert_eq!(fields["document.pageCount"], Value::from(2));
}

#[test]
fn upload_reports_progress() {
    let emu = emulator();
    let client = client(&emu);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let mut options = invoices();
    options.progress = Some(Arc::new(move |sent, total| sink.lock().unwrap().push((sent, total))));
    let pdf = make_pdf(1, &"x".repeat(200_000));
    client.upload_bytes(&pdf, "big.pdf", &options).unwrap();
    let seen = seen.lock().unwrap();
    let (last_sent, total) = *seen.last().expect("progress was reported");
    assert_eq!(last_sent, total);
    assert!(total > pdf.len() as u64);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "progress must increase");
}

#[test]
fn verbose_results_have_field_objects() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "verbose"), "v.pdf", &invoices()).unwrap();
    let results = client.get_results_verbose(&file_id).unwrap();
    let fields = results["fields"].as_array().expect("a fields array");
    let total = fields.iter().find(|f| f["name"] == "invoice.total").expect("invoice.total");
    assert!(total["confidence"].is_number(), "{total}");
    assert!(results["timestamp"].is_string(), "{results}");
}

#[test]
fn pending_results_are_waited_for() {
    let emu = emulator_with(|c| c.pending_polls = 2);
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "pending"), "p.pdf", &invoices()).unwrap();
    let once = client.fetch_results(&file_id, &ResultsOptions::default()).unwrap();
    assert!(!once.is_finalised());
    assert_eq!(once.status, "IN PROGRESS");
    assert!(client.get_results(&file_id).unwrap().contains_key("invoice.total"));
}

#[test]
fn pending_past_deadline_is_not_finalised() {
    let emu = emulator_with(|c| c.pending_polls = 1000);
    let client = builder(&emu).results_deadline(Duration::from_millis(500)).build().unwrap();
    let file_id = client.upload_bytes(&make_pdf(1, "slow"), "s.pdf", &invoices()).unwrap();
    let err = client.get_results(&file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFinalised);
    assert_eq!(err.result_status(), Some("IN PROGRESS"));
    assert!(err.message().contains(&file_id), "{err}");
}

#[test]
fn wrong_secret_is_auth_error_without_secret() {
    let emu = emulator();
    let client = builder(&emu).credentials(CLIENT_ID, "wrong-secret-value").build().unwrap();
    let err = client.upload_bytes(&make_pdf(1, "x"), "x.pdf", &invoices()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.http_status(), Some(400));
    assert!(err.message().contains("invalid_client"), "{err}");
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!format!("{err:?} {client:?}").contains("wrong-secret-value"));
}

#[test]
fn missing_file_is_io_error_before_network() {
    let emu = emulator();
    let client = client(&emu);
    let err = client.upload_file("/nonexistent/dir/invoice.pdf", &invoices()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.message().contains("/nonexistent/dir/invoice.pdf"), "{err}");
    assert_eq!(emu.stats().requests, 0);
}

#[test]
fn unknown_file_id_is_http_404() {
    let emu = emulator();
    let client = client(&emu);
    let err = client.get_results("00000000-0000-4000-8000-000000000000").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn rejected_upload_carries_server_message() {
    let emu = emulator();
    let client = client(&emu);
    let err = client.upload_bytes(b"just some text", "notes.txt", &invoices()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(400));
    assert!(err.message().len() > "POST /fileupload returned HTTP 400: ".len(), "{err}");
}

#[test]
fn upload_over_size_limit_is_rejected() {
    let emu = emulator_with(|c| c.max_upload_bytes = 10_000);
    let client = client(&emu);
    let err = client.upload_bytes(&make_pdf(1, &"y".repeat(20_000)), "big.pdf", &invoices()).unwrap_err();
    assert_eq!(err.http_status(), Some(400), "{err}");
}

#[test]
fn upload_without_product_is_invalid_argument() {
    let emu = emulator();
    let client = client(&emu);
    let err = client.upload_bytes(&make_pdf(1, "x"), "x.pdf", &UploadOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(emu.stats().requests, 0);
}

#[test]
fn refused_connection_is_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(format!("http://127.0.0.1:{port}"))
        .auth_endpoint(format!("http://127.0.0.1:{port}/oauth2/token"))
        .ignore_env(true)
        .build()
        .unwrap();
    let err = client.authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
}

#[test]
fn unknown_auth_url_shape_is_config_error() {
    let err = Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base("http://127.0.0.1:1")
        .auth_endpoint("http://127.0.0.1:1/token")
        .ignore_env(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("/oauth2/"), "{err}");
}

#[test]
fn generic_request_reaches_any_path() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = client.upload_bytes(&make_pdf(1, "generic"), "g.pdf", &invoices()).unwrap();
    let response = client.request("GET", &format!("/result/final/{file_id}"), None).unwrap();
    assert_eq!(response.status, 200);
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["status"], "FINALISED");
    let err = client.request("GET", "/no/such/path", None).unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sypht-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
