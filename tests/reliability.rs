//! The client against injected faults: retries and backoff, uploads that
//! must not be resent, 401 handling, odd token responses, timeouts,
//! redirects, size caps and error bodies.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use support::{Forwarder, Reply, ScriptedServer};
use sypht::{Client, ErrorKind, ResultsOptions, RetryPolicy, UploadOptions};
use sypht_emulator::{Emulator, FaultAction, FaultRule};

fn invoices() -> UploadOptions {
    UploadOptions::products(["invoices"])
}

fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(40),
    }
}

fn status_fault(prefix: &str, status: u16, retry_after: Option<&str>) -> FaultRule {
    let action = FaultAction::Status {
        status,
        retry_after: retry_after.map(str::to_string),
        body: None,
    };
    FaultRule::new(prefix, action)
}

/// Uploads one small document and returns its id.
fn upload_one(client: &Client) -> String {
    client
        .upload_bytes(&make_pdf(1, "reliability"), "r.pdf", &invoices())
        .unwrap()
}

fn fetch(client: &Client, file_id: &str) -> sypht::Result<sypht::ResultsResponse> {
    client.fetch_results(file_id, &ResultsOptions::default())
}

/// Requests that reached `GET /result/final`, faulted or not. The
/// emulator counts a request when it arrives; its request log is written
/// only after the response, which can be after the client has returned.
fn result_requests(emu: &Emulator) -> u64 {
    emu.stats().result_requests
}

/// Requests that reached `POST /fileupload`, faulted or not.
fn upload_requests(emu: &Emulator) -> u64 {
    emu.stats().uploads
}

#[test]
fn get_retries_retryable_statuses() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(4)).build().unwrap();
    let file_id = upload_one(&client);
    for status in [429, 502, 503, 504] {
        emu.inject_fault(status_fault("/result/final/", status, None).method("GET"))
            .unwrap();
    }
    let response = fetch(&client, &file_id).unwrap();
    assert!(response.is_finalised());
    assert_eq!(result_requests(&emu), 5);
}

#[test]
fn get_honours_retry_after() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(2)).build().unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(status_fault("/result/final/", 503, Some("1")).method("GET"))
        .unwrap();
    let start = Instant::now();
    fetch(&client, &file_id).unwrap();
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1),
        "retried after {elapsed:?}, before Retry-After"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(result_requests(&emu), 2);
}

#[test]
fn backoff_grows_and_is_capped() {
    let emu = emulator();
    let policy = RetryPolicy {
        max_retries: 4,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
    };
    let client = builder(&emu).retry_policy(policy).build().unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(
        status_fault("/result/final/", 502, None)
            .method("GET")
            .times(4),
    )
    .unwrap();
    let start = Instant::now();
    fetch(&client, &file_id).unwrap();
    let elapsed = start.elapsed();
    // Waits are 50-100, 100-200, then capped at 100-200 twice: 350-700 ms.
    assert!(
        elapsed >= Duration::from_millis(350),
        "backoff too short: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "backoff not capped: {elapsed:?}"
    );
    assert_eq!(result_requests(&emu), 5);
}

#[test]
fn get_gives_up_after_max_retries() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(2)).build().unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(
        status_fault("/result/final/", 503, None)
            .method("GET")
            .times(10),
    )
    .unwrap();
    let err = fetch(&client, &file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(result_requests(&emu), 3);
}

#[test]
fn retries_zero_sends_once() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(0)).build().unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(status_fault("/result/final/", 503, None).method("GET"))
        .unwrap();
    assert_eq!(
        fetch(&client, &file_id).unwrap_err().http_status(),
        Some(503)
    );
    assert_eq!(result_requests(&emu), 1);
}

#[test]
fn get_retried_after_connection_faults() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(3)).build().unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(FaultRule::new("/result/final/", FaultAction::Reset))
        .unwrap();
    emu.inject_fault(FaultRule::new("/result/final/", FaultAction::TruncatedBody))
        .unwrap();
    assert!(fetch(&client, &file_id).unwrap().is_finalised());
    assert_eq!(result_requests(&emu), 3);
}

#[test]
fn upload_not_resent_after_reset() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(3)).build().unwrap();
    client.authenticate().unwrap();
    emu.inject_fault(FaultRule::new("/fileupload", FaultAction::Reset).method("POST"))
        .unwrap();
    let err = client
        .upload_bytes(&make_pdf(1, "reset"), "reset.pdf", &invoices())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(upload_requests(&emu), 1);
    assert_eq!(emu.stats().uploads, 1);
}

