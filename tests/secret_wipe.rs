//! The client secret is wiped before its memory is freed. A global
//! allocator wrapper scans every block as it is freed for a canary secret
//! (reading memory the program still owns, so there is no undefined
//! behaviour), while a client is built, authenticates, makes a call and is
//! freed, from Rust and through the C ABI.
//!
//! Limits: this covers the raw secret with the current (Basic) flow. The
//! Basic header value and bearer tokens are also copied into ureq's
//! request buffers, which are freed without wiping, and the legacy flow
//! puts the raw secret in a JSON body that ureq buffers the same way.
//! Memory that the allocator reuses without freeing, or that the kernel
//! swaps out, is not covered. One test in its own binary, because the
//! allocator sees every thread.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use support::{Reply, ScriptedServer};
use sypht::{Client, ResultsOptions};

/// The canary secret. It lives in read-only data; heap copies are made
/// only where the test hands it to the library.
const CANARY: &[u8; 26] = b"wipe-canary-7Q2x9Lp4Zk8Mv3";

static WATCHING: AtomicBool = AtomicBool::new(false);
static FREED_WITH_CANARY: AtomicUsize = AtomicUsize::new(0);

struct CanaryWatcher;

// SAFETY: every call is forwarded to the system allocator unchanged; the
// scan only reads a block that is still allocated, before freeing it.
unsafe impl GlobalAlloc for CanaryWatcher {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) && layout.size() >= CANARY.len() {
            let block = std::slice::from_raw_parts(ptr, layout.size());
            if block.windows(CANARY.len()).any(|w| w == CANARY) {
                FREED_WITH_CANARY.fetch_add(1, Ordering::SeqCst);
            }
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: CanaryWatcher = CanaryWatcher;

fn canary_string() -> String {
    String::from_utf8(CANARY.to_vec()).unwrap()
}

/// Zeroes a C string the test owns, then frees it.
fn wipe_c_string(value: CString) {
    let raw = value.into_raw();
    // SAFETY: `raw` came from into_raw, and the writes stay inside the
    // string before its NUL terminator.
    unsafe {
        let len = libc::strlen(raw);
        std::ptr::write_bytes(raw, 0, len);
        drop(CString::from_raw(raw));
    }
}

#[test]
fn secret_is_wiped_before_free() {
    let server = ScriptedServer::start(|request| {
        if request.target.starts_with("/oauth2/token") {
            Reply::json(
                200,
                r#"{"access_token":"wipe-test-token-0001","expires_in":3600}"#,
            )
        } else {
            Reply::json(
                200,
                r#"{"fileId":"f","status":"FINALISED","results":{"fields":[]}}"#,
            )
        }
    });
    let auth_url = format!("{}/oauth2/token", server.url());

    // Made before watching starts: CString::new may reallocate and free
    // a copy of its input.
    let secret = CString::new(CANARY.to_vec()).unwrap();

    // Control: the watcher sees an unwiped copy freed.
    WATCHING.store(true, Ordering::SeqCst);
    drop(canary_string());
    WATCHING.store(false, Ordering::SeqCst);
    assert_eq!(
        FREED_WITH_CANARY.swap(0, Ordering::SeqCst),
        1,
        "the watcher missed an unwiped block"
    );

    WATCHING.store(true, Ordering::SeqCst);
    let client = Client::builder()
        .credentials("wipe-test-id", canary_string())
        .api_base(server.url())
        .auth_endpoint(auth_url.clone())
        .ignore_env(true)
        .build()
        .unwrap();
    client.authenticate().unwrap();
    client
        .fetch_results("f", &ResultsOptions::default())
        .unwrap();
    let clone = client.clone();
    drop(client);
    clone.clear_token();
    drop(clone);
    let rust_found = FREED_WITH_CANARY.swap(0, Ordering::SeqCst);

    let base = CString::new(server.url()).unwrap();
    let auth = CString::new(auth_url).unwrap();
    let mut error = std::ptr::null_mut();
    let options = sypht::ffi::sypht_client_options_new();
    assert_eq!(
        sypht::ffi::sypht_client_options_set_api_base(options, base.as_ptr(), &mut error),
        0
    );
    assert_eq!(
        sypht::ffi::sypht_client_options_set_auth_endpoint(options, auth.as_ptr(), &mut error),
        0
    );
    assert_eq!(
        sypht::ffi::sypht_client_options_set_ignore_env(options, true, &mut error),
        0
    );
    let c_client = sypht::ffi::sypht_client_new_with_options(
        options,
        c"wipe-test-id".as_ptr(),
        secret.as_ptr(),
        &mut error,
    );
    assert!(!c_client.is_null());
    sypht::ffi::sypht_client_options_free(options);
    assert_eq!(
        sypht::ffi::sypht_client_authenticate(c_client, &mut error),
        0
    );
    sypht::ffi::sypht_client_free(c_client);
    wipe_c_string(secret);
    let c_found = FREED_WITH_CANARY.swap(0, Ordering::SeqCst);
    WATCHING.store(false, Ordering::SeqCst);

    assert_eq!(
        rust_found, 0,
        "blocks holding the raw secret were freed unwiped (Rust API)"
    );
    assert_eq!(
        c_found, 0,
        "blocks holding the raw secret were freed unwiped (C API)"
    );
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.target.starts_with("/oauth2/token"))
            .count(),
        2
    );
}
