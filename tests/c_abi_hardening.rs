//! The C ABI under hostile input, called from Rust exactly as C would call
//! it: empty strings, 10 MB strings, an `error` out-parameter still holding
//! a freed error (which must be overwritten, never freed again), extreme
//! numbers, and a panic inside the library (with the `test-panic` feature).
//! NULL and invalid UTF-8 are covered by tests/c_abi.rs.
//!
//! Calls that would send a request go to 127.0.0.1 port 1, where nothing
//! listens, with retries off, so they fail fast on loopback.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use sypht::ffi::*;

/// A 10 MB NUL-terminated string of `fill` after `prefix`.
fn huge(prefix: &str, fill: u8) -> CString {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.resize(10 * 1024 * 1024, fill);
    CString::new(bytes).unwrap()
}

fn message(error: *const SyphtError) -> String {
    // SAFETY: the message is a NUL-terminated string owned by `error`.
    unsafe { CStr::from_ptr(sypht_error_message(error)) }
        .to_string_lossy()
        .into_owned()
}

/// Returns an `error` variable that still contains the address of an
/// error that was already freed, as C code that forgot to reset it would have.
fn freed_error() -> *mut SyphtError {
    let mut error = ptr::null_mut();
    assert!(sypht_client_new(ptr::null(), c"x".as_ptr(), &mut error).is_null());
    assert!(!error.is_null());
    sypht_error_free(error);
    error
}