#[test]
fn upload_not_resent_after_5xx() {
    for status in [502, 503, 429] {
        let emu = emulator();
        let client = builder(&emu).retry_policy(fast_retries(3)).build().unwrap();
        emu.inject_fault(status_fault("/fileupload", status, Some("0")).method("POST"))
            .unwrap();
        let err = client
            .upload_bytes(&make_pdf(1, "5xx"), "5xx.pdf", &invoices())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::HttpStatus, "{err}");
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(
            upload_requests(&emu),
            1,
            "upload resent after HTTP {status}"
        );
    }
}

#[test]
fn upload_not_resent_after_truncated_answer() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(3)).build().unwrap();
    emu.inject_fault(FaultRule::new("/fileupload", FaultAction::TruncatedBody))
        .unwrap();
    let err = client
        .upload_bytes(&make_pdf(1, "cut"), "cut.pdf", &invoices())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(upload_requests(&emu), 1);
}

#[test]
fn upload_survives_closed_idle_connection() {
    let emu = emulator();
    let forwarder = Forwarder::start(emu.local_addr());
    let client = Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(forwarder.url())
        .auth_endpoint(format!("{}/oauth2/token", forwarder.url()))
        .ignore_env(true)
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    upload_one(&client);
    assert_eq!(
        forwarder.connections(),
        1,
        "token and upload share one pooled connection"
    );
    // The server side drops the idle keep-alive connection.
    forwarder.close_all();
    std::thread::sleep(Duration::from_millis(100));
    upload_one(&client);
    assert_eq!(forwarder.connections(), 2);
    assert_eq!(upload_requests(&emu), 2);
}

#[test]
fn retry_settings_from_c() {
    use std::ffi::CString;
    use sypht::ffi::*;

    let emu = emulator();
    let rust_client = client(&emu);
    let file_id = upload_one(&rust_client);
    let base = CString::new(emu.base_url()).unwrap();
    let auth = CString::new(emu.auth_url()).unwrap();
    let id = CString::new(CLIENT_ID).unwrap();
    let secret = CString::new(CLIENT_SECRET).unwrap();
    let file = CString::new(file_id).unwrap();
    let make_client = |retries: u32, deadline_ms: Option<u64>| {
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
            sypht_client_options_set_retries(options, retries, 20, 40, &mut error),
            0
        );
        assert_eq!(
            sypht_client_options_set_read_timeout_ms(options, 5000, &mut error),
            0
        );
        if let Some(ms) = deadline_ms {
            assert_eq!(
                sypht_client_options_set_call_deadline_ms(options, ms, &mut error),
                0
            );
        }
        let client =
            sypht_client_new_with_options(options, id.as_ptr(), secret.as_ptr(), &mut error);
        sypht_client_options_free(options);
        assert!(!client.is_null());
        client
    };

    // No retries: one 503 fails the call.
    let client = make_client(0, None);
    emu.inject_fault(status_fault("/result/final/", 503, None).method("GET"))
        .unwrap();
    let mut error = std::ptr::null_mut();
    let json = sypht_get_results(client, file.as_ptr(), &mut error);
    assert!(json.is_null());
    assert_eq!(sypht_error_code(error), SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(sypht_error_http_status(error), 503);
    sypht_error_free(error);
    sypht_client_free(client);

    // Two retries ride out two 503s.
    let client = make_client(2, None);
    emu.inject_fault(
        status_fault("/result/final/", 503, None)
            .method("GET")
            .times(2),
    )
    .unwrap();
    let json = sypht_get_results(client, file.as_ptr(), &mut error);
    assert!(!json.is_null());
    assert!(error.is_null());
    sypht_free_string(json);
    sypht_client_free(client);

    // A call deadline shorter than Retry-After stops the retries early.
    let client = make_client(5, Some(700));
    emu.inject_fault(
        status_fault("/result/final/", 503, Some("2"))
            .method("GET")
            .times(5),
    )
    .unwrap();
    let start = Instant::now();
    let json = sypht_get_results(client, file.as_ptr(), &mut error);
    let elapsed = start.elapsed();
    assert!(json.is_null());
    assert_eq!(sypht_error_http_status(error), 503);
    assert!(
        elapsed < Duration::from_millis(1500),
        "the deadline did not stop retries: {elapsed:?}"
    );
    sypht_error_free(error);
    sypht_client_free(client);
}

