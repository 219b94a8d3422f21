//! The C ABI's argument checks, called from Rust exactly as C would call
//! them: NULL and invalid UTF-8 for every pointer argument of every
//! function in include/sypht.h, NULL for every free function, and a NULL
//! `error` out-parameter everywhere.
//!
//! No test sends a request. The one client created here points at port 1
//! on 127.0.0.1, so a request sent by mistake fails on loopback.

use std::ffi::{c_char, CStr};
use std::ptr::{self, NonNull};

use sypht::ffi::*;

const INVALID_ARGUMENT: i32 = SYPHT_ERROR_INVALID_ARGUMENT;
const INVALID_UTF8: i32 = SYPHT_ERROR_INVALID_UTF8;

/// A NUL-terminated string with a byte (0xFF) that never occurs in UTF-8.
const INVALID_UTF8_BYTES: &[u8] = b"invoice-\xff.pdf\0";

fn invalid_utf8() -> *const c_char {
    INVALID_UTF8_BYTES.as_ptr().cast()
}

fn text(value: &'static CStr) -> *const c_char {
    value.as_ptr()
}

/// Returns a non-NULL value for an `error` out-parameter, so a test can
/// tell whether the call overwrote it. The library only writes through
/// `error`, and it never reads the old value.
fn error_sentinel() -> *mut SyphtError {
    NonNull::dangling().as_ptr()
}

/// What a C function returned: a pointer (NULL or not) or a status code.
#[derive(Debug, PartialEq)]
enum Returned {
    Null,
    NonNull,
    Code(i32),
}

fn pointer<T>(value: *mut T) -> Returned {
    if value.is_null() {
        Returned::Null
    } else {
        Returned::NonNull
    }
}

/// Checks that `call` fails with `code` and an error whose message names
/// `argument`, and that it fails the same way when `error` is NULL.
fn assert_rejects(
    function: &str,
    code: i32,
    argument: &str,
    call: impl Fn(*mut *mut SyphtError) -> Returned,
) {
    let mut error = error_sentinel();
    let returned = call(&mut error);

    match returned {
        Returned::Null => {}
        Returned::Code(returned_code) => {
            assert_eq!(returned_code, code, "{function} returned the wrong code")
        }
        Returned::NonNull => panic!("{function} succeeded but should fail with code {code}"),
    }
    assert!(
        !error.is_null(),
        "{function} failed without storing an error"
    );
    assert_ne!(error, error_sentinel(), "{function} left `error` unchanged");
    assert_eq!(
        sypht_error_code(error),
        code,
        "{function}: wrong error code"
    );
    // SAFETY: the library returns a NUL-terminated string owned by `error`.
    let message = unsafe { CStr::from_ptr(sypht_error_message(error)) }
        .to_str()
        .expect("the error message is UTF-8")
        .to_string();
    assert!(
        message.contains(argument),
        "{function}: the message {message:?} does not name `{argument}`"
    );
    assert_eq!(
        sypht_error_http_status(error),
        0,
        "{function}: an HTTP status without a request"
    );
    sypht_error_free(error);

    let returned_without_error = call(ptr::null_mut());
    assert_eq!(
        returned_without_error, returned,
        "{function} returned something else when `error` was NULL"
    );
}

/// Checks that a status-returning setter succeeds and stores NULL in
/// `error`, also when `error` is NULL.
fn assert_code_ok(function: &str, call: impl Fn(*mut *mut SyphtError) -> i32) {
    let mut error = error_sentinel();
    assert_eq!(call(&mut error), SYPHT_OK, "{function} failed");
    assert!(
        error.is_null(),
        "{function} succeeded but did not set `error` to NULL"
    );
    assert_eq!(
        call(ptr::null_mut()),
        SYPHT_OK,
        "{function} failed when `error` was NULL"
    );
}

