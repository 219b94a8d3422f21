//! Proxy selection from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY.
//! Kept in its own test binary, with one test, because changing the
//! environment races with other threads.
//!
//! The API base is `http://sypht-test.invalid` (or https://), a name that
//! is never resolved here: a proxied request goes only to the loopback
//! CONNECT proxy, which tunnels that name to the emulator.

mod common;
mod support;

use common::*;
use support::ConnectProxy;
use sypht::{Client, ErrorKind, UploadOptions};

const PROXY_VARIABLES: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn clear_proxy_env() {
    for name in PROXY_VARIABLES {
        std::env::remove_var(name);
    }
}

fn remote_client(scheme: &str) -> Client {
    Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .api_base(format!("{scheme}://sypht-test.invalid"))
        .auth_endpoint(format!("{scheme}://sypht-test.invalid/oauth2/token"))
        .allow_insecure_http(true)
        .ignore_env(true)
        .retry_policy(sypht::RetryPolicy {
            max_retries: 0,
            ..Default::default()
        })
        .build()
        .unwrap()
}

fn upload(client: &Client) -> sypht::Result<String> {
    client.upload_bytes(
        &make_pdf(1, "proxy"),
        "p.pdf",
        &UploadOptions::products(["invoices"]),
    )
}

#[test]
fn proxy_environment_is_honoured() {
    let emu = emulator();
    let routes = vec![("sypht-test.invalid:80".to_string(), emu.local_addr())];
    let http_proxy = ConnectProxy::start(routes.clone());
    let https_proxy = ConnectProxy::start(routes.clone());
    let all_proxy = ConnectProxy::start(routes);
    clear_proxy_env();

    // Loopback is always direct, even with every proxy variable set.
    std::env::set_var("HTTP_PROXY", http_proxy.url());
    std::env::set_var("HTTPS_PROXY", https_proxy.url());
    std::env::set_var("ALL_PROXY", all_proxy.url());
    let local = client(&emu);
    upload(&local).unwrap();
    assert_eq!(emu.stats().uploads, 1);
    assert!(http_proxy.seen().is_empty(), "{:?}", http_proxy.seen());
    assert!(https_proxy.seen().is_empty(), "{:?}", https_proxy.seen());
    assert!(all_proxy.seen().is_empty(), "{:?}", all_proxy.seen());

    // http:// uses HTTP_PROXY, and the call works through the tunnel.
    let file_id = upload(&remote_client("http")).unwrap();
    assert!(!file_id.is_empty());
    assert_eq!(emu.stats().uploads, 2);
    assert!(
        http_proxy
            .seen()
            .iter()
            .all(|line| line == "CONNECT sypht-test.invalid:80"),
        "{:?}",
        http_proxy.seen()
    );
    assert!(!http_proxy.seen().is_empty());
    assert!(
        https_proxy.seen().is_empty(),
        "HTTPS_PROXY carried an http:// call: {:?}",
        https_proxy.seen()
    );
    assert!(all_proxy.seen().is_empty());

    // https:// uses HTTPS_PROXY. The proxy refuses the tunnel to port 443,
    // so the call fails, but only after asking the right proxy.
    let err = remote_client("https").authenticate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(
        https_proxy.seen(),
        vec!["CONNECT sypht-test.invalid:443".to_string()]
    );
    assert!(
        http_proxy.seen().iter().all(|line| line.ends_with(":80")),
        "HTTP_PROXY carried an https:// call"
    );

    // Without a scheme-specific variable, ALL_PROXY is used.
    std::env::remove_var("HTTP_PROXY");
    upload(&remote_client("http")).unwrap();
    assert!(!all_proxy.seen().is_empty());
    assert!(all_proxy
        .seen()
        .iter()
        .all(|line| line == "CONNECT sypht-test.invalid:80"));

    // Lowercase names work too.
    clear_proxy_env();
    std::env::set_var("http_proxy", http_proxy.url());
    let before = http_proxy.seen().len();
    upload(&remote_client("http")).unwrap();
    assert!(http_proxy.seen().len() > before, "http_proxy was ignored");

    // NO_PROXY entries that do not match leave the proxy in use. (Entries
    // that match would send the request direct, which needs a name lookup
    // that this test must not make; matching is covered by unit tests.)
    std::env::set_var(
        "NO_PROXY",
        "sypht-test.example, .other.invalid,invalid.test",
    );
    let before = http_proxy.seen().len();
    upload(&remote_client("http")).unwrap();
    assert!(
        http_proxy.seen().len() > before,
        "a non-matching NO_PROXY entry bypassed the proxy"
    );

    // With no proxy variable at all, nothing reaches any proxy.
    clear_proxy_env();
    let counts = (
        http_proxy.seen().len(),
        https_proxy.seen().len(),
        all_proxy.seen().len(),
    );
    upload(&local).unwrap();
    assert_eq!(
        counts,
        (
            http_proxy.seen().len(),
            https_proxy.seen().len(),
            all_proxy.seen().len()
        )
    );
}
