use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use sypht_emulator::{Emulator, EmulatorConfig};

use crate::common::*;

fn oauth2(emulator: &Emulator, authorization: Option<&str>, body: &str) -> Reply {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(value) = authorization {
        headers.push(("Authorization", value));
    }
    request(emulator.local_addr(), "POST", "/oauth2/token", &headers, body.as_bytes())
}

fn legacy(emulator: &Emulator, content_type: &str, body: &str) -> Reply {
    request(emulator.local_addr(), "POST", "/oauth/token", &[("Content-Type", content_type)], body.as_bytes())
}

fn jwt_claims(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "token is not a three-part JWT");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn oauth2_token_success() {
    let emulator = start();
    let reply = oauth2(
        &emulator,
        Some(&basic("emulator-client-id", "emulator-client-secret")),
        "client_id=emulator-client-id&grant_type=client_credentials",
    );
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "Bearer");
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    let exp = claims["exp"].as_u64().unwrap();
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(exp - iat, 3600);
    let stats = emulator.stats();
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.tokens_issued, 1);
}

#[test]
fn oauth2_tokens_are_unique() {
    let emulator = start();
    assert_ne!(token(&emulator), token(&emulator));
}

#[test]
fn oauth2_rejects_bad_credentials() {
    let emulator = start();
    let cases = [
        (None, "missing header"),
        (Some(basic("emulator-client-id", "wrong")), "wrong secret"),
        (Some(basic("emulator-legacy-id", "emulator-legacy-secret")), "legacy credentials"),
        (Some("Basic !!!".to_string()), "invalid base64"),
        (Some("Bearer abc".to_string()), "wrong scheme"),
    ];
    for (authorization, case) in cases {
        let reply = oauth2(&emulator, authorization.as_deref(), "grant_type=client_credentials");
        assert_eq!(reply.status, 400, "{case}");
        let body = reply.json();
        assert_eq!(body["error"], "invalid_client", "{case}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{case}");
        assert!(!reply.text().contains("emulator-client-secret"), "{case}: secret leaked");
    }
    assert_eq!(emulator.stats().tokens_issued, 0);
}

#[test]
fn oauth2_rejects_other_grant_type() {
    let emulator = start();
    let reply = oauth2(&emulator, Some(&basic("emulator-client-id", "emulator-client-secret")), "grant_type=password");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "unsupported_grant_type");
}

#[test]
fn oauth2_decodes_form_body() {
    let emulator = Emulator::start(EmulatorConfig {
        client_id: "id with space&amp".to_string(),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let reply = oauth2(
        &emulator,
        Some(&basic("id with space&amp", "emulator-client-secret")),
        "client_id=id+with%20space%26amp&grant_type=client_credentials",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn legacy_token_json_and_form() {
    let emulator = start();
    let json_body = json!({
        "client_id": "emulator-legacy-id",
        "client_secret": "emulator-legacy-secret",
        "audience": "https://api.sypht.com",
        "grant_type": "client_credentials",
    });
    let reply = legacy(&emulator, "application/json", &json_body.to_string());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["expires_in"], 86_400);
    let claims = jwt_claims(reply.json()["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://api.sypht.com");
    assert!(claims["https://api.sypht.com/companyId"].is_string());

    let form = "client_id=emulator-legacy-id&client_secret=emulator-legacy-secret\
                &audience=https%3A%2F%2Fapi.sypht.com&grant_type=client_credentials";
    let reply = legacy(&emulator, "application/x-www-form-urlencoded", form);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&emulator, "/result/final/unknown", &token).status, 404);
}

#[test]
fn legacy_token_rejects_bad_credentials() {
    let emulator = start();
    for (id, secret) in [("emulator-legacy-id", "nope"), ("emulator-client-id", "emulator-client-secret")] {
        let body = json!({
            "client_id": id, "client_secret": secret,
            "audience": "https://api.sypht.com", "grant_type": "client_credentials",
        });
        let reply = legacy(&emulator, "application/json", &body.to_string());
        assert_eq!(reply.status, 401, "{id}");
        assert_eq!(reply.json(), json!({ "error": "access_denied", "error_description": "Unauthorized" }));
    }
}

#[test]
fn legacy_token_requires_audience() {
    let emulator = start();
    let body = json!({
        "client_id": "emulator-legacy-id", "client_secret": "emulator-legacy-secret",
        "grant_type": "client_credentials",
    });
    let reply = legacy(&emulator, "application/json", &body.to_string());
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error_description"].as_str().unwrap().contains("audience"));
}

#[test]
fn bearer_missing_or_unknown() {
    let emulator = start();
    let reply = request(emulator.local_addr(), "GET", "/result/final/abc", &[], b"");
    assert_eq!(reply.status, 401);
    let body = reply.json();
    assert!(body["message"].is_string());
    assert!(body["error"].is_string());
    let reply = get(&emulator, "/result/final/abc", "not-a-token");
    assert_eq!(reply.status, 401);
    assert!(reply.json()["message"].as_str().unwrap().contains("invalid"));
}

#[test]
fn token_expires_after_lifetime() {
    let emulator = Emulator::start(EmulatorConfig { token_lifetime: Duration::from_secs(1), ..Default::default() })
        .unwrap();
    let reply = oauth2(
        &emulator,
        Some(&basic("emulator-client-id", "emulator-client-secret")),
        "grant_type=client_credentials",
    );
    assert_eq!(reply.json()["expires_in"], 1);
    let token = reply.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&emulator, "/result/final/x", &token).status, 404);
    std::thread::sleep(Duration::from_millis(1100));
    let reply = get(&emulator, "/result/final/x", &token);
    assert_eq!(reply.status, 401);
    assert!(reply.json()["message"].as_str().unwrap().contains("expired"));
    assert!(!reply.text().contains(&token), "token echoed in error");
}

#[test]
fn revoke_tokens_invalidates_issued() {
    let emulator = start();
    let old = token(&emulator);
    emulator.revoke_tokens();
    let reply = get(&emulator, "/result/final/x", &old);
    assert_eq!(reply.status, 401);
    assert!(reply.json()["message"].as_str().unwrap().contains("revoked"));
    let new = token(&emulator);
    assert_eq!(get(&emulator, "/result/final/x", &new).status, 404);
}
