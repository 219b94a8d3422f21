//! Secrets under a hostile server: a token endpoint and an API that echo
//! the Authorization header and the request body back in error messages,
//! in 200 bodies and in redirect targets. No error message, Display or
//! Debug output may then contain the client secret, the Basic credential
//! or an access token. Also: credentials are rejected over plain http://
//! to hosts that are not loopback, from Rust and from C.

mod support;

use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use support::{Recorded, Reply, ScriptedServer};
use sypht::{AuthFlow, Client, ErrorKind, ResultsOptions, RetryPolicy, UploadOptions};

const CLIENT_ID: &str = "hostile-test-id";
const CLIENT_SECRET: &str = "s3cr3t/Canary+7f1c=2e9a";

fn basic_value() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
}

/// Everything the request carried that a hostile server could echo.
fn echo(request: &Recorded) -> String {
    let authorization = request.header("authorization").unwrap_or("");
    format!(
        "you sent {authorization} with {}",
        String::from_utf8_lossy(&request.body)
    )
}

/// Percent-encodes every byte of `text` but letters and digits, as a
/// server that echoes a request inside a URL might.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Collects every text a caller can see and checks it for secrets.
struct Scanner {
    secrets: Vec<String>,
    scanned: usize,
}

impl Scanner {
    fn new() -> Scanner {
        Scanner {
            secrets: vec![CLIENT_SECRET.to_string(), basic_value()],
            scanned: 0,
        }
    }

    fn add_secret(&mut self, secret: String) {
        if !self.secrets.contains(&secret) {
            self.secrets.push(secret);
        }
    }

    fn check(&mut self, what: &str, text: &str) {
        self.scanned += 1;
        let encoded: Vec<String> = self.secrets.iter().map(|s| percent_encoded(s)).collect();
        for secret in self.secrets.iter().chain(&encoded) {
            assert!(
                !text.contains(secret.as_str()),
                "{what} contains a secret: {text}"
            );
            // A truncated message must not keep a long piece of one either.
            let head = &secret[..secret.len().min(12)];
            assert!(
                !text.contains(head),
                "{what} contains the start of a secret: {text}"
            );
        }
    }

    fn check_error(&mut self, what: &str, err: &sypht::Error) {
        self.check(what, &err.to_string());
        self.check(what, &format!("{err:?}"));
        self.check(what, err.message());
    }
}

fn hostile_client(server: &ScriptedServer, flow: AuthFlow) -> Client {
    let auth_path = match flow {
        AuthFlow::Legacy => "/oauth/token",
        _ => "/oauth2/token",
    };
    Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(server.url())
        .auth_endpoint(format!("{}{auth_path}", server.url()))
        .auth_flow(flow)
        .ignore_env(true)
        .retry_policy(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        })
        .results_deadline(Duration::from_millis(300))
        .build()
        .unwrap()
}

/// The hostile token endpoint's replies, each echoing the request.
const TOKEN_REPLIES: usize = 10;

fn hostile_token_reply(kind: usize, r: &Recorded) -> Reply {
    // 500 characters of padding put the echoed secret right where the
    // message is cut at 512 characters.
    let padding = "p".repeat(500);
    match kind {
        0 => Reply::json(400, serde_json::json!({ "error": echo(r) }).to_string()),
        1 => Reply::json(
            401,
            serde_json::json!({ "error": "invalid_client", "error_description": echo(r) })
                .to_string(),
        ),
        2 => Reply::Respond {
            status: 500,
            content_type: "text/html",
            headers: vec![],
            body: format!("<pre>{}</pre>", echo(r)).into_bytes(),
        },
        3 => Reply::json(
            400,
            serde_json::json!({ "error": format!("{padding}{}", echo(r)) }).to_string(),
        ),
        4 => Reply::json(
            200,
            serde_json::json!({ "access_token": 5, "echo": echo(r) }).to_string(),
        ),
        5 => Reply::json(200, format!("not json: {}", echo(r))),
        6 => Reply::json(
            200,
            serde_json::json!({ "access_token": "t", "expires_in": echo(r) }).to_string(),
        ),
        7 => Reply::json(302, "{}").with_header(
            "Location",
            &format!("http://127.0.0.1:9/{}", echo(r).replace(' ', "_")),
        ),
        8 => Reply::json(
            400,
            serde_json::json!({ "error": percent_encoded(&echo(r)) }).to_string(),
        ),
        _ => Reply::json(302, "{}").with_header(
            "Location",
            &format!("http://127.0.0.1:9/?echo={}", percent_encoded(&echo(r))),
        ),
    }
}

