use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use sypht_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule};

use crate::common::*;

/// Sends a GET and returns everything the server writes until it closes
/// the connection or 5 s pass.
fn raw_get(addr: std::net::SocketAddr, path: &str, token: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

fn split_head(raw: &[u8]) -> (String, Vec<u8>) {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response has a head");
    (String::from_utf8_lossy(&raw[..at]).into_owned(), raw[at + 4..].to_vec())
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .map(|v| v.trim().parse().unwrap())
        .expect("Content-Length header")
}

#[test]
fn status_fault_with_retry_after() {
    let emulator = start();
    let token = token(&emulator);
    let rule = FaultRule {
        path_prefix: "/result/final".to_string(),
        method: Some("GET".to_string()),
        count: 2,
        action: FaultAction::Status { status: 503, retry_after: Some("2".to_string()), body: None },
    };
    emulator.inject_fault(rule).unwrap();
    for _ in 0..2 {
        let reply = get(&emulator, "/result/final/abc", &token);
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("Retry-After"), Some("2"));
        assert_eq!(reply.json()["error"], "injected_fault");
    }
    assert_eq!(get(&emulator, "/result/final/abc", &token).status, 404);
    assert!(emulator.faults().is_empty());
    assert_eq!(emulator.stats().result_requests, 3);
    let log = emulator.request_log();
    let faults: Vec<Option<&str>> = log.iter().filter(|e| e.path.starts_with("/result")).map(|e| e.fault.as_deref()).collect();
    assert_eq!(faults, [Some("status"), Some("status"), None]);
}