/// Creates an options object with loopback endpoints that ignores the
/// environment.
fn loopback_options() -> *mut SyphtClientOptions {
    let options = sypht_client_options_new();
    assert!(!options.is_null(), "sypht_client_options_new returned NULL");
    let base = text(c"http://127.0.0.1:1");
    let auth = text(c"http://127.0.0.1:1/oauth2/token");
    assert_code_ok("set_ignore_env", |e| {
        sypht_client_options_set_ignore_env(options, true, e)
    });
    assert_code_ok("set_api_base", |e| {
        sypht_client_options_set_api_base(options, base, e)
    });
    assert_code_ok("set_auth_endpoint", |e| {
        sypht_client_options_set_auth_endpoint(options, auth, e)
    });
    options
}

/// Creates a client for argument checks, which never send a request.
fn loopback_client() -> *mut SyphtClient {
    let options = loopback_options();
    let mut error = error_sentinel();
    let client =
        sypht_client_new_with_options(options, text(c"test-id"), text(c"test-secret"), &mut error);
    sypht_client_options_free(options);
    assert!(!client.is_null(), "sypht_client_new_with_options failed");
    assert!(
        error.is_null(),
        "a successful sypht_client_new_with_options did not clear `error`"
    );
    client
}

#[test]
fn client_new_rejects_one_null_credential() {
    assert_rejects("sypht_client_new", INVALID_ARGUMENT, "client_id", |e| {
        pointer(sypht_client_new(ptr::null(), text(c"secret"), e))
    });
    assert_rejects("sypht_client_new", INVALID_ARGUMENT, "client_secret", |e| {
        pointer(sypht_client_new(text(c"id"), ptr::null(), e))
    });
}

#[test]
fn client_new_rejects_invalid_utf8() {
    assert_rejects("sypht_client_new", INVALID_UTF8, "client_id", |e| {
        pointer(sypht_client_new(invalid_utf8(), text(c"secret"), e))
    });
    assert_rejects("sypht_client_new", INVALID_UTF8, "client_secret", |e| {
        pointer(sypht_client_new(text(c"id"), invalid_utf8(), e))
    });
}

#[test]
fn client_new_with_options_rejects_bad_arguments() {
    let options = loopback_options();
    let function = "sypht_client_new_with_options";
    let id = text(c"id");
    let secret = text(c"secret");

    assert_rejects(function, INVALID_ARGUMENT, "options", |e| {
        pointer(sypht_client_new_with_options(ptr::null(), id, secret, e))
    });
    assert_rejects(function, INVALID_ARGUMENT, "client_id", |e| {
        pointer(sypht_client_new_with_options(
            options,
            ptr::null(),
            secret,
            e,
        ))
    });
    assert_rejects(function, INVALID_ARGUMENT, "client_secret", |e| {
        pointer(sypht_client_new_with_options(options, id, ptr::null(), e))
    });
    assert_rejects(function, INVALID_UTF8, "client_id", |e| {
        pointer(sypht_client_new_with_options(
            options,
            invalid_utf8(),
            secret,
            e,
        ))
    });
    assert_rejects(function, INVALID_UTF8, "client_secret", |e| {
        pointer(sypht_client_new_with_options(
            options,
            id,
            invalid_utf8(),
            e,
        ))
    });
    sypht_client_options_free(options);
}

#[test]
fn client_new_with_options_clears_error() {
    let client = loopback_client();
    sypht_client_free(client);

    // The same call with a NULL `error` out-parameter.
    let options = loopback_options();
    let client = sypht_client_new_with_options(
        options,
        text(c"test-id"),
        text(c"test-secret"),
        ptr::null_mut(),
    );
    assert!(
        !client.is_null(),
        "sypht_client_new_with_options failed when `error` was NULL"
    );
    sypht_client_free(client);
    sypht_client_options_free(options);
}

#[test]
fn client_authenticate_rejects_null_client() {
    assert_rejects(
        "sypht_client_authenticate",
        INVALID_ARGUMENT,
        "client",
        |e| Returned::Code(sypht_client_authenticate(ptr::null_mut(), e)),
    );
}