#[test]
fn hostile_token_endpoint_cannot_leak_credentials() {
    let mut scanner = Scanner::new();
    for kind in 0..TOKEN_REPLIES {
        for flow in [AuthFlow::Current, AuthFlow::Legacy] {
            let server = ScriptedServer::start(move |r| hostile_token_reply(kind, r));
            let client = hostile_client(&server, flow);
            let err = client.authenticate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Auth, "reply {kind} {flow:?}: {err}");
            scanner.check_error(&format!("reply {kind} {flow:?}"), &err);
            // The server really did get the credentials it echoed.
            let request = server.requests().into_iter().next().unwrap();
            let sent = request.text();
            assert!(
                sent.contains(CLIENT_SECRET) || sent.contains(&basic_value()),
                "{sent}"
            );

            let message = c_authenticate_error(&server, flow);
            scanner.check(&format!("C message, reply {kind} {flow:?}"), &message);
        }
    }
    assert!(scanner.scanned >= 64);
}

/// Authenticates through the C ABI and returns the error message.
fn c_authenticate_error(server: &ScriptedServer, flow: AuthFlow) -> String {
    use sypht::ffi::*;
    let auth_path = if flow == AuthFlow::Legacy {
        "/oauth/token"
    } else {
        "/oauth2/token"
    };
    let base = CString::new(server.url()).unwrap();
    let auth = CString::new(format!("{}{auth_path}", server.url())).unwrap();
    let id = CString::new(CLIENT_ID).unwrap();
    let secret = CString::new(CLIENT_SECRET).unwrap();
    let mut error = std::ptr::null_mut();
    let options = sypht_client_options_new();
    assert_eq!(
        sypht_client_options_set_api_base(options, base.as_ptr(), &mut error),
        0
    );
    assert_eq!(
        sypht_client_options_set_auth_endpoint(options, auth.as_ptr(), &mut error),
        0
    );
    assert_eq!(
        sypht_client_options_set_ignore_env(options, true, &mut error),
        0
    );
    assert_eq!(
        sypht_client_options_set_retries(options, 0, 0, 0, &mut error),
        0
    );
    let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
    sypht_client_options_free(options);
    assert!(!client.is_null());
    assert_eq!(
        sypht_client_authenticate(client, &mut error),
        SYPHT_ERROR_AUTH
    );
    // SAFETY: the message is a NUL-terminated string owned by `error`.
    let message = unsafe { CStr::from_ptr(sypht_error_message(error)) }
        .to_string_lossy()
        .into_owned();
    sypht_error_free(error);
    sypht_client_free(client);
    message
}

#[test]
fn hostile_api_cannot_leak_token() {
    let mut scanner = Scanner::new();
    let issued = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = ScriptedServer::start(move |r| {
        if r.target.starts_with("/oauth2/token") {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            return Reply::json(
                200,
                format!(r#"{{"access_token":"tok-Canary-{n:04}-abcdef","expires_in":3600}}"#),
            );
        }
        let echoed = echo(r);
        let path = r.target.as_str();
        if path.starts_with("/result/final/e500") {
            Reply::json(500, serde_json::json!({ "message": echoed }).to_string())
        } else if path.starts_with("/result/final/e401") {
            Reply::json(401, serde_json::json!({ "message": echoed }).to_string())
        } else if path.starts_with("/result/final/badjson") {
            Reply::json(200, format!("{{\"status\": {echoed}"))
        } else if path.starts_with("/result/final/nostatus") {
            Reply::json(200, serde_json::json!({ "echo": echoed }).to_string())
        } else if path.starts_with("/result/final/redirect") {
            Reply::json(307, "{}").with_header(
                "Location",
                &format!("http://127.0.0.1:9/{}", echoed.replace(' ', "_")),
            )
        } else if path.starts_with("/result/final/pending") {
            Reply::json(200, serde_json::json!({ "status": echoed }).to_string())
        } else if path.starts_with("/fileupload") {
            Reply::json(200, serde_json::json!({ "echo": echoed }).to_string())
        } else {
            Reply::json(404, serde_json::json!({ "message": echoed }).to_string())
        }
    });
    let client = hostile_client(&server, AuthFlow::Current);
    for n in 0..4 {
        scanner.add_secret(format!("tok-Canary-{n:04}-abcdef"));
    }
    let options = ResultsOptions::default();
    for id in ["e500", "e401", "badjson", "nostatus", "redirect", "missing"] {
        let err = client.fetch_results(id, &options).unwrap_err();
        scanner.check_error(id, &err);
    }
    let err = client.get_results("pending").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFinalised);
    scanner.check_error("pending", &err);
    scanner.check("pending result status", err.result_status().unwrap_or(""));
    let err = client
        .upload_bytes(b"%PDF-1.4", "a.pdf", &UploadOptions::products(["invoices"]))
        .unwrap_err();
    scanner.check_error("upload", &err);
    let err = client.request("GET", "/other", None).unwrap_err();
    scanner.check_error("raw request", &err);

    scanner.check("client Debug", &format!("{client:?}"));
    let builder = Client::builder().credentials(CLIENT_ID, CLIENT_SECRET);
    scanner.check("builder Debug", &format!("{builder:?}"));
    // The server saw real tokens, so the scan above was meaningful.
    assert!(server.requests().iter().any(|r| r
        .header("authorization")
        .is_some_and(|v| v.contains("tok-Canary-"))));
    assert!(
        issued.load(Ordering::SeqCst) >= 2,
        "the 401 should have fetched a second token"
    );
}