#[test]
fn status_fault_respects_method() {
    let emulator = start();
    let token = token(&emulator);
    let action = FaultAction::Status { status: 429, retry_after: None, body: Some("{\"slow\":\"down\"}".to_string()) };
    emulator.inject_fault(FaultRule::new("/fileupload", action).method("post")).unwrap();
    assert_eq!(get(&emulator, "/fileupload", &token).status, 405);
    let form = Form::new().file("fileToUpload", "a.png", &png_bytes(1)).text("products", r#"["invoices"]"#);
    let reply = post_form(&emulator, "/fileupload", &token, form);
    assert_eq!(reply.status, 429);
    assert_eq!(reply.json(), json!({ "slow": "down" }));
    // The faulted upload still counts as an upload attempt.
    assert_eq!(emulator.stats().uploads, 1);
}

#[test]
fn reset_fault_closes_without_response() {
    let emulator = start();
    let token = token(&emulator);
    emulator.inject_fault(FaultRule::new("/result/final", FaultAction::Reset)).unwrap();
    assert!(raw_get(emulator.local_addr(), "/result/final/x", &token).is_empty());
    assert_eq!(get(&emulator, "/result/final/x", &token).status, 404);
    assert_eq!(emulator.request_log().iter().find(|e| e.fault.is_some()).unwrap().status, None);
}

#[test]
fn stall_fault_delays_response() {
    let emulator = start();
    let token = token(&emulator);
    emulator.inject_fault(FaultRule::new("/result", FaultAction::StallBeforeResponse(Duration::from_millis(400)))).unwrap();
    let started = Instant::now();
    assert_eq!(get(&emulator, "/result/final/x", &token).status, 404);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn stall_mid_body_fault() {
    let emulator = start();
    let token = token(&emulator);
    emulator.inject_fault(FaultRule::new("/result", FaultAction::StallMidBody(Duration::from_millis(600)))).unwrap();
    let mut stream = TcpStream::connect(emulator.local_addr()).unwrap();
    let head = format!("GET /result/final/x HTTP/1.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut first = vec![0u8; 4096];
    let mut got = 0;
    // Collect what arrives before the stall.
    while let Ok(n) = stream.read(&mut first[got..]) {
        if n == 0 {
            break;
        }
        got += n;
    }
    let (head, partial) = split_head(&first[..got]);
    let length = content_length(&head);
    assert!(partial.len() < length, "whole body arrived before the stall");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(partial.len() + rest.len(), length);
}

#[test]
fn trickle_fault_sends_whole_body_slowly() {
    let emulator = start();
    let token = token(&emulator);
    let action = FaultAction::Trickle { chunk_bytes: 16, delay: Duration::from_millis(20) };
    emulator.inject_fault(FaultRule::new("/result", action)).unwrap();
    let started = Instant::now();
    let reply = get(&emulator, "/result/final/some-file", &token);
    assert_eq!(reply.status, 404);
    assert!(reply.json()["message"].is_string());
    let pieces = reply.body.len().div_ceil(16) as u32;
    assert!(started.elapsed() >= Duration::from_millis(20) * (pieces - 1));
}

#[test]
fn truncated_fault_sends_less_than_announced() {
    let emulator = start();
    let token = token(&emulator);
    emulator.inject_fault(FaultRule::new("/result", FaultAction::TruncatedBody)).unwrap();
    let raw = raw_get(emulator.local_addr(), "/result/final/x", &token);
    let (head, body) = split_head(&raw);
    assert!(head.starts_with("HTTP/1.1 404"));
    assert!(body.len() < content_length(&head));
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
}

#[test]
fn invalid_json_and_oversized_faults() {
    let emulator = start();
    let token = token(&emulator);
    emulator.inject_fault(FaultRule::new("/result", FaultAction::InvalidJson)).unwrap();
    let reply = get(&emulator, "/result/final/x", &token);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    assert!(serde_json::from_slice::<serde_json::Value>(&reply.body).is_err());

    emulator.inject_fault(FaultRule::new("/result", FaultAction::OversizedBody { bytes: 3_000_000 })).unwrap();
    let reply = get(&emulator, "/result/final/x", &token);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 3_000_000);
    assert!(reply.json()["padding"].is_string());
}

#[test]
fn redirect_faults() {
    let emulator = start();
    let other = start();
    let token = token(&emulator);
    let action = FaultAction::Redirect { status: 307, location: "/result/final/elsewhere".to_string() };
    emulator.inject_fault(FaultRule::new("/result", action)).unwrap();
    let reply = get(&emulator, "/result/final/x", &token);
    assert_eq!(reply.status, 307);
    assert_eq!(reply.header("Location").unwrap(), format!("{}/result/final/elsewhere", emulator.base_url()));

    let action = FaultAction::Redirect { status: 308, location: other.base_url() };
    emulator.inject_fault(FaultRule::new("/result", action)).unwrap();
    let reply = get(&emulator, "/result/final/x?verbose=true", &token);
    assert_eq!(reply.status, 308);
    assert_eq!(reply.header("Location").unwrap(), format!("{}/result/final/x?verbose=true", other.base_url()));

    let outside = FaultAction::Redirect { status: 307, location: "http://192.0.2.1/x".to_string() };
    assert!(emulator.inject_fault(FaultRule::new("/result", outside)).is_err());
    let bad_status = FaultAction::Redirect { status: 302, location: "/x".to_string() };
    assert!(emulator.inject_fault(FaultRule::new("/result", bad_status)).is_err());
}

#[test]
fn revoke_and_pending_faults() {
    let emulator = start();
    let token = token(&emulator);
    let file_id = upload(&emulator, &token, &png_bytes(1), r#"["invoices"]"#);
    emulator.inject_fault(FaultRule::new("/result/final", FaultAction::Pending).times(2)).unwrap();
    for _ in 0..2 {
        let body = get(&emulator, &format!("/result/final/{file_id}"), &token).json();
        assert_eq!(body["status"], "IN PROGRESS");
        assert_eq!(body["fileId"], file_id.as_str());
    }
    assert_eq!(get(&emulator, &format!("/result/final/{file_id}"), &token).json()["status"], "FINALISED");

    emulator.inject_fault(FaultRule::new("/result", FaultAction::RevokeTokens)).unwrap();
    assert_eq!(get(&emulator, &format!("/result/final/{file_id}"), &token).status, 401);
    let fresh = crate::common::token(&emulator);
    assert_eq!(get(&emulator, &format!("/result/final/{file_id}"), &fresh).status, 200);
}

#[test]
fn drop_interrupts_stall() {
    let emulator = start();
    let token = token(&emulator);
    emulator.inject_fault(FaultRule::new("/result", FaultAction::StallBeforeResponse(Duration::from_secs(60)))).unwrap();
    let addr = emulator.local_addr();
    let client = std::thread::spawn(move || raw_get(addr, "/result/final/x", &token));
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    drop(emulator);
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = client.join();
}

#[test]
fn control_endpoint_faults_and_log() {
    let emulator = start();
    let addr = emulator.local_addr();
    let token = token(&emulator);
    let rule = json!({ "path_prefix": "/result/final", "method": "GET", "count": 1, "action": "status", "status": 502 });
    let added = request(addr, "POST", "/_emulator/faults", &[], rule.to_string().as_bytes());
    assert_eq!(added.status, 200, "{}", added.text());
    assert_eq!(added.json()["action"], "status");
    let listed = request(addr, "GET", "/_emulator/faults", &[], b"").json();
    assert_eq!(listed["faults"].as_array().unwrap().len(), 1);
    assert_eq!(get(&emulator, "/result/final/x", &token).status, 502);

    let bad = json!({ "path_prefix": "/x", "action": "explode" });
    let reply = request(addr, "POST", "/_emulator/faults", &[], bad.to_string().as_bytes());
    assert_eq!(reply.status, 400);
    assert!(reply.json()["message"].as_str().unwrap().contains("explode"));

    let stall = json!({ "path_prefix": "/x", "action": "stall", "stall_ms": 10, "count": 5 });
    request(addr, "POST", "/_emulator/faults", &[], stall.to_string().as_bytes());
    assert_eq!(request(addr, "DELETE", "/_emulator/faults", &[], b"").status, 200);
    assert_eq!(request(addr, "GET", "/_emulator/faults", &[], b"").json()["faults"], json!([]));

    let stats = request(addr, "GET", "/_emulator/stats", &[], b"").json();
    assert_eq!(stats["result_requests"], 1);
    assert_eq!(stats["tokens_issued"], 1);

    let log = request(addr, "GET", "/_emulator/requests", &[], b"");
    let text = log.text();
    assert!(!text.contains(&token), "token value in request log");
    assert!(!text.contains("emulator-client-secret"), "secret in request log");
    let entries = log.json()["requests"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["path"], "/oauth2/token");
    assert_eq!(entries[0]["authorization_scheme"], "Basic");
    assert_eq!(entries[1]["has_authorization"], true);
    assert_eq!(entries[1]["authorization_scheme"], "Bearer");
    assert_eq!(entries[1]["fault"], "status");
    assert_eq!(entries[1]["status"], 502);
    assert_eq!(request(addr, "DELETE", "/_emulator/requests", &[], b"").status, 200);
    assert!(emulator.request_log().is_empty());

    assert_eq!(request(addr, "POST", "/_emulator/revoke-tokens", &[], b"").status, 200);
    assert_eq!(get(&emulator, "/result/final/x", &token).status, 401);
    let reply = request(addr, "PUT", "/_emulator/pending-polls", &[], br#"{"pending_polls": 1}"#);
    assert_eq!(reply.status, 200);
    let fresh = crate::common::token(&emulator);
    let file_id = upload(&emulator, &fresh, &png_bytes(1), r#"["invoices"]"#);
    assert_eq!(get(&emulator, &format!("/result/final/{file_id}"), &fresh).json()["status"], "IN PROGRESS");
    assert_eq!(request(addr, "GET", "/_emulator/nothing", &[], b"").status, 404);
    assert_eq!(request(addr, "PUT", "/_emulator/stats", &[], b"").status, 405);
}

#[test]
fn request_log_keeps_configured_number() {
    let config = EmulatorConfig { request_log_capacity: 3, ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).unwrap();
    let token = token(&emulator);
    for id in ["a", "b", "c", "d"] {
        assert_eq!(get(&emulator, &format!("/result/final/{id}"), &token).status, 404);
    }

    let paths: Vec<String> = emulator.request_log().into_iter().map(|entry| entry.path).collect();
    assert_eq!(paths, ["/result/final/b", "/result/final/c", "/result/final/d"]);
}