#[test]
fn upload_rejects_bad_arguments() {
    let client = loopback_client();
    let function = "sypht_upload";
    let path = text(c"invoice.pdf");
    let products = [text(c"invoices")];
    let null_product = [text(c"invoices"), ptr::null()];
    let invalid_product = [text(c"invoices"), invalid_utf8()];

    assert_rejects(function, INVALID_ARGUMENT, "client", |e| {
        pointer(sypht_upload(ptr::null_mut(), path, products.as_ptr(), 1, e))
    });
    assert_rejects(function, INVALID_ARGUMENT, "path", |e| {
        pointer(sypht_upload(client, ptr::null(), products.as_ptr(), 1, e))
    });
    assert_rejects(function, INVALID_UTF8, "path", |e| {
        pointer(sypht_upload(
            client,
            invalid_utf8(),
            products.as_ptr(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_ARGUMENT, "path", |e| {
        pointer(sypht_upload(client, text(c""), products.as_ptr(), 1, e))
    });
    assert_rejects(function, INVALID_ARGUMENT, "products", |e| {
        pointer(sypht_upload(client, path, ptr::null(), 1, e))
    });
    assert_rejects(function, INVALID_ARGUMENT, "products[1]", |e| {
        pointer(sypht_upload(client, path, null_product.as_ptr(), 2, e))
    });
    assert_rejects(function, INVALID_UTF8, "products[1]", |e| {
        pointer(sypht_upload(client, path, invalid_product.as_ptr(), 2, e))
    });
    sypht_client_free(client);
}

#[test]
fn upload_bytes_rejects_bad_arguments() {
    let client = loopback_client();
    let function = "sypht_upload_bytes";
    let data = b"%PDF-1.4\n";
    let name = text(c"invoice.pdf");
    let products = [text(c"invoices")];
    let null_product = [ptr::null()];
    let invalid_product = [invalid_utf8()];

    assert_rejects(function, INVALID_ARGUMENT, "client", |e| {
        pointer(sypht_upload_bytes(
            ptr::null_mut(),
            data.as_ptr(),
            data.len(),
            name,
            products.as_ptr(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_ARGUMENT, "data", |e| {
        pointer(sypht_upload_bytes(
            client,
            ptr::null(),
            data.len(),
            name,
            products.as_ptr(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_ARGUMENT, "file_name", |e| {
        pointer(sypht_upload_bytes(
            client,
            data.as_ptr(),
            data.len(),
            ptr::null(),
            products.as_ptr(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_UTF8, "file_name", |e| {
        pointer(sypht_upload_bytes(
            client,
            data.as_ptr(),
            data.len(),
            invalid_utf8(),
            products.as_ptr(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_ARGUMENT, "products", |e| {
        pointer(sypht_upload_bytes(
            client,
            data.as_ptr(),
            data.len(),
            name,
            ptr::null(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_ARGUMENT, "products[0]", |e| {
        pointer(sypht_upload_bytes(
            client,
            data.as_ptr(),
            data.len(),
            name,
            null_product.as_ptr(),
            1,
            e,
        ))
    });
    assert_rejects(function, INVALID_UTF8, "products[0]", |e| {
        pointer(sypht_upload_bytes(
            client,
            data.as_ptr(),
            data.len(),
            name,
            invalid_product.as_ptr(),
            1,
            e,
        ))
    });
    sypht_client_free(client);
}

#[test]
fn get_results_rejects_bad_arguments() {
    let client = loopback_client();
    let file_id = text(c"0b4ef9a0-1d35-4e0a-9a43-6d3f1a2b7c55");
    type GetResults =
        extern "C" fn(*mut SyphtClient, *const c_char, *mut *mut SyphtError) -> *mut c_char;
    let functions: [(&str, GetResults); 2] = [
        ("sypht_get_results", sypht_get_results),
        ("sypht_get_results_verbose", sypht_get_results_verbose),
    ];

    for (function, get_results) in functions {
        assert_rejects(function, INVALID_ARGUMENT, "client", |e| {
            pointer(get_results(ptr::null_mut(), file_id, e))
        });
        assert_rejects(function, INVALID_ARGUMENT, "file_id", |e| {
            pointer(get_results(client, ptr::null(), e))
        });
        assert_rejects(function, INVALID_UTF8, "file_id", |e| {
            pointer(get_results(client, invalid_utf8(), e))
        });
    }
    sypht_client_free(client);
}

/// One setter call with its arguments bound, taking only `error`.
type SetterCall<'a> = dyn Fn(*mut *mut SyphtError) -> i32 + 'a;

#[test]
fn options_setters_reject_null_options() {
    let url = text(c"http://127.0.0.1:1");
    let checks: Vec<(&str, Box<SetterCall<'_>>)> = vec![
        (
            "set_api_base",
            Box::new(|e| sypht_client_options_set_api_base(ptr::null_mut(), url, e)),
        ),
        (
            "set_auth_endpoint",
            Box::new(|e| sypht_client_options_set_auth_endpoint(ptr::null_mut(), url, e)),
        ),
        (
            "set_audience",
            Box::new(|e| sypht_client_options_set_audience(ptr::null_mut(), url, e)),
        ),
        (
            "set_auth_flow",
            Box::new(|e| {
                sypht_client_options_set_auth_flow(ptr::null_mut(), SYPHT_AUTH_FLOW_CURRENT, e)
            }),
        ),
        (
            "set_connect_timeout_ms",
            Box::new(|e| sypht_client_options_set_connect_timeout_ms(ptr::null_mut(), 1000, e)),
        ),
        (
            "set_request_timeout_ms",
            Box::new(|e| sypht_client_options_set_request_timeout_ms(ptr::null_mut(), 1000, e)),
        ),
        (
            "set_results_deadline_ms",
            Box::new(|e| sypht_client_options_set_results_deadline_ms(ptr::null_mut(), 1000, e)),
        ),
        (
            "set_user_agent",
            Box::new(|e| {
                sypht_client_options_set_user_agent(ptr::null_mut(), text(c"test/1.0"), e)
            }),
        ),
        (
            "set_max_response_bytes",
            Box::new(|e| sypht_client_options_set_max_response_bytes(ptr::null_mut(), 1024, e)),
        ),
        (
            "set_allow_insecure_http",
            Box::new(|e| sypht_client_options_set_allow_insecure_http(ptr::null_mut(), true, e)),
        ),
        (
            "set_ignore_env",
            Box::new(|e| sypht_client_options_set_ignore_env(ptr::null_mut(), true, e)),
        ),
    ];

    for (function, call) in &checks {
        assert_rejects(function, INVALID_ARGUMENT, "options", |e| {
            Returned::Code(call(e))
        });
    }
}

#[test]
fn options_setters_reject_bad_strings() {
    let options = sypht_client_options_new();
    type SetString =
        extern "C" fn(*mut SyphtClientOptions, *const c_char, *mut *mut SyphtError) -> i32;
    let setters: [(&str, &str, SetString); 4] = [
        (
            "sypht_client_options_set_api_base",
            "url",
            sypht_client_options_set_api_base,
        ),
        (
            "sypht_client_options_set_auth_endpoint",
            "url",
            sypht_client_options_set_auth_endpoint,
        ),
        (
            "sypht_client_options_set_audience",
            "audience",
            sypht_client_options_set_audience,
        ),
        (
            "sypht_client_options_set_user_agent",
            "user_agent",
            sypht_client_options_set_user_agent,
        ),
    ];

    for (function, argument, set) in setters {
        assert_rejects(function, INVALID_ARGUMENT, argument, |e| {
            Returned::Code(set(options, ptr::null(), e))
        });
        assert_rejects(function, INVALID_UTF8, argument, |e| {
            Returned::Code(set(options, invalid_utf8(), e))
        });
    }
    sypht_client_options_free(options);
}

#[test]
fn options_setters_reject_out_of_range() {
    let options = sypht_client_options_new();

    assert_rejects(
        "sypht_client_options_set_auth_flow",
        INVALID_ARGUMENT,
        "auth flow 3",
        |e| Returned::Code(sypht_client_options_set_auth_flow(options, 3, e)),
    );
    assert_rejects(
        "sypht_client_options_set_connect_timeout_ms",
        INVALID_ARGUMENT,
        "timeout_ms",
        |e| Returned::Code(sypht_client_options_set_connect_timeout_ms(options, 0, e)),
    );
    assert_rejects(
        "sypht_client_options_set_request_timeout_ms",
        INVALID_ARGUMENT,
        "timeout_ms",
        |e| Returned::Code(sypht_client_options_set_request_timeout_ms(options, 0, e)),
    );
    assert_rejects(
        "sypht_client_options_set_max_response_bytes",
        INVALID_ARGUMENT,
        "max_bytes",
        |e| Returned::Code(sypht_client_options_set_max_response_bytes(options, 0, e)),
    );
    sypht_client_options_free(options);
}

#[test]
fn options_setters_clear_error() {
    let options = sypht_client_options_new();

    assert_code_ok("set_api_base", |e| {
        sypht_client_options_set_api_base(options, text(c"http://127.0.0.1:1"), e)
    });
    assert_code_ok("set_auth_endpoint", |e| {
        sypht_client_options_set_auth_endpoint(options, text(c"http://127.0.0.1:1/oauth/token"), e)
    });
    assert_code_ok("set_audience", |e| {
        sypht_client_options_set_audience(options, text(c"http://127.0.0.1:1"), e)
    });
    for flow in [
        SYPHT_AUTH_FLOW_AUTO,
        SYPHT_AUTH_FLOW_CURRENT,
        SYPHT_AUTH_FLOW_LEGACY,
    ] {
        assert_code_ok("set_auth_flow", |e| {
            sypht_client_options_set_auth_flow(options, flow, e)
        });
    }
    assert_code_ok("set_connect_timeout_ms", |e| {
        sypht_client_options_set_connect_timeout_ms(options, 1_000, e)
    });
    assert_code_ok("set_request_timeout_ms", |e| {
        sypht_client_options_set_request_timeout_ms(options, 1_000, e)
    });
    assert_code_ok("set_results_deadline_ms", |e| {
        sypht_client_options_set_results_deadline_ms(options, 0, e)
    });
    assert_code_ok("set_user_agent", |e| {
        sypht_client_options_set_user_agent(options, text(c"c-abi-test/1.0"), e)
    });
    assert_code_ok("set_max_response_bytes", |e| {
        sypht_client_options_set_max_response_bytes(options, 1024, e)
    });
    assert_code_ok("set_allow_insecure_http", |e| {
        sypht_client_options_set_allow_insecure_http(options, false, e)
    });
    assert_code_ok("set_ignore_env", |e| {
        sypht_client_options_set_ignore_env(options, true, e)
    });
    sypht_client_options_free(options);
}

#[test]
fn free_functions_accept_null() {
    sypht_client_free(ptr::null_mut());
    sypht_client_options_free(ptr::null_mut());
    sypht_error_free(ptr::null_mut());
    sypht_free_string(ptr::null_mut());
}

#[test]
fn error_accessors_accept_null() {
    assert_eq!(sypht_error_code(ptr::null()), SYPHT_OK);
    assert_eq!(sypht_error_http_status(ptr::null()), 0);
    assert!(sypht_error_result_status(ptr::null()).is_null());
    let message = sypht_error_message(ptr::null());
    assert!(
        !message.is_null(),
        "sypht_error_message(NULL) returned NULL"
    );
    // SAFETY: checked non-NULL; the library returns a static empty string.
    assert_eq!(unsafe { CStr::from_ptr(message) }.to_bytes(), b"");
}

#[test]
fn error_code_name_covers_every_code() {
    let name_of = |code: i32| {
        // SAFETY: the library returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(sypht_error_code_name(code)) }
            .to_str()
            .expect("code names are UTF-8")
    };

    for code in SYPHT_OK..=SYPHT_ERROR_LIMIT_EXCEEDED {
        assert_ne!(
            name_of(code),
            "unknown error code",
            "code {code} has no name"
        );
        assert!(!name_of(code).is_empty(), "code {code} has an empty name");
    }
    for code in [-1, SYPHT_ERROR_LIMIT_EXCEEDED + 1, i32::MAX, i32::MIN] {
        assert_eq!(
            name_of(code),
            "unknown error code",
            "code {code} has a name"
        );
    }
}

#[test]
fn version_matches_the_crate() {
    let version = sypht_version();
    assert!(!version.is_null(), "sypht_version returned NULL");
    // SAFETY: checked non-NULL; the library returns a static string.
    let version = unsafe { CStr::from_ptr(version) }
        .to_str()
        .expect("the version is UTF-8");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}