#[test]
fn plain_http_to_remote_host_rejected() {
    // Building a client sends nothing, so these names are never resolved.
    for (base, auth) in [
        (
            "http://sypht-test.invalid",
            "https://sypht-test.invalid/oauth2/token",
        ),
        (
            "https://sypht-test.invalid",
            "http://sypht-test.invalid/oauth2/token",
        ),
        (
            "http://10.0.0.1:8080",
            "https://sypht-test.invalid/oauth2/token",
        ),
    ] {
        let builder = Client::builder()
            .credentials(CLIENT_ID, CLIENT_SECRET)
            .api_base(base)
            .auth_endpoint(auth)
            .ignore_env(true);
        let err = builder.clone().build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{base} {auth}");
        assert!(err.message().contains("allow_insecure_http"), "{err}");
        assert!(
            builder.allow_insecure_http(true).build().is_ok(),
            "{base} {auth}"
        );
    }
    for loopback in ["http://127.0.0.1:9", "http://[::1]:9", "http://localhost:9"] {
        let built = Client::builder()
            .credentials(CLIENT_ID, CLIENT_SECRET)
            .api_base(loopback)
            .auth_endpoint(format!("{loopback}/oauth2/token"))
            .ignore_env(true)
            .build();
        assert!(built.is_ok(), "{loopback}");
    }
}

#[test]
fn plain_http_rejected_from_c() {
    use sypht::ffi::*;
    let base = CString::new("http://sypht-test.invalid").unwrap();
    let auth = CString::new("https://sypht-test.invalid/oauth2/token").unwrap();
    let id = CString::new(CLIENT_ID).unwrap();
    let secret = CString::new(CLIENT_SECRET).unwrap();
    let mut error = std::ptr::null_mut();
    let options = sypht_client_options_new();
    assert_eq!(
        sypht_client_options_set_api_base(options, base.as_ptr(), &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_auth_endpoint(options, auth.as_ptr(), &mut error),
        SYPHT_OK
    );
    assert_eq!(
        sypht_client_options_set_ignore_env(options, true, &mut error),
        SYPHT_OK
    );

    let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
    assert!(client.is_null());
    assert_eq!(sypht_error_code(error), SYPHT_ERROR_CONFIG);
    // SAFETY: the message is a NUL-terminated string owned by `error`.
    let message = unsafe { CStr::from_ptr(sypht_error_message(error)) }
        .to_string_lossy()
        .into_owned();
    assert!(message.contains("http://"), "{message}");
    assert!(!message.contains(CLIENT_SECRET), "{message}");
    sypht_error_free(error);

    assert_eq!(
        sypht_client_options_set_allow_insecure_http(options, true, &mut error),
        SYPHT_OK
    );
    let client = sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
    assert!(!client.is_null());
    assert!(error.is_null());
    sypht_client_free(client);
    sypht_client_options_free(options);
}