/// Options with loopback endpoints where nothing listens, no retries and
/// the environment ignored.
fn dead_end_options() -> *mut SyphtClientOptions {
    let options = sypht_client_options_new();
    let mut error = ptr::null_mut();
    assert_eq!(
        sypht_client_options_set_ignore_env(options, true, &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_api_base(options, c"http://127.0.0.1:1".as_ptr(), &mut error),
        SYPHT_OK
    );
    let auth = c"http://127.0.0.1:1/oauth2/token".as_ptr();
    assert_eq!(
        sypht_client_options_set_auth_endpoint(options, auth, &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_retries(options, 0, 0, 0, &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_results_deadline_ms(options, 0, &mut error),
        SYPHT_OK
    );
    options
}

fn dead_end_client() -> *mut SyphtClient {
    let options = dead_end_options();
    let mut error = ptr::null_mut();
    let client =
        sypht_client_new_with_options(options, c"id".as_ptr(), c"secret".as_ptr(), &mut error);
    sypht_client_options_free(options);
    assert!(!client.is_null(), "{}", message(error));
    client
}

/// Checks one call: `call` gets an `error` variable holding a freed error
/// and must return `expected` (0 for success), leaving NULL on success or
/// a new error with that code on failure.
fn check(what: &str, expected: i32, call: impl FnOnce(*mut *mut SyphtError) -> i32) {
    let mut error = freed_error();
    let code = call(&mut error);
    assert_eq!(
        code,
        expected,
        "{what}: {}",
        if error.is_null() {
            String::new()
        } else {
            message(error)
        }
    );
    if expected == SYPHT_OK {
        assert!(error.is_null(), "{what}: success left `error` set");
    } else {
        assert_eq!(sypht_error_code(error), expected, "{what}");
        assert!(!message(error).is_empty(), "{what}: empty message");
        sypht_error_free(error);
    }
}

/// Like [`check`] for calls that return a pointer: NULL means failure.
fn check_pointer<T>(
    what: &str,
    expected: i32,
    call: impl FnOnce(*mut *mut SyphtError) -> *mut T,
) -> *mut T {
    let mut error = freed_error();
    let returned = call(&mut error);
    if expected == SYPHT_OK {
        assert!(!returned.is_null(), "{what}: {}", message(error));
        assert!(error.is_null(), "{what}: success left `error` set");
    } else {
        assert!(returned.is_null(), "{what}: expected code {expected}");
        assert_eq!(
            sypht_error_code(error),
            expected,
            "{what}: {}",
            message(error)
        );
        sypht_error_free(error);
    }
    returned
}

/// The code of building a client from `options` after one setter.
fn build_code(options: *const SyphtClientOptions) -> i32 {
    let mut error = ptr::null_mut();
    let client =
        sypht_client_new_with_options(options, c"id".as_ptr(), c"secret".as_ptr(), &mut error);
    let code = sypht_error_code(error);
    sypht_error_free(error);
    sypht_client_free(client);
    code
}

type StringSetter =
    extern "C" fn(*mut SyphtClientOptions, *const c_char, *mut *mut SyphtError) -> i32;

#[test]
fn string_setters_with_empty_and_huge_input() {
    let huge_url = huge("https://", b'a');
    let huge_text = huge("", b'x');
    let huge_pem = huge("-----BEGIN CERTIFICATE-----\n", b'A');
    let huge_path = huge("/tmp/", b'p');
    // (name, setter, input, setter code, code of building a client after it)
    let table: Vec<(&str, StringSetter, *const c_char, i32, i32)> = vec![
        (
            "api_base empty",
            sypht_client_options_set_api_base,
            c"".as_ptr(),
            SYPHT_OK,
            SYPHT_ERROR_CONFIG,
        ),
        (
            "api_base huge",
            sypht_client_options_set_api_base,
            huge_url.as_ptr(),
            SYPHT_OK,
            SYPHT_OK,
        ),
        (
            "api_base ftp",
            sypht_client_options_set_api_base,
            c"ftp://127.0.0.1".as_ptr(),
            SYPHT_OK,
            SYPHT_ERROR_CONFIG,
        ),
        (
            "auth empty",
            sypht_client_options_set_auth_endpoint,
            c"".as_ptr(),
            SYPHT_OK,
            SYPHT_ERROR_CONFIG,
        ),
        (
            "auth huge",
            sypht_client_options_set_auth_endpoint,
            huge_url.as_ptr(),
            SYPHT_OK,
            SYPHT_ERROR_CONFIG,
        ),
        (
            "audience empty",
            sypht_client_options_set_audience,
            c"".as_ptr(),
            SYPHT_OK,
            SYPHT_OK,
        ),
        (
            "audience huge",
            sypht_client_options_set_audience,
            huge_text.as_ptr(),
            SYPHT_OK,
            SYPHT_OK,
        ),
        (
            "user_agent empty",
            sypht_client_options_set_user_agent,
            c"".as_ptr(),
            SYPHT_OK,
            SYPHT_OK,
        ),
        (
            "user_agent huge",
            sypht_client_options_set_user_agent,
            huge_text.as_ptr(),
            SYPHT_OK,
            SYPHT_OK,
        ),
        (
            "user_agent newline",
            sypht_client_options_set_user_agent,
            c"a\r\nX-Injected: 1".as_ptr(),
            SYPHT_OK,
            SYPHT_ERROR_CONFIG,
        ),
        (
            "ca_pem empty",
            sypht_client_options_set_ca_pem,
            c"".as_ptr(),
            SYPHT_ERROR_CONFIG,
            SYPHT_OK,
        ),
        (
            "ca_pem huge",
            sypht_client_options_set_ca_pem,
            huge_pem.as_ptr(),
            SYPHT_ERROR_CONFIG,
            SYPHT_OK,
        ),
        (
            "ca_file empty",
            sypht_client_options_set_ca_file,
            c"".as_ptr(),
            SYPHT_ERROR_IO,
            SYPHT_OK,
        ),
        (
            "ca_file huge",
            sypht_client_options_set_ca_file,
            huge_path.as_ptr(),
            SYPHT_ERROR_IO,
            SYPHT_OK,
        ),
    ];
    for (name, setter, input, setter_code, build) in table {
        let options = dead_end_options();
        check(name, setter_code, |error| setter(options, input, error));
        assert_eq!(build_code(options), build, "{name}: building a client");
        sypht_client_options_free(options);
    }
}

#[test]
fn numeric_setters_at_extremes() {
    type NumberSetter = extern "C" fn(*mut SyphtClientOptions, u64, *mut *mut SyphtError) -> i32;
    let table: Vec<(&str, NumberSetter, u64, i32)> = vec![
        (
            "connect_timeout 0",
            sypht_client_options_set_connect_timeout_ms,
            0,
            SYPHT_ERROR_INVALID_ARGUMENT,
        ),
        (
            "connect_timeout max",
            sypht_client_options_set_connect_timeout_ms,
            u64::MAX,
            SYPHT_OK,
        ),
        (
            "request_timeout 0",
            sypht_client_options_set_request_timeout_ms,
            0,
            SYPHT_ERROR_INVALID_ARGUMENT,
        ),
        (
            "request_timeout max",
            sypht_client_options_set_request_timeout_ms,
            u64::MAX,
            SYPHT_OK,
        ),
        (
            "read_timeout 0",
            sypht_client_options_set_read_timeout_ms,
            0,
            SYPHT_ERROR_INVALID_ARGUMENT,
        ),
        (
            "read_timeout max",
            sypht_client_options_set_read_timeout_ms,
            u64::MAX,
            SYPHT_OK,
        ),
        (
            "call_deadline 0",
            sypht_client_options_set_call_deadline_ms,
            0,
            SYPHT_ERROR_INVALID_ARGUMENT,
        ),
        (
            "call_deadline max",
            sypht_client_options_set_call_deadline_ms,
            u64::MAX,
            SYPHT_OK,
        ),
        (
            "results_deadline max",
            sypht_client_options_set_results_deadline_ms,
            u64::MAX,
            SYPHT_OK,
        ),
        (
            "max_response_bytes 0",
            sypht_client_options_set_max_response_bytes,
            0,
            SYPHT_ERROR_INVALID_ARGUMENT,
        ),
        (
            "max_response_bytes max",
            sypht_client_options_set_max_response_bytes,
            u64::MAX,
            SYPHT_OK,
        ),
    ];
    for (name, setter, value, expected) in table {
        let options = dead_end_options();
        check(name, expected, |error| setter(options, value, error));
        // Whatever was accepted must give a working client that fails
        // cleanly on the dead-end endpoint.
        let mut error = ptr::null_mut();
        let client =
            sypht_client_new_with_options(options, c"id".as_ptr(), c"secret".as_ptr(), &mut error);
        assert!(!client.is_null(), "{name}: {}", message(error));
        let code = sypht_client_authenticate(client, &mut error);
        assert!(
            code == SYPHT_ERROR_NETWORK || code == SYPHT_ERROR_TIMEOUT,
            "{name}: authenticate gave {code}: {}",
            message(error)
        );
        sypht_error_free(error);
        sypht_client_free(client);
        sypht_client_options_free(options);
    }
    let options = dead_end_options();
    check("retries max", SYPHT_OK, |e| {
        sypht_client_options_set_retries(options, u32::MAX, 0, u64::MAX, e)
    });
    check("retries inverted", SYPHT_ERROR_INVALID_ARGUMENT, |e| {
        sypht_client_options_set_retries(options, 1, 10, 5, e)
    });
    check("auth_flow -1", SYPHT_ERROR_INVALID_ARGUMENT, |e| {
        sypht_client_options_set_auth_flow(options, -1, e)
    });
    check("auth_flow max", SYPHT_ERROR_INVALID_ARGUMENT, |e| {
        sypht_client_options_set_auth_flow(options, i32::MAX, e)
    });
    sypht_client_options_free(options);
    for code in [i32::MIN, -1, SYPHT_ERROR_LIMIT_EXCEEDED + 1, i32::MAX] {
        // SAFETY: a static NUL-terminated string.
        let name = unsafe { CStr::from_ptr(sypht_error_code_name(code)) };
        assert_eq!(name.to_str().unwrap(), "unknown error code");
    }
}

#[test]
fn client_creation_with_empty_and_huge_credentials() {
    let huge_id = huge("id-", b'i');
    let options = dead_end_options();
    let cases: Vec<(&str, *const c_char, *const c_char, i32)> = vec![
        (
            "empty id",
            c"".as_ptr(),
            c"secret".as_ptr(),
            SYPHT_ERROR_CONFIG,
        ),
        (
            "blank id",
            c"  ".as_ptr(),
            c"secret".as_ptr(),
            SYPHT_ERROR_CONFIG,
        ),
        (
            "empty secret",
            c"id".as_ptr(),
            c"".as_ptr(),
            SYPHT_ERROR_CONFIG,
        ),
        ("huge id", huge_id.as_ptr(), c"secret".as_ptr(), SYPHT_OK),
        ("huge secret", c"id".as_ptr(), huge_id.as_ptr(), SYPHT_OK),
    ];
    for (name, id, secret, expected) in cases {
        let client = check_pointer(name, expected, |e| {
            sypht_client_new_with_options(options, id, secret, e)
        });
        if !client.is_null() {
            // The huge value must not turn into a crash or a hang when sent.
            let mut error = ptr::null_mut();
            let code = sypht_client_authenticate(client, &mut error);
            assert_eq!(code, SYPHT_ERROR_NETWORK, "{name}: {}", message(error));
            assert!(
                message(error).len() < 4096,
                "{name}: message of {} bytes",
                message(error).len()
            );
            sypht_error_free(error);
        }
        sypht_client_free(client);
    }
    let client = check_pointer("plain new, empty id", SYPHT_ERROR_CONFIG, |e| {
        sypht_client_new(c"".as_ptr(), c"secret".as_ptr(), e)
    });
    assert!(client.is_null());
    sypht_client_options_free(options);
}

#[test]
fn calls_with_empty_and_huge_arguments() {
    let client = dead_end_client();
    let huge_text = huge("", b'f');
    let huge_path = huge("/tmp/", b'p');
    let invoices = c"invoices";
    let products = [invoices.as_ptr()];
    let empty_product = [c"".as_ptr()];
    let data = b"%PDF-1.4";

    type Call<'a> = Box<dyn FnOnce(*mut *mut SyphtError) -> *mut c_char + 'a>;
    let cases: Vec<(&str, i32, Call)> = vec![
        (
            "upload empty path",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| sypht_upload(client, c"".as_ptr(), products.as_ptr(), 1, e)),
        ),
        (
            "upload huge path",
            SYPHT_ERROR_IO,
            Box::new(|e| sypht_upload(client, huge_path.as_ptr(), products.as_ptr(), 1, e)),
        ),
        (
            "upload missing file",
            SYPHT_ERROR_IO,
            Box::new(|e| {
                sypht_upload(
                    client,
                    c"/nonexistent/x.pdf".as_ptr(),
                    products.as_ptr(),
                    1,
                    e,
                )
            }),
        ),
        (
            "upload directory",
            SYPHT_ERROR_IO,
            Box::new(|e| sypht_upload(client, c"/tmp".as_ptr(), products.as_ptr(), 1, e)),
        ),
        (
            "upload empty product",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| {
                sypht_upload_bytes(
                    client,
                    data.as_ptr(),
                    data.len(),
                    c"a.pdf".as_ptr(),
                    empty_product.as_ptr(),
                    1,
                    e,
                )
            }),
        ),
        (
            "upload no product",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| {
                sypht_upload_bytes(
                    client,
                    data.as_ptr(),
                    data.len(),
                    c"a.pdf".as_ptr(),
                    ptr::null(),
                    0,
                    e,
                )
            }),
        ),
        (
            "upload empty name",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| {
                sypht_upload_bytes(
                    client,
                    data.as_ptr(),
                    data.len(),
                    c"".as_ptr(),
                    products.as_ptr(),
                    1,
                    e,
                )
            }),
        ),
        (
            "upload huge name",
            SYPHT_ERROR_NETWORK,
            Box::new(|e| {
                sypht_upload_bytes(
                    client,
                    data.as_ptr(),
                    data.len(),
                    huge_text.as_ptr(),
                    products.as_ptr(),
                    1,
                    e,
                )
            }),
        ),
        (
            "upload huge product",
            SYPHT_ERROR_NETWORK,
            Box::new(|e| {
                let p = [huge_text.as_ptr()];
                sypht_upload_bytes(
                    client,
                    data.as_ptr(),
                    data.len(),
                    c"a.pdf".as_ptr(),
                    p.as_ptr(),
                    1,
                    e,
                )
            }),
        ),
        (
            "upload empty data",
            SYPHT_ERROR_NETWORK,
            Box::new(|e| {
                sypht_upload_bytes(
                    client,
                    ptr::null(),
                    0,
                    c"a.pdf".as_ptr(),
                    products.as_ptr(),
                    1,
                    e,
                )
            }),
        ),
        (
            "results empty id",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| sypht_get_results(client, c"".as_ptr(), e)),
        ),
        (
            "results control id",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| sypht_get_results(client, c"a\nb".as_ptr(), e)),
        ),
        (
            "results huge id",
            SYPHT_ERROR_NETWORK,
            Box::new(|e| sypht_get_results(client, huge_text.as_ptr(), e)),
        ),
        (
            "verbose empty id",
            SYPHT_ERROR_INVALID_ARGUMENT,
            Box::new(|e| sypht_get_results_verbose(client, c"".as_ptr(), e)),
        ),
        (
            "verbose huge id",
            SYPHT_ERROR_NETWORK,
            Box::new(|e| sypht_get_results_verbose(client, huge_text.as_ptr(), e)),
        ),
    ];
    for (name, expected, call) in cases {
        let returned = check_pointer(name, expected, call);
        assert!(returned.is_null());
    }
    check("authenticate", SYPHT_ERROR_NETWORK, |e| {
        sypht_client_authenticate(client, e)
    });
    sypht_client_free(client);
}