#[test]
fn call_deadline_bounds_a_stalled_call() {
    let emu = emulator();
    let client = builder(&emu)
        .call_deadline(Duration::from_millis(600))
        .build()
        .unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(FaultRule::new(
        "/result/final/",
        FaultAction::StallBeforeResponse(Duration::from_secs(5)),
    ))
    .unwrap();
    let start = Instant::now();
    let err = fetch(&client, &file_id).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.code(), 6);
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
}

#[test]
fn revoked_token_is_replaced_once() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = upload_one(&client);
    emu.revoke_tokens();
    assert!(fetch(&client, &file_id).unwrap().is_finalised());
    let stats = emu.stats();
    assert_eq!(stats.token_requests, 2);
    // One upload, then the rejected GET and its resend.
    assert_eq!(result_requests(&emu), 2);
}

#[test]
fn second_401_is_an_auth_error() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = upload_one(&client);
    emu.inject_fault(status_fault("/result/final/", 401, None).times(10))
        .unwrap();
    let err = fetch(&client, &file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.code(), 7);
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(
        result_requests(&emu),
        2,
        "a 401 must be resent exactly once"
    );
    assert_eq!(emu.stats().token_requests, 2);
    // The rule still has 8 uses left: nothing else was sent.
    assert_eq!(emu.faults()[0].1.count, 8);
}

#[test]
fn upload_resent_once_after_401() {
    let emu = emulator();
    let client = client(&emu);
    emu.inject_fault(status_fault("/fileupload", 401, None))
        .unwrap();
    upload_one(&client);
    assert_eq!(upload_requests(&emu), 2);
    assert_eq!(emu.stats().token_requests, 2);
}

/// A loopback server acting as token endpoint (returning `token_body`)
/// and as results endpoint (always FINALISED).
fn token_server(token_body: &'static str) -> ScriptedServer {
    ScriptedServer::start(move |request| {
        if request.target.starts_with("/oauth2/token") {
            Reply::json(200, token_body)
        } else {
            Reply::json(
                200,
                r#"{"fileId":"f","status":"FINALISED","results":{"fields":[]}}"#,
            )
        }
    })
}

fn token_client(server: &ScriptedServer) -> Client {
    Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(server.url())
        .auth_endpoint(format!("{}/oauth2/token", server.url()))
        .ignore_env(true)
        .retry_policy(fast_retries(1))
        .build()
        .unwrap()
}

fn token_requests(server: &ScriptedServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/oauth2/token"))
        .count()
}

