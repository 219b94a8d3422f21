//! Reading SYPHT_* environment variables. Kept in its own test binary, with
//! one test, because changing the environment races with other threads.

mod common;

use common::*;
use sypht::{Client, ErrorKind};

#[test]
fn environment_configures_client() {
    let emu = emulator();
    let vars = ["SYPHT_API_KEY", "SYPHT_API_BASE_ENDPOINT", "SYPHT_AUTH_ENDPOINT", "SYPHT_AUDIENCE"];
    for var in vars {
        std::env::remove_var(var);
    }

    let err = Client::from_env().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("SYPHT_API_KEY"), "{err}");

    std::env::set_var("SYPHT_API_KEY", "no-colon-topsecret");
    let err = Client::from_env().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("SYPHT_API_KEY"), "{err}");
    assert!(!err.message().contains("topsecret"), "{err}");

    std::env::set_var("SYPHT_API_KEY", format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    std::env::set_var("SYPHT_API_BASE_ENDPOINT", emu.base_url());
    std::env::set_var("SYPHT_AUTH_ENDPOINT", emu.auth_url());
    let client = Client::from_env().unwrap();
    assert_eq!(client.api_base(), emu.base_url());
    client.authenticate().unwrap();

    std::env::set_var("SYPHT_API_KEY", format!("{LEGACY_ID}:{LEGACY_SECRET}"));
    std::env::set_var("SYPHT_AUTH_ENDPOINT", emu.legacy_auth_url());
    std::env::set_var("SYPHT_AUDIENCE", "https://api.sypht.com");
    Client::from_env().unwrap().authenticate().unwrap();

    // Explicit settings win over the environment.
    let explicit = Client::builder()
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .auth_endpoint(emu.auth_url())
        .build()
        .unwrap();
    explicit.authenticate().unwrap();
    assert_eq!(emu.stats().tokens_issued, 3);

    for var in vars {
        std::env::remove_var(var);
    }
}