#[test]
fn success_overwrites_freed_error() {
    let options = sypht_client_options_new();
    assert!(!options.is_null());
    check("set_api_base", SYPHT_OK, |e| {
        sypht_client_options_set_api_base(options, c"http://127.0.0.1:1".as_ptr(), e)
    });
    check("set_auth_flow", SYPHT_OK, |e| {
        sypht_client_options_set_auth_flow(options, SYPHT_AUTH_FLOW_CURRENT, e)
    });
    check("set_ignore_env", SYPHT_OK, |e| {
        sypht_client_options_set_ignore_env(options, true, e)
    });
    check("set_auth_endpoint", SYPHT_OK, |e| {
        sypht_client_options_set_auth_endpoint(
            options,
            c"http://127.0.0.1:1/oauth2/token".as_ptr(),
            e,
        )
    });
    let client = check_pointer("new_with_options", SYPHT_OK, |e| {
        sypht_client_new_with_options(options, c"id".as_ptr(), c"secret".as_ptr(), e)
    });
    sypht_client_free(client);
    sypht_client_options_free(options);
}

#[test]
fn errors_from_many_threads() {
    // Options and errors are per thread; clients are shared. Many threads
    // failing at once must each get their own error.
    let client = dead_end_client() as usize;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let client = client as *mut SyphtClient;
                for _ in 0..20 {
                    let id = CString::new(format!("thread-{i}")).unwrap();
                    let mut error = freed_error();
                    let json = sypht_get_results(client, id.as_ptr(), &mut error);
                    assert!(json.is_null());
                    assert_eq!(sypht_error_code(error), SYPHT_ERROR_NETWORK);
                    sypht_error_free(error);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    sypht_client_free(client as *mut SyphtClient);
}

#[cfg(feature = "test-panic")]
#[test]
fn panic_becomes_internal_error() {
    for _ in 0..3 {
        let mut error = freed_error();
        let code = sypht_debug_panic(c"boom from the test".as_ptr(), &mut error);
        assert_eq!(code, SYPHT_ERROR_INTERNAL);
        assert_eq!(sypht_error_code(error), SYPHT_ERROR_INTERNAL);
        let text = message(error);
        assert!(
            text.contains("sypht_debug_panic panicked: boom from the test"),
            "{text}"
        );
        sypht_error_free(error);
        assert_eq!(
            sypht_debug_panic(c"with NULL error".as_ptr(), ptr::null_mut()),
            SYPHT_ERROR_INTERNAL
        );
    }
    // Argument checks still run before the panic.
    check("debug_panic NULL", SYPHT_ERROR_INVALID_ARGUMENT, |e| {
        sypht_debug_panic(ptr::null(), e)
    });
    // The process and the library are still usable.
    let client = dead_end_client();
    check("authenticate after panics", SYPHT_ERROR_NETWORK, |e| {
        sypht_client_authenticate(client, e)
    });
    sypht_client_free(client);
}
