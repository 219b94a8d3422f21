//! `Client::process_batch` and `sypht_process_batch` against the
//! in-process emulator: order, per-document errors, progress, limits.

mod common;

use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::Value;
use sypht::ffi::{
    sypht_client_free, sypht_client_new_with_options, sypht_client_options_free, sypht_client_options_new,
    sypht_client_options_set_api_base, sypht_client_options_set_auth_endpoint, sypht_client_options_set_ignore_env,
    sypht_error_code, sypht_error_free, sypht_free_string, sypht_process_batch, SyphtError,
};
use sypht::{ErrorKind, UploadOptions};

fn invoices() -> UploadOptions {
    UploadOptions::products(["invoices"])
}

/// Creates a fresh folder under the system temporary folder.
fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sypht-batch-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `count` distinct one-page PDFs into `dir` and returns their
/// paths and contents.
fn write_pdfs(dir: &std::path::Path, count: usize) -> Vec<(PathBuf, Vec<u8>)> {
    (0..count)
        .map(|i| {
            let pdf = make_pdf(1, &format!("document {i}"));
            let path = dir.join(format!("doc-{i}.pdf"));
            std::fs::write(&path, &pdf).unwrap();
            (path, pdf)
        })
        .collect()
}

#[test]
fn batch_keeps_order_and_reads_fields() {
    let emu = emulator();
    let client = client(&emu);
    let dir = tempdir("order");
    let docs = write_pdfs(&dir, 12);
    let paths: Vec<PathBuf> = docs.iter().map(|(p, _)| p.clone()).collect();

    let items = client.process_batch(&paths, &invoices(), 4);

    assert_eq!(items.len(), docs.len());
    let mut ids = std::collections::HashSet::new();
    for (item, (path, pdf)) in items.iter().zip(&docs) {
        assert_eq!(&item.path, path);
        assert!(item.error().is_none(), "{}: {:?}", path.display(), item.error());
        let id = item.file_id.as_ref().unwrap();
        assert!(ids.insert(id.clone()), "fileId {id} was returned twice");
        let fields = item.fields.as_ref().unwrap();
        // The emulator reports each document's own hash, so this checks
        // that results are matched to the right path.
        assert_eq!(fields["document.sha256"], Value::from(sha256_hex(pdf)));
    }
    assert_eq!(emu.stats().uploads, docs.len() as u64);
    assert_eq!(emu.stats().token_requests, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_file_fails_alone() {
    let emu = emulator();
    let client = client(&emu);
    let dir = tempdir("missing");
    let docs = write_pdfs(&dir, 4);
    let mut paths: Vec<PathBuf> = docs.iter().map(|(p, _)| p.clone()).collect();
    let missing = dir.join("no-such-document.pdf");
    paths.insert(2, missing.clone());

    let items = client.process_batch(&paths, &invoices(), 3);

    assert_eq!(items.len(), 5);
    for (item, path) in items.iter().zip(&paths) {
        assert_eq!(&item.path, path);
    }
    let failed = &items[2];
    assert_eq!(failed.file_id.as_ref().unwrap_err().kind(), ErrorKind::Io);
    assert_eq!(failed.fields.as_ref().unwrap_err().kind(), ErrorKind::Io);
    assert!(failed.error().unwrap().message().contains("no-such-document.pdf"), "{:?}", failed.error());
    for index in [0, 1, 3, 4] {
        assert!(items[index].error().is_none(), "item {index}: {:?}", items[index].error());
    }
    assert_eq!(emu.stats().uploads, 4);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rejected_upload_is_reported_per_document() {
    let emu = emulator_with(|c| c.max_upload_bytes = 2_000);
    let client = client(&emu);
    let dir = tempdir("rejected");
    let small = dir.join("small.pdf");
    std::fs::write(&small, make_pdf(1, "small")).unwrap();
    let large = dir.join("large.pdf");
    std::fs::write(&large, make_pdf(1, &"z".repeat(5_000))).unwrap();

    let items = client.process_batch(&[large.clone(), small.clone()], &invoices(), 2);

    let err = items[0].error().expect("the oversized upload fails");
    assert!(err.http_status().is_some(), "{err:?}");
    assert!(items[1].error().is_none(), "{:?}", items[1].error());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn progress_counts_documents() {
    let emu = emulator();
    let client = client(&emu);
    let dir = tempdir("progress");
    let mut paths: Vec<PathBuf> = write_pdfs(&dir, 5).into_iter().map(|(p, _)| p).collect();
    paths.push(dir.join("absent.pdf"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::clone(&seen);
    let options = UploadOptions {
        progress: Some(Arc::new(move |done, total| recorder.lock().unwrap().push((done, total)))),
        ..invoices()
    };

    let items = client.process_batch(&paths, &options, 2);

    assert_eq!(items.len(), 6);
    let mut calls = seen.lock().unwrap().clone();
    calls.sort();
    let expected: Vec<(u64, u64)> = (1..=6).map(|done| (done, 6)).collect();
    assert_eq!(calls, expected);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn panicking_progress_keeps_results() {
    let emu = emulator();
    let client = client(&emu);
    let dir = tempdir("panic");
    let paths: Vec<PathBuf> = write_pdfs(&dir, 3).into_iter().map(|(p, _)| p).collect();
    let calls = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&calls);
    let options = UploadOptions {
        progress: Some(Arc::new(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            panic!("progress callback failure");
        })),
        ..invoices()
    };

    let items = client.process_batch(&paths, &options, 2);

    assert_eq!(calls.load(Ordering::SeqCst), 3);
    for item in &items {
        assert!(item.error().is_none(), "{:?}", item.error());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn concurrency_edge_values_work() {
    let emu = emulator();
    let client = client(&emu);
    let dir = tempdir("edges");
    let paths: Vec<PathBuf> = write_pdfs(&dir, 3).into_iter().map(|(p, _)| p).collect();

    for concurrency in [0, 1, 3, 1_000] {
        let items = client.process_batch(&paths, &invoices(), concurrency);
        assert_eq!(items.len(), 3, "concurrency {concurrency}");
        for item in &items {
            assert!(item.error().is_none(), "concurrency {concurrency}: {:?}", item.error());
        }
    }
    assert!(client.process_batch(&[], &invoices(), 8).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Owns a C client pointed at an emulator.
struct CClient(*mut sypht::ffi::SyphtClient);

impl CClient {
    fn new(emu: &sypht_emulator::Emulator) -> CClient {
        let options = sypht_client_options_new();
        let base = CString::new(emu.base_url()).unwrap();
        let auth = CString::new(emu.auth_url()).unwrap();
        let none = std::ptr::null_mut();
        assert_eq!(sypht_client_options_set_api_base(options, base.as_ptr(), none), 0);
        assert_eq!(sypht_client_options_set_auth_endpoint(options, auth.as_ptr(), none), 0);
        assert_eq!(sypht_client_options_set_ignore_env(options, true, none), 0);
        let id = CString::new(CLIENT_ID).unwrap();
        let secret = CString::new(CLIENT_SECRET).unwrap();
        let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), none);
        sypht_client_options_free(options);
        assert!(!client.is_null());
        CClient(client)
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        sypht_client_free(self.0);
    }
}

/// Calls `sypht_process_batch` and returns its parsed JSON, or the error
/// code when it returned NULL.
fn c_batch(client: &CClient, paths: &[&str], concurrency: usize) -> Result<Value, i32> {
    let owned: Vec<CString> = paths.iter().map(|p| CString::new(*p).unwrap()).collect();
    let pointers: Vec<*const c_char> = owned.iter().map(|p| p.as_ptr()).collect();
    let product = CString::new("invoices").unwrap();
    let products = [product.as_ptr()];
    let mut error: *mut SyphtError = std::ptr::null_mut();
    let text = sypht_process_batch(client.0, pointers.as_ptr(), pointers.len(), products.as_ptr(), 1, concurrency, &mut error);
    if text.is_null() {
        let code = sypht_error_code(error);
        sypht_error_free(error);
        return Err(code);
    }
    assert!(error.is_null());
    // SAFETY: a NUL-terminated string returned by libsypht.
    let json = unsafe { CStr::from_ptr(text) }.to_str().unwrap().to_string();
    sypht_free_string(text);
    Ok(serde_json::from_str(&json).unwrap())
}

#[test]
fn c_batch_returns_json_per_path() {
    let emu = emulator();
    let client = CClient::new(&emu);
    let dir = tempdir("c-abi");
    let docs = write_pdfs(&dir, 3);
    let missing = dir.join("gone.pdf");
    let paths = [
        docs[0].0.to_str().unwrap(),
        missing.to_str().unwrap(),
        docs[1].0.to_str().unwrap(),
        docs[2].0.to_str().unwrap(),
    ];

    let array = c_batch(&client, &paths, 2).unwrap();

    let items = array.as_array().unwrap();
    assert_eq!(items.len(), 4);
    for (item, path) in items.iter().zip(paths) {
        assert_eq!(item["path"], path);
    }
    for index in [0, 2, 3] {
        assert_eq!(items[index]["fileId"].as_str().unwrap().len(), 36, "{}", items[index]);
        assert!(items[index]["fields"].get("document.sha256").is_some(), "{}", items[index]);
        assert!(items[index].get("error").is_none(), "{}", items[index]);
    }
    let failed = &items[1];
    assert!(failed.get("fileId").is_none(), "{failed}");
    assert!(failed.get("fields").is_none(), "{failed}");
    assert_eq!(failed["error"]["code"], ErrorKind::Io.code());
    assert_eq!(failed["error"]["httpStatus"], Value::Null);
    assert!(failed["error"]["message"].as_str().unwrap().contains("gone.pdf"), "{failed}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn c_batch_rejects_invalid_arguments() {
    let emu = emulator();
    let client = CClient::new(&emu);
    let invalid = ErrorKind::InvalidArgument.code();

    assert_eq!(c_batch(&client, &["a.pdf"], 0), Err(invalid));
    assert_eq!(c_batch(&client, &["a.pdf"], 257), Err(invalid));
    assert_eq!(c_batch(&client, &["a.pdf", ""], 1), Err(invalid));
    assert_eq!(c_batch(&client, &[], 1), Ok(Value::Array(Vec::new())));
    assert_eq!(emu.stats().requests, 0);
}