#[test]
fn token_lifetime_shapes_over_the_wire() {
    // Each lifetime is 1 to 1.2 s, so after 1.3 s the token must be
    // refreshed; without expires_in the fallback lifetime is minutes.
    for (body, refreshes) in [
        (r#"{"access_token":"tok-number","expires_in":1}"#, true),
        (r#"{"access_token":"tok-string","expires_in":"1"}"#, true),
        (r#"{"access_token":"tok-float","expires_in":1.2}"#, true),
        (
            r#"{"access_token":"tok-missing","token_type":"Bearer"}"#,
            false,
        ),
        (r#"{"access_token":"tok-null","expires_in":null}"#, false),
    ] {
        let server = token_server(body);
        let client = token_client(&server);
        fetch(&client, "f").unwrap();
        fetch(&client, "f").unwrap();
        assert_eq!(token_requests(&server), 1, "{body}: token not reused");
        std::thread::sleep(Duration::from_millis(1300));
        fetch(&client, "f").unwrap();
        let expected = if refreshes { 2 } else { 1 };
        assert_eq!(token_requests(&server), expected, "{body}");
        let bearer = server
            .requests()
            .last()
            .unwrap()
            .header("authorization")
            .unwrap()
            .to_string();
        let token = body.split('"').nth(3).unwrap();
        assert_eq!(bearer, format!("Bearer {token}"));
    }
}

#[test]
fn junk_token_responses_are_auth_errors() {
    for (body, expected) in [
        (r#"{"access_token":"t","expires_in":"soon"}"#, "expires_in"),
        (r#"{"access_token":"t","expires_in":-5}"#, "expires_in"),
        (r#"{"access_token":"t","expires_in":{"s":1}}"#, "expires_in"),
        (r#"{"access_token":"t","expires_in":1e300}"#, "expires_in"),
        (r#"{"access_token":42,"expires_in":60}"#, "access_token"),
        (r#"{"access_token":"","expires_in":60}"#, "access_token"),
        (r#"{"access_token":"a b","expires_in":60}"#, "access_token"),
        (r#"{"expires_in":60}"#, "access_token"),
        (r#"["access_token"]"#, "not a JSON object"),
        ("<html>sign in</html>", "not a JSON object"),
        ("", "not a JSON object"),
    ] {
        let server = token_server(body);
        let client = token_client(&server);
        let err = client.authenticate().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{body}: {err}");
        assert!(err.message().contains(expected), "{body}: {err}");
        assert!(
            fetch(&client, "f").is_err(),
            "{body}: a call went ahead without a token"
        );
        let api_calls = server
            .requests()
            .iter()
            .filter(|r| r.target.starts_with("/result"))
            .count();
        assert_eq!(
            api_calls, 0,
            "{body}: the API was called without a valid token"
        );
    }
}

#[test]
fn read_timeout_on_stalled_server() {
    let emu = emulator();
    let client = builder(&emu)
        .read_timeout(Duration::from_millis(300))
        .retry_policy(fast_retries(0))
        .build()
        .unwrap();
    let file_id = upload_one(&client);
    for action in [
        FaultAction::StallBeforeResponse(Duration::from_secs(3)),
        FaultAction::StallMidBody(Duration::from_secs(3)),
    ] {
        emu.inject_fault(FaultRule::new("/result/final/", action.clone()))
            .unwrap();
        let start = Instant::now();
        let err = fetch(&client, &file_id).unwrap_err();
        let elapsed = start.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{action:?}: {err}");
        assert!(
            elapsed < Duration::from_millis(1500),
            "{action:?}: took {elapsed:?}"
        );
        // The client stays usable.
        assert!(fetch(&client, &file_id).unwrap().is_finalised());
    }
}

#[test]
fn request_timeout_on_trickling_server() {
    let emu = emulator();
    let client = builder(&emu)
        .read_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_millis(800))
        .retry_policy(fast_retries(0))
        .build()
        .unwrap();
    let file_id = upload_one(&client);
    // Each byte arrives well within the read timeout, but the whole body
    // would take many seconds.
    let trickle = FaultAction::Trickle {
        chunk_bytes: 4,
        delay: Duration::from_millis(100),
    };
    emu.inject_fault(FaultRule::new("/result/final/", trickle))
        .unwrap();
    let start = Instant::now();
    let err = fetch(&client, &file_id).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_millis(2000), "took {elapsed:?}");
    assert!(fetch(&client, &file_id).unwrap().is_finalised());
}

/// Opens a listening socket with a backlog of 0 that never accepts, and
/// fills its queue, so that further connects get no response.
fn unanswered_listener() -> (libc::c_int, std::net::SocketAddr, Vec<std::net::TcpStream>) {
    use std::net::{SocketAddr, TcpStream};
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // address struct is fully initialised before use.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut bound_len = len;
        libc::getsockname(
            fd,
            &mut bound as *mut _ as *mut libc::sockaddr,
            &mut bound_len,
        );
        let port = u16::from_be(bound.sin_port);
        let target = SocketAddr::from(([127, 0, 0, 1], port));
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&target, Duration::from_millis(200)) {
                Ok(stream) => fillers.push(stream),
                Err(_) => break,
            }
        }
        (fd, target, fillers)
    }
}

#[test]
fn connect_timeout_on_unanswered_connect() {
    let (fd, addr, fillers) = unanswered_listener();
    let probe = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300));
    if probe.is_ok() {
        // SAFETY: closes the descriptor opened above, once.
        unsafe { libc::close(fd) };
        eprintln!("skipping: this kernel accepts connections beyond the listen backlog");
        return;
    }
    let url = format!("http://{addr}");
    let client = Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(url.clone())
        .auth_endpoint(format!("{url}/oauth2/token"))
        .ignore_env(true)
        .connect_timeout(Duration::from_millis(300))
        .retry_policy(fast_retries(0))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.authenticate().unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    drop(fillers);
    // SAFETY: closes the descriptor opened above, once.
    unsafe { libc::close(fd) };
}

#[test]
fn redirects_never_reach_another_origin() {
    let emu = emulator();
    let other = ScriptedServer::start(|_| {
        Reply::json(
            200,
            r#"{"fileId":"stolen","status":"FINALISED","results":{}}"#,
        )
    });
    let client = client(&emu);
    let file_id = upload_one(&client);
    for (prefix, method, status) in [("/result/final/", "GET", 307), ("/fileupload", "POST", 308)] {
        let location = format!("{}/collect", other.url());
        let action = FaultAction::Redirect {
            status,
            location: location.clone(),
        };
        emu.inject_fault(FaultRule::new(prefix, action).method(method))
            .unwrap();
        let err = if method == "GET" {
            fetch(&client, &file_id).unwrap_err()
        } else {
            client
                .upload_bytes(&make_pdf(1, "redirect"), "x.pdf", &invoices())
                .unwrap_err()
        };
        assert_eq!(err.kind(), ErrorKind::HttpStatus, "{err}");
        assert_eq!(err.http_status(), Some(status));
        assert!(err.message().contains(&location), "{err}");
    }
    assert_eq!(other.connections(), 0, "the other origin was contacted");
    assert_eq!(
        upload_requests(&emu),
        2,
        "the POST was resent after the redirect"
    );
    // The request log is written after each response; give it a moment.
    std::thread::sleep(Duration::from_millis(200));
    let posts: Vec<_> = emu
        .request_log()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    for post in &posts {
        assert!(
            post.content_length.unwrap_or(0) > 0,
            "an empty POST was sent: {post:?}"
        );
    }
}

#[test]
fn token_redirect_is_not_followed() {
    let other =
        ScriptedServer::start(|_| Reply::json(200, r#"{"access_token":"t","expires_in":60}"#));
    let location = format!("{}/oauth2/token", other.url());
    let redirecting = ScriptedServer::start(move |_| {
        Reply::json(302, r#"{"message":"moved"}"#).with_header("Location", &location)
    });
    let client = token_client(&redirecting);
    let err = client.authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.http_status(), Some(302));
    assert_eq!(other.connections(), 0, "credentials followed the redirect");
    assert_eq!(redirecting.requests().len(), 1);
}

#[test]
fn oversized_json_body_is_too_large() {
    let emu = emulator();
    let client = builder(&emu)
        .max_response_bytes(256 * 1024)
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(FaultRule::new(
        "/result/final/",
        FaultAction::OversizedBody {
            bytes: 8 * 1024 * 1024,
        },
    ))
    .unwrap();
    let err = fetch(&client, &file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert_eq!(err.code(), 12);
    assert!(err.message().contains("262144"), "{err}");
    assert_eq!(result_requests(&emu), 1, "a too-large answer was retried");
    // An answer just under the limit is fine.
    emu.inject_fault(FaultRule::new(
        "/result/final/",
        FaultAction::OversizedBody { bytes: 200 * 1024 },
    ))
    .unwrap();
    let err = fetch(&client, &file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
}

#[test]
fn oversized_raw_body_is_too_large() {
    let emu = emulator();
    let client = builder(&emu).max_response_bytes(64 * 1024).build().unwrap();
    let file_id = upload_one(&client);
    let path = format!("/result/image/{file_id}?page=1");
    emu.inject_fault(FaultRule::new(
        "/result/image/",
        FaultAction::OversizedBody { bytes: 1024 * 1024 },
    ))
    .unwrap();
    let err = client.request("GET", &path, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[test]
fn oversized_token_body_is_too_large() {
    let huge: &'static str = Box::leak(
        format!(r#"{{"access_token":"{}"}}"#, "x".repeat(2 * 1024 * 1024)).into_boxed_str(),
    );
    let server = token_server(huge);
    let client = token_client(&server);
    let err = client.authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[test]
fn error_bodies_become_sanitised_messages() {
    let emu = emulator();
    let client = client(&emu);
    let file_id = upload_one(&client);
    let long = format!("<html><body>{}</body></html>", "A".repeat(5000));
    for (body, expected) in [
        (
            Some(r#"{"message":"file not ready","code":"E42"}"#.to_string()),
            "file not ready: E42",
        ),
        (
            Some("<html>\n<h1>Bad\r\nRequest</h1>\u{1b}[31m</html>".to_string()),
            "<html> <h1>Bad Request</h1> [31m</html>",
        ),
        (Some(String::new()), "empty body"),
        (Some(long), "... (truncated)"),
    ] {
        let action = FaultAction::Status {
            status: 400,
            retry_after: None,
            body,
        };
        emu.inject_fault(FaultRule::new("/result/final/", action))
            .unwrap();
        let err = fetch(&client, &file_id).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::HttpStatus);
        assert_eq!(err.http_status(), Some(400));
        let message = err.message();
        assert!(message.contains("HTTP 400"), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(
            message.len() < 700,
            "message not capped: {} bytes",
            message.len()
        );
    }
}

#[test]
fn invalid_json_answer_is_a_decode_error() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(2)).build().unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(FaultRule::new("/result/final/", FaultAction::InvalidJson))
        .unwrap();
    let err = fetch(&client, &file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.message().contains("not json"), "{err}");
}

#[test]
fn results_stay_pending_until_deadline() {
    let emu = emulator();
    let client = builder(&emu)
        .results_deadline(Duration::from_millis(700))
        .build()
        .unwrap();
    let file_id = upload_one(&client);
    emu.inject_fault(FaultRule::new("/result/final/", FaultAction::Pending).times(100))
        .unwrap();
    let err = client.get_results(&file_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFinalised, "{err}");
    assert_eq!(err.result_status(), Some("IN PROGRESS"));
}

#[test]
fn call_deadline_includes_token_fetch() {
    let emu = emulator();
    let client = builder(&emu)
        .call_deadline(Duration::from_millis(800))
        .build()
        .unwrap();
    let file_id = upload_one(&client);
    client.clear_token();
    // The token request uses 500 ms of the budget; the results request
    // would stall for 3 s, so only 300 ms are left for it.
    let stall = |ms| FaultAction::StallBeforeResponse(Duration::from_millis(ms));
    emu.inject_fault(FaultRule::new("/oauth2/token", stall(500)))
        .unwrap();
    emu.inject_fault(FaultRule::new("/result/final/", stall(3000)))
        .unwrap();
    let start = Instant::now();
    let err = fetch(&client, &file_id).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        elapsed < Duration::from_millis(1100),
        "the call ran {elapsed:?} past an 800 ms deadline"
    );
}

#[test]
fn long_retry_after_fails_fast() {
    let emu = emulator();
    let client = builder(&emu).retry_policy(fast_retries(3)).build().unwrap();
    let file_id = upload_one(&client);
    let rule = status_fault("/result/final/", 503, Some("3600")).method("GET");
    emu.inject_fault(rule).unwrap();
    // The call runs on its own thread: a client that waited out the hour
    // would otherwise hang the test instead of failing it.
    let (sender, receiver) = std::sync::mpsc::channel();
    let caller = client.clone();
    std::thread::spawn(move || {
        let _ = sender.send(fetch(&caller, &file_id));
    });
    let outcome = receiver.recv_timeout(Duration::from_secs(5));
    let err = outcome
        .expect("the client waited for a 3600 s Retry-After")
        .unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(result_requests(&emu), 1);
}

#[test]
fn any_api_redirect_is_an_error() {
    let other = ScriptedServer::start(|_| Reply::json(200, r#"{"fileId":"stolen"}"#));
    let location = format!("{}/fileupload", other.url());
    let api = ScriptedServer::start(move |request| {
        if request.target.starts_with("/oauth2/token") {
            return Reply::json(
                200,
                r#"{"access_token":"redirect-test-token","expires_in":60}"#,
            );
        }
        let status = match request.target.as_str() {
            t if t.contains("301") => 301,
            t if t.contains("302") => 302,
            _ => 303,
        };
        Reply::json(status, "{}").with_header("Location", &location)
    });
    let client = token_client(&api);
    for status in [301, 302, 303] {
        let err = client
            .request(
                "POST",
                &format!("/fileupload/{status}"),
                Some(&serde_json::json!({"a": 1})),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::HttpStatus, "{err}");
        assert_eq!(err.http_status(), Some(status));
        let err = client
            .request("GET", &format!("/result/final/{status}"), None)
            .unwrap_err();
        assert_eq!(err.http_status(), Some(status));
    }
    assert_eq!(other.connections(), 0, "a redirect was followed");
    let posts: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.target.starts_with("/fileupload"))
        .collect();
    assert_eq!(posts.len(), 3, "a POST was resent after a redirect");
    for post in posts {
        assert_eq!(post.body, br#"{"a":1}"#, "a POST lost its body");
    }
}
