use std::sync::Arc;

use crate::common::*;

#[test]
fn unknown_path_is_404_json() {
    let emulator = start();
    let reply = request(emulator.local_addr(), "GET", "/no/such/path", &[], b"");
    assert_eq!(reply.status, 404);
    assert!(reply.json()["message"].is_string());
}

#[test]
fn wrong_method_is_405() {
    let emulator = start();
    let reply = request(emulator.local_addr(), "GET", "/oauth2/token", &[], b"");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("Allow"), Some("POST"));
    let token = token(&emulator);
    let auth = format!("Bearer {token}");
    let reply = request(emulator.local_addr(), "DELETE", "/result/final/abc", &[("Authorization", &auth)], b"");
    assert_eq!(reply.status, 405);
}

#[test]
fn trailing_slash_is_ignored() {
    let emulator = start();
    let token = token(&emulator);
    let form = Form::new().file("fileToUpload", "a.png", &png_bytes(1)).text("products", r#"["invoices"]"#);
    let reply = post_form(&emulator, "/fileupload/", &token, form);
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn keep_alive_serves_several_requests() {
    let emulator = start();
    let token = token(&emulator);
    let auth = format!("Bearer {token}");
    let mut connection = Connection::open(emulator.local_addr());
    for _ in 0..3 {
        let reply = connection.send("GET", "/result/final/missing", &[("Authorization", &auth)], b"");
        assert_eq!(reply.status, 404);
        assert!(reply.header("Connection").is_none());
    }
    let reply = connection.send("GET", "/result/final/missing", &[("Authorization", &auth), ("Connection", "close")], b"");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("Connection"), Some("close"));
    assert!(connection.is_closed());
}

#[test]
fn malformed_request_gets_400() {
    let emulator = start();
    let mut connection = Connection::open(emulator.local_addr());
    connection.write(b"GET /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
    let reply = connection.read_reply();
    assert_eq!(reply.status, 400);
    assert!(connection.is_closed());
}

#[test]
fn concurrent_clients() {
    let emulator = Arc::new(start());
    let token = Arc::new(token(&emulator));
    let threads: Vec<_> = (0..24u8)
        .map(|i| {
            let emulator = Arc::clone(&emulator);
            let token = Arc::clone(&token);
            std::thread::spawn(move || {
                let file_id = upload(&emulator, &token, &png_bytes(i), r#"["invoices"]"#);
                let reply = get(&emulator, &format!("/result/final/{file_id}"), &token);
                assert_eq!(reply.status, 200);
                reply.json()["results"]["fields"].as_array().unwrap().len()
            })
        })
        .collect();
    for thread in threads {
        assert!(thread.join().unwrap() > 5);
    }
    assert_eq!(emulator.stats().uploads, 24);
}

#[test]
fn shutdown_closes_idle_connections() {
    let emulator = start();
    let addr = emulator.local_addr();
    let mut idle = Connection::open(addr);
    let started = std::time::Instant::now();
    emulator.shutdown();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(idle.is_closed());
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn rejects_non_loopback_bind() {
    let config = sypht_emulator::EmulatorConfig {
        bind_addr: "0.0.0.0:0".parse().unwrap(),
        ..Default::default()
    };
    let error = sypht_emulator::Emulator::start(config).err().expect("non-loopback bind must fail");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
